package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestMetricsMatchScriptedSequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	e.write("zsp/roles/low", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants, "risk_tier": 3,
		"requester_groups": "app-team", "default_ttl": "1m", "max_ttl": "2m",
	})
	e.write("zsp/roles/high", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants, "risk_tier": 1,
		"requester_groups": "app-team", "approver_groups": "dba-leads",
	})
	e.write("zsp/roles/glass", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants, "risk_tier": 3,
		"requester_groups": "app-team", "approver_groups": "dba-leads", "allow_emergency": true,
	})

	low := e.creds(people.requester.client, "low", nil)
	high := requirePending(t, e.creds2(people.requester, "high"))
	_, err := action(people.requester, high, "approve", nil)
	requireClientError(t, err, "your own request")
	_, err = action(people.outsider, high, "approve", nil)
	requireClientError(t, err, "not a member")
	_, err = action(people.approver1, high, "approve", nil)
	require.NoError(t, err)
	e.creds(people.requester.client, "high", nil)
	_, err = credsErr(people.outsider.client, "low", nil)
	requireClientError(t, err, "requester_groups")
	e.creds(people.requester.client, "glass", map[string]string{"emergency": "true", "justification": "INC-9"})
	_, err = people.requester.client.Sys().Renew(low.LeaseID, 3600)
	require.NoError(t, err)
	require.NoError(t, e.root.Sys().Revoke(low.LeaseID))

	m := e.read("zsp/metrics").Data
	require.Equal(t, json.Number("2"), m["standing_privileged_accounts"])
	require.Equal(t, json.Number("3"), m["grants_issued"])
	require.Equal(t, json.Number("3"), m["requests"])
	require.Equal(t, json.Number("1"), m["break_glass"])
	require.Equal(t, json.Number("1"), m["reviews_open"])
	require.Equal(t, map[string]any{"high": json.Number("1"), "glass": json.Number("1")}, m["live_grants_by_role"])
	require.Equal(t, map[string]any{"issued": json.Number("2"), "revoked": json.Number("1")}, m["requests_by_status"])
	require.Equal(t, map[string]any{
		"self_approval":            json.Number("1"),
		"non_member_approval":      json.Number("1"),
		"outside_requester_groups": json.Number("1"),
		"renewal_past_window":      json.Number("1"),
	}, m["circumvention_attempts"])
	require.Equal(t, json.Number("1"), m["privilege_duration_seconds"].(map[string]any)["count"])
	require.Equal(t, json.Number("1"), m["approval_latency_seconds"].(map[string]any)["count"])

	families := e.prometheusMetrics()
	require.Equal(t, 2.0, families["zsp_standing_privileged_accounts"].GetMetric()[0].GetGauge().GetValue())
	require.Equal(t, 3.0, families["zsp_grants_issued_total"].GetMetric()[0].GetCounter().GetValue())
	require.Equal(t, uint64(1), families["zsp_privilege_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
	attempts := map[string]float64{}
	for _, metric := range families["zsp_circumvention_attempts_total"].GetMetric() {
		attempts[metric.GetLabel()[0].GetValue()] = metric.GetCounter().GetValue()
	}
	require.Equal(t, map[string]float64{"self_approval": 1, "non_member_approval": 1, "outside_requester_groups": 1, "renewal_past_window": 1}, attempts)
}

// prometheusMetrics reads metrics?format=prometheus over plain HTTP, as a
// scraper would, and parses it with the Prometheus text parser.
func (e *env) prometheusMetrics() map[string]*dto.MetricFamily {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.vault.Addr+"/v1/zsp/metrics?format=prometheus", nil)
	require.NoError(e.t, err)
	req.Header.Set("X-Vault-Token", e.vault.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(e.t, resp.Header.Get("Content-Type"), "text/plain")

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(e.t, err, string(body))
	return families
}

func TestInventoryClassesRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "ivy")
	ctx := context.Background()
	_, err := e.pg.AdminConn(t).Exec(ctx, `
		CREATE ROLE inv_super LOGIN SUPERUSER;
		CREATE ROLE inv_creator LOGIN CREATEROLE;
		CREATE ROLE app_admin NOLOGIN;
		CREATE ROLE inv_member LOGIN IN ROLE app_admin;
		CREATE ROLE inv_plain LOGIN;
		CREATE ROLE zsp_leftover LOGIN;
		COMMENT ON ROLE zsp_leftover IS 'zsp request 00000000-dead-beef-0000-000000000000';`)
	require.NoError(t, err)
	e.write("zsp/connections/main", map[string]any{"privileged_roles": "app_admin"})
	e.write("zsp/roles/reader", map[string]any{"connection": "main", "grant_statements": readOnlyGrants})
	live := e.creds(requester, "reader", nil)

	inventory := e.read("zsp/inventory/main").Data
	classes := map[string]string{}
	for _, raw := range inventory["roles"].([]any) {
		role := raw.(map[string]any)
		classes[role["name"].(string)] = role["class"].(string)
	}
	require.Equal(t, "unmanaged", classes["inv_super"])
	require.Equal(t, "unmanaged", classes["inv_creator"])
	require.Equal(t, "unmanaged", classes["inv_member"])
	require.Equal(t, "managed", classes[live.Data["username"].(string)])
	require.Equal(t, "orphaned", classes["zsp_leftover"])
	require.Equal(t, "engine_admin", classes[e.pg.User])
	require.NotContains(t, classes, "inv_plain", "a role without privilege was listed")
	require.Equal(t, json.Number("3"), inventory["standing_privilege"])
	require.Equal(t, json.Number("3"), e.read("zsp/metrics").Data["unmanaged_privileged_accounts"].(map[string]any)["main"])
}

func TestSweepDropsAccountsLeftByOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "oscar")
	ctx := context.Background()
	e.write("zsp/roles/reader", map[string]any{"connection": "main", "grant_statements": readOnlyGrants, "default_ttl": "5s", "max_ttl": "5s"})
	_, err := e.pg.AdminConn(t).Exec(ctx, `CREATE ROLE not_ours LOGIN VALID UNTIL '2000-01-01'; COMMENT ON ROLE not_ours IS 'someone else''s';`)
	require.NoError(t, err)

	secret := e.creds(requester, "reader", nil)
	username := secret.Data["username"].(string)

	// The database is down across the lease's end; Vault's revocation fails,
	// and the operator gives up on it as Vault eventually would.
	e.pg.Stop(t)
	time.Sleep(time.Until(e.leaseExpiry(secret.LeaseID)) + 2*time.Second)
	_, stderr, err := e.vault.CLI(t, e.vault.Token, "lease", "revoke", "-force", "-prefix", secret.LeaseID)
	require.NoError(t, err, stderr)
	e.pg.Start(t)
	require.True(t, e.accountExists(username), "the account should have outlived its lease")

	sweep := e.write("zsp/inventory/main/sweep", nil).Data
	require.Contains(t, sweep["dropped"], username)
	require.False(t, e.accountExists(username))
	require.True(t, e.accountExists("not_ours"), "the sweep touched an account the engine did not make")
	require.Equal(t, "revoked", e.record(secret.Data["request_id"].(string))["status"])
}

func TestTidyKeepsLiveGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "tina")
	e.write("zsp/roles/reader", map[string]any{"connection": "main", "grant_statements": readOnlyGrants})
	ended := e.creds(requester, "reader", nil)
	require.NoError(t, e.root.Sys().Revoke(ended.LeaseID))
	live := e.creds(requester, "reader", nil)

	e.write("zsp/config", map[string]any{"request_retention": "1s"})
	time.Sleep(2 * time.Second)
	result := e.write("zsp/tidy", nil).Data
	require.Equal(t, json.Number("1"), result["deleted"])

	gone, err := e.root.Logical().Read("zsp/requests/" + ended.Data["request_id"].(string))
	require.NoError(t, err)
	require.Nil(t, gone)
	require.Equal(t, "issued", e.record(live.Data["request_id"].(string))["status"])
}

func TestStatementLoggingPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "lou")
	e.write("zsp/roles/audited", map[string]any{"connection": "main", "grant_statements": readOnlyGrants, "log_statements": true})
	secret := e.creds(requester, "audited", nil)

	var settings []string
	err := e.pg.AdminConn(t).QueryRow(context.Background(), "SELECT coalesce(rolconfig, '{}') FROM pg_roles WHERE rolname = $1", secret.Data["username"]).Scan(&settings)
	require.NoError(t, err)
	require.Contains(t, settings, "log_statement=all")
	require.Equal(t, true, e.read("zsp/roles/audited").Data["log_statements"])
	require.NotEmpty(t, fmt.Sprint(secret.Data["request_id"]))
}
