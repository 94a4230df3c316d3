package approval

import (
	"fmt"
	"time"
)

// Risk tiers run from MinTier, the most critical, to MaxTier.
const (
	MinTier = 0
	MaxTier = 3
)

// DefaultAutoApproveMaxScore is the highest risk score that tiers 2 and 3
// approve without a reviewer when the role sets no auto_approve_max_score.
const DefaultAutoApproveMaxScore = 25

// DefaultSecurityThreshold is the lowest risk score that goes to the security
// approvers when the role sets no threshold.
const DefaultSecurityThreshold = 70

// emergencyMaxTTL caps a break-glass grant on every tier, so an emergency
// account lives only long enough to handle the incident.
const emergencyMaxTTL = 30 * time.Minute

// TierDefaults are the settings a task role gets from its risk tier when it
// does not set them itself.
type TierDefaults struct {
	DefaultTTL time.Duration
	MaxTTL     time.Duration

	RequiredApprovals int

	// RequireSecurityGroup is set on tier 0: at least one approval must come
	// from a security approver.
	RequireSecurityGroup bool

	// AutoApprove is set on tiers 2 and 3, which approve low scores without a
	// reviewer.
	AutoApprove bool

	// EmergencyAutoApprove is set on tiers 2 and 3, which approve break-glass
	// requests at once and flag them for post-hoc review.
	EmergencyAutoApprove bool

	// EmergencyMaxTTL caps the TTL of a break-glass grant.
	EmergencyMaxTTL time.Duration
}

// DefaultsForTier returns the defaults of a risk tier, or an error for a tier
// outside 0 to 3.
func DefaultsForTier(tier int) (TierDefaults, error) {
	switch tier {
	case 0:
		return TierDefaults{
			DefaultTTL:           30 * time.Minute,
			MaxTTL:               time.Hour,
			RequiredApprovals:    2,
			RequireSecurityGroup: true,
			EmergencyMaxTTL:      emergencyMaxTTL,
		}, nil
	case 1:
		return TierDefaults{
			DefaultTTL:        time.Hour,
			MaxTTL:            4 * time.Hour,
			RequiredApprovals: 1,
			EmergencyMaxTTL:   emergencyMaxTTL,
		}, nil
	case 2, 3:
		return TierDefaults{
			DefaultTTL:           time.Hour,
			MaxTTL:               8 * time.Hour,
			RequiredApprovals:    1,
			AutoApprove:          true,
			EmergencyAutoApprove: true,
			EmergencyMaxTTL:      emergencyMaxTTL,
		}, nil
	}
	return TierDefaults{}, fmt.Errorf("invalid risk_tier %d: use %d (most critical) to %d", tier, MinTier, MaxTier)
}
