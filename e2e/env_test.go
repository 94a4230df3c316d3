package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// env is one real Vault dev server with the plugin mounted at zsp/, one
// PostgreSQL cluster with the sample schema, and a connection named "main".
type env struct {
	t     *testing.T
	vault *testenv.Vault
	pg    *testenv.Postgres
	root  *api.Client
}

// sampleSchema is a small database: billing and sales tables, and a scratch
// schema where task accounts may create tables.
const sampleSchema = `
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int PRIMARY KEY, amount numeric NOT NULL);
INSERT INTO billing.invoices VALUES (1, 10.50), (2, 99.00);
CREATE SCHEMA sales;
CREATE TABLE sales.orders (id int PRIMARY KEY, status text NOT NULL);
INSERT INTO sales.orders VALUES (1, 'new'), (2, 'stuck');
CREATE TABLE sales.customers (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO sales.customers VALUES (1, 'Acme');
CREATE SCHEMA scratch;
`

func newEnv(t *testing.T) *env {
	t.Helper()

	pg := testenv.StartPostgres(t)
	_, err := pg.AdminConn(t).Exec(context.Background(), sampleSchema)
	require.NoError(t, err)

	vault := testenv.StartVault(t, testenv.VaultOptions{})
	vault.Setup(t)

	e := &env{t: t, vault: vault, pg: pg, root: vault.Client}
	e.write("zsp/connections/main", map[string]any{
		"connection_url": pg.ConnectionURLTemplate(),
		"username":       pg.User,
		"password":       pg.Password,
	})
	return e
}

// write sends a write as root and fails the test on error.
func (e *env) write(path string, data map[string]any) *api.Secret {
	e.t.Helper()
	secret, err := e.root.Logical().Write(path, data)
	require.NoError(e.t, err, "write %s", path)
	return secret
}

// read sends a read as root and fails the test on error.
func (e *env) read(path string) *api.Secret {
	e.t.Helper()
	secret, err := e.root.Logical().Read(path)
	require.NoError(e.t, err, "read %s", path)
	return secret
}

// creds reads creds/<role> as client with query parameters.
func (e *env) creds(client *api.Client, role string, params map[string]string) *api.Secret {
	e.t.Helper()
	secret, err := credsErr(client, role, params)
	require.NoError(e.t, err, "read zsp/creds/%s", role)
	require.NotNil(e.t, secret)
	require.NotEmpty(e.t, secret.LeaseID)
	return secret
}

func credsErr(client *api.Client, role string, params map[string]string) (*api.Secret, error) {
	query := make(map[string][]string, len(params))
	for k, v := range params {
		query[k] = []string{v}
	}
	return client.Logical().ReadWithData("zsp/creds/"+role, query)
}

// login connects to the database as an issued account.
func (e *env) login(secret *api.Secret) (*pgx.Conn, error) {
	return e.pg.Login(context.Background(), secret.Data["username"].(string), secret.Data["password"].(string))
}

func (e *env) mustLogin(secret *api.Secret) *pgx.Conn {
	e.t.Helper()
	conn, err := e.login(secret)
	require.NoError(e.t, err, "log in as %v", secret.Data["username"])
	e.t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// accountExists reports whether a role of that name is in pg_roles.
func (e *env) accountExists(username string) bool {
	e.t.Helper()
	var count int
	err := e.pg.AdminConn(e.t).QueryRow(context.Background(), "SELECT count(*) FROM pg_roles WHERE rolname = $1", username).Scan(&count)
	require.NoError(e.t, err)
	return count > 0
}

// validUntil returns the account's rolvaliduntil.
func (e *env) validUntil(username string) time.Time {
	e.t.Helper()
	var until time.Time
	err := e.pg.AdminConn(e.t).QueryRow(context.Background(), "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", username).Scan(&until)
	require.NoError(e.t, err)
	return until
}

// leaseExpiry returns when Vault will expire a lease.
func (e *env) leaseExpiry(leaseID string) time.Time {
	e.t.Helper()
	secret := e.write("sys/leases/lookup", map[string]any{"lease_id": leaseID})
	expire, err := time.Parse(time.RFC3339Nano, secret.Data["expire_time"].(string))
	require.NoError(e.t, err)
	return expire
}

// waitFor polls cond every 200ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// requireClientError checks err is a 4xx from Vault whose message contains
// every fragment.
func requireClientError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	require.Error(t, err)
	var respErr *api.ResponseError
	require.ErrorAs(t, err, &respErr)
	require.GreaterOrEqual(t, respErr.StatusCode, 400, err.Error())
	require.Less(t, respErr.StatusCode, 500, err.Error())
	message := strings.Join(respErr.Errors, "; ")
	for _, fragment := range fragments {
		require.Contains(t, message, fragment)
	}
}

// requireSQLState checks err is a PostgreSQL error with that SQLSTATE.
func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, err.Error(), fmt.Sprintf("SQLSTATE %s", code))
}
