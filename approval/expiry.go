package approval

import (
	"fmt"
	"time"
)

// Default request expiry.
const (
	DefaultRequestTTL          = 24 * time.Hour
	DefaultClaimTTL            = time.Hour
	DefaultEmergencyRequestTTL = 15 * time.Minute
)

// Expiry sets how long requests wait. A zero field means its default.
type Expiry struct {
	// RequestTTL is how long a request may stay pending.
	RequestTTL time.Duration

	// ClaimTTL is how long an approved request waits for the requester to
	// read the account.
	ClaimTTL time.Duration

	// EmergencyRequestTTL is how long a break-glass request may stay pending.
	// It is short, because an emergency that waits longer needs another
	// path.
	EmergencyRequestTTL time.Duration
}

// DefaultExpiry returns the default expiry: 24h pending, 1h to claim, 15m
// pending for break-glass.
func DefaultExpiry() Expiry {
	return Expiry{
		RequestTTL:          DefaultRequestTTL,
		ClaimTTL:            DefaultClaimTTL,
		EmergencyRequestTTL: DefaultEmergencyRequestTTL,
	}
}

// Validate rejects negative durations. The messages name the config fields
// request_ttl, claim_ttl and emergency_request_ttl.
func (e Expiry) Validate() error {
	fields := []struct {
		name  string
		value time.Duration
	}{
		{"request_ttl", e.RequestTTL},
		{"claim_ttl", e.ClaimTTL},
		{"emergency_request_ttl", e.EmergencyRequestTTL},
	}
	for _, field := range fields {
		if field.value < 0 {
			return fmt.Errorf("invalid %s %s: use a positive duration, or 0 for the default", field.name, field.value)
		}
	}
	return nil
}

// PendingDeadline returns when a request created at created expires if it
// is still pending.
func (e Expiry) PendingDeadline(created time.Time, emergency bool) time.Time {
	if emergency {
		return created.Add(orDefault(e.EmergencyRequestTTL, DefaultEmergencyRequestTTL))
	}
	return created.Add(orDefault(e.RequestTTL, DefaultRequestTTL))
}

// ClaimDeadline returns when a request approved at approved expires if the
// requester has not read the account.
func (e Expiry) ClaimDeadline(approved time.Time) time.Time {
	return approved.Add(orDefault(e.ClaimTTL, DefaultClaimTTL))
}

// Expired reports whether a pending or approved request has reached its
// deadline: the deadline itself is already too late. A zero deadline never
// expires, and other statuses never expire.
func Expired(status Status, deadline, now time.Time) bool {
	if status != StatusPending && status != StatusApproved {
		return false
	}
	if deadline.IsZero() {
		return false
	}
	return !now.Before(deadline)
}

func orDefault(value, fallback time.Duration) time.Duration {
	if value <= 0 {
		return fallback
	}
	return value
}
