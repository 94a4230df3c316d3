package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// zspProcessTimeout bounds every zsp process a test starts, so a zsp that
// hangs fails the test instead of stalling it.
const zspProcessTimeout = 2 * time.Minute

// zspBillingGrants give a task role read access to the billing schema.
var zspBillingGrants = []any{
	"GRANT USAGE ON SCHEMA billing TO {{group}}",
	"GRANT SELECT ON ALL TABLES IN SCHEMA billing TO {{group}}",
}

// Lines zsp prints that the tests read.
var (
	zspIssuedLine   = regexp.MustCompile(`zsp: request (\S+) issued: account (\S+) `)
	zspLeaseRevoked = regexp.MustCompile(`lease (\S+) revoked and account (\S+) dropped`)
	zspRequestRow   = regexp.MustCompile(`(?m)^request\s+(\S+)$`)
)

const zspWaitingLine = "waiting for request "

// zspLeaseRevokePolicy lets a token revoke leases, which the test users'
// own policy does not.
const zspLeaseRevokePolicy = `path "sys/leases/revoke" {
  capabilities = ["update"]
}
`

// TestZspClient drives the zsp command against one Vault and PostgreSQL:
// the binary is built once, and every case runs it as a real user would.
func TestZspClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zsp := newZspCLI(t, e)
	people := newTeam(t, e)
	carol := zspUserWhoMayRevokeLeases(t, e, "carol")

	e.write("zsp/roles/billing-readonly", map[string]any{"connection": "main", "grant_statements": zspBillingGrants})
	e.write("zsp/roles/orders-fix", map[string]any{
		"connection": "main", "grant_statements": zspBillingGrants,
		"risk_tier": 1, "requester_groups": "app-team", "approver_groups": "dba-leads",
	})
	e.write("zsp/roles/read-schema", map[string]any{
		"connection": "main",
		"grant_statements": []any{
			"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
			"GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}",
		},
		"parameters": map[string]any{"schema": []any{"billing", "sales"}},
	})

	t.Run("run revokes the lease after the command", func(t *testing.T) {
		result := zsp.run(t, carol, "run", "billing-readonly", "--", "psql", "-XAtc", "select current_user")
		require.Equal(t, 0, result.code, result.stderr)

		username := strings.TrimSpace(result.stdout)
		require.Regexp(t, `^[a-z0-9_]+$`, username)
		requestID, issuedTo := zspIssued(t, result.stderr)
		require.Equal(t, username, issuedTo)

		require.False(t, e.accountExists(username), "account %s outlived zsp run", username)
		zspRequireLeaseGone(t, e, result.stderr, username)
		require.Equal(t, "revoked", e.record(requestID)["status"])
	})

	t.Run("run exits with the command's status", func(t *testing.T) {
		// The command logs in through DATABASE_URL, then fails on purpose.
		script := `psql -XAt "$DATABASE_URL" -c "select current_user" && exit 3`
		result := zsp.run(t, people.requester.client, "run", "billing-readonly", "--", "sh", "-c", script)
		require.Equal(t, 3, result.code, result.stderr)

		requestID, username := zspIssued(t, result.stderr)
		require.Equal(t, username, strings.TrimSpace(result.stdout))
		require.False(t, e.accountExists(username), "account %s outlived zsp run", username)

		// alice's policy does not allow sys/leases/revoke, so zsp dropped
		// the account through the engine.
		require.Contains(t, result.stderr, "zsp/requests/"+requestID+"/revoke")
		require.Equal(t, "revoked", e.record(requestID)["status"])
	})

	t.Run("run forwards SIGINT and revokes", func(t *testing.T) {
		proc := zsp.start(t, carol, "run", "billing-readonly", "--", "sh", "-c", "echo ready; exec sleep 30")
		waitFor(t, zspProcessTimeout, "the command under zsp run to start", func() bool {
			return strings.Contains(proc.stdout.String(), "ready")
		})

		require.NoError(t, proc.cmd.Process.Signal(os.Interrupt))
		result := proc.wait(t)
		require.Equal(t, 128+int(syscall.SIGINT), result.code, result.stderr)

		_, username := zspIssued(t, result.stderr)
		require.False(t, e.accountExists(username), "account %s outlived zsp run", username)
		zspRequireLeaseGone(t, e, result.stderr, username)
	})

	t.Run("run of an unknown command revokes", func(t *testing.T) {
		result := zsp.run(t, carol, "run", "billing-readonly", "--", "zsp-test-no-such-command")
		require.Equal(t, 127, result.code, result.stderr)

		_, username := zspIssued(t, result.stderr)
		require.False(t, e.accountExists(username), "account %s outlived zsp run", username)
	})

	t.Run("run passes role parameters", func(t *testing.T) {
		result := zsp.run(t, carol, "run", "read-schema", "-p", "schema=sales", "--", "psql", "-XAtc", "select count(*) from sales.orders")
		require.Equal(t, 0, result.code, result.stderr)
		require.Equal(t, "2\n", result.stdout)

		rejected := zsp.run(t, carol, "run", "read-schema", "-p", "schema=hr", "--", "psql", "-XAtc", "select 1")
		require.Equal(t, 1, rejected.code)
		require.Contains(t, rejected.stderr, `Vault returned 400`)
		require.Contains(t, rejected.stderr, `"hr"`)
		require.NotContains(t, rejected.stderr, "issued")
	})

	t.Run("request env output logs in", func(t *testing.T) {
		requested := zsp.run(t, carol, "request", "billing-readonly", "-format", "env")
		require.Equal(t, 0, requested.code, requested.stderr)
		require.Regexp(t, `(?m)^export PGUSER='[a-z0-9_]+'$`, requested.stdout)
		leaseID := regexp.MustCompile(`(?m)^export ZSP_LEASE_ID='([^']+)'$`).FindStringSubmatch(requested.stdout)
		require.NotNil(t, leaseID, "no ZSP_LEASE_ID line in the env output")
		t.Cleanup(func() { e.write("sys/leases/revoke", map[string]any{"lease_id": leaseID[1]}) })

		// The exports go to a shell script, never to the test log, because
		// they carry the password.
		script := requested.stdout + `psql -XAtc "select current_user = '$PGUSER', count(*) from billing.invoices"`
		shell := exec.Command("sh", "-c", script)
		shell.Env = zspBaseEnv(t.TempDir())
		loggedIn := zspRunCmd(t, shell)
		require.Equal(t, 0, loggedIn.code, loggedIn.stderr)
		require.Equal(t, "t|2\n", loggedIn.stdout)
	})

	t.Run("request pending then approved", func(t *testing.T) {
		requested := zsp.run(t, people.requester.client, "request", "orders-fix", "-reason", "INC-42 stuck orders")
		require.Equal(t, 0, requested.code, requested.stderr)
		require.Regexp(t, `(?m)^status\s+pending$`, requested.stdout)
		require.Regexp(t, `(?m)^approvers\s+dba-leads \(1 approval\(s\) required\)$`, requested.stdout)
		require.Regexp(t, `(?m)^\s+tier_base\s+\+35`, requested.stdout)
		require.NotContains(t, requested.stdout, "password")
		id := zspRequestID(t, requested.stdout)

		listed := zsp.run(t, people.approver1.client, "pending")
		require.Equal(t, 0, listed.code, listed.stderr)
		require.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(id)+`\s+orders-fix\s+alice\s+\d+\s+\S+\s+access$`), listed.stdout)

		own := zsp.run(t, people.requester.client, "pending")
		require.Equal(t, 0, own.code, own.stderr)
		require.Equal(t, "no requests wait for your approval\n", own.stdout)

		approved := zsp.run(t, people.approver1.client, "approve", id, "-comment", "matches INC-42")
		require.Equal(t, 0, approved.code, approved.stderr)
		require.Equal(t, "approved request "+id+": 1 of 1 approvals, now approved\n", approved.stdout)

		claimed := zsp.run(t, people.requester.client, "request", "orders-fix", "-reason", "INC-42 stuck orders", "-wait", "-format", "json")
		require.Equal(t, 0, claimed.code, claimed.stderr)
		secret := zspParseSecret(t, claimed.stdout)
		require.Equal(t, "issued", secret.Data["status"])
		require.Equal(t, id, secret.Data["request_id"])
		require.NotEmpty(t, secret.LeaseID)
		e.mustLogin(secret)

		showResult := zsp.run(t, people.approver1.client, "show", id)
		require.Equal(t, 0, showResult.code, showResult.stderr)
		require.Regexp(t, `(?m)^status\s+issued$`, showResult.stdout)
		require.Contains(t, showResult.stdout, "INC-42 stuck orders")
		require.Contains(t, showResult.stdout, "approve by "+people.approver1.entity+": matches INC-42")
		require.Contains(t, showResult.stdout, "GRANT SELECT ON ALL TABLES IN SCHEMA billing TO")
		require.NotContains(t, showResult.stdout, secret.Data["password"].(string))

		e.write("sys/leases/revoke", map[string]any{"lease_id": secret.LeaseID})
	})

	t.Run("run waits for approval", func(t *testing.T) {
		proc := zsp.start(t, people.requester.client, "run", "orders-fix", "-reason", "INC-43", "-timeout", "2m", "--", "psql", "-XAtc", "select current_user")
		waitFor(t, zspProcessTimeout, "zsp run to wait for approval", func() bool {
			return strings.Contains(proc.stderr.String(), zspWaitingLine)
		})
		require.Contains(t, proc.stderr.String(), ": 0 of 1 approvals from dba-leads")
		id := zspRequestID(t, proc.stderr.String())

		approved := zsp.run(t, people.approver2.client, "approve", id)
		require.Equal(t, 0, approved.code, approved.stderr)

		result := proc.wait(t)
		require.Equal(t, 0, result.code, result.stderr)
		requestID, username := zspIssued(t, result.stderr)
		require.Equal(t, id, requestID)
		require.Equal(t, username, strings.TrimSpace(result.stdout))
		require.False(t, e.accountExists(username), "account %s outlived zsp run", username)
	})

	t.Run("request wait ends on denial", func(t *testing.T) {
		proc := zsp.start(t, people.requester.client, "request", "orders-fix", "-reason", "INC-44", "-wait", "-timeout", "2m")
		waitFor(t, zspProcessTimeout, "zsp request -wait to wait for approval", func() bool {
			return strings.Contains(proc.stderr.String(), zspWaitingLine)
		})
		id := zspRequestID(t, proc.stderr.String())

		missing := zsp.run(t, people.approver1.client, "deny", id)
		require.Equal(t, 2, missing.code)
		require.Contains(t, missing.stderr, "missing -comment")

		denied := zsp.run(t, people.approver1.client, "deny", id, "-comment", "use the runbook instead")
		require.Equal(t, 0, denied.code, denied.stderr)

		result := proc.wait(t)
		require.Equal(t, 1, result.code, result.stderr)
		require.Contains(t, result.stderr, "request "+id+" was denied by "+people.approver1.entity+": use the runbook instead")
		require.Empty(t, result.stdout)
		require.Zero(t, e.accountsOfRequest(id))
	})

	t.Run("errors name the fix", func(t *testing.T) {
		unknown := zsp.run(t, people.requester.client, "request", "no-such-task")
		require.Equal(t, 1, unknown.code)
		require.Contains(t, unknown.stderr, `unknown role "no-such-task"`)

		cmd := exec.Command(zsp.bin, "pending")
		cmd.Env = zspBaseEnv(t.TempDir())
		noAddr := zspRunCmd(t, cmd)
		require.Equal(t, 1, noAddr.code)
		require.Contains(t, noAddr.stderr, "VAULT_ADDR is not set; export VAULT_ADDR=")
	})
}

