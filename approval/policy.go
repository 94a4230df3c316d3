package approval

import (
	"fmt"
	"strings"
)

// Policy is a task role's approval settings.
type Policy struct {
	Tier int

	// RequiredApprovals is the quorum of a normal request. 0 means the tier's
	// default, and tier 0 needs at least 2.
	RequiredApprovals int

	ApproverGroups         []string
	SecurityApproverGroups []string

	// AutoApproveMaxScore is the highest score that tiers 2 and 3 approve
	// without a reviewer, and -1 means never. Tiers 0 and 1 ignore it because
	// they always need a reviewer. The caller applies
	// DefaultAutoApproveMaxScore when the role leaves the field unset, because
	// 0 is a valid maximum here.
	AutoApproveMaxScore int

	// SecurityThreshold is the lowest score that goes to the security
	// approvers. 0 means DefaultSecurityThreshold.
	SecurityThreshold int

	AllowEmergency bool
}

// Route is the approval path of a request: approval at once, or the number
// of approvals and the groups whose members may give them.
type Route struct {
	AutoApprove bool

	// NeedsReview flags a break-glass grant for post-hoc review. Every
	// break-glass route sets it, because each one skips part of the normal
	// approvals.
	NeedsReview bool

	RequiredApprovals int

	// Groups are the groups whose current members may approve.
	Groups []string

	// SecurityRequired means at least one approval must come from a member of
	// the security approver groups.
	SecurityRequired bool

	// Reason explains the route in plain words, for the requester and the
	// request record.
	Reason string
}

// Validate checks the ranges of the policy's fields. Decide calls it, and
// the caller can call it when a role is written, so a bad role is rejected
// before anyone requests it.
func (p Policy) Validate() error {
	tierDefaults, err := DefaultsForTier(p.Tier)
	if err != nil {
		return err
	}

	if p.RequiredApprovals < 0 {
		return fmt.Errorf("invalid required_approvals %d: use 0 for the tier default or a positive count", p.RequiredApprovals)
	}
	if p.Tier == 0 && p.RequiredApprovals != 0 && p.RequiredApprovals < tierDefaults.RequiredApprovals {
		return fmt.Errorf("invalid required_approvals %d: tier 0 roles need at least %d", p.RequiredApprovals, tierDefaults.RequiredApprovals)
	}
	if p.AutoApproveMaxScore < -1 || p.AutoApproveMaxScore > MaxScore {
		return fmt.Errorf("invalid auto_approve_max_score %d: use -1 (never) or 0 to %d", p.AutoApproveMaxScore, MaxScore)
	}
	if p.SecurityThreshold < 0 || p.SecurityThreshold > MaxScore {
		return fmt.Errorf("invalid security_score_threshold %d: use 0 for the default %d, or 1 to %d", p.SecurityThreshold, DefaultSecurityThreshold, MaxScore)
	}

	if err := validateGroupNames("approver_groups", p.ApproverGroups); err != nil {
		return err
	}
	return validateGroupNames("security_approver_groups", p.SecurityApproverGroups)
}

// Decide returns the route of a request with the given risk score.
// onCall reports that the role names an on-call schedule and the requester is
// on call now.
//
// A break-glass request (emergency) takes precedence over the other rules.
// Tiers 2 and 3 approve it at once. Tiers 0 and 1 need one approval from a
// member of the approver or the security approver groups. Every break-glass
// route is flagged for post-hoc review, and a role that does not allow
// emergencies gets an error wrapping ErrEmergencyNotAllowed.
//
// An on-call requester is approved at once on tiers 2 and 3, unless
// AutoApproveMaxScore is -1. Otherwise, and on tiers 0 and 1, one approval
// from a member of the approver or the security approver groups is enough.
// Tier 0 drops its security requirement for on-call staff, because the
// schedule already names them as the people trusted with the system.
//
// Other requests: tiers 2 and 3 approve a score at or below
// AutoApproveMaxScore at once. Tier 0 needs its quorum with at least one
// security approval, whatever the score. On tiers 1 to 3, a score below the
// security threshold needs the quorum from the approver groups, and a score at
// or above it the quorum from the security approver groups.
//
// A route that needs approvals but has no group to get them from is an error
// wrapping ErrNoApprovers.
func Decide(p Policy, score int, emergency, onCall bool) (Route, error) {
	if err := p.Validate(); err != nil {
		return Route{}, err
	}
	if score < 0 || score > MaxScore {
		return Route{}, fmt.Errorf("invalid risk score %d: must be 0 to %d", score, MaxScore)
	}

	switch {
	case emergency:
		return p.decideEmergency()
	case onCall:
		return p.decideOnCall()
	}
	return p.decideByScore(score)
}

