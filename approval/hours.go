package approval

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// businessHoursForm shows the expected spec in error messages.
const businessHoursForm = `expected days and a time range such as "mon-fri 09:00-18:00" or "mon,wed,fri 08:30-17:00"`

// BusinessHours is one daily window on some days of the week, in one time
// zone. The zero value contains no time at all: use ParseBusinessHours.
type BusinessHours struct {
	// Days is indexed by time.Weekday, so Days[time.Sunday] is Days[0].
	Days [7]bool

	// Start and End are wall-clock times of day, measured from midnight as a
	// clock shows it. On a DST change day, 09:00 is still 9*time.Hour even
	// though fewer or more hours have elapsed since midnight. End may be
	// 24*time.Hour, the end of the day.
	Start, End time.Duration

	// Location is the time zone of Start and End. Nil means UTC.
	Location *time.Location
}

// ParseBusinessHours parses a spec such as "mon-fri 09:00-18:00" or
// "mon,wed,fri 08:30-17:00" in the IANA time zone named timezone. An empty
// spec means every day, all day. An empty timezone means UTC.
//
// Day names are the first three letters or the full English name in any case.
// A day range may wrap around the week ("fri-mon"). Times are 24-hour HH:MM,
// the end may be 24:00, and the end must come after the start, so a window
// cannot run past midnight.
func ParseBusinessHours(spec, timezone string) (BusinessHours, error) {
	location, err := parseTimeZone(timezone)
	if err != nil {
		return BusinessHours{}, err
	}

	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return alwaysOpen(location), nil
	}

	fields := strings.Fields(strings.ToLower(trimmed))
	if len(fields) != 2 {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: %s", spec, businessHoursForm)
	}

	days, err := parseDays(fields[0])
	if err != nil {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: %w; %s", spec, err, businessHoursForm)
	}

	start, end, err := parseTimeRange(fields[1])
	if err != nil {
		return BusinessHours{}, fmt.Errorf("invalid business hours %q: %w; %s", spec, err, businessHoursForm)
	}

	return BusinessHours{Days: days, Start: start, End: end, Location: location}, nil
}

// Contains reports whether t falls on one of the days, at or after Start and
// before End, in the hours' time zone.
func (h BusinessHours) Contains(t time.Time) bool {
	local := t.In(h.location())
	if !h.Days[local.Weekday()] {
		return false
	}

	clock := time.Duration(local.Hour())*time.Hour +
		time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second +
		time.Duration(local.Nanosecond())
	return clock >= h.Start && clock < h.End
}

// String returns the canonical spec, which ParseBusinessHours turns back into
// the same hours: "" for every day all day, otherwise days and a range such as
// "mon-fri 09:00-18:00". The time zone is not part of the spec.
func (h BusinessHours) String() string {
	if h.isAlwaysOpen() {
		return ""
	}
	return formatDays(h.Days) + " " + formatClock(h.Start) + "-" + formatClock(h.End)
}

// TimeZone returns the IANA name of the hours' time zone.
func (h BusinessHours) TimeZone() string {
	return h.location().String()
}

func (h BusinessHours) location() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

func (h BusinessHours) isAlwaysOpen() bool {
	for _, open := range h.Days {
		if !open {
			return false
		}
	}
	return h.Start == 0 && h.End == 24*time.Hour
}

func alwaysOpen(location *time.Location) BusinessHours {
	return BusinessHours{
		Days:     [7]bool{true, true, true, true, true, true, true},
		Start:    0,
		End:      24 * time.Hour,
		Location: location,
	}
}

// parseTimeZone rejects "Local" because the server's own zone is not
// something an operator can see or rely on.
func parseTimeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("invalid time zone %q: use an IANA name such as \"Europe/Berlin\", or leave it empty for UTC", name)
	}

	location, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("invalid time zone %q: use an IANA name such as \"Europe/Berlin\", or leave it empty for UTC: %w", name, err)
	}
	return location, nil
}

