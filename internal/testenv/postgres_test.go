package testenv

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// invalidPasswordCode is SQLSTATE 28P01, invalid_password.
const invalidPasswordCode = "28P01"

func TestPostgresLoginNeedsPassword(t *testing.T) {
	pg := StartPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := pg.Login(ctx, pg.User, pg.Password)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var method string
	err = conn.QueryRow(ctx, "SELECT current_setting('password_encryption')").Scan(&method)
	require.NoError(t, err)
	require.Equal(t, "scram-sha-256", method)

	_, err = pg.Login(ctx, pg.User, pg.Password+"-wrong")
	requireSQLState(t, err, invalidPasswordCode)

	_, err = pg.Login(ctx, pg.User, "")
	require.Error(t, err, "an empty password must not log in: the server must not trust connections")
}

func TestPostgresAdminConnIsSuperuser(t *testing.T) {
	pg := StartPostgres(t)
	conn := pg.AdminConn(t)

	var superuser bool
	err := conn.QueryRow(context.Background(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&superuser)
	require.NoError(t, err)
	require.True(t, superuser)
}

func TestPostgresStopAndStartKeepPort(t *testing.T) {
	if os.Getenv("ZSP_PG_URL") != "" {
		t.Skip("ZSP_PG_URL names an outside server, which this test must not stop")
	}
	pg := StartPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pg.Stop(t)
	_, err := pg.Login(ctx, pg.User, pg.Password)
	require.Error(t, err, "login must fail while the server is stopped")

	pg.Start(t)
	conn, err := pg.Login(ctx, pg.User, pg.Password)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var port int
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_setting('port')::int").Scan(&port))
	require.Equal(t, pg.Port, port)
}

func TestPostgresCreateDatabase(t *testing.T) {
	pg := StartPostgres(t)
	pg.CreateDatabase(t, "zsp_harness_db")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	other := *pg
	other.Database = "zsp_harness_db"
	other.URL = strings.Replace(pg.URL, "/"+pg.Database+"?", "/zsp_harness_db?", 1)
	conn, err := other.Login(ctx, pg.User, pg.Password)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var name string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_database()").Scan(&name))
	require.Equal(t, "zsp_harness_db", name)
}

func TestPostgresConnectionURLTemplate(t *testing.T) {
	pg := &Postgres{Host: "127.0.0.1", Port: 25432, Database: "postgres"}

	require.Equal(t,
		"postgres://{{username}}:{{password}}@127.0.0.1:25432/postgres?sslmode=disable",
		pg.ConnectionURLTemplate())
}

func TestParsePostgresURL(t *testing.T) {
	pg, err := parsePostgresURL("postgres://admin:s3cret@127.0.0.1:25432/app?sslmode=disable")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", pg.Host)
	require.Equal(t, 25432, pg.Port)
	require.Equal(t, "admin", pg.User)
	require.Equal(t, "s3cret", pg.Password)
	require.Equal(t, "app", pg.Database)
	require.Empty(t, pg.Dir)

	for i, raw := range []string{
		"postgres://admin:s3cret@127.0.0.1/app",      // no port
		"postgres://admin:s3cret@:25432/app",         // no host
		"mysql://admin:s3cret@127.0.0.1:3306/app",    // wrong scheme
		"postgres://admin:s3cret@127.0.0.1:25432",    // no database
		"postgres://admin:s3cret@127.0.0.1:port/app", // port not a number
	} {
		_, err := parsePostgresURL(raw)
		require.Error(t, err, "URL %d", i)
		require.NotContains(t, err.Error(), "s3cret")
	}
}

func requireSQLState(t *testing.T, err error, code string) {
	t.Helper()

	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "expected a PostgreSQL error with SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pgErr.Code, "SQLSTATE of %q", pgErr.Message)
}
