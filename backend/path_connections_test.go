package backend

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

func TestConnectionReadsBackWithoutPassword(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)

	written := map[string]any{
		"plugin_name":             "postgresql",
		"connection_url":          pg.ConnectionURLTemplate(),
		"username":                pg.User,
		"password":                pg.Password,
		"verify_connection":       true,
		"max_open_connections":    6,
		"max_connection_lifetime": "10m",
	}
	b.mustOK(logical.CreateOperation, "connections/main", written)

	read := b.mustOK(logical.ReadOperation, "connections/main", nil).Data
	require.NotContains(t, read, "password")
	for field, value := range written {
		if field == "password" {
			continue
		}
		require.EqualValues(t, value, read[field], field)
	}
	requireNoSecret(t, read, pg.Password)

	// A partial update changes only what it sends.
	b.mustOK(logical.UpdateOperation, "connections/main", map[string]any{"max_open_connections": 2})
	read = b.mustOK(logical.ReadOperation, "connections/main", nil).Data
	require.EqualValues(t, 2, read["max_open_connections"])
	require.Equal(t, "10m", read["max_connection_lifetime"])
	require.Equal(t, pg.ConnectionURLTemplate(), read["connection_url"])

	list := b.mustOK(logical.ListOperation, "connections/", nil)
	require.Equal(t, []string{"main"}, list.Data["keys"])
}

func TestConnectionRejectsBadInput(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	closedPort := unusedPort(t)

	valid := func(changes map[string]any) map[string]any {
		data := map[string]any{
			"connection_url": pg.ConnectionURLTemplate(),
			"username":       pg.User,
			"password":       pg.Password,
		}
		for k, v := range changes {
			data[k] = v
		}
		return data
	}

	cases := []struct {
		name     string
		path     string
		data     map[string]any
		fragment string
	}{
		{"unparsable url", "connections/bad", valid(map[string]any{"connection_url": "postgres://{{username}}:{{password}}@[::1:5432/x"}), "connection_url"},
		{"literal password in url", "connections/bad", valid(map[string]any{"connection_url": "postgres://admin:hunter2secret@127.0.0.1:5432/x"}), "connection_url"},
		{"missing url", "connections/bad", valid(map[string]any{"connection_url": ""}), "connection_url"},
		{"unsupported plugin", "connections/bad", valid(map[string]any{"plugin_name": "mysql"}), "plugin_name"},
		{"zero pool size", "connections/bad", valid(map[string]any{"max_open_connections": 0}), "max_open_connections"},
		{"negative lifetime", "connections/bad", valid(map[string]any{"max_connection_lifetime": "-1m"}), "max_connection_lifetime"},
		{"bad name", "connections/bad name!", valid(nil), "name"},
		{"unreachable database", "connections/bad", valid(map[string]any{
			"connection_url": fmt.Sprintf("postgres://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", closedPort),
		}), "verify_connection=false"},
		{"wrong password", "connections/bad", valid(map[string]any{"password": "not-the-password"}), "verify_connection=false"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := b.storageKeys()
			resp, err := b.do(logical.CreateOperation, tc.path, tc.data)
			require.NoError(t, err)
			require.NotNil(t, resp)
			require.True(t, resp.IsError(), "accepted: %v", tc.data)
			require.Contains(t, resp.Error().Error(), tc.fragment)
			require.NotContains(t, resp.Error().Error(), pg.Password)
			require.NotContains(t, resp.Error().Error(), "hunter2secret")
			require.Equal(t, before, b.storageKeys())
		})
	}
}

func TestConnectionDeleteRefusedWhileAccountsLive(t *testing.T) {
	pg := testenv.StartPostgres(t)
	b := newTestBackend(t)
	b.writeConnection("main", pg)
	b.mustOK(logical.CreateOperation, "roles/reader", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT CONNECT ON DATABASE " + pg.Database + " TO {{group}}"},
	})
	creds := b.mustOK(logical.ReadOperation, "creds/reader", nil)

	b.mustReject(logical.DeleteOperation, "connections/main", nil, "live accounts", "force=true")
	b.mustOK(logical.DeleteOperation, "connections/main", map[string]any{"force": true})
	require.Nil(t, b.mustOK(logical.ReadOperation, "connections/main", nil))

	// The lease still revokes through the copy kept for it, which then goes.
	b.revoke(creds.Secret)
	requireAccountGone(t, pg, creds.Data["username"].(string))
	require.Empty(t, keysWithPrefix(b.storageKeys(), retiredConnectionPrefix))
}

// unusedPort returns a 127.0.0.1 port nothing listens on.
func unusedPort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := listener.Addr().(*net.TCPAddr).Port
	require.NoError(t, listener.Close())
	return port
}

// requireNoSecret fails when secret appears anywhere in data's printed form.
func requireNoSecret(t *testing.T, data any, secret string) {
	t.Helper()
	require.NotContains(t, fmt.Sprintf("%#v", data), secret)
}

func keysWithPrefix(keys []string, prefix string) []string {
	var out []string
	for _, key := range keys {
		if strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	return out
}
