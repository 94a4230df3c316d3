package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// Names of what the run creates.
const (
	pluginMount      = "zsp"
	engineMount      = "database"
	pluginConnection = "main"
	engineConnection = "pg"

	roleIssue   = "bench-issue"   // issuance figure, tier 2
	roleRevoke  = "bench-revoke"  // revocation by prefix, tier 2
	roleExpire  = "bench-expire"  // mass expiry, tier 2
	roleApprove = "bench-approve" // approval round trip, tier 1
	roleScale   = "bench-scale"   // request records for the scale figure, tier 1

	engineGroup   = "bench_engine_group"
	rawGroup      = "bench_raw_group"
	approverGroup = "bench-approvers"
	enginePolicy  = "bench-database"
	requesterName = "bench"
	approverName  = "bench-approver"

	// workerRequesterCount is how many extra requesters the run creates, one
	// per client at the highest concurrency, for the figures where each
	// client asks as a different person.
	workerRequesterCount = 32

	// leaseTTL is long enough that no lease of the issuance figure expires
	// during the run, so no background revocation competes with it.
	leaseTTL    = time.Hour
	leaseMaxTTL = 2 * time.Hour
)

// schemaSQL is the task's database object and the NOLOGIN group roles of the
// database engine and the raw contender, with the grants the plugin's task
// roles give their own group roles.
const schemaSQL = `
CREATE SCHEMA bench;
CREATE TABLE bench.items (id int PRIMARY KEY, name text NOT NULL);
CREATE ROLE bench_engine_group NOLOGIN;
GRANT USAGE ON SCHEMA bench TO bench_engine_group;
GRANT SELECT ON bench.items TO bench_engine_group;
CREATE ROLE bench_raw_group NOLOGIN;
GRANT USAGE ON SCHEMA bench TO bench_raw_group;
GRANT SELECT ON bench.items TO bench_raw_group;
`

// engineCreationStatement is the plugin's default creation statement in the
// database engine's template syntax.
const engineCreationStatement = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' IN ROLE ` + engineGroup + `;`

var pluginGrantStatements = []string{
	"GRANT USAGE ON SCHEMA bench TO {{group}}",
	"GRANT SELECT ON bench.items TO {{group}}",
}

// benchEnv is the servers of one run and the clients that drive them.
type benchEnv struct {
	vault *testenv.Vault
	pg    *testenv.Postgres

	root      *api.Client // root token, for configuration and revoke-prefix
	requester *api.Client // the "bench" userpass user, for both engines' creds
	approver  *api.Client // member of approverGroup

	// workerRequesters are other userpass users, one per client, so that
	// concurrent requests come from different requesters.
	workerRequesters []*api.Client
	admin            *pgxpool.Pool // superuser pool, for polling pg_roles
	cpu              *cpuSampler
}

// newBenchEnv starts PostgreSQL and a Vault dev server, mounts the plugin
// and the database engine on the same database and writes their roles.
func newBenchEnv(t *testing.T) *benchEnv {
	t.Helper()

	if os.Getenv("ZSP_PG_URL") != "" {
		t.Fatalf("ZSP_PG_URL is set, but the benchmarks leave thousands of roles behind and need a throwaway cluster; unset ZSP_PG_URL")
	}

	e := &benchEnv{pg: testenv.StartPostgres(t)}
	e.admin = newAdminPool(t, e.pg, 4)
	e.exec(t, schemaSQL)

	e.vault = testenv.StartVault(t, testenv.VaultOptions{})
	e.vault.Setup(t)
	e.root = newAPIClient(t, e.vault.Addr, e.vault.Token)

	e.setUpPlugin(t)
	e.setUpEngine(t)
	e.setUpUsers(t)
	e.cpu = e.newCPUSampler(t)
	return e
}

// newAdminPool connects a pool of up to size superuser connections and
// opens them all before returning, so no timed call pays for a connection.
func newAdminPool(t *testing.T, pg *testenv.Postgres, size int) *pgxpool.Pool {
	t.Helper()

	cfg, err := pgxpool.ParseConfig(pg.URL)
	if err != nil {
		// The parse error would quote the URL and its password.
		t.Fatalf("invalid admin URL for %s:%d", pg.Host, pg.Port)
	}
	cfg.MaxConns = int32(size)
	cfg.MinConns = int32(size)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect admin pool to %s:%d: %v", pg.Host, pg.Port, err)
	}
	t.Cleanup(pool.Close)

	conns := make([]*pgxpool.Conn, 0, size)
	for range size {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatalf("open admin connection %d of %d to %s:%d: %v", len(conns)+1, size, pg.Host, pg.Port, err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		conn.Release()
	}
	return pool
}

func (e *benchEnv) exec(t *testing.T, sql string) {
	t.Helper()

	if _, err := e.admin.Exec(t.Context(), sql); err != nil {
		t.Fatalf("run setup SQL: %v", err)
	}
}

