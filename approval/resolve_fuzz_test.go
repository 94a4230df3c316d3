package approval_test

import (
	"testing"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// FuzzResolveNeedsQuorum decodes each input byte into one review. Bits 0-1
// pick the approver from a set of four that includes the requester. Bit 2
// picks the decision and bit 3 the security flag. Bit 4 replaces the decision
// with an invalid one that Resolve must ignore. The test checks Resolve against a direct count of the first review of
// each approver other than the requester.
func FuzzResolveNeedsQuorum(f *testing.F) {
	f.Add([]byte{}, uint8(1), false)
	f.Add([]byte{0x01}, uint8(1), false)
	f.Add([]byte{0x00, 0x01, 0x02}, uint8(2), false)
	f.Add([]byte{0x01, 0x0a, 0x03}, uint8(2), true)
	f.Add([]byte{0x01, 0x05, 0x02}, uint8(2), false)
	f.Add([]byte{0x08, 0x01, 0x02}, uint8(2), true)
	f.Add([]byte{0x01, 0x01, 0x09}, uint8(1), true)
	f.Add([]byte{0x11, 0x01}, uint8(3), false)

	f.Fuzz(func(t *testing.T, data []byte, required uint8, securityRequired bool) {
		const requester = "alice"
		approvers := []string{requester, "bob", "carol", "dave"}

		route := approval.Route{
			RequiredApprovals: int(required % 5),
			Groups:            []string{"dba", "security"},
			SecurityRequired:  securityRequired,
		}

		reviews := make([]approval.Review, 0, len(data))
		for _, b := range data {
			review := approval.Review{
				Approver: approvers[b&3],
				Decision: approval.DecisionApprove,
				Security: b&8 != 0,
			}
			if b&4 != 0 {
				review.Decision = approval.DecisionDeny
			}
			if b&16 != 0 {
				review.Decision = "abstain"
			}
			reviews = append(reviews, review)
		}

		got := approval.Resolve(route, requester, reviews)

		// Count the first valid review of each approver other than the requester.
		seen := make(map[string]bool)
		approvals, denied, security := 0, false, false
		for _, review := range reviews {
			if review.Approver == requester || seen[review.Approver] {
				continue
			}
			if review.Decision != approval.DecisionApprove && review.Decision != approval.DecisionDeny {
				continue
			}
			seen[review.Approver] = true
			if review.Decision == approval.DecisionDeny {
				denied = true
				continue
			}
			approvals++
			security = security || review.Security
		}

		quorum := approvals >= max(route.RequiredApprovals, 1) && (!route.SecurityRequired || security)

		if got == approval.StatusApproved {
			if denied {
				t.Fatalf("approved despite a deny: reviews %+v", reviews)
			}
			if approvals < route.RequiredApprovals || approvals < 1 {
				t.Fatalf("approved with %d approvals of %d required: reviews %+v", approvals, route.RequiredApprovals, reviews)
			}
			if route.SecurityRequired && !security {
				t.Fatalf("approved without a security approval: reviews %+v", reviews)
			}
		}

		want := approval.StatusPending
		switch {
		case denied:
			want = approval.StatusDenied
		case quorum:
			want = approval.StatusApproved
		}
		if got != want {
			t.Fatalf("Resolve returned %s, expected %s (approvals %d, required %d, security %t, denied %t): reviews %+v",
				got, want, approvals, route.RequiredApprovals, security, denied, reviews)
		}
	})
}
