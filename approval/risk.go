package approval

import (
	"fmt"
	"strings"
	"time"
)

// MaxScore is the cap of a risk score.
const MaxScore = 100

// Factor names. They are stable identifiers: clients, dashboards and the
// request records use them.
const (
	FactorTierBase             = "tier_base"
	FactorTTLAboveDefault      = "ttl_above_default"
	FactorOutsideBusinessHours = "outside_business_hours"
	FactorBreakGlass           = "break_glass"
	FactorNotOnCall            = "not_on_call"
	FactorRecentDenials        = "recent_denials"
	FactorUnusualParameters    = "unusual_parameters"
)

// Points of each factor. Score documents the table.
const (
	pointsTier0             = 50
	pointsTier1             = 35
	pointsTier2             = 15
	pointsTier3             = 5
	pointsTTLAboveDefault   = 10
	pointsTTLAboveTwice     = 20
	pointsOutsideHours      = 10
	pointsBreakGlass        = 20
	pointsNotOnCall         = 10
	pointsPerRecentDenial   = 5
	pointsRecentDenialsCap  = 15
	pointsUnusualParameters = 10
)

// Factor is one named contribution to a risk score.
type Factor struct {
	// Name is a stable snake_case identifier such as "tier_base".
	Name string

	Points int

	// Detail explains the factor to the requester and the approvers.
	Detail string
}

// RiskInput is everything a risk score depends on. The caller looks up the
// schedule, the requester's past denials and past grants.
type RiskInput struct {
	Tier int

	// RequestedTTL is the TTL in the request. 0 means the default.
	RequestedTTL time.Duration

	// DefaultTTL is the role's default TTL. 0 means the tier's default.
	DefaultTTL time.Duration

	// At is when the request was made.
	At time.Time

	Hours           BusinessHours
	HoursConfigured bool

	Emergency bool

	// HasSchedule reports that the role names an on-call schedule, and OnCall
	// that the requester is on call on it at At.
	HasSchedule bool
	OnCall      bool

	// RecentDenials counts the denials of this requester in the last 30 days.
	RecentDenials int

	// UnusualParameters reports parameter values this requester was never
	// granted before.
	UnusualParameters bool
}

// Score adds up the risk factors of a request and returns the total, capped
// at MaxScore, with every factor that added points. Factors keep their own
// points when the total is capped, so their sum may exceed the score.
//
//	factor                  points
//	tier_base               tier 0: 50, tier 1: 35, tier 2: 15, tier 3: 5
//	ttl_above_default       +10 above the default TTL, +20 above twice the default
//	outside_business_hours  +10, only when business hours are configured
//	break_glass             +20
//	not_on_call             +10, only when the role names an on-call schedule
//	recent_denials          +5 per denial in the last 30 days, at most +15
//	unusual_parameters      +10
//
// A tier outside 0 to 3 scores as tier 0, the most critical.
func Score(in RiskInput) (int, []Factor) {
	candidates := []Factor{
		tierFactor(in.Tier),
		ttlFactor(in),
		hoursFactor(in),
		breakGlassFactor(in.Emergency),
		onCallFactor(in.HasSchedule, in.OnCall),
		denialsFactor(in.RecentDenials),
		parametersFactor(in.UnusualParameters),
	}

	total := 0
	factors := make([]Factor, 0, len(candidates))
	for _, f := range candidates {
		if f.Points == 0 {
			continue
		}
		total += f.Points
		factors = append(factors, f)
	}
	return min(total, MaxScore), factors
}

func tierFactor(tier int) Factor {
	points := map[int]int{0: pointsTier0, 1: pointsTier1, 2: pointsTier2, 3: pointsTier3}

	p, known := points[tier]
	if !known {
		return Factor{
			Name:   FactorTierBase,
			Points: pointsTier0,
			Detail: fmt.Sprintf("unknown risk tier %d scored as tier 0, the most critical", tier),
		}
	}
	return Factor{Name: FactorTierBase, Points: p, Detail: fmt.Sprintf("risk tier %d", tier)}
}

func ttlFactor(in RiskInput) Factor {
	defaultTTL := in.DefaultTTL
	if defaultTTL <= 0 {
		tierDefaults, err := DefaultsForTier(in.Tier)
		if err != nil {
			tierDefaults, _ = DefaultsForTier(0)
		}
		defaultTTL = tierDefaults.DefaultTTL
	}

	switch {
	case in.RequestedTTL > 2*defaultTTL:
		return Factor{
			Name:   FactorTTLAboveDefault,
			Points: pointsTTLAboveTwice,
			Detail: fmt.Sprintf("requested ttl %s is more than twice the default %s", formatDuration(in.RequestedTTL), formatDuration(defaultTTL)),
		}
	case in.RequestedTTL > defaultTTL:
		return Factor{
			Name:   FactorTTLAboveDefault,
			Points: pointsTTLAboveDefault,
			Detail: fmt.Sprintf("requested ttl %s is above the default %s", formatDuration(in.RequestedTTL), formatDuration(defaultTTL)),
		}
	}
	return Factor{}
}

func hoursFactor(in RiskInput) Factor {
	if !in.HoursConfigured || in.Hours.Contains(in.At) {
		return Factor{}
	}

	local := in.At.In(in.Hours.location())
	return Factor{
		Name:   FactorOutsideBusinessHours,
		Points: pointsOutsideHours,
		Detail: fmt.Sprintf("requested at %s %s, outside business hours %q", local.Format("Mon 15:04"), in.Hours.TimeZone(), in.Hours.String()),
	}
}

func breakGlassFactor(emergency bool) Factor {
	if !emergency {
		return Factor{}
	}
	return Factor{Name: FactorBreakGlass, Points: pointsBreakGlass, Detail: "break-glass request"}
}

func onCallFactor(hasSchedule, onCall bool) Factor {
	if !hasSchedule || onCall {
		return Factor{}
	}
	return Factor{Name: FactorNotOnCall, Points: pointsNotOnCall, Detail: "requester is not on call on the role's schedule"}
}

func denialsFactor(denials int) Factor {
	if denials <= 0 {
		return Factor{}
	}

	// Capping the count first keeps a huge count from overflowing.
	counted := min(denials, pointsRecentDenialsCap/pointsPerRecentDenial)
	points := counted * pointsPerRecentDenial
	noun := "denials"
	if denials == 1 {
		noun = "denial"
	}
	return Factor{
		Name:   FactorRecentDenials,
		Points: points,
		Detail: fmt.Sprintf("%d %s of this requester in the last 30 days", denials, noun),
	}
}

func parametersFactor(unusual bool) Factor {
	if !unusual {
		return Factor{}
	}
	return Factor{Name: FactorUnusualParameters, Points: pointsUnusualParameters, Detail: "parameter values this requester was never granted before"}
}

// formatDuration drops zero minutes and seconds: "1h" for 1h0m0s, "30m" for
// 30m0s.
func formatDuration(d time.Duration) string {
	text := d.String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}