func (p Policy) decideEmergency() (Route, error) {
	if !p.AllowEmergency {
		return Route{}, fmt.Errorf("%w: this role does not allow emergency requests; request without break-glass, or ask an operator to set allow_emergency", ErrEmergencyNotAllowed)
	}

	if p.lowTier() {
		return Route{
			AutoApprove: true,
			NeedsReview: true,
			Reason:      fmt.Sprintf("break-glass on tier %d: approved at once, flagged for post-hoc review", p.Tier),
		}, nil
	}

	route := Route{
		NeedsReview:       true,
		RequiredApprovals: 1,
		Groups:            p.allGroups(),
		Reason:            fmt.Sprintf("break-glass on tier %d: 1 approval from approver_groups or security_approver_groups, flagged for post-hoc review", p.Tier),
	}
	return route, p.requireGroups(route, "approver_groups or security_approver_groups")
}

func (p Policy) decideOnCall() (Route, error) {
	if p.lowTier() && p.AutoApproveMaxScore >= 0 {
		return Route{
			AutoApprove: true,
			Reason:      "requester is on call: approved by policy",
		}, nil
	}

	route := Route{
		RequiredApprovals: 1,
		Groups:            p.allGroups(),
		Reason:            fmt.Sprintf("requester is on call on tier %d: 1 approval from approver_groups or security_approver_groups", p.Tier),
	}
	return route, p.requireGroups(route, "approver_groups or security_approver_groups")
}

func (p Policy) decideByScore(score int) (Route, error) {
	required := p.requiredApprovals()
	threshold := p.securityThreshold()

	if p.lowTier() && score <= p.AutoApproveMaxScore {
		return Route{
			AutoApprove: true,
			Reason:      fmt.Sprintf("score %d at or below %d: approved by policy", score, p.AutoApproveMaxScore),
		}, nil
	}

	if p.Tier == 0 {
		route := Route{
			RequiredApprovals: required,
			Groups:            p.allGroups(),
			SecurityRequired:  true,
			Reason:            fmt.Sprintf("tier 0: %s including at least one from security_approver_groups", approvals(required)),
		}
		return route, p.requireGroups(route, "security_approver_groups")
	}

	if score >= threshold {
		route := Route{
			RequiredApprovals: required,
			Groups:            dedupe(p.SecurityApproverGroups),
			SecurityRequired:  true,
			Reason:            fmt.Sprintf("score %d at or above the security threshold %d: %s from security_approver_groups", score, threshold, approvals(required)),
		}
		return route, p.requireGroups(route, "security_approver_groups")
	}

	route := Route{
		RequiredApprovals: required,
		Groups:            dedupe(p.ApproverGroups),
		Reason:            fmt.Sprintf("score %d below the security threshold %d: %s from approver_groups", score, threshold, approvals(required)),
	}
	return route, p.requireGroups(route, "approver_groups")
}

// requireGroups returns an error when the route needs approvals but has no
// group to get them from. For tier 0 it also needs a security approver group,
// because the route requires a security approval.
func (p Policy) requireGroups(route Route, field string) error {
	missing := len(route.Groups) == 0
	if route.SecurityRequired && len(p.SecurityApproverGroups) == 0 {
		missing = true
	}
	if !missing {
		return nil
	}

	fix := "add one"
	if p.lowTier() && field == "approver_groups" {
		fix = "add one or raise auto_approve_max_score"
	}
	return fmt.Errorf("%w: role has no %s; %s", ErrNoApprovers, field, fix)
}

// lowTier reports whether the tier may approve requests without a reviewer.
func (p Policy) lowTier() bool {
	return p.Tier == 2 || p.Tier == 3
}

func (p Policy) requiredApprovals() int {
	if p.RequiredApprovals > 0 {
		return p.RequiredApprovals
	}
	tierDefaults, err := DefaultsForTier(p.Tier)
	if err != nil {
		return 1
	}
	return tierDefaults.RequiredApprovals
}

func (p Policy) securityThreshold() int {
	if p.SecurityThreshold == 0 {
		return DefaultSecurityThreshold
	}
	return p.SecurityThreshold
}

func (p Policy) allGroups() []string {
	all := append([]string{}, p.ApproverGroups...)
	return dedupe(append(all, p.SecurityApproverGroups...))
}

func validateGroupNames(field string, groups []string) error {
	for i, group := range groups {
		if strings.TrimSpace(group) == "" {
			return fmt.Errorf("invalid %s: entry %d is empty; give a Vault identity group name", field, i)
		}
	}
	return nil
}

// dedupe returns a new slice with the groups in order, each once.
func dedupe(groups []string) []string {
	seen := make(map[string]bool, len(groups))
	unique := make([]string, 0, len(groups))
	for _, group := range groups {
		if !seen[group] {
			seen[group] = true
			unique = append(unique, group)
		}
	}
	return unique
}

func approvals(n int) string {
	if n == 1 {
		return "1 approval"
	}
	return fmt.Sprintf("%d approvals", n)
}
