// Package testenv starts the real servers that the tests of this module run
// against: a Vault dev server with the plugin registered, and PostgreSQL.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

const (
	// vaultReadyTimeout bounds the wait for a new dev server to accept its root token.
	vaultReadyTimeout = 60 * time.Second

	// vaultStopTimeout bounds the graceful shutdown after SIGTERM before SIGKILL.
	vaultStopTimeout = 30 * time.Second

	// vaultStartAttempts covers the rare case where another process takes the
	// free port between the probe and Vault's bind.
	vaultStartAttempts = 3

	vaultLogTailLines = 50
)

// Vault is a Vault dev server run as a child process for one test. It
// listens on 127.0.0.1 only, keeps its storage in memory and is stopped when
// the test ends.
type Vault struct {
	Addr      string      // http://127.0.0.1:<port>
	Token     string      // root token, random per server
	Client    *api.Client // authenticated with Token
	LogPath   string      // server stdout and stderr, logged at debug level
	PluginDir string      // the server's plugin_directory

	bin    string        // Vault binary, reused by CLI
	cmd    *exec.Cmd     // the server process, leader of its own process group
	port   int           // listener port, and port+1 is the cluster listener
	dir    string        // test temp dir with the config, log and HOME of the children
	exited chan struct{} // closed once the server process has been reaped

	mu              sync.Mutex // serializes userpass setup and group membership updates
	userpassEnabled bool
}

// VaultOptions configures StartVault.
type VaultOptions struct {
	// PluginDir is the server's plugin directory. Empty means build the
	// plugin with BuildPlugin and use its directory.
	PluginDir string
}

// StartVault starts a dev server on a free 127.0.0.1 port and waits until
// its root token works. The server stops when the test ends, and if the
// test failed the last lines of its log are printed.
func StartVault(tb testing.TB, opts VaultOptions) *Vault {
	tb.Helper()

	bin := VaultBinary(tb)
	pluginDir := opts.PluginDir
	if pluginDir == "" {
		pluginDir, _ = BuildPlugin(tb)
	}
	pluginDir, err := filepath.Abs(pluginDir)
	if err != nil {
		tb.Fatalf("resolve plugin directory %q: %v", opts.PluginDir, err)
	}

	dir := tb.TempDir()
	for attempt := 1; ; attempt++ {
		v := newVault(tb, bin, dir, pluginDir)
		v.start(tb)
		err := v.waitReady(tb)
		if err == nil {
			return v
		}

		portTaken := v.LogContains(tb, "address already in use")
		if !portTaken || attempt == vaultStartAttempts {
			tb.Fatalf("start vault server: %v (log: %s)", err, v.LogPath)
		}
		tb.Logf("vault server could not bind port %d, retrying on another port", v.port)
	}
}

func newVault(tb testing.TB, bin, dir, pluginDir string) *Vault {
	tb.Helper()

	port := vaultFreePort(tb)
	v := &Vault{
		Addr:      "http://127.0.0.1:" + strconv.Itoa(port),
		Token:     "root-" + vaultRandomHex(tb, 16),
		LogPath:   filepath.Join(dir, fmt.Sprintf("vault-%d.log", port)),
		PluginDir: pluginDir,
		bin:       bin,
		port:      port,
		dir:       dir,
		exited:    make(chan struct{}),
	}
	v.Client = v.NewClient(tb, v.Token)
	return v
}

// start launches the server process and registers its cleanup.
func (v *Vault) start(tb testing.TB) {
	tb.Helper()

	configPath := filepath.Join(v.dir, "extra.hcl")
	config := fmt.Sprintf("plugin_directory = %s\n", strconv.Quote(v.PluginDir))
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		tb.Fatalf("write vault config %s: %v", configPath, err)
	}

	logFile, err := os.Create(v.LogPath)
	if err != nil {
		tb.Fatalf("create vault log %s: %v", v.LogPath, err)
	}
	defer logFile.Close()

	// -dev-no-store-token keeps the server from writing ~/.vault-token.
	v.cmd = exec.Command(v.bin, "server",
		"-dev",
		"-dev-no-store-token",
		"-dev-root-token-id="+v.Token,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(v.port),
		"-config="+configPath,
		"-log-level=debug",
	)
	v.cmd.Env = v.childEnv("")
	v.cmd.Stdout = logFile
	v.cmd.Stderr = logFile
	v.cmd.SysProcAttr = vaultProcAttr()
	if err := v.cmd.Start(); err != nil {
		tb.Fatalf("start %s server: %v", v.bin, err)
	}

	go func() {
		_ = v.cmd.Wait()
		close(v.exited)
	}()
	tb.Cleanup(func() { v.cleanup(tb) })
}

