package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExpiredLeaseDropsAccountAndSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "carol")
	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}", "GRANT SELECT ON ALL TABLES IN SCHEMA billing TO {{group}}"},
		"default_ttl":      "5s",
		"max_ttl":          "5s",
	})

	secret := e.creds(requester, "billing-readonly", nil)
	username := secret.Data["username"].(string)
	session := e.mustLogin(secret)
	_, err := session.Exec(context.Background(), "SELECT 1 FROM billing.invoices")
	require.NoError(t, err)

	expiry := e.leaseExpiry(secret.LeaseID)
	waitFor(t, time.Until(expiry)+20*time.Second, "the expired account to leave pg_roles", func() bool {
		return !e.accountExists(username)
	})
	require.WithinDuration(t, expiry, time.Now(), 15*time.Second, "the account went long after its lease ended")

	// The session held open across the expiry was ended.
	_, err = session.Exec(context.Background(), "SELECT 1")
	require.Error(t, err)

	_, err = e.login(secret)
	require.Error(t, err)
}

func TestLeaseRevokeDropsAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "dave")
	ctx := context.Background()
	e.write("zsp/roles/scratch-writer", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE, CREATE ON SCHEMA scratch TO {{group}}"},
	})

	t.Run("account owning a table", func(t *testing.T) {
		secret := e.creds(requester, "scratch-writer", nil)
		username := secret.Data["username"].(string)
		conn := e.mustLogin(secret)
		_, err := conn.Exec(ctx, "CREATE TABLE scratch.findings (id int)")
		require.NoError(t, err)

		// The CLI queues the revocation and returns; Vault runs it at once.
		_, stderr, err := e.vault.CLI(t, e.vault.Token, "lease", "revoke", secret.LeaseID)
		require.NoError(t, err, stderr)
		waitFor(t, 5*time.Second, "the revoked account to leave pg_roles", func() bool {
			return !e.accountExists(username)
		})
		var owner string
		require.NoError(t, e.pg.AdminConn(t).QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE schemaname = 'scratch' AND tablename = 'findings'").Scan(&owner))
		require.Equal(t, "zsp_quarantine", owner)
	})

	t.Run("security definer function cannot reach the admin", func(t *testing.T) {
		// A function that runs any statement as its owner must not end up
		// owned by the superuser admin when its creator is revoked.
		first := e.creds(requester, "scratch-writer", nil)
		conn := e.mustLogin(first)
		_, err := conn.Exec(ctx, `CREATE FUNCTION scratch.run(c text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $f$BEGIN EXECUTE c; RETURN current_user; END$f$`)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, `GRANT EXECUTE ON FUNCTION scratch.run(text) TO PUBLIC`)
		require.NoError(t, err)
		require.NoError(t, e.root.Sys().Revoke(first.LeaseID))

		second := e.creds(requester, "scratch-writer", nil)
		attacker := e.mustLogin(second)
		_, err = attacker.Exec(ctx, fmt.Sprintf(`SELECT scratch.run('ALTER ROLE %q SUPERUSER')`, second.Data["username"]))
		require.Error(t, err, "the quarantined function still ran with privilege")
		var super bool
		require.NoError(t, e.pg.AdminConn(t).QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", second.Data["username"]).Scan(&super))
		require.False(t, super)
	})

	t.Run("after the role is deleted", func(t *testing.T) {
		e.write("zsp/roles/short-lived", map[string]any{
			"connection":       "main",
			"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
		})
		secret := e.creds(requester, "short-lived", nil)
		_, err := e.root.Logical().Delete("zsp/roles/short-lived")
		require.NoError(t, err)

		require.NoError(t, e.root.Sys().Revoke(secret.LeaseID))
		require.False(t, e.accountExists(secret.Data["username"].(string)))
	})

	t.Run("account dropped by hand", func(t *testing.T) {
		secret := e.creds(requester, "scratch-writer", nil)
		username := secret.Data["username"].(string)
		_, err := e.pg.AdminConn(t).Exec(ctx, `DROP ROLE "`+username+`"`)
		require.NoError(t, err)

		require.NoError(t, e.root.Sys().Revoke(secret.LeaseID))
		record := e.read("zsp/requests/" + secret.Data["request_id"].(string))
		require.Equal(t, "revoked", record.Data["status"])
	})
}

func TestValidUntilFollowsLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "erin")
	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
		"default_ttl":      "1m",
		"max_ttl":          "3m",
	})

	secret := e.creds(requester, "billing-readonly", nil)
	username := secret.Data["username"].(string)
	require.WithinDuration(t, e.leaseExpiry(secret.LeaseID), e.validUntil(username), 3*time.Second)

	renewed, err := requester.Sys().Renew(secret.LeaseID, 120)
	require.NoError(t, err)
	require.Equal(t, 120, renewed.LeaseDuration)
	require.WithinDuration(t, e.leaseExpiry(secret.LeaseID), e.validUntil(username), 3*time.Second)
	require.WithinDuration(t, time.Now().Add(2*time.Minute), e.validUntil(username), 5*time.Second)

	// Asking for an hour is capped at the 3-minute window from issue.
	before := e.validUntil(username)
	renewed, err = requester.Sys().Renew(secret.LeaseID, 3600)
	require.NoError(t, err)
	require.LessOrEqual(t, renewed.LeaseDuration, 180)
	expiry := e.leaseExpiry(secret.LeaseID)
	require.WithinDuration(t, expiry, e.validUntil(username), 3*time.Second)
	require.False(t, e.validUntil(username).Before(before), "VALID UNTIL moved earlier")

	issuedAt, err := time.Parse(time.RFC3339, e.read("zsp/requests/" + secret.Data["request_id"].(string)).Data["issued_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, issuedAt.Add(3*time.Minute), expiry, 3*time.Second)
}
