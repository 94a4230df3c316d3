package approval

import (
	"fmt"
	"strings"
	"time"
)

// RequestState is the part of a request or an extension that CheckReview
// reads.
type RequestState struct {
	Requester string
	Status    Status
	Route     Route
	Reviews   []Review

	// ExpiresAt is the pending deadline. The zero time means none.
	ExpiresAt time.Time
}

// CheckReview validates a new review before the caller stores it. eligible
// reports whether the caller found the reviewer to be a current member of
// one of the route's groups.
//
// The checks run in this order, and the first failure is returned wrapping
// its sentinel error:
//
//   - ErrInvalidReview: the review has no approver or an unknown decision.
//   - ErrExpired: the request expired, or is pending at or past ExpiresAt.
//   - ErrResolved: the request is not pending for another reason.
//   - ErrSelfReview: the reviewer is the requester.
//   - ErrNotEligible: eligible is false.
//   - ErrAlreadyReviewed: the reviewer already has a stored review.
func CheckReview(state RequestState, review Review, eligible bool, now time.Time) error {
	if review.Approver == "" {
		return fmt.Errorf("%w: the review has no approver entity ID", ErrInvalidReview)
	}
	if !review.Decision.valid() {
		return fmt.Errorf("%w: decision %q is not %q or %q", ErrInvalidReview, review.Decision, DecisionApprove, DecisionDeny)
	}

	if err := checkOpen(state, now); err != nil {
		return err
	}

	if review.Approver == state.Requester {
		return fmt.Errorf("%w: the requester cannot review their own request; ask a member of %s", ErrSelfReview, groupList(state.Route.Groups))
	}
	if !eligible {
		return fmt.Errorf("%w: approver %q is not a member of %s", ErrNotEligible, review.Approver, groupList(state.Route.Groups))
	}

	for _, earlier := range state.Reviews {
		if earlier.Approver == review.Approver {
			return fmt.Errorf("%w: approver %q already decided %q on this request, and each approver counts once", ErrAlreadyReviewed, review.Approver, earlier.Decision)
		}
	}
	return nil
}

// checkOpen returns an error unless the request is pending and before its
// deadline.
func checkOpen(state RequestState, now time.Time) error {
	if state.Status == StatusExpired || Expired(state.Status, state.ExpiresAt, now) {
		return fmt.Errorf("%w%s; the requester must send a new request", ErrExpired, deadlineSuffix(state.ExpiresAt))
	}
	if state.Status != StatusPending {
		return fmt.Errorf("%w: request is %s and takes no more reviews", ErrResolved, state.Status)
	}
	return nil
}

func deadlineSuffix(deadline time.Time) string {
	if deadline.IsZero() {
		return ""
	}
	return " at " + deadline.UTC().Format(time.RFC3339)
}

func groupList(groups []string) string {
	if len(groups) == 0 {
		return "the role's approver groups"
	}
	return "groups " + strings.Join(groups, ", ")
}
