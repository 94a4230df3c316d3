package approval

import (
	"fmt"
	"time"
)

// Extension is a request to move the end of an issued grant. It goes through
// its own approval round, with its own route and reviews.
type Extension struct {
	ID string

	// RequestedBy is the entity ID that asked for the extension.
	RequestedBy string

	// NewEnd is the grant's end once the extension is approved.
	NewEnd time.Time

	Route     Route
	Reviews   []Review
	Status    Status
	CreatedAt time.Time
}

// State returns the extension as a RequestState, so that Resolve and
// CheckReview decide on it as on a request. requester is the grant's
// requester, and deadline is when the extension expires if still pending.
//
// NOTE: only requester is barred from reviewing. If RequestedBy can differ
// from the grant's requester, the caller must also reject reviews by
// RequestedBy.
func (e Extension) State(requester string, deadline time.Time) RequestState {
	return RequestState{
		Requester: requester,
		Status:    e.Status,
		Route:     e.Route,
		Reviews:   e.Reviews,
		ExpiresAt: deadline,
	}
}

// CanExtend returns an error wrapping ErrNoExtensions unless a grant with
// issuedExtensions approved extensions may get one more. maxExtensions 0
// allows none.
func CanExtend(issuedExtensions, maxExtensions int) error {
	if maxExtensions < 0 {
		return fmt.Errorf("invalid max_extensions %d: use 0 (no extensions) or a positive count", maxExtensions)
	}
	if maxExtensions == 0 {
		return fmt.Errorf("%w: this role allows no extensions (max_extensions is 0); request a new grant, or ask an operator to raise max_extensions", ErrNoExtensions)
	}
	if issuedExtensions >= maxExtensions {
		return fmt.Errorf("%w: the grant already has %d of %d extensions allowed by max_extensions; request a new grant", ErrNoExtensions, issuedExtensions, maxExtensions)
	}
	return nil
}
