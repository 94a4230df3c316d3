package approval

import (
	"errors"
	"fmt"
	"time"
)

// MaxShifts caps the shifts of one schedule, which keeps a schedule a small
// storage entry and OnCall a short scan.
const MaxShifts = 1000

// Shift is a time window in which its members are on call. The window
// includes Start and excludes End.
type Shift struct {
	// Members are Vault identity entity IDs.
	Members []string

	Start, End time.Time
}

// Schedule is a named on-call schedule. Shifts may overlap, as a primary and a
// secondary rotation do.
type Schedule struct {
	Name   string
	Shifts []Shift
}

// Validate checks that the schedule has at most MaxShifts shifts and that
// every shift has members, no empty member ID, and an end after its start.
// The error names the shift by its index in Shifts.
func (s Schedule) Validate() error {
	if len(s.Shifts) > MaxShifts {
		return fmt.Errorf("on-call schedule %q has %d shifts: keep at most %d, for example by removing past shifts", s.Name, len(s.Shifts), MaxShifts)
	}

	for i, shift := range s.Shifts {
		if err := shift.validate(); err != nil {
			return fmt.Errorf("on-call schedule %q, shift %d: %w", s.Name, i, err)
		}
	}
	return nil
}

// OnCall reports whether member is a member of a shift that contains at.
func (s Schedule) OnCall(member string, at time.Time) bool {
	if member == "" {
		return false
	}

	for _, shift := range s.Shifts {
		if !shift.contains(at) {
			continue
		}
		for _, m := range shift.Members {
			if m == member {
				return true
			}
		}
	}
	return false
}

// MembersAt returns the members of every shift that contains at, each once,
// in schedule order.
func (s Schedule) MembersAt(at time.Time) []string {
	seen := make(map[string]bool)
	var members []string
	for _, shift := range s.Shifts {
		if !shift.contains(at) {
			continue
		}
		for _, m := range shift.Members {
			if !seen[m] {
				seen[m] = true
				members = append(members, m)
			}
		}
	}
	return members
}

func (sh Shift) contains(at time.Time) bool {
	return !at.Before(sh.Start) && at.Before(sh.End)
}

func (sh Shift) validate() error {
	if len(sh.Members) == 0 {
		return errors.New("members is empty: list the entity IDs on call in this shift")
	}
	for j, m := range sh.Members {
		if m == "" {
			return fmt.Errorf("member %d is empty: give a Vault identity entity ID", j)
		}
	}

	if sh.Start.IsZero() || sh.End.IsZero() {
		return errors.New("start and end are both required")
	}
	if !sh.End.After(sh.Start) {
		return fmt.Errorf("end %s must be after start %s", sh.End.Format(time.RFC3339), sh.Start.Format(time.RFC3339))
	}
	return nil
}
