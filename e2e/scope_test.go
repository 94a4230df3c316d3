package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccountCanDoExactlyItsTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "alice")
	ctx := context.Background()

	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA billing TO {{group}}",
			"GRANT SELECT ON ALL TABLES IN SCHEMA billing TO {{group}}",
		},
	})
	e.write("zsp/roles/orders-hotfix", map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA sales TO {{group}}",
			"GRANT SELECT, UPDATE ON sales.orders TO {{group}}",
		},
	})

	t.Run("read only on one schema", func(t *testing.T) {
		conn := e.mustLogin(e.creds(requester, "billing-readonly", nil))

		var total float64
		require.NoError(t, conn.QueryRow(ctx, "SELECT sum(amount) FROM billing.invoices").Scan(&total))
		require.InDelta(t, 109.5, total, 0.001)

		_, err := conn.Exec(ctx, "SELECT * FROM sales.orders")
		requireSQLState(t, err, "42501")
		_, err = conn.Exec(ctx, "DELETE FROM billing.invoices")
		requireSQLState(t, err, "42501")
		_, err = conn.Exec(ctx, "CREATE TABLE billing.sneaky (id int)")
		requireSQLState(t, err, "42501")
	})

	t.Run("update on one table", func(t *testing.T) {
		conn := e.mustLogin(e.creds(requester, "orders-hotfix", nil))

		tag, err := conn.Exec(ctx, "UPDATE sales.orders SET status = 'fixed' WHERE id = 2")
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())

		_, err = conn.Exec(ctx, "UPDATE sales.customers SET name = 'x'")
		requireSQLState(t, err, "42501")
		_, err = conn.Exec(ctx, "SELECT * FROM billing.invoices")
		requireSQLState(t, err, "42501")
	})

	t.Run("no standing privilege", func(t *testing.T) {
		// The account is a plain login role: every privilege comes from the
		// task's NOLOGIN group.
		secret := e.creds(requester, "billing-readonly", nil)
		var super, createRole, createDB, bypass bool
		err := e.pg.AdminConn(t).QueryRow(ctx,
			"SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1",
			secret.Data["username"]).Scan(&super, &createRole, &createDB, &bypass)
		require.NoError(t, err)
		require.False(t, super || createRole || createDB || bypass)
	})
}

func TestParameterizedRoleFromCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "bob")
	_ = requester

	e.write("zsp/roles/read-schema", map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
			"GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}",
		},
		"parameters": map[string]any{"schema": []any{"billing", "sales"}},
	})

	token := requester.Token()
	stdout, stderr, err := e.vault.CLI(t, token, "read", "-format=json", "zsp/creds/read-schema", "schema=sales")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, `"username"`)

	_, stderr, err = e.vault.CLI(t, token, "read", "zsp/creds/read-schema", "schema=hr")
	require.Error(t, err)
	require.Contains(t, stderr, `"hr"`)
	require.Contains(t, stderr, "billing")

	_, stderr, err = e.vault.CLI(t, token, "read", "zsp/creds/read-schema", `schema=sales"; DROP TABLE sales.orders; --`)
	require.Error(t, err)
	require.True(t, strings.Contains(stderr, "schema"), stderr)

	var count int
	require.NoError(t, e.pg.AdminConn(t).QueryRow(context.Background(), "SELECT count(*) FROM sales.orders").Scan(&count))
	require.Equal(t, 2, count)
}
