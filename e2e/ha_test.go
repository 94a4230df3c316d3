package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// haShortTTL is the lease of the grant issued before the failover. It must
// outlast the kill, which follows the issue at once, so that the killed
// node cannot have revoked it and the revocation is the new leader's.
const haShortTTL = 20 * time.Second

// TestHAClusterFailover drives the engine on a three-node Vault cluster with
// integrated storage. Configuration and approvals go to standbys. Then the
// active node crashes with one request approved, one pending and one lease
// live, and the new active node must finish each of them.
func TestHAClusterFailover(t *testing.T) {
	t.Parallel()
	pg := testenv.StartPostgres(t)
	_, err := pg.AdminConn(t).Exec(context.Background(), sampleSchema)
	require.NoError(t, err)

	cluster := testenv.StartCluster(t, 3)
	leader := cluster.Leader(t)
	standbys := cluster.Standbys(t)
	require.Len(t, standbys, 2)

	// e sends its writes and reads to a standby, which forwards them to the
	// active node. After the failover it points at the surviving standby.
	e := &env{t: t, pg: pg, root: standbys[0].Client}

	t.Log("writing the connection and roles through standby ", standbys[0].ID)
	e.write("zsp/connections/main", map[string]any{
		"connection_url": pg.ConnectionURLTemplate(),
		"username":       pg.User,
		"password":       pg.Password,
	})
	e.writeApprovalRole("billing-audit", nil)
	e.write("zsp/roles/billing-short", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants, "risk_tier": 3,
		"default_ttl": haShortTTL.String(), "max_ttl": haShortTTL.String(),
	})

	connection, err := leader.Client.Logical().Read("zsp/connections/main")
	require.NoError(t, err)
	require.NotNil(t, connection, "the active node does not have the connection written through a standby")
	require.Equal(t, pg.User, connection.Data["username"])
	require.NotContains(t, connection.Data, "password")
	role, err := leader.Client.Logical().Read("zsp/roles/billing-audit")
	require.NoError(t, err)
	require.NotNil(t, role, "the active node does not have the role written through a standby")
	require.Equal(t, "1", fmt.Sprint(role.Data["risk_tier"]))
	require.Equal(t, []any{"dba-leads"}, role.Data["approver_groups"])

	t.Log("creating users and identity groups through the standbys")
	alice := cluster.NewUser(t, standbys[0], "alice", "app-team")
	bob := cluster.NewUser(t, standbys[1], "bob", "app-team")
	dana := cluster.NewUser(t, standbys[1], "dana", "dba-leads")
	asked := map[string]string{"justification": "INC-7 audit the invoices"}

	t.Logf("alice asks on the active node %s; dana approves through standby %s", leader.ID, standbys[0].ID)
	first, err := credsErr(alice.Client(t, leader), "billing-audit", asked)
	require.NoError(t, err)
	approvedID := requirePending(t, first)
	approved, err := action(person{client: dana.Client(t, standbys[0]), entity: dana.EntityID}, approvedID, "approve", map[string]any{"comment": "matches INC-7"})
	require.NoError(t, err)
	require.Equal(t, "approved", approved.Data["status"])
	record := readRecord(t, standbys[1], approvedID)
	require.Equal(t, "approved", record["status"])
	require.True(t, hasEvent(record, dana.EntityID, "approve"), "record shows no approval by dana: %v", record["events"])

	t.Log("bob asks on the active node and his request stays pending")
	second, err := credsErr(bob.Client(t, leader), "billing-audit", asked)
	require.NoError(t, err)
	pendingID := requirePending(t, second)

	t.Logf("alice gets a %s lease on the active node, approved by policy", haShortTTL)
	short := e.creds(alice.Client(t, leader), "billing-short", nil)
	shortUser := short.Data["username"].(string)
	shortRequest := short.Data["request_id"].(string)
	lookup, err := leader.Client.Sys().LookupWithContext(context.Background(), short.LeaseID)
	require.NoError(t, err)
	shortExpiry, err := time.Parse(time.RFC3339Nano, lookup.Data["expire_time"].(string))
	require.NoError(t, err)
	session, err := e.login(short)
	require.NoError(t, err, "log in as %s", shortUser)
	require.NoError(t, session.Close(context.Background()))

	t.Logf("killing the active node %s with SIGKILL", leader.ID)
	require.True(t, time.Now().Before(shortExpiry), "the short lease expired before the kill; raise haShortTTL")
	killedAt := time.Now()
	cluster.Kill(t, leader)
	require.True(t, e.accountExists(shortUser), "the short lease's account was dropped before its expiry")

	newLeader := cluster.WaitForNewLeader(t, leader)
	require.NotEqual(t, leader.ID, newLeader.ID)
	survivors := cluster.Standbys(t)
	require.Len(t, survivors, 1)
	survivor := survivors[0]
	e.root = survivor.Client
	t.Logf("node %s is active, node %s is its standby", newLeader.ID, survivor.ID)

	t.Run("pending request survives and is claimed after approval", func(t *testing.T) {
		require.Equal(t, "pending", readRecord(t, survivor, pendingID)["status"])
		again, err := credsErr(bob.Client(t, newLeader), "billing-audit", asked)
		require.NoError(t, err)
		require.Equal(t, pendingID, requirePending(t, again), "bob's read opened a new request instead of finding his pending one")

		approval, err := action(person{client: dana.Client(t, survivor), entity: dana.EntityID}, pendingID, "approve", nil)
		require.NoError(t, err)
		require.Equal(t, "approved", approval.Data["status"])

		issued := e.creds(bob.Client(t, newLeader), "billing-audit", asked)
		require.Equal(t, pendingID, issued.Data["request_id"])
		e.mustLogin(issued)
		require.Equal(t, 1, e.accountsOfRequest(pendingID))
	})

	t.Run("request approved before the failover is claimed", func(t *testing.T) {
		require.Equal(t, "approved", readRecord(t, newLeader, approvedID)["status"])
		issued := e.creds(alice.Client(t, survivor), "billing-audit", asked)
		require.Equal(t, approvedID, issued.Data["request_id"])
		e.mustLogin(issued)
		require.Equal(t, 1, e.accountsOfRequest(approvedID))
	})

	t.Run("lease from before the failover is revoked at expiry", func(t *testing.T) {
		waitFor(t, time.Until(shortExpiry)+time.Minute, "the new leader to drop "+shortUser, func() bool {
			return !e.accountExists(shortUser)
		})

		record := readRecord(t, newLeader, shortRequest)
		require.Equal(t, "revoked", record["status"])
		revokedAt := eventTime(t, record, "vault", "revoked")
		require.True(t, revokedAt.After(killedAt), "revoked at %s, before the kill at %s", revokedAt, killedAt)
		require.False(t, revokedAt.Before(shortExpiry.Add(-time.Second)), "revoked at %s, before the lease's expiry at %s", revokedAt, shortExpiry)
	})

	t.Run("requesters revoke through either node", func(t *testing.T) {
		_, err := alice.Client(t, survivor).Logical().Write("zsp/requests/"+approvedID+"/revoke", map[string]any{"comment": "done"})
		require.NoError(t, err)
		_, err = bob.Client(t, newLeader).Logical().Write("zsp/requests/"+pendingID+"/revoke", map[string]any{"comment": "done"})
		require.NoError(t, err)

		for _, id := range []string{approvedID, pendingID} {
			waitFor(t, 30*time.Second, "the account of request "+id+" to be dropped", func() bool {
				return e.accountsOfRequest(id) == 0
			})
			require.Equal(t, "revoked", readRecord(t, survivor, id)["status"])
		}
	})

	t.Run("metrics count every request across the failover", func(t *testing.T) {
		metrics := readMetrics(t, newLeader)
		require.Equal(t, "3", fmt.Sprint(metrics["requests"]))
		require.Equal(t, "3", fmt.Sprint(metrics["grants_issued"]))
		byStatus, _ := metrics["requests_by_status"].(map[string]any)
		require.Equal(t, "3", fmt.Sprint(byStatus["revoked"]), "requests_by_status: %v", byStatus)
	})

	// The engine caches the figures in memory, so a node that leads again
	// must not return figures it cached during its first term.
	t.Run("metrics stay current across two step-downs", func(t *testing.T) {
		first := newLeader
		before := readMetrics(t, first)
		require.NoError(t, first.Client.Sys().StepDownWithContext(context.Background()))
		second := cluster.WaitForNewLeader(t, first)

		cancelled, err := credsErr(alice.Client(t, second), "billing-audit", asked)
		require.NoError(t, err)
		cancelledID := requirePending(t, cancelled)
		_, err = action(person{client: alice.Client(t, second), entity: alice.EntityID}, cancelledID, "cancel", map[string]any{"comment": "not needed"})
		require.NoError(t, err)

		require.NoError(t, second.Client.Sys().StepDownWithContext(context.Background()))
		back := cluster.WaitForNewLeader(t, second)
		require.Equal(t, first.ID, back.ID)
		after := readMetrics(t, back)
		require.Equal(t, fmt.Sprint(toInt(t, before["requests"])+1), fmt.Sprint(after["requests"]), "node %s returned figures from before it stepped down", back.ID)
		byStatus, _ := after["requests_by_status"].(map[string]any)
		require.Equal(t, "1", fmt.Sprint(byStatus["cancelled"]), "requests_by_status: %v", byStatus)
	})

	require.Empty(t, engineAccounts(t, pg), "engine accounts left in PostgreSQL")
}

