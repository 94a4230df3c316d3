package approval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func approve(approver string) approval.Review {
	return approval.Review{Approver: approver, Decision: approval.DecisionApprove}
}

func approveSecurity(approver string) approval.Review {
	return approval.Review{Approver: approver, Decision: approval.DecisionApprove, Security: true}
}

func deny(approver string) approval.Review {
	return approval.Review{Approver: approver, Decision: approval.DecisionDeny}
}

func TestResolve(t *testing.T) {
	oneApproval := approval.Route{RequiredApprovals: 1, Groups: []string{"dba"}}
	twoApprovals := approval.Route{RequiredApprovals: 2, Groups: []string{"dba"}}
	tier0 := approval.Route{RequiredApprovals: 2, Groups: []string{"dba", "security"}, SecurityRequired: true}

	tests := []struct {
		name    string
		route   approval.Route
		reviews []approval.Review
		want    approval.Status
	}{
		{"no reviews", oneApproval, nil, approval.StatusPending},
		{"one approval", oneApproval, []approval.Review{approve("bob")}, approval.StatusApproved},
		{"self approval ignored", oneApproval, []approval.Review{approve("alice")}, approval.StatusPending},
		{"self approval then other", oneApproval, []approval.Review{approve("alice"), approve("bob")}, approval.StatusApproved},
		{"self deny ignored", oneApproval, []approval.Review{deny("alice"), approve("bob")}, approval.StatusApproved},
		{"empty approver ignored", oneApproval, []approval.Review{approve("")}, approval.StatusPending},
		{"unknown decision ignored", oneApproval, []approval.Review{{Approver: "bob", Decision: "maybe"}}, approval.StatusPending},
		{"unknown decision then approve", oneApproval, []approval.Review{{Approver: "bob", Decision: "maybe"}, approve("bob")}, approval.StatusApproved},

		{"quorum of two short", twoApprovals, []approval.Review{approve("bob")}, approval.StatusPending},
		{"quorum of two reached", twoApprovals, []approval.Review{approve("bob"), approve("carol")}, approval.StatusApproved},
		{"one approver twice counts once", twoApprovals, []approval.Review{approve("bob"), approve("bob")}, approval.StatusPending},
		{"first review counts over later deny", twoApprovals, []approval.Review{approve("bob"), deny("bob"), approve("carol")}, approval.StatusApproved},
		{"first deny counts over later approve", oneApproval, []approval.Review{deny("bob"), approve("bob")}, approval.StatusDenied},

		{"deny wins", twoApprovals, []approval.Review{approve("bob"), deny("carol")}, approval.StatusDenied},
		{"deny wins after quorum", oneApproval, []approval.Review{approve("bob"), deny("carol")}, approval.StatusDenied},
		{"deny first", twoApprovals, []approval.Review{deny("carol"), approve("bob"), approve("dave")}, approval.StatusDenied},

		{"security missing", tier0, []approval.Review{approve("bob"), approve("carol")}, approval.StatusPending},
		{"security present", tier0, []approval.Review{approve("bob"), approveSecurity("sam")}, approval.StatusApproved},
		{"security alone short of quorum", tier0, []approval.Review{approveSecurity("sam")}, approval.StatusPending},
		{"security twice counts once", tier0, []approval.Review{approveSecurity("sam"), approveSecurity("sam")}, approval.StatusPending},
		{"security self review ignored", tier0, []approval.Review{approveSecurity("alice"), approve("bob"), approve("carol")}, approval.StatusPending},
		{"security later review by same approver ignored", tier0, []approval.Review{approve("bob"), approveSecurity("bob"), approve("carol")}, approval.StatusPending},

		{"zero quorum needs one", approval.Route{Groups: []string{"dba"}}, nil, approval.StatusPending},
		{"zero quorum one approval", approval.Route{Groups: []string{"dba"}}, []approval.Review{approve("bob")}, approval.StatusApproved},
		{"auto-approve", approval.Route{AutoApprove: true}, nil, approval.StatusApproved},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, approval.Resolve(tt.route, "alice", tt.reviews))
		})
	}
}

func TestResolveIgnoresOrderOfDistinctApprovers(t *testing.T) {
	route := approval.Route{RequiredApprovals: 2, SecurityRequired: true, Groups: []string{"dba", "security"}}
	forward := []approval.Review{approve("bob"), approveSecurity("sam"), approve("carol")}
	backward := []approval.Review{approve("carol"), approveSecurity("sam"), approve("bob")}

	require.Equal(t, approval.StatusApproved, approval.Resolve(route, "alice", forward))
	require.Equal(t, approval.StatusApproved, approval.Resolve(route, "alice", backward))
}