// vaultProcAttr puts the server in its own process group, so that plugin
// processes it leaves behind after SIGKILL can be ended with it. Pdeathsig
// makes Linux send SIGTERM to the server if the test process dies first.
//
// NOTE: Pdeathsig is Linux only, so this package builds on Linux only.
func vaultProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// waitReady polls until the root token is accepted and the dev setup has
// mounted secret/, its last step before printing the banner.
func (v *Vault) waitReady(tb testing.TB) error {
	tb.Helper()

	deadline := time.Now().Add(vaultReadyTimeout)
	for {
		err := v.checkReady(tb)
		if err == nil {
			return nil
		}

		select {
		case <-v.exited:
			return fmt.Errorf("vault server exited before it was ready: %s", v.cmd.ProcessState)
		case <-tb.Context().Done():
			return fmt.Errorf("test ended before vault server was ready: %w", tb.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vault server at %s not ready after %s: %w", v.Addr, vaultReadyTimeout, err)
		}
	}
}

func (v *Vault) checkReady(tb testing.TB) error {
	if _, err := v.Client.Auth().Token().LookupSelfWithContext(tb.Context()); err != nil {
		return err
	}

	mounts, err := v.Client.Sys().ListMountsWithContext(tb.Context())
	if err != nil {
		return err
	}
	if _, ok := mounts["secret/"]; !ok {
		return errors.New("dev setup has not mounted secret/ yet")
	}
	return nil
}

// NewClient returns an API client for this server authenticated with token.
// It reads no VAULT_* environment variable that could send it elsewhere.
func (v *Vault) NewClient(tb testing.TB, token string) *api.Client {
	tb.Helper()

	// Retries are off because a retried write would hide a 5xx from the
	// plugin and could run the request twice.
	// The API client follows Vault's redirects itself, so the HTTP client
	// must not.
	httpClient := &http.Client{
		Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	config := &api.Config{
		Address:    v.Addr,
		HttpClient: httpClient,
		Timeout:    60 * time.Second,
		MaxRetries: 0,
	}
	client, err := api.NewClient(config)
	if err != nil {
		tb.Fatalf("create vault client for %s: %v", v.Addr, err)
	}

	// api.NewClient copies these from the environment of the test process.
	client.SetToken(token)
	client.ClearNamespace()
	client.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	return client
}

// NewUser creates a userpass user, logs in as that user and adds the user's
// identity entity to each named internal group, creating missing groups. It
// returns a client with the user's token and the entity ID. The token's
// policy allows everything under zsp/, so the plugin, not the policy,
// decides what the user may do there.
func (v *Vault) NewUser(tb testing.TB, name string, groups ...string) (*api.Client, string) {
	tb.Helper()

	v.enableUserpass(tb)

	password := vaultRandomHex(tb, 16)
	_, err := v.Client.Logical().WriteWithContext(tb.Context(), "auth/userpass/users/"+name, map[string]any{
		"password":       password,
		"token_policies": []string{vaultUserPolicy},
	})
	if err != nil {
		tb.Fatalf("create userpass user %q: %v", name, err)
	}

	login, err := v.Client.Logical().WriteWithContext(tb.Context(), "auth/userpass/login/"+name, map[string]any{
		"password": password,
	})
	if err != nil {
		tb.Fatalf("log in as userpass user %q: %v", name, err)
	}
	if login == nil || login.Auth == nil || login.Auth.EntityID == "" {
		tb.Fatalf("log in as userpass user %q: response has no token with an entity ID", name)
	}

	for _, group := range groups {
		v.addGroupMember(tb, group, login.Auth.EntityID)
	}
	return v.NewClient(tb, login.Auth.ClientToken), login.Auth.EntityID
}

const (
	vaultUserPolicy      = "zsp-full-access"
	vaultUserPolicyRules = `path "zsp/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}
`
)

// enableUserpass enables the userpass auth method at auth/userpass and
// writes the users' policy, once per server.
func (v *Vault) enableUserpass(tb testing.TB) {
	tb.Helper()

	v.mu.Lock()
	defer v.mu.Unlock()
	if v.userpassEnabled {
		return
	}

	err := v.Client.Sys().EnableAuthWithOptionsWithContext(tb.Context(), "userpass", &api.EnableAuthOptions{Type: "userpass"})
	if err != nil {
		tb.Fatalf("enable userpass auth method: %v", err)
	}
	if err := v.Client.Sys().PutPolicyWithContext(tb.Context(), vaultUserPolicy, vaultUserPolicyRules); err != nil {
		tb.Fatalf("write policy %q: %v", vaultUserPolicy, err)
	}
	v.userpassEnabled = true
}

// addGroupMember adds entityID to the member_entity_ids of the internal
// group named group, creating the group if it does not exist. The write
// replaces the whole member list, so the read and the write hold v.mu.
func (v *Vault) addGroupMember(tb testing.TB, group, entityID string) {
	tb.Helper()

	v.mu.Lock()
	defer v.mu.Unlock()
	if err := addIdentityGroupMember(tb.Context(), v.Client, group, entityID); err != nil {
		tb.Fatal(err)
	}
}

// addIdentityGroupMember adds entityID to the member_entity_ids of the
// internal group named group, creating the group if it does not exist. The
// write replaces the whole member list, so callers serialize it.
func addIdentityGroupMember(ctx context.Context, client *api.Client, group, entityID string) error {
	path := "identity/group/name/" + group
	existing, err := client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return fmt.Errorf("read identity group %q: %w", group, err)
	}

	data := map[string]any{"type": "internal"}
	members := []string{entityID}
	if existing != nil {
		delete(data, "type")
		ids, _ := existing.Data["member_entity_ids"].([]any)
		for _, id := range ids {
			members = append(members, fmt.Sprint(id))
		}
	}
	data["member_entity_ids"] = members

	if _, err := client.Logical().WriteWithContext(ctx, path, data); err != nil {
		return fmt.Errorf("add entity %s to identity group %q: %w", entityID, group, err)
	}
	return nil
}

// Stop sends SIGTERM to the server and waits for it to exit. Stopping a
// server that already exited does nothing.
func (v *Vault) Stop(tb testing.TB) {
	tb.Helper()

	if v.hasExited() {
		return
	}
	if err := v.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		tb.Fatalf("send SIGTERM to vault server pid %d: %v", v.cmd.Process.Pid, err)
	}

	select {
	case <-v.exited:
	case <-time.After(vaultStopTimeout):
		tb.Logf("vault server pid %d still running %s after SIGTERM, sending SIGKILL", v.cmd.Process.Pid, vaultStopTimeout)
		v.Kill(tb)
	}
}

