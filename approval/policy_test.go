package approval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// standardPolicy returns a policy with one approver group, one security
// group, the default auto-approve score and break-glass allowed.
func standardPolicy(tier int) approval.Policy {
	return approval.Policy{
		Tier:                   tier,
		ApproverGroups:         []string{"dba"},
		SecurityApproverGroups: []string{"security"},
		AutoApproveMaxScore:    approval.DefaultAutoApproveMaxScore,
		AllowEmergency:         true,
	}
}

func TestDecide(t *testing.T) {
	both := []string{"dba", "security"}
	noGroups := func(p *approval.Policy) { p.ApproverGroups, p.SecurityApproverGroups = nil, nil }
	noEmergency := func(p *approval.Policy) { p.AllowEmergency = false }
	keep := func(p *approval.Policy) {}

	tests := []struct {
		name      string
		tier      int
		change    func(*approval.Policy)
		score     int
		emergency bool
		onCall    bool
		want      approval.Route
		err       error
		detail    string
	}{
		// Tier 0: two approvals including security, whatever the score.
		{name: "tier 0 low score", tier: 0, change: keep, score: 10,
			want: approval.Route{RequiredApprovals: 2, Groups: both, SecurityRequired: true, Reason: "tier 0: 2 approvals including at least one from security_approver_groups"}},
		{name: "tier 0 normal", tier: 0, change: keep, score: 50,
			want: approval.Route{RequiredApprovals: 2, Groups: both, SecurityRequired: true, Reason: "tier 0: 2 approvals including at least one from security_approver_groups"}},
		{name: "tier 0 high score", tier: 0, change: keep, score: 90,
			want: approval.Route{RequiredApprovals: 2, Groups: both, SecurityRequired: true, Reason: "tier 0: 2 approvals including at least one from security_approver_groups"}},
		{name: "tier 0 three approvals", tier: 0, change: func(p *approval.Policy) { p.RequiredApprovals = 3 }, score: 50,
			want: approval.Route{RequiredApprovals: 3, Groups: both, SecurityRequired: true, Reason: "tier 0: 3 approvals including at least one from security_approver_groups"}},
		{name: "tier 0 emergency", tier: 0, change: keep, score: 70, emergency: true,
			want: approval.Route{NeedsReview: true, RequiredApprovals: 1, Groups: both, Reason: "break-glass on tier 0: 1 approval from approver_groups or security_approver_groups, flagged for post-hoc review"}},
		{name: "tier 0 on call", tier: 0, change: keep, score: 50, onCall: true,
			want: approval.Route{RequiredApprovals: 1, Groups: both, Reason: "requester is on call on tier 0: 1 approval from approver_groups or security_approver_groups"}},
		{name: "tier 0 emergency not allowed", tier: 0, change: noEmergency, score: 70, emergency: true,
			err: approval.ErrEmergencyNotAllowed, detail: "set allow_emergency"},
		{name: "tier 0 no groups", tier: 0, change: noGroups, score: 50,
			err: approval.ErrNoApprovers, detail: "role has no security_approver_groups; add one"},
		{name: "tier 0 no security groups", tier: 0, change: func(p *approval.Policy) { p.SecurityApproverGroups = nil }, score: 50,
			err: approval.ErrNoApprovers, detail: "role has no security_approver_groups; add one"},
		{name: "tier 0 only security groups", tier: 0, change: func(p *approval.Policy) { p.ApproverGroups = nil }, score: 50,
			want: approval.Route{RequiredApprovals: 2, Groups: []string{"security"}, SecurityRequired: true, Reason: "tier 0: 2 approvals including at least one from security_approver_groups"}},
		{name: "tier 0 emergency no groups", tier: 0, change: noGroups, score: 70, emergency: true,
			err: approval.ErrNoApprovers, detail: "role has no approver_groups or security_approver_groups; add one"},

		// Tier 1: never auto-approved.
		{name: "tier 1 low score", tier: 1, change: keep, score: 10,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 10 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "tier 1 auto-approve ignored", tier: 1, change: func(p *approval.Policy) { p.AutoApproveMaxScore = 100 }, score: 35,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 35 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "tier 1 high score", tier: 1, change: keep, score: 70,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"security"}, SecurityRequired: true, Reason: "score 70 at or above the security threshold 70: 1 approval from security_approver_groups"}},
		{name: "tier 1 emergency", tier: 1, change: keep, score: 55, emergency: true,
			want: approval.Route{NeedsReview: true, RequiredApprovals: 1, Groups: both, Reason: "break-glass on tier 1: 1 approval from approver_groups or security_approver_groups, flagged for post-hoc review"}},
		{name: "tier 1 on call", tier: 1, change: func(p *approval.Policy) { p.RequiredApprovals = 2 }, score: 35, onCall: true,
			want: approval.Route{RequiredApprovals: 1, Groups: both, Reason: "requester is on call on tier 1: 1 approval from approver_groups or security_approver_groups"}},
		{name: "tier 1 emergency not allowed", tier: 1, change: noEmergency, score: 55, emergency: true,
			err: approval.ErrEmergencyNotAllowed, detail: "request without break-glass"},
		{name: "tier 1 no groups", tier: 1, change: noGroups, score: 35,
			err: approval.ErrNoApprovers, detail: "role has no approver_groups; add one"},
		{name: "tier 1 on call no groups", tier: 1, change: noGroups, score: 35, onCall: true,
			err: approval.ErrNoApprovers, detail: "role has no approver_groups or security_approver_groups; add one"},

		// Tier 2: auto-approved at or below the maximum score.
		{name: "tier 2 low score", tier: 2, change: keep, score: 15,
			want: approval.Route{AutoApprove: true, Reason: "score 15 at or below 25: approved by policy"}},
		{name: "tier 2 at maximum", tier: 2, change: keep, score: 25,
			want: approval.Route{AutoApprove: true, Reason: "score 25 at or below 25: approved by policy"}},
		{name: "tier 2 above maximum", tier: 2, change: keep, score: 26,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 26 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "tier 2 below threshold", tier: 2, change: keep, score: 69,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 69 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "tier 2 high score", tier: 2, change: keep, score: 85,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"security"}, SecurityRequired: true, Reason: "score 85 at or above the security threshold 70: 1 approval from security_approver_groups"}},
		{name: "tier 2 emergency", tier: 2, change: keep, score: 35, emergency: true,
			want: approval.Route{AutoApprove: true, NeedsReview: true, Reason: "break-glass on tier 2: approved at once, flagged for post-hoc review"}},
		{name: "tier 2 on call", tier: 2, change: keep, score: 45, onCall: true,
			want: approval.Route{AutoApprove: true, Reason: "requester is on call: approved by policy"}},
		{name: "tier 2 emergency not allowed", tier: 2, change: noEmergency, score: 35, emergency: true,
			err: approval.ErrEmergencyNotAllowed, detail: "this role does not allow emergency requests"},
		{name: "tier 2 no groups", tier: 2, change: noGroups, score: 40,
			err: approval.ErrNoApprovers, detail: "role has no approver_groups; add one or raise auto_approve_max_score"},
		{name: "tier 2 no groups low score", tier: 2, change: noGroups, score: 15,
			want: approval.Route{AutoApprove: true, Reason: "score 15 at or below 25: approved by policy"}},
		{name: "tier 2 no security groups high score", tier: 2, change: func(p *approval.Policy) { p.SecurityApproverGroups = nil }, score: 75,
			err: approval.ErrNoApprovers, detail: "role has no security_approver_groups; add one"},

		// Tier 3: same rules as tier 2.
		{name: "tier 3 low score", tier: 3, change: keep, score: 5,
			want: approval.Route{AutoApprove: true, Reason: "score 5 at or below 25: approved by policy"}},
		{name: "tier 3 normal", tier: 3, change: keep, score: 30,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 30 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "tier 3 high score", tier: 3, change: keep, score: 100,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"security"}, SecurityRequired: true, Reason: "score 100 at or above the security threshold 70: 1 approval from security_approver_groups"}},
		{name: "tier 3 emergency", tier: 3, change: keep, score: 100, emergency: true,
			want: approval.Route{AutoApprove: true, NeedsReview: true, Reason: "break-glass on tier 3: approved at once, flagged for post-hoc review"}},
		{name: "tier 3 on call", tier: 3, change: keep, score: 100, onCall: true,
			want: approval.Route{AutoApprove: true, Reason: "requester is on call: approved by policy"}},
		{name: "tier 3 emergency not allowed", tier: 3, change: noEmergency, score: 25, emergency: true,
			err: approval.ErrEmergencyNotAllowed, detail: "set allow_emergency"},
		{name: "tier 3 no groups", tier: 3, change: noGroups, score: 30,
			err: approval.ErrNoApprovers, detail: "role has no approver_groups; add one or raise auto_approve_max_score"},

		// Settings that change the route.
		{name: "never auto-approve", tier: 3, change: func(p *approval.Policy) { p.AutoApproveMaxScore = -1 }, score: 5,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 5 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "never auto-approve on call", tier: 3, change: func(p *approval.Policy) { p.AutoApproveMaxScore = -1 }, score: 5, onCall: true,
			want: approval.Route{RequiredApprovals: 1, Groups: both, Reason: "requester is on call on tier 3: 1 approval from approver_groups or security_approver_groups"}},
		{name: "never auto-approve emergency", tier: 3, change: func(p *approval.Policy) { p.AutoApproveMaxScore = -1 }, score: 25, emergency: true,
			want: approval.Route{AutoApprove: true, NeedsReview: true, Reason: "break-glass on tier 3: approved at once, flagged for post-hoc review"}},
		{name: "zero maximum approves nothing", tier: 3, change: func(p *approval.Policy) { p.AutoApproveMaxScore = 0 }, score: 5,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}, Reason: "score 5 below the security threshold 70: 1 approval from approver_groups"}},
		{name: "custom threshold", tier: 2, change: func(p *approval.Policy) { p.SecurityThreshold = 40 }, score: 40,
			want: approval.Route{RequiredApprovals: 1, Groups: []string{"security"}, SecurityRequired: true, Reason: "score 40 at or above the security threshold 40: 1 approval from security_approver_groups"}},
		{name: "custom quorum", tier: 1, change: func(p *approval.Policy) { p.RequiredApprovals = 2 }, score: 40,
			want: approval.Route{RequiredApprovals: 2, Groups: []string{"dba"}, Reason: "score 40 below the security threshold 70: 2 approvals from approver_groups"}},
		{name: "groups deduplicated", tier: 0, change: func(p *approval.Policy) {
			p.ApproverGroups = []string{"dba", "ops", "dba"}
			p.SecurityApproverGroups = []string{"security", "ops"}
		}, score: 50,
			want: approval.Route{RequiredApprovals: 2, Groups: []string{"dba", "ops", "security"}, SecurityRequired: true, Reason: "tier 0: 2 approvals including at least one from security_approver_groups"}},
		{name: "emergency wins over on call", tier: 1, change: keep, score: 55, emergency: true, onCall: true,
			want: approval.Route{NeedsReview: true, RequiredApprovals: 1, Groups: both, Reason: "break-glass on tier 1: 1 approval from approver_groups or security_approver_groups, flagged for post-hoc review"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := standardPolicy(tt.tier)
			tt.change(&policy)

			route, err := approval.Decide(policy, tt.score, tt.emergency, tt.onCall)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.ErrorContains(t, err, tt.detail)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, route)
		})
	}
}

func TestDecideInvalidInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(*approval.Policy)
		score  int
		detail string
	}{
		{"tier too high", func(p *approval.Policy) { p.Tier = 4 }, 10, "invalid risk_tier 4"},
		{"tier negative", func(p *approval.Policy) { p.Tier = -1 }, 10, "invalid risk_tier -1"},
		{"negative quorum", func(p *approval.Policy) { p.RequiredApprovals = -1 }, 10, "invalid required_approvals -1"},
		{"tier 0 quorum of one", func(p *approval.Policy) { p.Tier = 0; p.RequiredApprovals = 1 }, 10, "tier 0 roles need at least 2"},
		{"auto-approve below -1", func(p *approval.Policy) { p.AutoApproveMaxScore = -2 }, 10, "invalid auto_approve_max_score -2: use -1 (never) or 0 to 100"},
		{"auto-approve above 100", func(p *approval.Policy) { p.AutoApproveMaxScore = 101 }, 10, "invalid auto_approve_max_score 101"},
		{"threshold negative", func(p *approval.Policy) { p.SecurityThreshold = -5 }, 10, "invalid security_score_threshold -5"},
		{"threshold above 100", func(p *approval.Policy) { p.SecurityThreshold = 101 }, 10, "invalid security_score_threshold 101"},
		{"empty approver group", func(p *approval.Policy) { p.ApproverGroups = []string{"dba", " "} }, 10, "invalid approver_groups: entry 1 is empty"},
		{"empty security group", func(p *approval.Policy) { p.SecurityApproverGroups = []string{""} }, 10, "invalid security_approver_groups: entry 0 is empty"},
		{"score negative", func(p *approval.Policy) {}, -1, "invalid risk score -1: must be 0 to 100"},
		{"score above 100", func(p *approval.Policy) {}, 101, "invalid risk score 101"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := standardPolicy(2)
			tt.change(&policy)

			_, err := approval.Decide(policy, tt.score, false, false)
			require.ErrorContains(t, err, tt.detail)
		})
	}
}

func TestDecideReturnsFreshGroups(t *testing.T) {
	policy := standardPolicy(1)

	route, err := approval.Decide(policy, 30, false, false)
	require.NoError(t, err)

	route.Groups[0] = "changed"
	require.Equal(t, []string{"dba"}, policy.ApproverGroups)
}

func TestPolicyValidate(t *testing.T) {
	for tier := 0; tier <= 3; tier++ {
		require.NoError(t, standardPolicy(tier).Validate(), "tier %d", tier)
	}
	require.NoError(t, approval.Policy{Tier: 0, RequiredApprovals: 2}.Validate())
	require.NoError(t, approval.Policy{Tier: 3, AutoApproveMaxScore: -1, SecurityThreshold: 100}.Validate())
}
