package backend

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// testBackend is a backend on in-memory storage. Paths that reach PostgreSQL
// use a real throwaway cluster.
type testBackend struct {
	*backend
	storage logical.Storage
	t       *testing.T
}

func newTestBackend(t *testing.T) *testBackend {
	t.Helper()

	conf := logical.TestBackendConfig()
	conf.StorageView = &logical.InmemStorage{}
	conf.System = &logical.StaticSystemView{
		DefaultLeaseTTLVal: time.Hour,
		MaxLeaseTTLVal:     24 * time.Hour,
	}

	b := newBackend("v0.0.0-test")
	require.NoError(t, b.Setup(context.Background(), conf))
	t.Cleanup(func() { b.clean(context.Background()) })

	return &testBackend{backend: b, storage: conf.StorageView, t: t}
}

// do sends one request as an identity entity and returns the response; err
// is the handler's internal error.
func (tb *testBackend) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	tb.t.Helper()
	req := &logical.Request{
		Operation:   op,
		Path:        path,
		Data:        data,
		Storage:     tb.storage,
		EntityID:    "entity-test",
		DisplayName: "userpass-tester",
	}
	return tb.HandleRequest(context.Background(), req)
}

// mustOK sends a request and fails the test on any error.
func (tb *testBackend) mustOK(op logical.Operation, path string, data map[string]any) *logical.Response {
	tb.t.Helper()
	resp, err := tb.do(op, path, data)
	require.NoError(tb.t, err, "%s %s", op, path)
	if resp != nil {
		require.False(tb.t, resp.IsError(), "%s %s: %v", op, path, resp.Error())
	}
	return resp
}

// mustReject sends a request that must fail with a client error whose
// message contains every fragment.
func (tb *testBackend) mustReject(op logical.Operation, path string, data map[string]any, fragments ...string) {
	tb.t.Helper()
	resp, err := tb.do(op, path, data)
	if err != nil {
		require.ErrorIs(tb.t, err, logical.ErrInvalidRequest, "%s %s returned an internal error: %v", op, path, err)
		return
	}
	require.NotNil(tb.t, resp, "%s %s succeeded", op, path)
	require.True(tb.t, resp.IsError(), "%s %s succeeded: %v", op, path, resp.Data)
	for _, fragment := range fragments {
		require.Contains(tb.t, resp.Error().Error(), fragment)
	}
}

// writeConnection stores a connection to pg as its admin.
func (tb *testBackend) writeConnection(name string, pg *testenv.Postgres) {
	tb.t.Helper()
	tb.mustOK(logical.CreateOperation, "connections/"+name, map[string]any{
		"connection_url": pg.ConnectionURLTemplate(),
		"username":       pg.User,
		"password":       pg.Password,
	})
}

// storageKeys lists every key under prefix, recursively.
func (tb *testBackend) storageKeys() []string {
	tb.t.Helper()
	var keys []string
	var walk func(prefix string)
	walk = func(prefix string) {
		children, err := tb.storage.List(context.Background(), prefix)
		require.NoError(tb.t, err)
		for _, child := range children {
			if child[len(child)-1] == '/' {
				walk(prefix + child)
				continue
			}
			keys = append(keys, prefix+child)
		}
	}
	walk("")
	return keys
}
