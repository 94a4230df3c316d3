package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// schemaWithTable creates a schema holding table t with one row, dropped when the test ends.
func schemaWithTable(t *testing.T, prefix string) string {
	t.Helper()

	schema := uniqueName(t, prefix)
	adminExec(t,
		"CREATE SCHEMA "+schema,
		"CREATE TABLE "+schema+".t (id int)",
		"INSERT INTO "+schema+".t VALUES (1)")
	t.Cleanup(func() { adminExec(t, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	return schema
}

func readGrants(schema, group string) []string {
	return []string{
		"GRANT USAGE ON SCHEMA " + schema + " TO " + group,
		"GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + group,
	}
}

// dropGroupAtEnd drops the group role when the test ends; its accounts are dropped before.
func dropGroupAtEnd(t *testing.T, group string) {
	t.Helper()
	t.Cleanup(func() {
		adminExec(t, "DROP OWNED BY "+group, "DROP ROLE IF EXISTS "+group)
	})
}

func TestCreateAccountDefaultJoinsGroup(t *testing.T) {
	client := newAdminClient(t)
	granted := schemaWithTable(t, "zsp_granted")
	other := schemaWithTable(t, "zsp_other")
	group := uniqueName(t, "zsp_group")
	require.NoError(t, client.EnsureGroup(testContext(t), group, readGrants(granted, group)))
	dropGroupAtEnd(t, group)

	username := uniqueName(t, "zsp_account")
	validUntil := time.Now().Add(90 * time.Minute).Truncate(time.Microsecond)
	password := createDefaultAccount(t, client, username, group, validUntil)
	t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })

	conn := login(t, username, password)
	var id int
	require.NoError(t, conn.QueryRow(testContext(t), "SELECT id FROM "+granted+".t").Scan(&id))
	require.Equal(t, 1, id)

	_, err := conn.Exec(testContext(t), "SELECT id FROM "+other+".t")
	requireSQLState(t, err, codeInsufficientPrivilege)

	var storedValidUntil time.Time
	var comment string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT rolvaliduntil, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1", username,
	).Scan(&storedValidUntil, &comment)
	require.NoError(t, err)
	require.WithinDuration(t, validUntil, storedValidUntil, time.Second)
	require.Equal(t, "zsp request test-"+username, comment)
}

func TestEnsureGroupReplacesChangedGrants(t *testing.T) {
	client := newAdminClient(t)
	first := schemaWithTable(t, "zsp_first")
	second := schemaWithTable(t, "zsp_second")
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)

	require.NoError(t, client.EnsureGroup(testContext(t), group, readGrants(first, group)))
	username := uniqueName(t, "zsp_account")
	password := createDefaultAccount(t, client, username, group, time.Now().Add(time.Hour))
	t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })

	conn := login(t, username, password)
	_, err := conn.Exec(testContext(t), "SELECT id FROM "+first+".t")
	require.NoError(t, err)

	// A second client has no cache, as after a plugin restart.
	require.NoError(t, newAdminClient(t).EnsureGroup(testContext(t), group, readGrants(second, group)))

	_, err = conn.Exec(testContext(t), "SELECT id FROM "+first+".t")
	requireSQLState(t, err, codeInsufficientPrivilege)
	_, err = conn.Exec(testContext(t), "SELECT id FROM "+second+".t")
	require.NoError(t, err)

	var comment string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1", group).Scan(&comment)
	require.NoError(t, err)
	require.Equal(t, groupComment(readGrants(second, group)), comment)
}

func TestEnsureGroupKeepsObjectsGroupOwns(t *testing.T) {
	client := newAdminClient(t)
	schema := uniqueName(t, "zsp_owned")
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	t.Cleanup(func() { adminExec(t, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })

	grants := []string{"GRANT CREATE ON DATABASE " + testPostgres.Database + " TO " + group}
	require.NoError(t, client.EnsureGroup(testContext(t), group, grants))
	adminExec(t, "SET ROLE "+group, "CREATE SCHEMA "+schema, "CREATE TABLE "+schema+".kept (id int)", "RESET ROLE")

	require.NoError(t, client.EnsureGroup(testContext(t), group, nil))

	var owner string
	err := testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'kept'", schema).Scan(&owner)
	require.NoError(t, err, "the group's table must survive the change of grants")
	require.Equal(t, QuarantineRole, owner)

	var canCreate bool
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT has_database_privilege($1, current_database(), 'CREATE')", group).Scan(&canCreate)
	require.NoError(t, err)
	require.False(t, canCreate, "the old grant must be revoked")
}

func TestEnsureGroupCachedMakesNoCall(t *testing.T) {
	client := newAdminClient(t)
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	grants := []string{"GRANT CONNECT ON DATABASE " + testPostgres.Database + " TO " + group}

	require.NoError(t, client.EnsureGroup(testContext(t), group, grants))
	client.Close()

	// With the pool closed, only a cache hit can return nil.
	require.NoError(t, client.EnsureGroup(testContext(t), group, grants))
	require.Error(t, client.EnsureGroup(testContext(t), group, nil), "changed grants must reach the server")
}

func TestEnsureGroupRejectsLoginRole(t *testing.T) {
	client := newAdminClient(t)
	name := uniqueName(t, "zsp_login")
	adminExec(t, "CREATE ROLE "+name+" LOGIN")
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+name) })

	err := client.EnsureGroup(testContext(t), name, nil)
	require.ErrorContains(t, err, "can log in")
}

func TestEnsureGroupConcurrentFirstUse(t *testing.T) {
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	grants := []string{"GRANT CONNECT ON DATABASE " + testPostgres.Database + " TO " + group}

	ctx := testContext(t)
	errs := make(chan error, 8)
	for range 8 {
		client := newAdminClient(t)
		go func() { errs <- client.EnsureGroup(ctx, group, grants) }()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	require.True(t, roleExists(t, group))
}