// Kill sends SIGKILL to the server, as a crash would, and waits for it to
// exit. Its plugin processes are left running until the test ends.
func (v *Vault) Kill(tb testing.TB) {
	tb.Helper()

	if v.hasExited() {
		return
	}
	if err := v.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		tb.Fatalf("send SIGKILL to vault server pid %d: %v", v.cmd.Process.Pid, err)
	}
	<-v.exited
}

func (v *Vault) hasExited() bool {
	select {
	case <-v.exited:
		return true
	default:
		return false
	}
}

// cleanup stops the server, ends what is left of its process group and,
// when the test failed, prints the log tail as it was before the shutdown.
func (v *Vault) cleanup(tb testing.TB) {
	var tail string
	if tb.Failed() {
		tail = v.logTail(vaultLogTailLines)
	}

	v.Stop(tb)

	// The group id is the server's pid. Plugin processes orphaned by Kill
	// are still in that group.
	err := syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		tb.Logf("end process group %d of vault server: %v", v.cmd.Process.Pid, err)
	}

	if tail != "" {
		tb.Logf("last %d lines of vault server log %s:\n%s", vaultLogTailLines, v.LogPath, tail)
	}
}

// LogContains reports whether the server log contains s. It fails the test
// when the log cannot be read.
func (v *Vault) LogContains(tb testing.TB, s string) bool {
	tb.Helper()

	data, err := os.ReadFile(v.LogPath)
	if err != nil {
		tb.Fatalf("read vault server log: %v", err)
	}
	return bytes.Contains(data, []byte(s))
}

