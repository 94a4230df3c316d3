package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
)

// readOnlyGrants give a role read access to the billing schema.
var readOnlyGrants = []any{
	"GRANT USAGE ON SCHEMA billing TO {{group}}",
	"GRANT SELECT ON ALL TABLES IN SCHEMA billing TO {{group}}",
}

func TestLowRiskRoleIsApprovedByPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants,
		"risk_tier": 3, "requester_groups": "app-team",
	})

	secret := e.creds(people.requester.client, "billing-readonly", nil)
	e.mustLogin(secret)
	require.Equal(t, "issued", secret.Data["status"])
	require.NotEmpty(t, secret.Data["risk_factors"])

	record := e.record(secret.Data["request_id"].(string))
	require.Equal(t, "issued", record["status"])
	require.True(t, hasEvent(record, "policy", "approved"), "record shows no approval by policy: %v", record["events"])
	require.Contains(t, record["decision_reason"], "policy")
	factors := record["risk_factors"].([]any)
	require.NotEmpty(t, factors)
	require.Equal(t, "tier_base", factors[0].(map[string]any)["name"])
	require.NotContains(t, dump(record), secret.Data["password"].(string))

	// Someone outside requester_groups may not ask at all.
	_, err := credsErr(people.outsider.client, "billing-readonly", nil)
	requireClientError(t, err, "requester_groups")
}

func TestHighRiskRoleWaitsForQuorum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", map[string]any{"required_approvals": 2, "require_justification": true})

	_, err := credsErr(people.requester.client, "orders-fix", nil)
	requireClientError(t, err, "justification")

	asked := map[string]string{"justification": "INC-42 stuck orders"}
	first, err := credsErr(people.requester.client, "orders-fix", asked)
	require.NoError(t, err)
	id := requirePending(t, first)

	// Reading again returns the same request, not a new one.
	again, err := credsErr(people.requester.client, "orders-fix", asked)
	require.NoError(t, err)
	require.Equal(t, id, requirePending(t, again))

	t.Run("requester cannot approve", func(t *testing.T) {
		_, err := action(people.requester, id, "approve", nil)
		requireClientError(t, err, "your own request")
	})

	t.Run("requester cannot approve through another login", func(t *testing.T) {
		other := e.tokenForSameEntity(t, people.requester.entity)
		_, err := action(other, id, "approve", nil)
		requireClientError(t, err, "your own request")
	})

	t.Run("outsider cannot approve", func(t *testing.T) {
		_, err := action(people.outsider, id, "approve", nil)
		requireClientError(t, err, "not a member")
	})

	t.Run("one approver counts once", func(t *testing.T) {
		resp, err := action(people.approver1, id, "approve", map[string]any{"comment": "looks right"})
		require.NoError(t, err)
		require.Equal(t, "pending", resp.Data["status"])
		_, err = action(people.approver1, id, "approve", nil)
		requireClientError(t, err, "already reviewed")
		require.Equal(t, "pending", e.record(id)["status"])
	})

	resp, err := action(people.approver2, id, "approve", nil)
	require.NoError(t, err)
	require.Equal(t, "approved", resp.Data["status"])

	issued := e.creds(people.requester.client, "orders-fix", asked)
	require.Equal(t, id, issued.Data["request_id"])
	e.mustLogin(issued)

	// The next read starts a new request instead of reusing the account.
	next, err := credsErr(people.requester.client, "orders-fix", asked)
	require.NoError(t, err)
	require.NotEqual(t, id, requirePending(t, next))

	record := e.record(id)
	require.Equal(t, "issued", record["status"])
	require.Len(t, record["reviews"], 2)
	require.Equal(t, "INC-42 stuck orders", record["justification"])
	statements := strings.Join(toStrings(record["statements"]), "\n")
	require.Contains(t, statements, "GRANT SELECT ON ALL TABLES IN SCHEMA billing TO")
	require.Contains(t, statements, "{{password}}")
	require.NotContains(t, dump(record), issued.Data["password"].(string))
}

func TestDenyExpiryAndRaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", nil)

	t.Run("deny is final", func(t *testing.T) {
		id := requirePending(t, e.creds2(people.requester, "orders-fix"))
		_, err := action(people.approver1, id, "deny", nil)
		requireClientError(t, err, "comment")
		_, err = action(people.approver1, id, "deny", map[string]any{"comment": "use the runbook instead"})
		require.NoError(t, err)
		_, err = action(people.approver2, id, "approve", nil)
		requireClientError(t, err, "denied")
		require.Equal(t, "denied", e.record(id)["status"])
		require.Zero(t, e.accountsOfRequest(id))

		// The next read opens a new request rather than issuing.
		require.NotEqual(t, id, requirePending(t, e.creds2(people.requester, "orders-fix")))
	})

	t.Run("fifty approve and deny races", func(t *testing.T) {
		for i := 0; i < 50; i++ {
			id := requirePending(t, e.creds2(people.requester, "orders-fix"))

			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = action(people.approver1, id, "approve", nil) }()
			go func() {
				defer wg.Done()
				_, _ = action(people.approver2, id, "deny", map[string]any{"comment": "race"})
			}()
			wg.Wait()

			status := e.record(id)["status"]
			require.Contains(t, []any{"approved", "denied"}, status, "request %s ended %v", id, status)
			if status == "approved" {
				secret := e.creds2(people.requester, "orders-fix")
				require.Equal(t, id, secret.Data["request_id"])
				require.NoError(t, e.root.Sys().Revoke(secret.LeaseID))
			} else {
				require.Zero(t, e.accountsOfRequest(id), "denied request %s has an account", id)
			}
		}
	})

	t.Run("approving an expired request", func(t *testing.T) {
		e.write("zsp/config", map[string]any{"request_ttl": "2s"})
		defer e.write("zsp/config", map[string]any{"request_ttl": "24h"})

		secret := e.creds2(people.requester, "orders-fix")
		id, _ := secret.Data["request_id"].(string)
		if secret.Data["status"] != "pending" {
			// A request left open by the race loop: cancel it and ask anew.
			_, err := action(people.requester, id, "cancel", nil)
			require.NoError(t, err)
			id = requirePending(t, e.creds2(people.requester, "orders-fix"))
		}
		time.Sleep(3 * time.Second)
		_, err := action(people.approver1, id, "approve", nil)
		requireClientError(t, err, "request expired")
		require.Equal(t, "expired", e.record(id)["status"])
	})
}

func TestMembershipIsCheckedWhenActing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", nil)

	id := requirePending(t, e.creds2(people.requester, "orders-fix"))
	e.setGroupMembers("dba-leads", people.approver2.entity)
	_, err := action(people.approver1, id, "approve", nil)
	requireClientError(t, err, "not a member")

	_, err = action(people.approver2, id, "approve", nil)
	require.NoError(t, err)
	e.setGroupMembers("app-team")
	_, err = credsErr(people.requester.client, "orders-fix", nil)
	requireClientError(t, err, "requester_groups")
	require.Zero(t, e.accountsOfRequest(id))
}

func TestExtensionMovesTheWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", map[string]any{"default_ttl": "20s", "max_ttl": "40s"})

	id := requirePending(t, e.creds2(people.requester, "orders-fix"))
	_, err := action(people.approver1, id, "approve", nil)
	require.NoError(t, err)
	secret := e.creds2(people.requester, "orders-fix")
	username := secret.Data["username"].(string)

	// Renewing past the approved window is capped at its end.
	renewed, err := people.requester.client.Sys().Renew(secret.LeaseID, 3600)
	require.NoError(t, err)
	require.LessOrEqual(t, renewed.LeaseDuration, 40)
	firstEnd := e.leaseExpiry(secret.LeaseID)
	require.WithinDuration(t, firstEnd, e.validUntil(username), 3*time.Second)

	_, err = action(people.requester, id, "extend", map[string]any{"ttl": "1h", "justification": "migration runs long"})
	requireClientError(t, err, "at most 40s")
	_, err = action(people.requester, id, "extend", map[string]any{"ttl": "40s", "justification": "migration runs long"})
	require.NoError(t, err)
	_, err = action(people.requester, id, "approve", nil)
	requireClientError(t, err, "your own request")
	resp, err := action(people.approver2, id, "approve", nil)
	require.NoError(t, err)
	require.Equal(t, "approved", resp.Data["extension"])

	renewed, err = people.requester.client.Sys().Renew(secret.LeaseID, 90)
	require.NoError(t, err)
	require.Greater(t, renewed.LeaseDuration, 40)
	newEnd := e.leaseExpiry(secret.LeaseID)
	require.True(t, newEnd.After(firstEnd.Add(30*time.Second)), "the extension did not move the lease end")
	require.WithinDuration(t, newEnd, e.validUntil(username), 3*time.Second)
}

