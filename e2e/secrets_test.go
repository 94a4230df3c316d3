package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConnectionPasswordNeverLeaks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "grace")
	secret := e.pg.Password
	var seen []string // every response and error, to search afterwards

	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
	})
	issued := e.creds(requester, "billing-readonly", nil)
	issuedPassword := issued.Data["password"].(string)
	seen = append(seen, dump(issued.Data))
	seen = append(seen, dump(e.read("zsp/connections/main").Data))
	seen = append(seen, dump(e.read("zsp/requests/"+issued.Data["request_id"].(string)).Data))

	// A wrong password, then a database that is down: both fail, and neither
	// error shows the password that was sent.
	wrong := "Wr0ng-'secret\"-value"
	_, err := e.root.Logical().Write("zsp/connections/main", map[string]any{"password": wrong})
	require.Error(t, err)
	seen = append(seen, err.Error())
	require.NotContains(t, err.Error(), wrong)

	_, err = e.root.Logical().Write("zsp/connections/down", map[string]any{
		"connection_url":    fmt.Sprintf("postgres://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", freePort(t)),
		"username":          e.pg.User,
		"password":          secret,
		"verify_connection": false,
	})
	require.NoError(t, err)
	// Without grant statements the role write does not reach the database.
	e.write("zsp/roles/down-reader", map[string]any{
		"connection":          "down",
		"creation_statements": []any{"CREATE ROLE {{name}} LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}}"},
	})
	_, err = credsErr(requester, "down-reader", nil)
	require.Error(t, err)
	seen = append(seen, err.Error())
	seen = append(seen, dump(e.read("zsp/connections/down").Data))

	require.NoError(t, e.root.Sys().Revoke(issued.LeaseID))

	for _, text := range seen {
		require.NotContains(t, text, secret)
		require.NotContains(t, text, wrong)
	}
	log, err := os.ReadFile(e.vault.LogPath)
	require.NoError(t, err)
	require.NotEmpty(t, log)
	require.NotContains(t, string(log), secret, "the connection password is in the Vault server log")
	require.NotContains(t, string(log), wrong)
	require.NotContains(t, string(log), issuedPassword, "an account password is in the Vault server log")
}

func TestRotateRoot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "heidi")
	ctx := context.Background()

	// A separate admin, so the test keeps the cluster's own password.
	_, err := e.pg.AdminConn(t).Exec(ctx, `CREATE ROLE zsp_engine LOGIN SUPERUSER PASSWORD 'first-admin-password'`)
	require.NoError(t, err)
	e.write("zsp/connections/rotating", map[string]any{
		"connection_url": e.pg.ConnectionURLTemplate(),
		"username":       "zsp_engine",
		"password":       "first-admin-password",
	})
	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection":       "rotating",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
	})

	e.write("zsp/rotate-root/rotating", nil)

	_, err = e.pg.Login(ctx, "zsp_engine", "first-admin-password")
	require.Error(t, err, "the old admin password still works")

	secret := e.creds(requester, "billing-readonly", nil)
	e.mustLogin(secret)
	require.NoError(t, e.root.Sys().Revoke(secret.LeaseID))
	require.False(t, e.accountExists(secret.Data["username"].(string)))
}

func dump(v any) string {
	out, _ := json.Marshal(v)
	return string(out)
}
