package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newGroupWithAccount sets up a group with grants and one account in it, and
// returns the account's username and password.
func newGroupWithAccount(t *testing.T, client *Client, grants func(group string) []string) (string, string, string) {
	t.Helper()

	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	require.NoError(t, client.EnsureGroup(testContext(t), group, grants(group)))

	username := uniqueName(t, "zsp_drop")
	password := createDefaultAccount(t, client, username, group, time.Now().Add(time.Hour))
	return group, username, password
}

func noGrants(string) []string { return nil }

func TestDropAccountEndsSessions(t *testing.T) {
	client := newAdminClient(t)
	_, username, password := newGroupWithAccount(t, client, noGrants)
	conn := login(t, username, password)

	require.NoError(t, client.DropAccount(testContext(t), username, nil))

	requireConnectionClosed(t, conn)
	require.False(t, roleExists(t, username))
}

func TestDropAccountEndsSetRoleSessions(t *testing.T) {
	client := newAdminClient(t)
	group, username, password := newGroupWithAccount(t, client, noGrants)
	conn := login(t, username, password)
	_, err := conn.Exec(testContext(t), "SET ROLE "+group)
	require.NoError(t, err)

	require.NoError(t, client.DropAccount(testContext(t), username, nil))

	requireConnectionClosed(t, conn)
	require.False(t, roleExists(t, username))
}

func TestDropAccountReassignsObjectsInAllDatabases(t *testing.T) {
	client := newAdminClient(t)
	schema := uniqueName(t, "zsp_work")
	adminExec(t, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { adminExec(t, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	_, username, password := newGroupWithAccount(t, client, func(group string) []string {
		return []string{"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + group}
	})

	otherDatabase := uniqueName(t, "zsp_db")
	testPostgres.CreateDatabase(t, otherDatabase)
	otherAdmin := loginTo(t, otherDatabase, testPostgres.User, testPostgres.Password)
	_, err := otherAdmin.Exec(testContext(t), "CREATE SCHEMA work; GRANT USAGE, CREATE ON SCHEMA work TO "+username)
	require.NoError(t, err)

	_, err = login(t, username, password).Exec(testContext(t), "CREATE TABLE "+schema+".here (id int)")
	require.NoError(t, err)
	_, err = loginTo(t, otherDatabase, username, password).Exec(testContext(t), "CREATE TABLE work.there (id int)")
	require.NoError(t, err)

	require.NoError(t, client.DropAccount(testContext(t), username, nil))
	require.False(t, roleExists(t, username))

	var owner string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'here'", schema).Scan(&owner)
	require.NoError(t, err)
	require.Equal(t, QuarantineRole, owner)

	err = otherAdmin.QueryRow(testContext(t),
		"SELECT tableowner FROM pg_tables WHERE schemaname = 'work' AND tablename = 'there'").Scan(&owner)
	require.NoError(t, err)
	require.Equal(t, QuarantineRole, owner)
}

func TestDropAccountAlreadyGone(t *testing.T) {
	client := newAdminClient(t)
	_, username, _ := newGroupWithAccount(t, client, noGrants)

	require.NoError(t, client.DropAccount(testContext(t), username, nil))
	require.NoError(t, client.DropAccount(testContext(t), username, nil))
	require.NoError(t, client.DropAccount(testContext(t), uniqueName(t, "zsp_never_created"), nil))
}

func TestDropAccountRunsExtraStatements(t *testing.T) {
	client := newAdminClient(t)
	_, username, _ := newGroupWithAccount(t, client, noGrants)
	audit := uniqueName(t, "zsp_audit")
	adminExec(t, "CREATE TABLE "+audit+" (name text)")
	t.Cleanup(func() { adminExec(t, "DROP TABLE IF EXISTS "+audit) })

	extra := []string{"INSERT INTO " + audit + " VALUES (" + Quoter{}.QuoteLiteral(username) + ")"}
	require.NoError(t, client.DropAccount(testContext(t), username, extra))
	require.False(t, roleExists(t, username))

	var recorded string
	require.NoError(t, testPostgres.AdminConn(t).QueryRow(testContext(t), "SELECT name FROM "+audit).Scan(&recorded))
	require.Equal(t, username, recorded)
}

func TestDropAccountFailedExtraKeepsLoginDisabled(t *testing.T) {
	client := newAdminClient(t)
	_, username, password := newGroupWithAccount(t, client, noGrants)
	t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })

	err := client.DropAccount(testContext(t), username, []string{"REVOKE ALL ON TABLE zsp_no_such_table FROM " + username})
	require.ErrorContains(t, err, "revocation statement 1")
	require.NotContains(t, err.Error(), "REVOKE")
	require.True(t, roleExists(t, username), "a failed revocation must leave the role for the retry")

	_, err = testPostgres.Login(testContext(t), username, password)
	require.Error(t, err, "the account must not log in once revocation started")
}

func TestDropAccountRefusesAdmin(t *testing.T) {
	client := newAdminClient(t)

	err := client.DropAccount(testContext(t), testPostgres.User, nil)
	require.ErrorContains(t, err, "admin role")
	require.True(t, roleExists(t, testPostgres.User))
}

// TestCreateRoleAdminManagesAccounts runs the account lifecycle with an admin
// that has CREATEROLE but is not a superuser.
func TestCreateRoleAdminManagesAccounts(t *testing.T) {
	admin := uniqueName(t, "zsp_createrole_admin")
	adminPassword, err := GeneratePassword()
	require.NoError(t, err)
	schema := uniqueName(t, "zsp_limited")
	adminExec(t,
		"CREATE ROLE "+admin+" LOGIN CREATEROLE PASSWORD "+Quoter{}.QuoteLiteral(adminPassword),
		"CREATE SCHEMA "+schema+" AUTHORIZATION "+admin)
	t.Cleanup(func() {
		adminExec(t, "DROP SCHEMA IF EXISTS "+schema+" CASCADE", "DROP OWNED BY "+admin, "DROP ROLE IF EXISTS "+admin)
	})

	client := openClient(t, ConnectionConfig{URL: testPostgres.ConnectionURLTemplate(), Username: admin, Password: adminPassword})
	require.NoError(t, client.Verify(testContext(t)))

	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	require.NoError(t, client.EnsureGroup(testContext(t), group, []string{"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + group}))
	require.NoError(t, client.EnsureGroup(testContext(t), group, nil), "changing grants needs DROP OWNED BY the group")

	require.NoError(t, client.EnsureGroup(testContext(t), group, []string{"GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + group}))
	username := uniqueName(t, "zsp_limited_account")
	password := createDefaultAccount(t, client, username, group, time.Now().Add(time.Hour))
	conn := login(t, username, password)
	_, err = conn.Exec(testContext(t), "CREATE TABLE "+schema+".made (id int)")
	require.NoError(t, err)

	require.NoError(t, client.DropAccount(testContext(t), username, nil))
	requireConnectionClosed(t, conn)
	require.False(t, roleExists(t, username))

	var owner string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'made'", schema).Scan(&owner)
	require.NoError(t, err)
	require.Equal(t, QuarantineRole, owner)
}
