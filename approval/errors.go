package approval

import "errors"

// Errors that callers tell apart with errors.Is. The functions that return
// them wrap them with the values involved and what to do next.
var (
	// ErrSelfReview is returned when a requester reviews their own request.
	ErrSelfReview = errors.New("self-review not allowed")

	// ErrAlreadyReviewed is returned when an approver reviews a request a
	// second time. Resolve would ignore the second review, so the caller can
	// respond with 409 Conflict and a clear message.
	ErrAlreadyReviewed = errors.New("already reviewed")

	// ErrResolved is returned when a review arrives for a request that is no
	// longer pending.
	ErrResolved = errors.New("request already resolved")

	// ErrExpired is returned when a review arrives for an expired request.
	ErrExpired = errors.New("request expired")

	// ErrNotEligible is returned when the caller found that the reviewer is
	// not a member of the route's groups.
	ErrNotEligible = errors.New("reviewer not eligible")

	// ErrInvalidReview is returned for a review without an approver or with
	// a decision other than approve or deny.
	ErrInvalidReview = errors.New("invalid review")

	// ErrEmergencyNotAllowed is returned for a break-glass request on a role
	// that does not allow emergencies.
	ErrEmergencyNotAllowed = errors.New("break-glass not allowed")

	// ErrNoApprovers is returned when a request needs approvals but the role
	// names no group whose members could give them.
	ErrNoApprovers = errors.New("no approver groups")

	// ErrNoExtensions is returned when a grant may not be extended again.
	ErrNoExtensions = errors.New("extension not allowed")
)