// zspCLI runs a zsp binary built from this module against one Vault.
type zspCLI struct {
	bin  string
	addr string
	home string
}

func newZspCLI(t *testing.T, e *env) zspCLI {
	t.Helper()
	return zspCLI{bin: zspBuild(t), addr: e.vault.Addr, home: t.TempDir()}
}

// zspBuild builds ./cmd/zsp from the module root into a temp directory.
func zspBuild(t *testing.T) string {
	t.Helper()

	dir, err := testenv.ModuleRoot()
	require.NoError(t, err)

	bin := filepath.Join(t.TempDir(), "zsp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/zsp")
	build.Dir = dir
	output, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/zsp:\n%s", output)
	return bin
}

// zspBaseEnv returns the test's environment without VAULT_*, PG* and HOME,
// so zsp and psql reach only the servers a test names, plus HOME=home.
func zspBaseEnv(home string) []string {
	var env []string
	for _, entry := range os.Environ() {
		if strings.HasPrefix(entry, "VAULT_") || strings.HasPrefix(entry, "PG") || strings.HasPrefix(entry, "HOME=") || strings.HasPrefix(entry, "DATABASE_URL=") {
			continue
		}
		env = append(env, entry)
	}
	return append(env, "HOME="+home)
}

func (z zspCLI) command(client *api.Client, args ...string) *exec.Cmd {
	cmd := exec.Command(z.bin, args...)
	cmd.Env = append(zspBaseEnv(z.home), "VAULT_ADDR="+z.addr, "VAULT_TOKEN="+client.Token())
	// Its own process group lets cleanup end the command zsp started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// zspResult is what a finished zsp process printed and its exit status.
type zspResult struct {
	stdout string
	stderr string
	code   int
}

// run runs zsp as client's token and waits for it to exit.
func (z zspCLI) run(t *testing.T, client *api.Client, args ...string) zspResult {
	t.Helper()
	return z.start(t, client, args...).wait(t)
}

func zspRunCmd(t *testing.T, cmd *exec.Cmd) zspResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()

	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return zspResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// zspProcess is a zsp process running in the background.
type zspProcess struct {
	cmd    *exec.Cmd
	stdout *zspBuffer
	stderr *zspBuffer
	done   chan error
}

// start starts zsp as client's token. If the test ends first, the process
// group is killed.
func (z zspCLI) start(t *testing.T, client *api.Client, args ...string) *zspProcess {
	t.Helper()

	proc := &zspProcess{cmd: z.command(client, args...), stdout: &zspBuffer{}, stderr: &zspBuffer{}, done: make(chan error, 1)}
	proc.cmd.Stdout = proc.stdout
	proc.cmd.Stderr = proc.stderr
	require.NoError(t, proc.cmd.Start())

	go func() { proc.done <- proc.cmd.Wait() }()
	pid := proc.cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	return proc
}

// wait waits for the process to exit, at most zspProcessTimeout.
func (p *zspProcess) wait(t *testing.T) zspResult {
	t.Helper()

	select {
	case err := <-p.done:
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("wait for zsp: %v", err)
		}
	case <-time.After(zspProcessTimeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("zsp %v still running after %s; stderr:\n%s", p.cmd.Args[1:], zspProcessTimeout, p.stderr.String())
	}
	return zspResult{stdout: p.stdout.String(), stderr: p.stderr.String(), code: p.cmd.ProcessState.ExitCode()}
}

// zspBuffer is a bytes.Buffer that a process writes while the test reads.
type zspBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *zspBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *zspBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// zspUserWhoMayRevokeLeases creates a userpass user whose identity entity
// also has a policy that allows sys/leases/revoke.
func zspUserWhoMayRevokeLeases(t *testing.T, e *env, name string) *api.Client {
	t.Helper()
	client, entity := e.vault.NewUser(t, name)
	e.write("sys/policies/acl/zsp-lease-revoke", map[string]any{"policy": zspLeaseRevokePolicy})
	e.write("identity/entity/id/"+entity, map[string]any{"policies": []string{"zsp-lease-revoke"}})
	return client
}

// zspIssued returns the request ID and username from zsp run's "issued"
// line on standard error.
func zspIssued(t *testing.T, stderr string) (requestID, username string) {
	t.Helper()
	match := zspIssuedLine.FindStringSubmatch(stderr)
	require.NotNil(t, match, "zsp run printed no issued line; stderr:\n%s", stderr)
	return match[1], match[2]
}

// zspRequestID returns the request ID from the "request <id>" row.
func zspRequestID(t *testing.T, output string) string {
	t.Helper()
	match := zspRequestRow.FindStringSubmatch(output)
	require.NotNil(t, match, "no request row in zsp output:\n%s", output)
	return match[1]
}

// zspRequireLeaseGone checks that zsp revoked the account's lease and that
// Vault no longer has it.
func zspRequireLeaseGone(t *testing.T, e *env, stderr, username string) {
	t.Helper()
	match := zspLeaseRevoked.FindStringSubmatch(stderr)
	require.NotNil(t, match, "zsp did not revoke the lease; stderr:\n%s", stderr)
	require.Equal(t, username, match[2])

	_, err := e.root.Logical().Write("sys/leases/lookup", map[string]any{"lease_id": match[1]})
	require.Error(t, err, "lease %s still exists", match[1])
}

// zspParseSecret decodes zsp's -format json output. The output holds a
// password, so a failure never prints it.
func zspParseSecret(t *testing.T, stdout string) *api.Secret {
	t.Helper()
	secret := &api.Secret{}
	err := json.Unmarshal([]byte(stdout), secret)
	require.True(t, err == nil, "zsp -format json printed invalid JSON (%d bytes)", len(stdout))
	return secret
}