// logTail returns the last n lines of the log with the root token and the
// unseal key, both printed by dev mode at start, replaced.
func (v *Vault) logTail(n int) string {
	data, err := os.ReadFile(v.LogPath)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", v.LogPath, err)
	}

	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	for i, line := range lines {
		if strings.Contains(line, "Unseal Key:") {
			lines[i] = "Unseal Key: <redacted>"
		}
		lines[i] = strings.ReplaceAll(lines[i], v.Token, "<root token>")
	}
	return strings.Join(lines, "\n")
}

// CLI runs the vault command against this server with token, the way a user
// would, and returns its output. The error is non-nil when the command exits
// with a non-zero status.
func (v *Vault) CLI(tb testing.TB, token string, args ...string) (stdout, stderr string, err error) {
	tb.Helper()

	var outBuf, errBuf bytes.Buffer
	cmd := exec.CommandContext(tb.Context(), v.bin, args...)
	cmd.Env = v.childEnv(token)
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf

	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("vault %s: %w", strings.Join(args, " "), err)
	}
	return outBuf.String(), errBuf.String(), err
}

// childEnv returns the environment of the test process without its VAULT_*
// variables and HOME, plus the address of this server and token. HOME is
// the test's temp dir so the CLI never reads or writes ~/.vault-token.
func (v *Vault) childEnv(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}

	env = append(env, "HOME="+v.dir, "VAULT_ADDR="+v.Addr)
	if token != "" {
		env = append(env, "VAULT_TOKEN="+token)
	}
	return env
}

// VaultBinary returns the Vault binary to test with: $ZSP_VAULT_BIN, else
// vault on PATH, else the copy that scripts/vault-bin.sh builds into the
// cache. It fails the test when there is none.
func VaultBinary(tb testing.TB) string {
	tb.Helper()

	if bin := os.Getenv("ZSP_VAULT_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			tb.Fatalf("ZSP_VAULT_BIN=%s: %v; point it at a Vault binary or unset it", bin, err)
		}
		return bin
	}

	if bin, err := exec.LookPath("vault"); err == nil {
		return bin
	}

	cached := vaultCachedBinary()
	if _, err := os.Stat(cached); err == nil {
		return cached
	}

	tb.Fatalf("no vault binary: ZSP_VAULT_BIN is unset, vault is not on PATH and %s does not exist; run `make test` (it builds Vault) or scripts/vault-bin.sh", cached)
	return ""
}

// vaultCachedBinary returns where scripts/vault-bin.sh puts the Vault it
// builds. Keep the version in step with VAULT_VERSION there.
func vaultCachedBinary() string {
	cache := os.Getenv("ZSP_CACHE_DIR")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "vault-plugin-secrets-zsp")
	}
	return filepath.Join(cache, "vault-v1.21.0", "vault")
}

// vaultFreePort returns a port p such that 127.0.0.1:p and 127.0.0.1:p+1 are
// both free, because a dev server also opens its cluster listener on p+1.
func vaultFreePort(tb testing.TB) int {
	tb.Helper()

	for range 20 {
		first, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("find a free port on 127.0.0.1: %v", err)
		}
		port := first.Addr().(*net.TCPAddr).Port

		second, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		first.Close()
		if err != nil {
			continue
		}
		second.Close()
		return port
	}

	tb.Fatalf("find two adjacent free ports on 127.0.0.1: none after 20 tries")
	return 0
}

func vaultRandomHex(tb testing.TB, size int) string {
	tb.Helper()

	buf := make([]byte, size)
	if _, err := rand.Read(buf); err != nil {
		tb.Fatalf("read random bytes: %v", err)
	}
	return hex.EncodeToString(buf)
}
