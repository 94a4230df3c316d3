package postgres

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRotatePassword(t *testing.T) {
	// A superuser of its own, so the shared cluster's admin keeps its password.
	admin := uniqueName(t, "zsp_rotate_admin")
	oldPassword, err := GeneratePassword()
	require.NoError(t, err)
	adminExec(t, "CREATE ROLE "+admin+" LOGIN SUPERUSER PASSWORD "+Quoter{}.QuoteLiteral(oldPassword))
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+admin) })

	client := openClient(t, ConnectionConfig{URL: testPostgres.ConnectionURLTemplate(), Username: admin, Password: oldPassword})
	require.NoError(t, client.Verify(testContext(t)))

	newPassword, err := GeneratePassword()
	require.NoError(t, err)
	require.NoError(t, client.RotatePassword(testContext(t), newPassword))

	requireLoginRejected(t, admin, oldPassword)
	login(t, admin, newPassword)

	var stored string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT rolpassword FROM pg_authid WHERE rolname = $1", admin).Scan(&stored)
	require.NoError(t, err)
	require.Regexp(t, verifierPattern, stored)

	// New pool connections must log in with the new password.
	client.pool.Reset()
	require.NoError(t, client.Verify(testContext(t)))
}

func TestRotatePasswordRejectsNonASCII(t *testing.T) {
	client := newAdminClient(t)

	err := client.RotatePassword(testContext(t), "naïve-secret")
	require.ErrorContains(t, err, "printable ASCII")
	require.False(t, strings.Contains(err.Error(), "naïve-secret"))

	// The admin password is unchanged.
	login(t, testPostgres.User, testPostgres.Password)
}
