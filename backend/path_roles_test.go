package backend

import (
	"context"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

func TestRoleReadsBackAsWritten(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	createSchemas(t, pg, "billing", "sales")

	written := map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
			"GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}",
		},
		"creation_statements":   []any{},
		"revocation_statements": []any{"SELECT 1 WHERE {{name}} IS NOT NULL OR true"},
		"default_ttl":           "15m",
		"max_ttl":               7200,
		"username_template":     "t_{{role}}_{{random}}",
		"parameters":            map[string]any{"schema": []any{"billing", "sales"}},
		"description":           "read one schema",
	}
	b.mustOK(logical.CreateOperation, "roles/read-schema", written)
	read := b.mustOK(logical.ReadOperation, "roles/read-schema", nil).Data

	require.Equal(t, "main", read["connection"])
	require.Equal(t, []string{written["grant_statements"].([]any)[0].(string), written["grant_statements"].([]any)[1].(string)}, read["grant_statements"])
	require.Equal(t, []string{}, read["creation_statements"])
	require.Equal(t, "15m", read["default_ttl"])
	require.EqualValues(t, 7200, read["max_ttl"])
	require.Equal(t, "t_{{role}}_{{random}}", read["username_template"])
	require.Equal(t, map[string]any{"schema": []string{"billing", "sales"}}, read["parameters"])
	require.Equal(t, "read one schema", read["description"])

	// A partial update keeps every field it does not send.
	b.mustOK(logical.UpdateOperation, "roles/read-schema", map[string]any{"description": "changed"})
	after := b.mustOK(logical.ReadOperation, "roles/read-schema", nil).Data
	read["description"] = "changed"
	require.Equal(t, read, after)
}

func TestRoleRejectsBadInput(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	createSchemas(t, pg, "billing")

	valid := func(changes map[string]any) map[string]any {
		data := map[string]any{
			"connection":       "main",
			"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
		}
		for k, v := range changes {
			data[k] = v
		}
		return data
	}

	cases := []struct {
		name      string
		path      string
		data      map[string]any
		fragments []string
	}{
		{"unknown connection", "roles/r", valid(map[string]any{"connection": "nope"}), []string{`"connection"`, "nope"}},
		{"unknown placeholder", "roles/r", valid(map[string]any{"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{gruop}}"}}), []string{"grant_statements", "gruop"}},
		{"default above max", "roles/r", valid(map[string]any{"default_ttl": "2h", "max_ttl": "1h"}), []string{"default_ttl", "max_ttl"}},
		{"negative ttl", "roles/r", valid(map[string]any{"default_ttl": "-10s"}), []string{"default_ttl"}},
		{"bad role name", "roles/bad name;drop", valid(nil), []string{"name"}},
		{"no statements", "roles/r", valid(map[string]any{"grant_statements": []any{}}), []string{"grant_statements"}},
		{"parameter values not a list", "roles/r", valid(map[string]any{"parameters": map[string]any{"schema": 5}}), []string{"parameters"}},
		{"statement postgres rejects", "roles/r", valid(map[string]any{"grant_statements": []any{"GRANT SELECT ON billing.missing_table TO {{group}}"}}), []string{"grant_statements", "missing_table"}},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.storageKeys()
			rolesBefore := countRoles(t, pg)

			b.mustReject(logical.CreateOperation, tc.path, tc.data, tc.fragments...)

			require.Equal(t, before, b.storageKeys())
			require.Equal(t, rolesBefore, countRoles(t, pg), "database roles changed")
		})
	}
}

func TestRoleWriteAppliesGrantsToGroup(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	createSchemas(t, pg, "billing", "sales")

	b.mustOK(logical.CreateOperation, "roles/read-schema", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}"},
		"parameters":       map[string]any{"schema": []any{"billing", "sales"}},
	})

	// One NOLOGIN group per allowed value, each with usage on its schema only.
	admin := pg.AdminConn(t)
	var canBilling, canSales bool
	err := admin.QueryRow(context.Background(),
		`SELECT has_schema_privilege(r.rolname, 'billing', 'USAGE'), has_schema_privilege(r.rolname, 'sales', 'USAGE')
		   FROM pg_roles r WHERE r.rolname = $1 AND NOT r.rolcanlogin`,
		roles.GroupName("read-schema", map[string]string{"schema": "billing"})).Scan(&canBilling, &canSales)
	require.NoError(t, err)
	require.True(t, canBilling)
	require.False(t, canSales)
}

func createSchemas(t *testing.T, pg *testenv.Postgres, names ...string) {
	t.Helper()
	admin := pg.AdminConn(t)
	for _, name := range names {
		_, err := admin.Exec(context.Background(), "CREATE SCHEMA IF NOT EXISTS "+name)
		require.NoError(t, err)
		_, err = admin.Exec(context.Background(), "CREATE TABLE IF NOT EXISTS "+name+".items (id int primary key, note text)")
		require.NoError(t, err)
	}
}

func countRoles(t *testing.T, pg *testenv.Postgres) int {
	t.Helper()
	var count int
	require.NoError(t, pg.AdminConn(t).QueryRow(context.Background(), "SELECT count(*) FROM pg_roles").Scan(&count))
	return count
}

// TestRoleFromOlderBuildUpgradesOnRead stores a role as the first build wrote
// it, before approval fields existed, and reads it back with today's
// defaults rather than tier 0 and no auto-approval.
func TestRoleFromOlderBuildUpgradesOnRead(t *testing.T) {
	b := newTestBackend(t)
	old := []byte(`{"connection":"main","grant_statements":["GRANT USAGE ON SCHEMA billing TO {{group}}"],` +
		`"creation_statements":null,"revocation_statements":null,"default_ttl":{"value":0},"max_ttl":{"value":0},` +
		`"username_template":"","parameters":null,"description":"from v0.1.0"}`)
	require.NoError(t, b.storage.Put(context.Background(), &logical.StorageEntry{Key: rolePrefix + "legacy", Value: old}))

	read := b.mustOK(logical.ReadOperation, "roles/legacy", nil).Data
	require.Equal(t, defaultRiskTier, read["risk_tier"])
	require.Equal(t, 25, read["auto_approve_max_score"])
	require.Equal(t, defaultMaxExtensions, read["max_extensions"])
	require.Equal(t, "from v0.1.0", read["description"])

	role, err := getRole(context.Background(), b.storage, "legacy")
	require.NoError(t, err)
	require.Equal(t, schemaVersion, role.SchemaVersion)
}
