package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestCanExtend(t *testing.T) {
	tests := []struct {
		name   string
		issued int
		max    int
		detail string
	}{
		{"first of one", 0, 1, ""},
		{"second of three", 1, 3, ""},
		{"none allowed", 0, 0, "this role allows no extensions (max_extensions is 0); request a new grant, or ask an operator to raise max_extensions"},
		{"limit reached", 2, 2, "the grant already has 2 of 2 extensions allowed by max_extensions; request a new grant"},
		{"past limit", 5, 2, "the grant already has 5 of 2 extensions"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := approval.CanExtend(tt.issued, tt.max)
			if tt.detail == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, approval.ErrNoExtensions)
			require.ErrorContains(t, err, tt.detail)
		})
	}
}

func TestCanExtendNegativeMax(t *testing.T) {
	err := approval.CanExtend(0, -1)
	require.ErrorContains(t, err, "invalid max_extensions -1")
	require.NotErrorIs(t, err, approval.ErrNoExtensions)
}

func TestExtensionReview(t *testing.T) {
	now := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)
	extension := approval.Extension{
		ID:          "ext-1",
		RequestedBy: "alice",
		NewEnd:      now.Add(2 * time.Hour),
		Route:       approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}},
		Reviews:     []approval.Review{approve("bob")},
		Status:      approval.StatusPending,
		CreatedAt:   now,
	}
	deadline := now.Add(15 * time.Minute)

	state := extension.State("alice", deadline)
	require.Equal(t, approval.RequestState{
		Requester: "alice",
		Status:    approval.StatusPending,
		Route:     extension.Route,
		Reviews:   extension.Reviews,
		ExpiresAt: deadline,
	}, state)

	require.ErrorIs(t, approval.CheckReview(state, approve("alice"), true, now), approval.ErrSelfReview)
	require.ErrorIs(t, approval.CheckReview(state, approve("bob"), true, now), approval.ErrAlreadyReviewed)
	require.ErrorIs(t, approval.CheckReview(state, approve("carol"), true, deadline), approval.ErrExpired)
	require.NoError(t, approval.CheckReview(state, approve("carol"), true, now))

	require.Equal(t, approval.StatusApproved, approval.Resolve(state.Route, state.Requester, state.Reviews))
}
