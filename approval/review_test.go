package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestCheckReview(t *testing.T) {
	now := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	deadline := now.Add(time.Hour)

	pending := func() approval.RequestState {
		return approval.RequestState{
			Requester: "alice",
			Status:    approval.StatusPending,
			Route:     approval.Route{RequiredApprovals: 2, Groups: []string{"dba", "security"}, SecurityRequired: true},
			Reviews:   []approval.Review{approve("bob")},
			ExpiresAt: deadline,
		}
	}

	tests := []struct {
		name     string
		change   func(*approval.RequestState)
		review   approval.Review
		eligible bool
		now      time.Time
		err      error
		detail   string
	}{
		{name: "valid approval", review: approve("carol"), eligible: true, now: now},
		{name: "valid deny", review: deny("carol"), eligible: true, now: now},
		{name: "no deadline", change: func(s *approval.RequestState) { s.ExpiresAt = time.Time{} }, review: approve("carol"), eligible: true, now: now.Add(1000 * time.Hour)},
		{name: "just before deadline", review: approve("carol"), eligible: true, now: deadline.Add(-time.Nanosecond)},

		{name: "self review", review: approve("alice"), eligible: true, now: now,
			err: approval.ErrSelfReview, detail: "the requester cannot review their own request; ask a member of groups dba, security"},
		{name: "self deny", review: deny("alice"), eligible: true, now: now,
			err: approval.ErrSelfReview, detail: "cannot review their own request"},
		{name: "self review even if not eligible", review: approve("alice"), eligible: false, now: now,
			err: approval.ErrSelfReview},

		{name: "same approver again", review: approve("bob"), eligible: true, now: now,
			err: approval.ErrAlreadyReviewed, detail: `approver "bob" already decided "approve" on this request, and each approver counts once`},
		{name: "same approver changes mind", review: deny("bob"), eligible: true, now: now,
			err: approval.ErrAlreadyReviewed},

		{name: "not eligible", review: approve("mallory"), eligible: false, now: now,
			err: approval.ErrNotEligible, detail: `approver "mallory" is not a member of groups dba, security`},

		{name: "at deadline", review: approve("carol"), eligible: true, now: deadline,
			err: approval.ErrExpired, detail: "request expired at 2025-01-06T13:00:00Z; the requester must send a new request"},
		{name: "past deadline", review: approve("carol"), eligible: true, now: deadline.Add(time.Minute),
			err: approval.ErrExpired, detail: "request expired"},
		{name: "expired status", change: func(s *approval.RequestState) { s.Status = approval.StatusExpired }, review: approve("carol"), eligible: true, now: now,
			err: approval.ErrExpired, detail: "request expired"},
		{name: "expired beats self review", review: approve("alice"), eligible: true, now: deadline,
			err: approval.ErrExpired, detail: "request expired"},

		{name: "approved request", change: func(s *approval.RequestState) { s.Status = approval.StatusApproved }, review: approve("carol"), eligible: true, now: now,
			err: approval.ErrResolved, detail: "request is approved and takes no more reviews"},
		{name: "denied request", change: func(s *approval.RequestState) { s.Status = approval.StatusDenied }, review: approve("carol"), eligible: true, now: now,
			err: approval.ErrResolved, detail: "request is denied"},
		{name: "cancelled request", change: func(s *approval.RequestState) { s.Status = approval.StatusCancelled }, review: deny("carol"), eligible: true, now: now,
			err: approval.ErrResolved, detail: "request is cancelled"},
		{name: "issued request", change: func(s *approval.RequestState) { s.Status = approval.StatusIssued }, review: approve("carol"), eligible: true, now: now,
			err: approval.ErrResolved, detail: "request is issued"},
		{name: "revoked request", change: func(s *approval.RequestState) { s.Status = approval.StatusRevoked }, review: approve("carol"), eligible: true, now: now,
			err: approval.ErrResolved, detail: "request is revoked"},

		{name: "no approver", review: approve(""), eligible: true, now: now,
			err: approval.ErrInvalidReview, detail: "the review has no approver entity ID"},
		{name: "unknown decision", review: approval.Review{Approver: "carol", Decision: "abstain"}, eligible: true, now: now,
			err: approval.ErrInvalidReview, detail: `decision "abstain" is not "approve" or "deny"`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := pending()
			if tt.change != nil {
				tt.change(&state)
			}

			err := approval.CheckReview(state, tt.review, tt.eligible, tt.now)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.ErrorContains(t, err, tt.detail)
		})
	}
}

// TestReviewWorkflow stores each review that CheckReview accepts and
// resolves the request after each one, as the caller does.
func TestReviewWorkflow(t *testing.T) {
	now := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	state := approval.RequestState{
		Requester: "alice",
		Status:    approval.StatusPending,
		Route:     approval.Route{RequiredApprovals: 2, Groups: []string{"dba", "security"}, SecurityRequired: true},
		ExpiresAt: now.Add(24 * time.Hour),
	}

	submit := func(review approval.Review) error {
		if err := approval.CheckReview(state, review, true, now); err != nil {
			return err
		}
		state.Reviews = append(state.Reviews, review)
		state.Status = approval.Resolve(state.Route, state.Requester, state.Reviews)
		return nil
	}

	require.ErrorIs(t, submit(approve("alice")), approval.ErrSelfReview)
	require.NoError(t, submit(approve("bob")))
	require.Equal(t, approval.StatusPending, state.Status)

	require.ErrorIs(t, submit(approve("bob")), approval.ErrAlreadyReviewed)
	require.NoError(t, submit(approve("carol")))
	require.Equal(t, approval.StatusPending, state.Status, "two approvals without security")

	require.NoError(t, submit(approveSecurity("sam")))
	require.Equal(t, approval.StatusApproved, state.Status)

	require.ErrorIs(t, submit(deny("dave")), approval.ErrResolved)
	require.Equal(t, approval.StatusApproved, approval.Resolve(state.Route, state.Requester, state.Reviews))
}