// readRecord reads a request record as root through node.
func readRecord(t *testing.T, node *testenv.ClusterNode, id string) map[string]any {
	t.Helper()
	secret, err := node.Client.Logical().Read("zsp/requests/" + id)
	require.NoError(t, err, "read request %s through node %s", id, node.ID)
	require.NotNil(t, secret, "request %s not found through node %s", id, node.ID)
	return secret.Data
}

// readMetrics reads zsp/metrics as root through node.
func readMetrics(t *testing.T, node *testenv.ClusterNode) map[string]any {
	t.Helper()
	secret, err := node.Client.Logical().Read("zsp/metrics")
	require.NoError(t, err, "read zsp/metrics through node %s", node.ID)
	require.NotNil(t, secret, "zsp/metrics returned nothing through node %s", node.ID)
	return secret.Data
}

// toInt converts a JSON number from a Vault response.
func toInt(t *testing.T, value any) int64 {
	t.Helper()
	number, ok := value.(json.Number)
	require.True(t, ok, "expected a JSON number, got %T %v", value, value)
	n, err := number.Int64()
	require.NoError(t, err)
	return n
}

// eventTime returns when the first event of action by actor happened.
func eventTime(t *testing.T, record map[string]any, actor, action string) time.Time {
	t.Helper()
	events, _ := record["events"].([]any)
	for _, raw := range events {
		event, _ := raw.(map[string]any)
		if event["actor"] != actor || event["action"] != action {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(event["at"]))
		require.NoError(t, err, "event time of %s by %s", action, actor)
		return at
	}
	t.Fatalf("record has no event %q by %q: %v", action, actor, events)
	return time.Time{}
}

// engineAccounts lists the database roles the engine created, which carry
// the comment "zsp request <id>".
func engineAccounts(t *testing.T, pg *testenv.Postgres) []string {
	t.Helper()
	rows, err := pg.AdminConn(t).Query(context.Background(),
		`SELECT r.rolname FROM pg_roles r
		 JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
		 WHERE d.description LIKE 'zsp request %'`)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	return names
}
