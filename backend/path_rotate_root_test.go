package backend

import (
	"context"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// newRotatableConnection creates a superuser the test may rotate, so the
// cluster's own admin password stays known to the test.
func newRotatableConnection(t *testing.T, b *testBackend, pg *testenv.Postgres) (user, password string) {
	t.Helper()
	user, password = "zsp_rotating_admin", "initial-Pa55-'quote"
	_, err := pg.AdminConn(t).Exec(context.Background(), `CREATE ROLE zsp_rotating_admin LOGIN SUPERUSER PASSWORD 'initial-Pa55-''quote'`)
	require.NoError(t, err)

	b.mustOK(logical.CreateOperation, "connections/main", map[string]any{
		"connection_url": pg.ConnectionURLTemplate(),
		"username":       user,
		"password":       password,
	})
	b.mustOK(logical.CreateOperation, "roles/reader", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT CONNECT ON DATABASE " + pg.Database + " TO {{group}}"},
	})
	return user, password
}

func TestRotateRootReplacesPassword(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	user, oldPassword := newRotatableConnection(t, b, pg)

	b.mustOK(logical.UpdateOperation, "rotate-root/main", nil)

	_, err := pg.Login(context.Background(), user, oldPassword)
	require.Error(t, err, "the old admin password still works")
	stored, err := getConnection(context.Background(), b.storage, "main")
	require.NoError(t, err)
	conn, err := pg.Login(context.Background(), user, stored.Password)
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))

	// Issuing still works with the new password.
	creds := b.mustOK(logical.ReadOperation, "creds/reader", nil)
	require.NotEmpty(t, creds.Data["username"])
	require.Empty(t, keysWithPrefix(b.storageKeys(), "wal/"))
}

func TestRotateRootCrashLosesNothing(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	user, oldPassword := newRotatableConnection(t, b, pg)

	b.failAfterRootRotation.Store(true)
	_, err := b.do(logical.UpdateOperation, "rotate-root/main", nil)
	require.ErrorIs(t, err, errSimulatedCrash)
	b.failAfterRootRotation.Store(false)

	// The database took the new password; storage still has the old one, and
	// the WAL entry holds the new one.
	_, err = pg.Login(context.Background(), user, oldPassword)
	require.Error(t, err)
	stored, err := getConnection(context.Background(), b.storage, "main")
	require.NoError(t, err)
	require.Equal(t, oldPassword, stored.Password)
	require.Len(t, keysWithPrefix(b.storageKeys(), "wal/"), 1)

	rollback(t, b)

	stored, err = getConnection(context.Background(), b.storage, "main")
	require.NoError(t, err)
	require.NotEqual(t, oldPassword, stored.Password)
	conn, err := pg.Login(context.Background(), user, stored.Password)
	require.NoError(t, err)
	require.NoError(t, conn.Close(context.Background()))
	require.Empty(t, keysWithPrefix(b.storageKeys(), "wal/"))

	creds := b.mustOK(logical.ReadOperation, "creds/reader", nil)
	require.NotEmpty(t, creds.Data["username"])
}

// rollback runs Vault's WAL rollback at once, whatever the entries' age.
func rollback(t *testing.T, b *testBackend) {
	t.Helper()
	_, err := b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.RollbackOperation,
		Storage:   b.storage,
		Data:      map[string]any{"immediate": true},
	})
	require.NoError(t, err)
}
