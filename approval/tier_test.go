package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func TestDefaultsForTier(t *testing.T) {
	tests := []struct {
		tier int
		want approval.TierDefaults
	}{
		{0, approval.TierDefaults{
			DefaultTTL: 30 * time.Minute, MaxTTL: time.Hour, RequiredApprovals: 2,
			RequireSecurityGroup: true, EmergencyMaxTTL: 30 * time.Minute,
		}},
		{1, approval.TierDefaults{
			DefaultTTL: time.Hour, MaxTTL: 4 * time.Hour, RequiredApprovals: 1,
			EmergencyMaxTTL: 30 * time.Minute,
		}},
		{2, approval.TierDefaults{
			DefaultTTL: time.Hour, MaxTTL: 8 * time.Hour, RequiredApprovals: 1,
			AutoApprove: true, EmergencyAutoApprove: true, EmergencyMaxTTL: 30 * time.Minute,
		}},
		{3, approval.TierDefaults{
			DefaultTTL: time.Hour, MaxTTL: 8 * time.Hour, RequiredApprovals: 1,
			AutoApprove: true, EmergencyAutoApprove: true, EmergencyMaxTTL: 30 * time.Minute,
		}},
	}

	for _, tt := range tests {
		got, err := approval.DefaultsForTier(tt.tier)
		require.NoError(t, err, "tier %d", tt.tier)
		require.Equal(t, tt.want, got, "tier %d", tt.tier)
	}
}

func TestDefaultsForTierInvalid(t *testing.T) {
	for _, tier := range []int{-1, 4, 100} {
		_, err := approval.DefaultsForTier(tier)
		require.Error(t, err, "tier %d", tier)
		require.ErrorContains(t, err, "invalid risk_tier")
		require.ErrorContains(t, err, "use 0 (most critical) to 3")
	}
}