func (e *benchEnv) write(t *testing.T, path string, data map[string]any) {
	t.Helper()

	if _, err := e.root.Logical().WriteWithContext(t.Context(), path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// setUpPlugin writes the plugin's connection and task roles. Both engines
// keep their default of 4 open connections.
func (e *benchEnv) setUpPlugin(t *testing.T) {
	t.Helper()

	e.write(t, pluginMount+"/connections/"+pluginConnection, map[string]any{
		"connection_url": e.pg.ConnectionURLTemplate(),
		"username":       e.pg.User,
		"password":       e.pg.Password,
	})

	for _, role := range []string{roleIssue, roleRevoke, roleExpire} {
		e.write(t, pluginMount+"/roles/"+role, map[string]any{
			"connection":       pluginConnection,
			"grant_statements": pluginGrantStatements,
			"default_ttl":      int(leaseTTL.Seconds()),
			"max_ttl":          int(leaseMaxTTL.Seconds()),
		})
	}
	for _, role := range []string{roleApprove, roleScale} {
		e.write(t, pluginMount+"/roles/"+role, map[string]any{
			"connection":       pluginConnection,
			"grant_statements": pluginGrantStatements,
			"risk_tier":        1,
			"approver_groups":  []string{approverGroup},
		})
	}
}

// setUpEngine mounts Vault's database engine on the same database, with
// roles whose creation statement matches the plugin's default one. The
// roles keep the engine's default revocation.
func (e *benchEnv) setUpEngine(t *testing.T) {
	t.Helper()

	err := e.root.Sys().MountWithContext(t.Context(), engineMount, &api.MountInput{Type: "database"})
	if err != nil {
		t.Fatalf("enable the database secrets engine at %s/: %v", engineMount, err)
	}

	e.write(t, engineMount+"/config/"+engineConnection, map[string]any{
		"plugin_name":    "postgresql-database-plugin",
		"connection_url": e.pg.ConnectionURLTemplate(),
		"username":       e.pg.User,
		"password":       e.pg.Password,
		"allowed_roles":  "bench-*",
	})
	for _, role := range []string{roleIssue, roleRevoke, roleExpire} {
		e.writeEngineRole(t, role, leaseTTL)
	}
}

func (e *benchEnv) writeEngineRole(t *testing.T, role string, ttl time.Duration) {
	t.Helper()

	if err := e.writeEngineRoleErr(t.Context(), role, ttl); err != nil {
		t.Fatal(err)
	}
}

// writeEngineRoleErr writes a database engine role whose leases last ttl.
func (e *benchEnv) writeEngineRoleErr(ctx context.Context, role string, ttl time.Duration) error {
	path := engineMount + "/roles/" + role
	_, err := e.root.Logical().WriteWithContext(ctx, path, map[string]any{
		"db_name":             engineConnection,
		"creation_statements": []string{engineCreationStatement},
		"default_ttl":         int(ttl.Seconds()),
		"max_ttl":             int(leaseMaxTTL.Seconds()),
	})
	if err != nil {
		return fmt.Errorf("write %s with default_ttl %s: %w", path, ttl, err)
	}
	return nil
}

// setUpUsers creates the requester, the approver and the workers'
// requesters. The requester's entity also gets a policy for the database
// engine's creds, so both engines see the same kind of token.
func (e *benchEnv) setUpUsers(t *testing.T) {
	t.Helper()

	requester, requesterEntity := e.vault.NewUser(t, requesterName)
	e.requester = newAPIClient(t, e.vault.Addr, requester.Token())
	approver, _ := e.vault.NewUser(t, approverName, approverGroup)
	e.approver = newAPIClient(t, e.vault.Addr, approver.Token())

	rules := `path "` + engineMount + `/creds/*" { capabilities = ["read"] }`
	if err := e.root.Sys().PutPolicyWithContext(t.Context(), enginePolicy, rules); err != nil {
		t.Fatalf("write policy %q: %v", enginePolicy, err)
	}
	e.write(t, "identity/entity/id/"+requesterEntity, map[string]any{"policies": []string{enginePolicy}})

	for i := range workerRequesterCount {
		client, _ := e.vault.NewUser(t, requesterName+"-"+strconv.Itoa(i))
		e.workerRequesters = append(e.workerRequesters, newAPIClient(t, e.vault.Addr, client.Token()))
	}
}

// versions returns the Vault server's and PostgreSQL's version strings.
func (e *benchEnv) versions(t *testing.T) (vault, postgres string) {
	t.Helper()

	status, err := e.root.Sys().SealStatusWithContext(t.Context())
	if err != nil {
		t.Fatalf("read vault seal status for its version: %v", err)
	}
	if err := e.admin.QueryRow(t.Context(), "SHOW server_version").Scan(&postgres); err != nil {
		t.Fatalf("read postgres server_version: %v", err)
	}
	return status.Version, strings.TrimSpace(postgres)
}

// newCPUSampler finds the Vault server, plugin and postmaster processes.
func (e *benchEnv) newCPUSampler(t *testing.T) *cpuSampler {
	t.Helper()

	serverPID, pluginPID := e.processes(t)
	postmaster, err := postmasterPID(e.pg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// The pids let perf record attach to these processes during a run.
	t.Logf("vault server pid %d, plugin process pid %d, postmaster pid %d", serverPID, pluginPID, postmaster)
	return &cpuSampler{vaultPID: serverPID, pluginPID: pluginPID, postmasterPID: postmaster}
}

// processes returns the pids of the Vault server and of its plugin process.
func (e *benchEnv) processes(t *testing.T) (serverPID, pluginPID int) {
	t.Helper()

	addr, err := url.Parse(e.vault.Addr)
	if err != nil {
		t.Fatalf("parse vault address %q: %v", e.vault.Addr, err)
	}
	port, err := strconv.Atoi(addr.Port())
	if err != nil {
		t.Fatalf("vault address %q has no port: %v", e.vault.Addr, err)
	}

	if serverPID, err = findVaultServer(port); err != nil {
		t.Fatalf("find vault server process: %v", err)
	}
	if pluginPID, err = findPluginProcess(serverPID); err != nil {
		t.Fatalf("find plugin process: %v", err)
	}
	return serverPID, pluginPID
}
