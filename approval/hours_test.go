package approval_test

import (
	"testing"
	"time"

	// The embedded zone database keeps these tests independent of the host's.
	_ "time/tzdata"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// week returns open days, indexed by time.Weekday, for the given days.
func week(days ...time.Weekday) [7]bool {
	var open [7]bool
	for _, day := range days {
		open[day] = true
	}
	return open
}

func clock(hour, minute int) time.Duration {
	return time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute
}

func TestParseBusinessHours(t *testing.T) {
	weekdays := week(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
	allDays := week(time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)

	tests := []struct {
		spec      string
		days      [7]bool
		start     time.Duration
		end       time.Duration
		canonical string
	}{
		{"mon-fri 09:00-18:00", weekdays, clock(9, 0), clock(18, 0), "mon-fri 09:00-18:00"},
		{"mon,wed,fri 08:30-17:00", week(time.Monday, time.Wednesday, time.Friday), clock(8, 30), clock(17, 0), "mon,wed,fri 08:30-17:00"},
		{"  MON-Fri   09:00-18:00 ", weekdays, clock(9, 0), clock(18, 0), "mon-fri 09:00-18:00"},
		{"monday-friday 09:00-18:00", weekdays, clock(9, 0), clock(18, 0), "mon-fri 09:00-18:00"},
		{"mon,tue,wed,thu,fri 09:00-18:00", weekdays, clock(9, 0), clock(18, 0), "mon-fri 09:00-18:00"},
		{"mon-wed,fri 07:00-15:30", week(time.Monday, time.Tuesday, time.Wednesday, time.Friday), clock(7, 0), clock(15, 30), "mon-wed,fri 07:00-15:30"},
		{"sun-thu 08:00-17:00", week(time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday), clock(8, 0), clock(17, 0), "sun-thu 08:00-17:00"},
		{"fri-mon 10:00-14:00", week(time.Friday, time.Saturday, time.Sunday, time.Monday), clock(10, 0), clock(14, 0), "fri-mon 10:00-14:00"},
		{"sat,sun 10:00-14:00", week(time.Saturday, time.Sunday), clock(10, 0), clock(14, 0), "sat,sun 10:00-14:00"},
		{"sat-sun 10:00-14:00", week(time.Saturday, time.Sunday), clock(10, 0), clock(14, 0), "sat,sun 10:00-14:00"},
		{"mon,mon 09:00-10:00", week(time.Monday), clock(9, 0), clock(10, 0), "mon 09:00-10:00"},
		{"mon-sun 09:00-18:00", allDays, clock(9, 0), clock(18, 0), "mon-sun 09:00-18:00"},
		{"sat 20:00-24:00", week(time.Saturday), clock(20, 0), clock(24, 0), "sat 20:00-24:00"},
		{"mon-sun 00:00-24:00", allDays, 0, clock(24, 0), ""},
		{"", allDays, 0, clock(24, 0), ""},
	}

	for _, tt := range tests {
		hours, err := approval.ParseBusinessHours(tt.spec, "Europe/Berlin")
		require.NoError(t, err, "spec %q", tt.spec)
		require.Equal(t, tt.days, hours.Days, "spec %q", tt.spec)
		require.Equal(t, tt.start, hours.Start, "spec %q", tt.spec)
		require.Equal(t, tt.end, hours.End, "spec %q", tt.spec)
		require.Equal(t, tt.canonical, hours.String(), "spec %q", tt.spec)
		require.Equal(t, "Europe/Berlin", hours.TimeZone(), "spec %q", tt.spec)
	}
}

func TestParseBusinessHoursErrors(t *testing.T) {
	tests := []struct {
		spec   string
		detail string
	}{
		{"mon-fri", `invalid business hours "mon-fri"`},
		{"09:00-18:00", `invalid business hours "09:00-18:00"`},
		{"mon-fri 09:00-18:00 utc", `invalid business hours "mon-fri 09:00-18:00 utc"`},
		{"weekdays 09:00-18:00", `day "weekdays" is not a day name`},
		{"mon-fry 09:00-18:00", `day "fry" is not a day name`},
		{"mon,,fri 09:00-18:00", `day "" is not a day name`},
		{"mon-fri 9:00-18:00", `time "9:00" is not a 24-hour HH:MM time`},
		{"mon-fri 09-18", `time "09" is not a 24-hour HH:MM time`},
		{"mon-fri 09:00", `time range "09:00" has no "-"`},
		{"mon-fri 09:00-25:00", `time "25:00" is not a 24-hour HH:MM time`},
		{"mon-fri 09:60-18:00", `time "09:60" is not a 24-hour HH:MM time`},
		{"mon-fri 09:00-24:30", `time "24:30" is not a 24-hour HH:MM time`},
		{"mon-fri +9:00-18:00", `time "+9:00" is not a 24-hour HH:MM time`},
		{"mon-fri 24:00-24:00", `start "24:00" must be before 24:00`},
		{"mon-fri 18:00-09:00", `end "09:00" must be after start "18:00"; windows past midnight are not supported`},
		{"mon-fri 09:00-09:00", `end "09:00" must be after start "09:00"`},
	}

	for _, tt := range tests {
		_, err := approval.ParseBusinessHours(tt.spec, "")
		require.Error(t, err, "spec %q", tt.spec)
		require.ErrorContains(t, err, tt.detail, "spec %q", tt.spec)
		require.ErrorContains(t, err, `"mon-fri 09:00-18:00"`, "spec %q shows the expected form", tt.spec)
	}
}

func TestParseBusinessHoursTimeZone(t *testing.T) {
	hours, err := approval.ParseBusinessHours("mon-fri 09:00-18:00", "")
	require.NoError(t, err)
	require.Equal(t, "UTC", hours.TimeZone())

	for _, name := range []string{"Mars/Olympus_Mons", "Local", "../etc/passwd"} {
		_, err := approval.ParseBusinessHours("mon-fri 09:00-18:00", name)
		require.Error(t, err, "time zone %q", name)
		require.ErrorContains(t, err, "invalid time zone", "time zone %q", name)
		require.ErrorContains(t, err, `"Europe/Berlin"`, "time zone %q", name)
	}
}

func TestBusinessHoursRoundTrip(t *testing.T) {
	specs := []string{
		"", "mon-fri 09:00-18:00", "mon,wed,fri 08:30-17:00", "sun-thu 08:00-17:00",
		"fri-mon 10:00-14:00", "sat,sun 00:00-24:00", "tue 23:59-24:00", "mon,tue 00:00-00:01",
		"mon,wed-thu,sat 06:15-22:45", "sun,tue,thu,sat 09:00-17:00", "mon-sat 09:00-17:00",
	}

	for _, spec := range specs {
		first, err := approval.ParseBusinessHours(spec, "America/New_York")
		require.NoError(t, err, "spec %q", spec)

		second, err := approval.ParseBusinessHours(first.String(), "America/New_York")
		require.NoError(t, err, "canonical %q of spec %q", first.String(), spec)
		require.Equal(t, first.Days, second.Days, "spec %q", spec)
		require.Equal(t, first.Start, second.Start, "spec %q", spec)
		require.Equal(t, first.End, second.End, "spec %q", spec)
		require.Equal(t, first.String(), second.String(), "spec %q", spec)
	}
}

func TestBusinessHoursRoundTripEveryDaySet(t *testing.T) {
	for mask := 1; mask < 1<<7; mask++ {
		var hours approval.BusinessHours
		for day := range 7 {
			hours.Days[day] = mask&(1<<day) != 0
		}
		hours.Start, hours.End = clock(9, 0), clock(17, 0)

		parsed, err := approval.ParseBusinessHours(hours.String(), "")
		require.NoError(t, err, "mask %07b spec %q", mask, hours.String())
		require.Equal(t, hours.Days, parsed.Days, "mask %07b spec %q", mask, hours.String())
	}
}

func TestBusinessHoursContains(t *testing.T) {
	utc := func(text string) time.Time {
		parsed, err := time.Parse(time.RFC3339, text)
		require.NoError(t, err)
		return parsed
	}

	tests := []struct {
		name     string
		spec     string
		timezone string
		at       string
		want     bool
	}{
		{"utc start inclusive", "mon-fri 09:00-18:00", "", "2025-01-06T09:00:00Z", true},
		{"utc before start", "mon-fri 09:00-18:00", "", "2025-01-06T08:59:59Z", false},
		{"utc end exclusive", "mon-fri 09:00-18:00", "", "2025-01-06T18:00:00Z", false},
		{"utc just before end", "mon-fri 09:00-18:00", "", "2025-01-06T17:59:59Z", true},
		{"utc saturday", "mon-fri 09:00-18:00", "", "2025-01-11T12:00:00Z", false},
		{"utc closed weekday", "mon,wed,fri 08:30-17:00", "", "2025-01-07T12:00:00Z", false},

		// Tokyo is UTC+9: Sunday 23:30 UTC is Monday 08:30 local.
		{"tokyo monday early in utc sunday", "mon-fri 09:00-18:00", "Asia/Tokyo", "2025-01-05T23:30:00Z", false},
		{"tokyo monday open in utc monday", "mon-fri 09:00-18:00", "Asia/Tokyo", "2025-01-06T00:30:00Z", true},
		{"tokyo friday end", "mon-fri 09:00-18:00", "Asia/Tokyo", "2025-01-10T09:00:00Z", false},
		{"tokyo friday evening is saturday", "mon-fri 09:00-18:00", "Asia/Tokyo", "2025-01-10T23:00:00Z", false},

		// Los Angeles is UTC-8 in January: Saturday 01:00 UTC is Friday 17:00 local.
		{"los angeles friday in utc saturday", "mon-fri 09:00-18:00", "America/Los_Angeles", "2025-01-11T01:00:00Z", true},
		{"los angeles monday morning in utc", "mon-fri 09:00-18:00", "America/Los_Angeles", "2025-01-06T16:59:00Z", false},
		{"los angeles monday open", "mon-fri 09:00-18:00", "America/Los_Angeles", "2025-01-06T17:00:00Z", true},

		// Berlin moves from CET (UTC+1) to CEST (UTC+2) on Sunday 2025-03-30 at 02:00.
		{"berlin spring forward start", "sun 09:00-18:00", "Europe/Berlin", "2025-03-30T07:00:00Z", true},
		{"berlin spring forward before start", "sun 09:00-18:00", "Europe/Berlin", "2025-03-30T06:59:00Z", false},
		{"berlin spring forward end", "sun 09:00-18:00", "Europe/Berlin", "2025-03-30T16:00:00Z", false},
		{"berlin spring forward missing hour", "sun 02:00-03:00", "Europe/Berlin", "2025-03-30T01:00:00Z", false},
		{"berlin spring forward before gap", "sun 01:00-02:00", "Europe/Berlin", "2025-03-30T00:59:00Z", true},
		{"berlin saturday before change", "sat 09:00-18:00", "Europe/Berlin", "2025-03-29T08:00:00Z", true},

		// Berlin moves back to CET on Sunday 2025-10-26 at 03:00, so 02:30 happens twice.
		{"berlin fall back first 02:30", "sun 02:00-03:00", "Europe/Berlin", "2025-10-26T00:30:00Z", true},
		{"berlin fall back second 02:30", "sun 02:00-03:00", "Europe/Berlin", "2025-10-26T01:30:00Z", true},
		{"berlin fall back after repeat", "sun 02:00-03:00", "Europe/Berlin", "2025-10-26T02:00:00Z", false},
		{"berlin fall back start", "sun 09:00-18:00", "Europe/Berlin", "2025-10-26T08:00:00Z", true},
		{"berlin fall back before start", "sun 09:00-18:00", "Europe/Berlin", "2025-10-26T07:59:00Z", false},

		// New York moves to EDT on Sunday 2025-03-09: midnight to 24:00 local is 23 hours.
		{"new york short day last minute", "sun 00:00-24:00", "America/New_York", "2025-03-10T03:59:00Z", true},
		{"new york short day after midnight", "sun 00:00-24:00", "America/New_York", "2025-03-10T04:00:00Z", false},
		{"new york short day first minute", "sun 00:00-24:00", "America/New_York", "2025-03-09T05:00:00Z", true},
		{"new york before short day", "sun 00:00-24:00", "America/New_York", "2025-03-09T04:59:00Z", false},

		{"empty spec sunday night", "", "Europe/Berlin", "2025-01-05T23:59:59Z", true},
		{"end of day", "sat 20:00-24:00", "", "2025-01-11T23:59:59Z", true},
		{"wrapped range sunday", "fri-mon 10:00-14:00", "", "2025-01-12T11:00:00Z", true},
		{"wrapped range tuesday", "fri-mon 10:00-14:00", "", "2025-01-07T11:00:00Z", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hours, err := approval.ParseBusinessHours(tt.spec, tt.timezone)
			require.NoError(t, err)
			require.Equal(t, tt.want, hours.Contains(utc(tt.at)))
		})
	}
}

func TestBusinessHoursZeroValueIsClosed(t *testing.T) {
	var hours approval.BusinessHours
	require.False(t, hours.Contains(time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)))
	require.Equal(t, "UTC", hours.TimeZone())
}
