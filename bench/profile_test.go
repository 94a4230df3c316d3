package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/backend"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// TestProfileIssuance issues accounts from an in-process backend, without
// Vault and gRPC in between, on a real PostgreSQL cluster, and writes a Go
// CPU profile of the run at 8 clients with a requester per client to
// $ZSP_BENCH_PROFILE. Comparing its latency with the plugin's through Vault
// shows what Vault, gRPC and the storage round trips add. Storage is in
// memory here, so a storage call costs a map access instead of a round
// trip to Vault, so the test counts them.
func TestProfileIssuance(t *testing.T) {
	profilePath := os.Getenv("ZSP_BENCH_PROFILE")
	if os.Getenv("ZSP_BENCH") != "1" || profilePath == "" {
		t.Skip("the issuance profile runs only with ZSP_BENCH=1 and ZSP_BENCH_PROFILE set to the profile's output file")
	}
	accounts := envPositiveInt(t, "ZSP_BENCH_ACCOUNTS", defaultAccounts)

	pg := testenv.StartPostgres(t)
	admin := newAdminPool(t, pg, 1)
	if _, err := admin.Exec(t.Context(), schemaSQL); err != nil {
		t.Fatalf("run setup SQL: %v", err)
	}
	b, storage := newInProcessBackend(t, pg)

	sameRequester := func(ctx context.Context, _ int) error {
		return inProcessCreds(ctx, b, storage, "entity-bench")
	}
	requesterPerClient := func(ctx context.Context, worker int) error {
		return inProcessCreds(ctx, b, storage, "entity-bench-"+strconv.Itoa(worker))
	}

	before := storage.calls.Load()
	single := summarize(runConcurrently(t.Context(), 1, accounts, sameRequester))
	logInProcess(t, "1 client", single)
	t.Logf("storage calls per issued account: %.1f", float64(storage.calls.Load()-before)/float64(max(single.Count, 1)))

	shared := summarize(runConcurrently(t.Context(), 8, accounts, sameRequester))
	logInProcess(t, "8 clients, one requester", shared)

	profile, err := os.Create(profilePath)
	if err != nil {
		t.Fatalf("create cpu profile %s: %v", profilePath, err)
	}
	defer profile.Close()
	if err := pprof.StartCPUProfile(profile); err != nil {
		t.Fatalf("start cpu profile: %v", err)
	}
	crowd := summarize(runConcurrently(t.Context(), 8, accounts, requesterPerClient))
	pprof.StopCPUProfile()
	logInProcess(t, "8 clients, a requester per client (cpu profile in "+profilePath+")", crowd)

	if failed := single.Errors + shared.Errors + crowd.Errors; failed > 0 {
		t.Errorf("%d in-process issuance calls failed, first: %s %s %s", failed, single.FirstError, shared.FirstError, crowd.FirstError)
	}
}

func logInProcess(t *testing.T, label string, s latencySummary) {
	t.Helper()
	t.Logf("in-process issuance, %s: p50 %.1f ms, p95 %.1f ms, %.0f accounts/s, %d errors", label, s.P50Ms, s.P95Ms, s.PerSecond, s.Errors)
}

// countingStorage counts the backend's storage calls. Each is a gRPC round
// trip to Vault when the plugin runs in its own process.
type countingStorage struct {
	logical.Storage
	calls atomic.Int64
}

func (s *countingStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	s.calls.Add(1)
	return s.Storage.Get(ctx, key)
}

func (s *countingStorage) Put(ctx context.Context, entry *logical.StorageEntry) error {
	s.calls.Add(1)
	return s.Storage.Put(ctx, entry)
}

func (s *countingStorage) Delete(ctx context.Context, key string) error {
	s.calls.Add(1)
	return s.Storage.Delete(ctx, key)
}

func (s *countingStorage) List(ctx context.Context, prefix string) ([]string, error) {
	s.calls.Add(1)
	return s.Storage.List(ctx, prefix)
}

// newInProcessBackend sets up the backend on in-memory storage with a
// connection to pg and the auto-approved issuance role.
func newInProcessBackend(t *testing.T, pg *testenv.Postgres) (logical.Backend, *countingStorage) {
	t.Helper()

	storage := &countingStorage{Storage: &logical.InmemStorage{}}
	conf := logical.TestBackendConfig()
	conf.StorageView = storage
	conf.System = &logical.StaticSystemView{DefaultLeaseTTLVal: leaseTTL, MaxLeaseTTLVal: 24 * time.Hour}
	// Debug is the level at which the plugin logs under the benchmark's dev
	// server, whose log shows the plugin's debug lines, so formatting costs
	// the same here. The output is discarded.
	conf.Logger = hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Debug})

	b, err := backend.Factory(t.Context(), conf)
	if err != nil {
		t.Fatalf("create backend: %v", err)
	}
	t.Cleanup(func() { b.Cleanup(context.Background()) })

	writes := []struct {
		path string
		data map[string]any
	}{
		{"connections/" + pluginConnection, map[string]any{
			"connection_url": pg.ConnectionURLTemplate(),
			"username":       pg.User,
			"password":       pg.Password,
		}},
		{"roles/" + roleIssue, map[string]any{
			"connection":       pluginConnection,
			"grant_statements": pluginGrantStatements,
			"default_ttl":      int(leaseTTL.Seconds()),
			"max_ttl":          int(leaseMaxTTL.Seconds()),
		}},
	}
	for _, w := range writes {
		resp, err := b.HandleRequest(t.Context(), inProcessRequest(logical.UpdateOperation, w.path, w.data, storage, "entity-admin"))
		if err != nil || resp.IsError() {
			t.Fatalf("write %s: %v %v", w.path, err, resp.Error())
		}
	}
	return b, storage
}

// inProcessCreds reads creds/<issuance role> as entityID and checks that an
// account was issued.
func inProcessCreds(ctx context.Context, b logical.Backend, storage logical.Storage, entityID string) error {
	resp, err := b.HandleRequest(ctx, inProcessRequest(logical.ReadOperation, "creds/"+roleIssue, nil, storage, entityID))
	if err != nil {
		return fmt.Errorf("read creds/%s: %w", roleIssue, err)
	}
	if resp == nil || resp.IsError() || resp.Secret == nil {
		return fmt.Errorf("read creds/%s: no account issued: %v", roleIssue, resp.Error())
	}
	return nil
}

func inProcessRequest(op logical.Operation, path string, data map[string]any, storage logical.Storage, entityID string) *logical.Request {
	return &logical.Request{
		Operation:   op,
		Path:        path,
		Data:        data,
		Storage:     storage,
		EntityID:    entityID,
		DisplayName: "userpass-bench",
		MountPoint:  pluginMount + "/",
	}
}
