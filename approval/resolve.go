package approval

import "time"

// Decision is a reviewer's verdict on a request.
type Decision string

// Review decisions.
const (
	DecisionApprove Decision = "approve"
	DecisionDeny    Decision = "deny"
)

// Review is one approver's decision on a request, as stored.
type Review struct {
	// Approver is the reviewer's Vault identity entity ID.
	Approver string

	Decision Decision

	// Security reports that the approver was a member of a security approver
	// group when they reviewed.
	Security bool

	At      time.Time
	Comment string
}

// Resolve returns the status that the stored reviews give a pending request:
// approved, denied or still pending. It depends on nothing but its arguments.
//
// An auto-approved route is approved whatever the reviews contain. Otherwise
// only the first review of each approver counts, and reviews by the
// requester, without an approver, or with an unknown decision are ignored.
// One counted deny denies the request, wherever it is in the list. Otherwise
// the request is approved once RequiredApprovals distinct approvers approved
// (at least 1, whatever the route sets) and, if the route has
// SecurityRequired, one of them was a security approver.
func Resolve(route Route, requester string, reviews []Review) Status {
	if route.AutoApprove {
		return StatusApproved
	}

	approved := 0
	security := false
	for _, review := range countedReviews(requester, reviews) {
		if review.Decision == DecisionDeny {
			return StatusDenied
		}
		approved++
		security = security || review.Security
	}

	if approved < max(route.RequiredApprovals, 1) {
		return StatusPending
	}
	if route.SecurityRequired && !security {
		return StatusPending
	}
	return StatusApproved
}

// countedReviews returns the first valid review of each approver other than
// the requester, in order.
func countedReviews(requester string, reviews []Review) []Review {
	seen := make(map[string]bool, len(reviews))
	counted := make([]Review, 0, len(reviews))
	for _, review := range reviews {
		if review.Approver == "" || review.Approver == requester || !review.Decision.valid() {
			continue
		}
		if seen[review.Approver] {
			continue
		}
		seen[review.Approver] = true
		counted = append(counted, review)
	}
	return counted
}

func (d Decision) valid() bool {
	return d == DecisionApprove || d == DecisionDeny
}
