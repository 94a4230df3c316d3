package approval

import (
	"fmt"
	"strings"
)

// Status is the state of a request or of an extension.
type Status string

// Request statuses. Pending, approved and issued are live, and the others are
// final.
const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusIssued    Status = "issued"
	StatusDenied    Status = "denied"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
	StatusRevoked   Status = "revoked"
)

// Statuses returns every status in lifecycle order.
func Statuses() []Status {
	return []Status{
		StatusPending, StatusApproved, StatusIssued,
		StatusDenied, StatusCancelled, StatusExpired, StatusRevoked,
	}
}

// ParseStatus returns the status named s, or an error that lists the valid
// names.
func ParseStatus(s string) (Status, error) {
	for _, status := range Statuses() {
		if string(status) == s {
			return status, nil
		}
	}

	names := make([]string, 0, len(Statuses()))
	for _, status := range Statuses() {
		names = append(names, string(status))
	}
	return "", fmt.Errorf("invalid status %q: use one of %s", s, strings.Join(names, ", "))
}

// Final reports whether nothing can happen to a request in this status any
// more: denied, cancelled, expired or revoked.
func (s Status) Final() bool {
	switch s {
	case StatusDenied, StatusCancelled, StatusExpired, StatusRevoked:
		return true
	}
	return false
}

// CanTransition reports whether a request may move from one status to
// another. A pending request may be approved, denied, cancelled or expire. An
// approved request may be issued, expire unclaimed or be cancelled. An issued
// grant may only be revoked. Nothing leaves a final status, and a status never
// transitions to itself.
func CanTransition(from, to Status) bool {
	switch from {
	case StatusPending:
		return to == StatusApproved || to == StatusDenied || to == StatusCancelled || to == StatusExpired
	case StatusApproved:
		return to == StatusIssued || to == StatusExpired || to == StatusCancelled
	case StatusIssued:
		return to == StatusRevoked
	}
	return false
}
