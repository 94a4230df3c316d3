package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// The tests of this package share one PostgreSQL cluster, started in
// TestMain, and keep apart by giving every role, schema and database a
// random suffix.
var testPostgres *testenv.Postgres

func TestMain(m *testing.M) {
	pg, stop, err := testenv.StartSharedPostgres()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start postgres: %v\n", err)
		os.Exit(1)
	}
	testPostgres = pg

	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop postgres: %v\n", err)
	}
	os.Exit(code)
}

// SQLSTATE codes the tests expect.
const (
	codeInvalidPassword       = "28P01"
	codeInsufficientPrivilege = "42501"
)

func testContext(t *testing.T) context.Context {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// uniqueName returns prefix with a random suffix: a valid unquoted identifier.
func uniqueName(t *testing.T, prefix string) string {
	t.Helper()

	suffix := make([]byte, 6)
	_, err := rand.Read(suffix)
	require.NoError(t, err)
	return prefix + "_" + hex.EncodeToString(suffix)
}

func adminConfig() ConnectionConfig {
	return ConnectionConfig{
		URL:      testPostgres.ConnectionURLTemplate(),
		Username: testPostgres.User,
		Password: testPostgres.Password,
	}
}

// openClient opens a client for cfg and closes it when the test ends.
func openClient(t *testing.T, cfg ConnectionConfig) *Client {
	t.Helper()

	logger := hclog.New(&hclog.LoggerOptions{Name: "postgres-test", Level: hclog.Debug, Output: testWriter{t}})
	client, err := Open(testContext(t), cfg, logger)
	require.NoError(t, err)
	t.Cleanup(client.Close)
	return client
}

func newAdminClient(t *testing.T) *Client {
	t.Helper()
	return openClient(t, adminConfig())
}

// testWriter sends log lines to t.Log, so they show only for failed tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// adminExec runs statements as the cluster's superuser.
func adminExec(t *testing.T, statements ...string) {
	t.Helper()

	conn := testPostgres.AdminConn(t)
	for _, statement := range statements {
		_, err := conn.Exec(testContext(t), statement)
		require.NoError(t, err, "admin statement: %s", statement)
	}
}

// defaultStatement renders the default create-and-join statement.
func defaultStatement(username, password, group string, validUntil time.Time) string {
	q := Quoter{}
	return "CREATE ROLE " + q.QuoteIdentifier(username) + " WITH LOGIN PASSWORD " + q.QuoteLiteral(password) +
		" VALID UNTIL " + q.QuoteLiteral(FormatExpiration(validUntil)) + " IN ROLE " + q.QuoteIdentifier(group)
}

// createDefaultAccount creates an account in group with a generated password
// sent as its verifier, and returns the password.
func createDefaultAccount(t *testing.T, client *Client, username, group string, validUntil time.Time) string {
	t.Helper()

	password, err := GeneratePassword()
	require.NoError(t, err)
	verifier, err := SCRAMVerifier(password)
	require.NoError(t, err)

	err = client.CreateAccount(testContext(t), NewAccount{
		Username:   username,
		Statements: []string{defaultStatement(username, verifier, group, validUntil)},
		LockKey:    group,
		Marker:     "zsp request test-" + username,
		Default:    true,
	})
	require.NoError(t, err)
	return password
}

// login connects as an account to the cluster's default database.
func login(t *testing.T, username, password string) *pgx.Conn {
	t.Helper()

	conn, err := testPostgres.Login(testContext(t), username, password)
	require.NoError(t, err, "login as %s", username)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// loginTo connects as an account to another database of the cluster.
func loginTo(t *testing.T, database, username, password string) *pgx.Conn {
	t.Helper()

	other := *testPostgres
	other.URL = strings.Replace(testPostgres.URL, "/"+testPostgres.Database+"?", "/"+database+"?", 1)
	conn, err := other.Login(testContext(t), username, password)
	require.NoError(t, err, "login as %s to database %s", username, database)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func roleExists(t *testing.T, name string) bool {
	t.Helper()

	var exists bool
	err := testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name).Scan(&exists)
	require.NoError(t, err)
	return exists
}

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()

	require.Error(t, err)
	require.Equal(t, code, sqlState(err), "error: %v", err)
}

// requireLoginRejected checks that the server refuses the password.
func requireLoginRejected(t *testing.T, username, password string) {
	t.Helper()

	conn, err := testPostgres.Login(testContext(t), username, password)
	if err == nil {
		_ = conn.Close(context.Background())
	}
	requireSQLState(t, err, codeInvalidPassword)
}

// requireConnectionClosed checks that the server ended the session.
func requireConnectionClosed(t *testing.T, conn *pgx.Conn) {
	t.Helper()

	_, err := conn.Exec(testContext(t), "SELECT 1")
	require.Error(t, err, "the session must have been terminated")

	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 57P01: admin_shutdown, sent by pg_terminate_backend.
		require.Equal(t, "57P01", pgErr.Code)
	}
}
