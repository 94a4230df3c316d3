package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// firstShiftStart returns Monday 2025-01-06 08:00 UTC.
func firstShiftStart() time.Time {
	return time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
}

func TestScheduleOnCall(t *testing.T) {
	shiftStart := firstShiftStart()
	schedule := approval.Schedule{
		Name: "dba",
		Shifts: []approval.Shift{
			{Members: []string{"alice", "bob"}, Start: shiftStart, End: shiftStart.Add(8 * time.Hour)},
			{Members: []string{"carol"}, Start: shiftStart.Add(8 * time.Hour), End: shiftStart.Add(16 * time.Hour)},
			{Members: []string{"dave"}, Start: shiftStart.Add(4 * time.Hour), End: shiftStart.Add(12 * time.Hour)},
		},
	}
	require.NoError(t, schedule.Validate())

	tests := []struct {
		name   string
		member string
		at     time.Time
		want   bool
	}{
		{"start is inclusive", "alice", shiftStart, true},
		{"before start", "alice", shiftStart.Add(-time.Nanosecond), false},
		{"last instant", "alice", shiftStart.Add(8*time.Hour - time.Nanosecond), true},
		{"end is exclusive", "alice", shiftStart.Add(8 * time.Hour), false},
		{"second member", "bob", shiftStart.Add(time.Hour), true},
		{"next shift starts at previous end", "carol", shiftStart.Add(8 * time.Hour), true},
		{"next shift not yet", "carol", shiftStart.Add(8*time.Hour - time.Nanosecond), false},
		{"overlapping shift", "dave", shiftStart.Add(6 * time.Hour), true},
		{"not a member", "mallory", shiftStart.Add(time.Hour), false},
		{"empty member", "", shiftStart.Add(time.Hour), false},
		{"other time zone same instant", "alice", shiftStart.In(time.FixedZone("UTC+5", 5*3600)), true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, schedule.OnCall(tt.member, tt.at))
		})
	}
}

func TestScheduleMembersAt(t *testing.T) {
	shiftStart := firstShiftStart()
	schedule := approval.Schedule{
		Name: "dba",
		Shifts: []approval.Shift{
			{Members: []string{"alice", "bob"}, Start: shiftStart, End: shiftStart.Add(8 * time.Hour)},
			{Members: []string{"bob", "carol"}, Start: shiftStart.Add(4 * time.Hour), End: shiftStart.Add(12 * time.Hour)},
		},
	}

	require.Equal(t, []string{"alice", "bob"}, schedule.MembersAt(shiftStart))
	require.Equal(t, []string{"alice", "bob", "carol"}, schedule.MembersAt(shiftStart.Add(5*time.Hour)))
	require.Equal(t, []string{"bob", "carol"}, schedule.MembersAt(shiftStart.Add(8*time.Hour)))
	require.Empty(t, schedule.MembersAt(shiftStart.Add(12*time.Hour)))
}

func TestScheduleValidate(t *testing.T) {
	shiftStart := firstShiftStart()
	valid := approval.Shift{Members: []string{"alice"}, Start: shiftStart, End: shiftStart.Add(time.Hour)}

	tooMany := make([]approval.Shift, approval.MaxShifts+1)
	for i := range tooMany {
		tooMany[i] = valid
	}

	tests := []struct {
		name   string
		shifts []approval.Shift
		detail string
	}{
		{"no members", []approval.Shift{valid, {Start: shiftStart, End: shiftStart.Add(time.Hour)}}, "shift 1: members is empty"},
		{"empty member", []approval.Shift{{Members: []string{"alice", ""}, Start: shiftStart, End: shiftStart.Add(time.Hour)}}, "shift 0: member 1 is empty"},
		{"end before start", []approval.Shift{{Members: []string{"alice"}, Start: shiftStart, End: shiftStart.Add(-time.Hour)}}, "shift 0: end 2025-01-06T07:00:00Z must be after start 2025-01-06T08:00:00Z"},
		{"end equals start", []approval.Shift{{Members: []string{"alice"}, Start: shiftStart, End: shiftStart}}, "must be after start"},
		{"missing end", []approval.Shift{{Members: []string{"alice"}, Start: shiftStart}}, "start and end are both required"},
		{"too many shifts", tooMany, "has 1001 shifts: keep at most 1000"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := approval.Schedule{Name: "dba", Shifts: tt.shifts}.Validate()
			require.Error(t, err)
			require.ErrorContains(t, err, `on-call schedule "dba"`)
			require.ErrorContains(t, err, tt.detail)
		})
	}
}

func TestScheduleValidateLimit(t *testing.T) {
	shiftStart := firstShiftStart()
	shifts := make([]approval.Shift, approval.MaxShifts)
	for i := range shifts {
		start := shiftStart.Add(time.Duration(i) * time.Hour)
		shifts[i] = approval.Shift{Members: []string{"alice"}, Start: start, End: start.Add(time.Hour)}
	}

	require.NoError(t, approval.Schedule{Name: "dba", Shifts: shifts}.Validate())
	require.NoError(t, approval.Schedule{Name: "empty"}.Validate())
}