func TestBreakGlass(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.write("zsp/roles/fix-tier3", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants,
		"risk_tier": 3, "requester_groups": "app-team", "approver_groups": "dba-leads",
		"allow_emergency": true, "auto_approve_max_score": -1,
	})
	e.write("zsp/roles/fix-tier0", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants,
		"risk_tier": 0, "requester_groups": "app-team", "approver_groups": "dba-leads",
		"security_approver_groups": "security", "allow_emergency": true,
	})
	emergency := map[string]string{"emergency": "true", "justification": "INC-7 outage"}

	_, err := credsErr(people.requester.client, "fix-tier3", map[string]string{"emergency": "true"})
	requireClientError(t, err, "justification")

	secret := e.creds(people.requester.client, "fix-tier3", emergency)
	e.mustLogin(secret)
	id := secret.Data["request_id"].(string)
	reviews, err := e.root.Logical().List("zsp/reviews")
	require.NoError(t, err)
	require.Contains(t, reviews.Data["keys"], id)
	require.True(t, e.record(id)["needs_review"].(bool))

	pending, err := credsErr(people.requester.client, "fix-tier0", emergency)
	require.NoError(t, err)
	tier0 := requirePending(t, pending)
	require.Equal(t, "1", fmt.Sprint(pending.Data["required_approvals"]))
	_, err = action(people.approver1, tier0, "approve", nil)
	require.NoError(t, err)
	e.mustLogin(e.creds(people.requester.client, "fix-tier0", emergency))

	_, err = people.approver1.client.Logical().Write("zsp/reviews/"+id, map[string]any{"comment": "checked the incident"})
	require.NoError(t, err)
	reviews, err = e.root.Logical().List("zsp/reviews")
	require.NoError(t, err)
	if reviews != nil {
		require.NotContains(t, reviews.Data["keys"], id)
	}
}

// creds2 reads creds for a person and returns the response, pending or issued.
func (e *env) creds2(p person, role string) *api.Secret {
	e.t.Helper()
	secret, err := credsErr(p.client, role, nil)
	require.NoError(e.t, err)
	require.NotNil(e.t, secret)
	return secret
}

// tokenForSameEntity creates a token through the token auth method that
// Vault ties to an existing entity, as a second login of the same person.
func (e *env) tokenForSameEntity(t *testing.T, entityID string) person {
	t.Helper()
	auths, err := e.root.Sys().ListAuth()
	require.NoError(t, err)
	e.write("auth/token/roles/linked", map[string]any{"allowed_entity_aliases": "second-login", "token_policies": "zsp-full-access"})
	e.write("identity/entity-alias", map[string]any{
		"name": "second-login", "canonical_id": entityID, "mount_accessor": auths["token/"].Accessor,
	})
	created := e.write("auth/token/create/linked", map[string]any{"entity_alias": "second-login"})
	require.Equal(t, entityID, created.Auth.EntityID)

	client, err := e.root.Clone()
	require.NoError(t, err)
	client.SetToken(created.Auth.ClientToken)
	return person{client: client, entity: entityID}
}

func toStrings(v any) []string {
	var out []string
	for _, item := range asList(v) {
		out = append(out, item.(string))
	}
	return out
}

func TestApproverShortensWholeGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", nil)

	id := requirePending(t, e.creds2(people.requester, "orders-fix"))
	_, err := action(people.approver1, id, "approve", map[string]any{"ttl": "30s"})
	require.NoError(t, err)
	secret := e.creds2(people.requester, "orders-fix")
	require.LessOrEqual(t, secret.LeaseDuration, 30)

	// Renewing cannot undo the approver's choice.
	renewed, err := people.requester.client.Sys().Renew(secret.LeaseID, 3600)
	require.NoError(t, err)
	require.LessOrEqual(t, renewed.LeaseDuration, 30)
	issuedAt, err := time.Parse(time.RFC3339, e.record(id)["issued_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, issuedAt.Add(30*time.Second), e.leaseExpiry(secret.LeaseID), 3*time.Second)
}

// TestSelfApprovalAfterEntityMerge merges the requester's entity into the
// entity of the requester's second login, an approver on another auth mount,
// while the request waits. The merged entity has another ID but keeps the
// requester's login, and must not approve.
func TestSelfApprovalAfterEntityMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.writeApprovalRole("orders-fix", nil)

	require.NoError(t, e.root.Sys().EnableAuthWithOptions("up2", &api.EnableAuthOptions{Type: "userpass"}))
	e.write("auth/up2/users/alice-admin", map[string]any{"password": "pw-alice-admin", "token_policies": "zsp-full-access"})
	login := e.write("auth/up2/login/alice-admin", map[string]any{"password": "pw-alice-admin"})
	second, err := e.root.Clone()
	require.NoError(t, err)
	second.SetToken(login.Auth.ClientToken)
	e.setGroupMembers("dba-leads", people.approver1.entity, login.Auth.EntityID)

	id := requirePending(t, e.creds2(people.requester, "orders-fix"))
	e.write("identity/entity/merge", map[string]any{
		"from_entity_ids": []string{people.requester.entity},
		"to_entity_id":    login.Auth.EntityID,
		"force":           true,
	})

	_, err = action(person{client: second, entity: login.Auth.EntityID}, id, "approve", nil)
	requireClientError(t, err, "your own request")
	require.Equal(t, "pending", e.record(id)["status"])
}
