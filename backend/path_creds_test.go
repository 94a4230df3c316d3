package backend

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

func TestCredsIssueAndRevoke(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	createSchemas(t, pg, "billing", "sales")
	b.mustOK(logical.CreateOperation, "roles/read-schema", map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
			"GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}",
		},
		"parameters": map[string]any{"schema": []any{"billing", "sales"}},
		"max_ttl":    "1h",
	})

	resp := b.mustOK(logical.ReadOperation, "creds/read-schema", map[string]any{"schema": "billing", "ttl": "10m"})
	username := resp.Data["username"].(string)
	password := resp.Data["password"].(string)
	require.Equal(t, 10*time.Minute, resp.Secret.TTL)
	require.Equal(t, time.Hour, resp.Secret.MaxTTL)

	conn, err := pg.Login(context.Background(), username, password)
	require.NoError(t, err)
	_, err = conn.Exec(context.Background(), "SELECT * FROM billing.items")
	require.NoError(t, err)
	_, err = conn.Exec(context.Background(), "SELECT * FROM sales.items")
	requireSQLState(t, err, "42501")
	require.NoError(t, conn.Close(context.Background()))

	record := b.mustOK(logical.ReadOperation, "requests/"+resp.Data["request_id"].(string), nil).Data
	require.Equal(t, "issued", record["status"])
	require.Equal(t, "entity-test", record["requester_entity_id"])
	require.Equal(t, username, record["username"])
	requireNoSecret(t, record, password)

	b.revoke(resp.Secret)
	requireAccountGone(t, pg, username)
	record = b.mustOK(logical.ReadOperation, "requests/"+resp.Data["request_id"].(string), nil).Data
	require.Equal(t, "revoked", record["status"])

	// Revoking again, with the account already gone, succeeds.
	b.revoke(resp.Secret)
}

func TestCredsRejectsBadAsks(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	createSchemas(t, pg, "billing", "sales")
	b.mustOK(logical.CreateOperation, "roles/read-schema", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}"},
		"parameters":       map[string]any{"schema": []any{"billing", "sales"}},
	})

	cases := []struct {
		name      string
		path      string
		data      map[string]any
		fragments []string
	}{
		{"unknown role", "creds/nope", nil, []string{"nope"}},
		{"value outside the list", "creds/read-schema", map[string]any{"schema": "hr"}, []string{"schema", `"hr"`, "billing"}},
		{"value carrying sql", "creds/read-schema", map[string]any{"schema": `billing"; DROP TABLE billing.items; --`}, []string{"schema"}},
		{"missing parameter", "creds/read-schema", nil, []string{"schema"}},
		{"undeclared parameter", "creds/read-schema", map[string]any{"schema": "billing", "table": "x"}, []string{"table"}},
		{"negative ttl", "creds/read-schema", map[string]any{"schema": "billing", "ttl": "-1m"}, []string{"ttl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.storageKeys()
			rolesBefore := countRoles(t, pg)

			b.mustReject(logical.ReadOperation, tc.path, tc.data, tc.fragments...)

			require.Equal(t, before, b.storageKeys())
			require.Equal(t, rolesBefore, countRoles(t, pg))
		})
	}

	t.Run("token without entity", func(t *testing.T) {
		resp, err := b.HandleRequest(context.Background(), &logical.Request{
			Operation: logical.ReadOperation,
			Path:      "creds/read-schema",
			Data:      map[string]any{"schema": "billing"},
			Storage:   b.storage,
		})
		require.NoError(t, err)
		require.True(t, resp.IsError())
		require.Contains(t, resp.Error().Error(), "log in through an auth method")
	})
}

func TestCredsWALRollbackDropsUnclaimedAccount(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	conn, err := getConnection(context.Background(), b.storage, "main")
	require.NoError(t, err)

	// An account created just before a crash: its WAL entry exists, its lease
	// was never handed out.
	client, _, err := b.clientFor(context.Background(), b.storage, "main")
	require.NoError(t, err)
	_, err = pg.AdminConn(t).Exec(context.Background(), "CREATE ROLE zsp_orphan_wal LOGIN")
	require.NoError(t, err)
	require.NotNil(t, client)

	require.NoError(t, b.walRollback(context.Background(), &logical.Request{Storage: b.storage}, walKindAccount,
		map[string]any{"connection": "main", "connection_id": conn.ID, "username": "zsp_orphan_wal", "request_id": "r1"}))
	requireAccountGone(t, pg, "zsp_orphan_wal")
}

// revoke sends Vault's revoke operation for a lease's secret.
func (tb *testBackend) revoke(secret *logical.Secret) {
	tb.t.Helper()
	resp, err := tb.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.RevokeOperation,
		Storage:   tb.storage,
		Secret:    secret,
	})
	require.NoError(tb.t, err)
	if resp != nil {
		require.False(tb.t, resp.IsError(), "revoke: %v", resp.Error())
	}
}

func requireAccountGone(t *testing.T, pg *testenv.Postgres, username string) {
	t.Helper()
	var count int
	err := pg.AdminConn(t).QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", username).Scan(&count)
	require.NoError(t, err)
	require.Zero(t, count, "account %s still exists", username)
}

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "expected SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code)
}
