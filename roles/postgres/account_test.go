package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCreateAccountConcurrentDefault(t *testing.T) {
	client := newAdminClient(t)
	schema := schemaWithTable(t, "zsp_concurrent")
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	require.NoError(t, client.EnsureGroup(testContext(t), group, readGrants(schema, group)))

	const workers, perWorker = 8, 25
	ctx := testContext(t)
	validUntil := time.Now().Add(time.Hour)
	verifier, err := SCRAMVerifier("shared-test-password")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for worker := range workers {
		wg.Go(func() {
			for i := range perWorker {
				username := fmt.Sprintf("%s_%d_%d", group, worker, i)
				errs <- client.CreateAccount(ctx, NewAccount{
					Username:   username,
					Statements: []string{defaultStatement(username, verifier, group, validUntil)},
					LockKey:    group,
					Marker:     "zsp test",
					Default:    true,
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Cleanup(func() { dropMembers(t, client, group) })

	require.Equal(t, workers*perWorker, countMembers(t, group))
}

// TestCreateAccountConcurrentCustomGrants runs custom statements that grant
// on one schema directly, from 8 task roles (lock keys) at once, so their
// GRANTs collide on the schema's catalog row and must be retried.
func TestCreateAccountConcurrentCustomGrants(t *testing.T) {
	client := newAdminClient(t)
	schema := schemaWithTable(t, "zsp_custom")
	ctx := testContext(t)
	verifier, err := SCRAMVerifier("shared-test-password")
	require.NoError(t, err)
	q := Quoter{}

	const workers, perWorker = 8, 5
	prefix := uniqueName(t, "zsp_custom")
	for worker := range workers {
		for i := range perWorker {
			username := fmt.Sprintf("%s_%d_%d", prefix, worker, i)
			t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for worker := range workers {
		lockKey := fmt.Sprintf("%s_task_%d", prefix, worker)
		wg.Go(func() {
			for i := range perWorker {
				username := fmt.Sprintf("%s_%d_%d", prefix, worker, i)
				errs <- client.CreateAccount(ctx, NewAccount{
					Username: username,
					Statements: []string{
						"CREATE ROLE " + q.QuoteIdentifier(username) + " LOGIN PASSWORD " + q.QuoteLiteral(verifier),
						"GRANT USAGE ON SCHEMA " + schema + " TO " + q.QuoteIdentifier(username),
						"GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + q.QuoteIdentifier(username),
					},
					LockKey: lockKey,
					Marker:  fmt.Sprintf("zsp test worker %d", worker),
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestCreateAccountCustomLocksPerKey(t *testing.T) {
	client := newAdminClient(t)
	schema := schemaWithTable(t, "zsp_locked")
	group := uniqueName(t, "zsp_group")
	ctx := testContext(t)
	q := Quoter{}

	const accounts = 16
	var wg sync.WaitGroup
	errs := make(chan error, accounts)
	for i := range accounts {
		username := fmt.Sprintf("%s_%d", group, i)
		t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })
		wg.Go(func() {
			errs <- client.CreateAccount(ctx, NewAccount{
				Username: username,
				Statements: []string{
					"CREATE ROLE " + q.QuoteIdentifier(username) + " LOGIN",
					"GRANT USAGE ON SCHEMA " + schema + " TO " + q.QuoteIdentifier(username),
				},
				LockKey: group,
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestCreateAccountFailureLeavesNothing(t *testing.T) {
	client := newAdminClient(t)
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	require.NoError(t, client.EnsureGroup(testContext(t), group, nil))
	verifier, err := SCRAMVerifier("failure-test-password")
	require.NoError(t, err)
	q := Quoter{}

	// The default statement succeeds, but the comment names another role, so
	// the implicit transaction must roll the role back.
	created := uniqueName(t, "zsp_created")
	err = client.CreateAccount(testContext(t), NewAccount{
		Username:   uniqueName(t, "zsp_other_name"),
		Statements: []string{defaultStatement(created, verifier, group, time.Now().Add(time.Hour))},
		Marker:     "zsp test",
		Default:    true,
	})
	requireSQLState(t, err, codeUndefinedObject)
	require.False(t, roleExists(t, created))

	custom := uniqueName(t, "zsp_custom")
	err = client.CreateAccount(testContext(t), NewAccount{
		Username: custom,
		Statements: []string{
			"CREATE ROLE " + q.QuoteIdentifier(custom) + " LOGIN PASSWORD " + q.QuoteLiteral(verifier),
			"GRANT USAGE ON SCHEMA zsp_no_such_schema TO " + q.QuoteIdentifier(custom),
		},
		LockKey: group,
		Marker:  "zsp test",
	})
	require.ErrorContains(t, err, "creation statement 2")
	require.False(t, roleExists(t, custom))
}

func TestCreateAccountErrorHidesSecrets(t *testing.T) {
	client := newAdminClient(t)
	username := uniqueName(t, "zsp_secret")
	password := "pw-'Secret'-" + username
	verifier, err := SCRAMVerifier("another-secret-password")
	require.NoError(t, err)
	q := Quoter{}

	statements := map[string]string{
		// Syntax errors quote the token near the error: here the literal itself.
		"plaintext": "CREATE ROLE " + q.QuoteIdentifier(username) + " LOGIN " + q.QuoteLiteral(password),
		"verifier":  "CREATE ROLE " + q.QuoteIdentifier(username) + " LOGIN " + q.QuoteLiteral(verifier),
	}
	for name, statement := range statements {
		for _, isDefault := range []bool{true, false} {
			err := client.CreateAccount(testContext(t), NewAccount{
				Username: username, Statements: []string{statement}, Default: isDefault,
			})
			requireSQLState(t, err, "42601")
			require.NotContains(t, err.Error(), "Secret", "%s, default %v", name, isDefault)
			require.NotContains(t, err.Error(), "SCRAM-SHA-256$", "%s, default %v", name, isDefault)
			require.NotContains(t, err.Error(), "CREATE ROLE", "%s, default %v", name, isDefault)
			require.ErrorContains(t, err, "[redacted]")
		}
	}
	require.False(t, roleExists(t, username))
}

func TestCreateAccountRejectsBadInput(t *testing.T) {
	client := newAdminClient(t)

	require.ErrorContains(t, client.CreateAccount(testContext(t), NewAccount{Statements: []string{"SELECT 1"}}), "missing account username")
	require.ErrorContains(t, client.CreateAccount(testContext(t), NewAccount{Username: "zsp_x"}), "no creation statements")
	require.ErrorContains(t, client.CreateAccount(testContext(t), NewAccount{
		Username: "zsp_x", Statements: []string{"SELECT 1", "SELECT 2"}, Default: true,
	}), "exactly one statement")
}

func TestExtendValidUntilNeverEarlier(t *testing.T) {
	client := newAdminClient(t)
	group := uniqueName(t, "zsp_group")
	dropGroupAtEnd(t, group)
	require.NoError(t, client.EnsureGroup(testContext(t), group, nil))

	username := uniqueName(t, "zsp_extend")
	start := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	createDefaultAccount(t, client, username, group, start)
	t.Cleanup(func() { require.NoError(t, client.DropAccount(testContext(t), username, nil)) })

	later := start.Add(time.Hour)
	require.NoError(t, client.ExtendValidUntil(testContext(t), username, later))
	require.WithinDuration(t, later, validUntil(t, username), time.Millisecond)

	require.NoError(t, client.ExtendValidUntil(testContext(t), username, start.Add(30*time.Minute)))
	require.WithinDuration(t, later, validUntil(t, username), time.Millisecond, "VALID UNTIL must not move earlier")

	require.NoError(t, client.ExtendValidUntil(testContext(t), username, time.Now().Add(-time.Hour)))
	require.WithinDuration(t, later, validUntil(t, username), time.Millisecond, "VALID UNTIL must not move into the past")
}

func TestExtendValidUntilSetsMissingLimit(t *testing.T) {
	client := newAdminClient(t)
	username := uniqueName(t, "zsp_unlimited")
	adminExec(t, "CREATE ROLE "+username+" LOGIN")
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+username) })

	until := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	require.NoError(t, client.ExtendValidUntil(testContext(t), username, until))
	require.WithinDuration(t, until, validUntil(t, username), time.Millisecond)
}

func TestExtendValidUntilMissingAccount(t *testing.T) {
	client := newAdminClient(t)

	err := client.ExtendValidUntil(testContext(t), uniqueName(t, "zsp_missing"), time.Now().Add(time.Hour))
	require.ErrorIs(t, err, ErrAccountNotFound)
}

func TestAccountExists(t *testing.T) {
	client := newAdminClient(t)
	name := uniqueName(t, "zsp_exists")

	exists, err := client.AccountExists(testContext(t), name)
	require.NoError(t, err)
	require.False(t, exists)

	adminExec(t, "CREATE ROLE "+name)
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+name) })

	exists, err = client.AccountExists(testContext(t), name)
	require.NoError(t, err)
	require.True(t, exists)
}

func validUntil(t *testing.T, username string) time.Time {
	t.Helper()

	var until time.Time
	err := testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1", username).Scan(&until)
	require.NoError(t, err)
	return until
}

func countMembers(t *testing.T, group string) int {
	t.Helper()

	var members int
	err := testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT count(*) FROM pg_auth_members WHERE roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)", group,
	).Scan(&members)
	require.NoError(t, err)
	return members
}

// dropMembers drops every account in group with DropAccount.
func dropMembers(t *testing.T, client *Client, group string) {
	t.Helper()

	rows, err := testPostgres.AdminConn(t).Query(testContext(t), `
		SELECT m.rolname FROM pg_auth_members a
		JOIN pg_roles m ON m.oid = a.member
		WHERE a.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)`, group)
	require.NoError(t, err)
	var members []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		members = append(members, name)
	}
	require.NoError(t, rows.Err())

	for _, member := range members {
		require.NoError(t, client.DropAccount(testContext(t), member, nil))
	}
}