func parseDays(list string) ([7]bool, error) {
	var days [7]bool
	for _, item := range strings.Split(list, ",") {
		first, last, isRange := strings.Cut(item, "-")

		from, err := parseDay(first)
		if err != nil {
			return days, err
		}
		to := from
		if isRange {
			if to, err = parseDay(last); err != nil {
				return days, err
			}
		}

		// Walking forward with wrap-around lets "fri-mon" cover the weekend.
		for day := from; ; day = (day + 1) % 7 {
			days[day] = true
			if day == to {
				break
			}
		}
	}
	return days, nil
}

func parseDay(name string) (time.Weekday, error) {
	for day := time.Sunday; day <= time.Saturday; day++ {
		full := strings.ToLower(day.String())
		if name == full || name == full[:3] {
			return day, nil
		}
	}
	return 0, fmt.Errorf("day %q is not a day name such as mon or monday", name)
}

func parseTimeRange(text string) (time.Duration, time.Duration, error) {
	first, last, ok := strings.Cut(text, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time range %q has no \"-\" between start and end", text)
	}

	start, err := parseClock(first)
	if err != nil {
		return 0, 0, err
	}
	end, err := parseClock(last)
	if err != nil {
		return 0, 0, err
	}

	if start == 24*time.Hour {
		return 0, 0, fmt.Errorf("start %q must be before 24:00", first)
	}
	if end <= start {
		return 0, 0, fmt.Errorf("end %q must be after start %q; windows past midnight are not supported", last, first)
	}
	return start, end, nil
}

func parseClock(text string) (time.Duration, error) {
	invalid := fmt.Errorf("time %q is not a 24-hour HH:MM time from 00:00 to 24:00", text)

	hourText, minuteText, ok := strings.Cut(text, ":")
	if !ok || len(hourText) != 2 || len(minuteText) != 2 {
		return 0, invalid
	}

	hour, err := strconv.ParseUint(hourText, 10, 8)
	if err != nil || hour > 24 {
		return 0, invalid
	}
	minute, err := strconv.ParseUint(minuteText, 10, 8)
	if err != nil || minute > 59 || (hour == 24 && minute != 0) {
		return 0, invalid
	}
	return time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute, nil
}

func formatClock(d time.Duration) string {
	hours := d / time.Hour
	minutes := (d % time.Hour) / time.Minute
	return fmt.Sprintf("%02d:%02d", hours, minutes)
}

// formatDays lists the days Monday first and joins runs of three or more
// days into ranges. A run that includes Sunday and Monday stays one range
// ("sun-thu", "fri-mon"), so the output parses back to the same days.
func formatDays(days [7]bool) string {
	if days == [7]bool{true, true, true, true, true, true, true} {
		return "mon-sun"
	}

	start := firstRunStart(days)
	var parts []string
	for offset := 0; offset < 7; {
		day := (start + offset) % 7
		if !days[day] {
			offset++
			continue
		}

		length := 1
		for offset+length < 7 && days[(day+length)%7] {
			length++
		}
		parts = append(parts, formatRun(time.Weekday(day), length)...)
		offset += length
	}
	return strings.Join(parts, ",")
}

// firstRunStart returns the first day, Monday first, that is open while the
// day before it is closed. It assumes at least one day is closed.
func firstRunStart(days [7]bool) int {
	for offset := 0; offset < 7; offset++ {
		day := (int(time.Monday) + offset) % 7
		if days[day] && !days[(day+6)%7] {
			return day
		}
	}
	return int(time.Monday)
}

func formatRun(first time.Weekday, length int) []string {
	name := func(day time.Weekday) string {
		return strings.ToLower(day.String())[:3]
	}

	last := time.Weekday((int(first) + length - 1) % 7)
	switch length {
	case 1:
		return []string{name(first)}
	case 2:
		return []string{name(first), name(last)}
	}
	return []string{name(first) + "-" + name(last)}
}
