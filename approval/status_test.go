package approval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestStatusFinal(t *testing.T) {
	final := map[approval.Status]bool{
		approval.StatusPending:   false,
		approval.StatusApproved:  false,
		approval.StatusIssued:    false,
		approval.StatusDenied:    true,
		approval.StatusCancelled: true,
		approval.StatusExpired:   true,
		approval.StatusRevoked:   true,
	}
	require.Len(t, final, len(approval.Statuses()))

	for status, want := range final {
		require.Equal(t, want, status.Final(), "status %s", status)
	}
}

func TestCanTransitionMatrix(t *testing.T) {
	allowed := map[[2]approval.Status]bool{
		{approval.StatusPending, approval.StatusApproved}:   true,
		{approval.StatusPending, approval.StatusDenied}:     true,
		{approval.StatusPending, approval.StatusCancelled}:  true,
		{approval.StatusPending, approval.StatusExpired}:    true,
		{approval.StatusApproved, approval.StatusIssued}:    true,
		{approval.StatusApproved, approval.StatusExpired}:   true,
		{approval.StatusApproved, approval.StatusCancelled}: true,
		{approval.StatusIssued, approval.StatusRevoked}:     true,
	}

	for _, from := range approval.Statuses() {
		for _, to := range approval.Statuses() {
			want := allowed[[2]approval.Status{from, to}]
			require.Equal(t, want, approval.CanTransition(from, to), "%s -> %s", from, to)
		}
	}
}

func TestCanTransitionFinalStatusesStay(t *testing.T) {
	for _, from := range approval.Statuses() {
		if !from.Final() {
			continue
		}
		for _, to := range approval.Statuses() {
			require.False(t, approval.CanTransition(from, to), "%s -> %s", from, to)
		}
	}
}

func TestCanTransitionUnknownStatus(t *testing.T) {
	require.False(t, approval.CanTransition("", approval.StatusApproved))
	require.False(t, approval.CanTransition(approval.StatusPending, "granted"))
}

func TestParseStatus(t *testing.T) {
	for _, status := range approval.Statuses() {
		parsed, err := approval.ParseStatus(string(status))
		require.NoError(t, err)
		require.Equal(t, status, parsed)
	}

	_, err := approval.ParseStatus("Approved")
	require.ErrorContains(t, err, `invalid status "Approved"`)
	require.ErrorContains(t, err, "pending, approved, issued")
}
