package e2e

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// snapshot is what a rejected request must leave unchanged: the stored
// roles and connections, and the database's roles.
type snapshot struct {
	roles       any
	connections any
	roleBodies  map[string]map[string]any
	pgRoles     int
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{roleBodies: map[string]map[string]any{}}
	if list, _ := e.root.Logical().List("zsp/roles"); list != nil {
		s.roles = list.Data["keys"]
		for _, name := range list.Data["keys"].([]any) {
			s.roleBodies[name.(string)] = e.read("zsp/roles/" + name.(string)).Data
		}
	}
	if list, _ := e.root.Logical().List("zsp/connections"); list != nil {
		s.connections = list.Data["keys"]
	}
	require.NoError(e.t, e.pg.AdminConn(e.t).QueryRow(context.Background(), "SELECT count(*) FROM pg_roles").Scan(&s.pgRoles))
	return s
}

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	requester, _ := e.vault.NewUser(t, "frank")
	e.write("zsp/roles/read-schema", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}"},
		"parameters":       map[string]any{"schema": []any{"billing", "sales"}},
	})
	closedPort := freePort(t)
	role := func(changes map[string]any) map[string]any {
		data := map[string]any{"connection": "main", "grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"}}
		for k, v := range changes {
			data[k] = v
		}
		return data
	}
	conn := func(changes map[string]any) map[string]any {
		data := map[string]any{"connection_url": e.pg.ConnectionURLTemplate(), "username": e.pg.User, "password": e.pg.Password}
		for k, v := range changes {
			data[k] = v
		}
		return data
	}

	writes := []struct {
		name      string
		path      string
		data      map[string]any
		fragments []string
	}{
		{"unknown connection", "zsp/roles/r1", role(map[string]any{"connection": "missing"}), []string{`"connection"`, "missing"}},
		{"unknown placeholder", "zsp/roles/r1", role(map[string]any{"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{grop}}"}}), []string{"grant_statements", "{{grop}}"}},
		{"default_ttl above max_ttl", "zsp/roles/r1", role(map[string]any{"default_ttl": "2h", "max_ttl": "1h"}), []string{"default_ttl", "max_ttl"}},
		{"negative ttl", "zsp/roles/r1", role(map[string]any{"max_ttl": "-1h"}), []string{"max_ttl"}},
		{"role name pattern", "zsp/roles/bad$name", role(nil), []string{"name", "bad$name"}},
		{"unparsable url", "zsp/connections/c1", conn(map[string]any{"connection_url": "postgres://{{username}}:{{password}}@[bad/x"}), []string{"connection_url"}},
		{"unreachable database", "zsp/connections/c1", conn(map[string]any{
			"connection_url": fmt.Sprintf("postgres://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", closedPort),
		}), []string{"c1", "verify_connection"}},
	}
	for _, tc := range writes {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.root.Logical().Write(tc.path, tc.data)
			requireClientError(t, err, tc.fragments...)
			require.NotContains(t, err.Error(), e.pg.Password)
			require.Equal(t, before, e.snapshot())
		})
	}

	reads := []struct {
		name      string
		role      string
		params    map[string]string
		fragments []string
	}{
		{"unknown role", "nope", nil, []string{"nope"}},
		{"parameter outside its list", "read-schema", map[string]string{"schema": "hr"}, []string{"schema", `"hr"`}},
		{"parameter carrying sql", "read-schema", map[string]string{"schema": `billing" TO PUBLIC; --`}, []string{"schema"}},
	}
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			_, err := credsErr(requester, tc.role, tc.params)
			requireClientError(t, err, tc.fragments...)
			require.Equal(t, before, e.snapshot())
		})
	}

	t.Run("root token has no entity", func(t *testing.T) {
		_, err := credsErr(e.root, "read-schema", map[string]string{"schema": "billing"})
		requireClientError(t, err, "auth method")
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := listener.Addr().(*net.TCPAddr).Port
	require.NoError(t, listener.Close())
	return port
}
