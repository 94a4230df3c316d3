package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
)

// person is a userpass user with an identity entity.
type person struct {
	client *api.Client
	entity string
}

// team is the cast of the approval tests: a requester in app-team, two
// approvers in dba-leads, one security approver, and an outsider.
type team struct {
	requester, approver1, approver2, security, outsider person
}

func newTeam(t *testing.T, e *env) team {
	t.Helper()
	user := func(name string, groups ...string) person {
		client, entity := e.vault.NewUser(t, name, groups...)
		return person{client: client, entity: entity}
	}
	return team{
		requester: user("alice", "app-team"),
		approver1: user("dana", "dba-leads"),
		approver2: user("lee", "dba-leads"),
		security:  user("sam", "security"),
		outsider:  user("olga", "marketing"),
	}
}

// action writes requests/<id>/<name> as a person.
func action(p person, id, name string, data map[string]any) (*api.Secret, error) {
	return p.client.Logical().Write(fmt.Sprintf("zsp/requests/%s/%s", id, name), data)
}

// setGroupMembers replaces the members of an identity group.
func (e *env) setGroupMembers(group string, entities ...string) {
	e.t.Helper()
	if entities == nil {
		entities = []string{}
	}
	e.write("identity/group/name/"+group, map[string]any{"member_entity_ids": entities})
}

// record reads a request record as root.
func (e *env) record(id string) map[string]any {
	e.t.Helper()
	secret := e.read("zsp/requests/" + id)
	require.NotNil(e.t, secret, "request %s not found", id)
	return secret.Data
}

// requirePending checks a creds response is a pending request with no secret
// and returns its ID.
func requirePending(t *testing.T, secret *api.Secret) string {
	t.Helper()
	require.NotNil(t, secret)
	require.Empty(t, secret.LeaseID, "a pending request got a lease")
	require.Equal(t, "pending", secret.Data["status"])
	require.NotContains(t, secret.Data, "password")
	require.NotContains(t, secret.Data, "username")
	require.NotEmpty(t, secret.Data["risk_factors"])
	require.NotEmpty(t, secret.Data["approvers"])
	id, _ := secret.Data["request_id"].(string)
	require.NotEmpty(t, id)
	return id
}

// accountsOfRequest counts database roles the engine made for a request.
func (e *env) accountsOfRequest(id string) int {
	e.t.Helper()
	var count int
	err := e.pg.AdminConn(e.t).QueryRow(context.Background(),
		"SELECT count(*) FROM pg_roles r JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass WHERE d.description = $1",
		"zsp request "+id).Scan(&count)
	require.NoError(e.t, err)
	return count
}

// hasEvent reports whether a record's events include action by actor.
func hasEvent(record map[string]any, actor, action string) bool {
	events, _ := record["events"].([]any)
	for _, raw := range events {
		event := raw.(map[string]any)
		if event["action"] == action && (actor == "" || event["actor"] == actor) {
			return true
		}
	}
	return false
}

// writeApprovalRole writes a tier 1 role on the billing schema that members
// of app-team may ask for and members of dba-leads approve, with extra
// fields on top.
func (e *env) writeApprovalRole(name string, extra map[string]any) {
	e.t.Helper()
	body := map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants,
		"risk_tier": 1, "requester_groups": "app-team", "approver_groups": "dba-leads",
	}
	for k, v := range extra {
		body[k] = v
	}
	e.write("zsp/roles/"+name, body)
}
