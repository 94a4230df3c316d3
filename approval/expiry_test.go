package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestDefaultExpiry(t *testing.T) {
	require.Equal(t, approval.Expiry{
		RequestTTL:          24 * time.Hour,
		ClaimTTL:            time.Hour,
		EmergencyRequestTTL: 15 * time.Minute,
	}, approval.DefaultExpiry())
}

func TestExpiryDeadlines(t *testing.T) {
	created := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name      string
		expiry    approval.Expiry
		pending   time.Time
		emergency time.Time
		claim     time.Time
	}{
		{"defaults", approval.DefaultExpiry(), created.Add(24 * time.Hour), created.Add(15 * time.Minute), created.Add(time.Hour)},
		{"zero fields use defaults", approval.Expiry{}, created.Add(24 * time.Hour), created.Add(15 * time.Minute), created.Add(time.Hour)},
		{"custom", approval.Expiry{RequestTTL: 4 * time.Hour, ClaimTTL: 10 * time.Minute, EmergencyRequestTTL: 5 * time.Minute},
			created.Add(4 * time.Hour), created.Add(5 * time.Minute), created.Add(10 * time.Minute)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.pending, tt.expiry.PendingDeadline(created, false))
			require.Equal(t, tt.emergency, tt.expiry.PendingDeadline(created, true))
			require.Equal(t, tt.claim, tt.expiry.ClaimDeadline(created))
		})
	}
}

func TestExpiryValidate(t *testing.T) {
	require.NoError(t, approval.DefaultExpiry().Validate())
	require.NoError(t, approval.Expiry{}.Validate())

	tests := []struct {
		expiry approval.Expiry
		detail string
	}{
		{approval.Expiry{RequestTTL: -time.Hour}, "invalid request_ttl -1h0m0s"},
		{approval.Expiry{ClaimTTL: -time.Second}, "invalid claim_ttl -1s"},
		{approval.Expiry{EmergencyRequestTTL: -time.Minute}, "invalid emergency_request_ttl -1m0s"},
	}
	for _, tt := range tests {
		require.ErrorContains(t, tt.expiry.Validate(), tt.detail)
	}
}

func TestExpired(t *testing.T) {
	deadline := time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name     string
		status   approval.Status
		deadline time.Time
		now      time.Time
		want     bool
	}{
		{"pending before deadline", approval.StatusPending, deadline, deadline.Add(-time.Nanosecond), false},
		{"pending at deadline", approval.StatusPending, deadline, deadline, true},
		{"pending past deadline", approval.StatusPending, deadline, deadline.Add(time.Hour), true},
		{"approved unclaimed past deadline", approval.StatusApproved, deadline, deadline.Add(time.Second), true},
		{"approved before deadline", approval.StatusApproved, deadline, deadline.Add(-time.Second), false},
		{"issued never expires here", approval.StatusIssued, deadline, deadline.Add(time.Hour), false},
		{"denied never expires", approval.StatusDenied, deadline, deadline.Add(time.Hour), false},
		{"already expired", approval.StatusExpired, deadline, deadline.Add(time.Hour), false},
		{"zero deadline", approval.StatusPending, time.Time{}, deadline.Add(1000 * time.Hour), false},
		{"other time zone same instant", approval.StatusPending, deadline, deadline.In(time.FixedZone("UTC-7", -7*3600)), true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, approval.Expired(tt.status, tt.deadline, tt.now))
		})
	}
}
