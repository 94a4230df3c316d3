package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
)

const (
	trivialPluginName    = "trivial-plugin"
	trivialPluginVersion = "v1.2.3"
)

// trivialPluginSource is a secrets plugin with no paths. It lets these
// tests exercise the harness without depending on the real backend.
const trivialPluginSource = `package main

import (
	"context"
	"os"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
)

func main() {
	err := plugin.ServeMultiplex(&plugin.ServeOpts{BackendFactoryFunc: factory})
	if err != nil {
		os.Exit(1)
	}
}

func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &framework.Backend{
		BackendType:    logical.TypeLogical,
		Help:           "trivial plugin for harness tests",
		RunningVersion: "` + trivialPluginVersion + `",
	}
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}
`

var trivialPluginBuild = sync.OnceValues(buildTrivialPluginOnce)

// buildTrivialPlugin builds trivialPluginSource once per test process, in a
// module of its own outside the repository that uses the same dependency
// versions as this module.
func buildTrivialPlugin(tb testing.TB) (dir, sum string) {
	tb.Helper()

	built, err := trivialPluginBuild()
	require.NoError(tb, err, "build trivial plugin")
	return built.dir, built.sha256
}

func buildTrivialPluginOnce() (vaultPluginBinary, error) {
	root, err := ModuleRoot()
	if err != nil {
		return vaultPluginBinary{}, err
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return vaultPluginBinary{}, err
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return vaultPluginBinary{}, err
	}

	src, err := os.MkdirTemp("", "zsp-trivial-plugin-src-")
	if err != nil {
		return vaultPluginBinary{}, err
	}
	defer os.RemoveAll(src)

	moduleLine := regexp.MustCompile(`(?m)^module .*$`)
	files := map[string][]byte{
		"go.mod":  moduleLine.ReplaceAll(goMod, []byte("module example.com/trivialplugin")),
		"go.sum":  goSum,
		"main.go": []byte(trivialPluginSource),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), content, 0o600); err != nil {
			return vaultPluginBinary{}, err
		}
	}

	dir, err := vaultNewBuildDir("trivial-")
	if err != nil {
		return vaultPluginBinary{}, err
	}

	// -mod=mod lets go add the SDK packages that this module's go.mod may not
	// list. It downloads nothing when this module's go.sum already covers them.
	cmd := exec.Command("go", "build", "-mod=mod", "-o", filepath.Join(dir, trivialPluginName), ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return vaultPluginBinary{}, fmt.Errorf("go build: %w\n%s", err, out)
	}

	sum, err := vaultHashFile(filepath.Join(dir, trivialPluginName))
	if err != nil {
		return vaultPluginBinary{}, err
	}
	return vaultPluginBinary{dir: dir, sha256: sum}, nil
}

// startTrivialVault starts a server with the trivial plugin registered and
// mounted at trivial/.
func startTrivialVault(t *testing.T) *Vault {
	t.Helper()

	dir, sum := buildTrivialPlugin(t)
	v := StartVault(t, VaultOptions{PluginDir: dir})
	v.RegisterPlugin(t, trivialPluginName, sum, "")
	v.Mount(t, "trivial", trivialPluginName)
	return v
}

func TestVaultMountsRegisteredPlugin(t *testing.T) {
	v := startTrivialVault(t)

	mounts, err := v.Client.Sys().ListMountsWithContext(t.Context())
	require.NoError(t, err)
	require.Contains(t, mounts, "trivial/")
	require.Equal(t, trivialPluginName, mounts["trivial/"].Type)
	require.Equal(t, trivialPluginVersion, mounts["trivial/"].RunningVersion)

	_, sum := buildTrivialPlugin(t)
	plugin, err := v.Client.Sys().GetPluginWithContext(t.Context(), &api.GetPluginInput{
		Name:    trivialPluginName,
		Type:    api.PluginTypeSecrets,
		Version: trivialPluginVersion,
	})
	require.NoError(t, err)
	require.Equal(t, sum, plugin.SHA256)
	require.False(t, plugin.Builtin)
}

func TestVaultRejectsWrongSHA256(t *testing.T) {
	dir, _ := buildTrivialPlugin(t)
	v := StartVault(t, VaultOptions{PluginDir: dir})

	// Vault 1.21 accepts the registration, logging that it could not run
	// the plugin to read its version, and rejects the mount.
	v.RegisterPlugin(t, trivialPluginName, strings.Repeat("0", 64), "")

	err := v.Client.Sys().MountWithContext(t.Context(), "trivial", &api.MountInput{Type: trivialPluginName})
	require.ErrorContains(t, err, "checksums did not match")
}

func TestVaultNewUserEntityAndGroups(t *testing.T) {
	v := startTrivialVault(t)

	alice, aliceID := v.NewUser(t, "alice", "dba", "oncall")
	bob, bobID := v.NewUser(t, "bob", "dba")
	require.NotEmpty(t, aliceID)
	require.NotEmpty(t, bobID)
	require.NotEqual(t, aliceID, bobID)

	self, err := alice.Auth().Token().LookupSelfWithContext(t.Context())
	require.NoError(t, err)
	require.Equal(t, aliceID, self.Data["entity_id"])
	require.NotEqual(t, v.Token, alice.Token())

	require.ElementsMatch(t, []string{aliceID, bobID}, groupMembers(t, v, "dba"))
	require.ElementsMatch(t, []string{aliceID}, groupMembers(t, v, "oncall"))

	entity, err := v.Client.Logical().ReadWithContext(t.Context(), "identity/entity/id/"+bobID)
	require.NoError(t, err)
	require.Len(t, entity.Data["group_ids"], 1, "bob is in dba only")

	// The policy allows everything under zsp/ and nothing else.
	caps, err := bob.Sys().CapabilitiesSelfWithContext(t.Context(), "zsp/creds/anything")
	require.NoError(t, err)
	require.Contains(t, caps, "read")
	require.Contains(t, caps, "update")
	caps, err = bob.Sys().CapabilitiesSelfWithContext(t.Context(), "sys/mounts/zsp")
	require.NoError(t, err)
	require.Equal(t, []string{"deny"}, caps)
}

func groupMembers(t *testing.T, v *Vault, group string) []string {
	t.Helper()

	secret, err := v.Client.Logical().ReadWithContext(t.Context(), "identity/group/name/"+group)
	require.NoError(t, err)
	require.NotNil(t, secret, "identity group %q not found", group)
	require.Equal(t, "internal", secret.Data["type"])

	var members []string
	for _, id := range secret.Data["member_entity_ids"].([]any) {
		members = append(members, id.(string))
	}
	return members
}

func TestVaultCLI(t *testing.T) {
	v := startTrivialVault(t)
	user, entityID := v.NewUser(t, "carol")

	stdout, stderr, err := v.CLI(t, user.Token(), "token", "lookup", "-format=json")
	require.NoError(t, err, "stderr: %s", stderr)
	var lookup struct {
		Data struct {
			EntityID string `json:"entity_id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &lookup))
	require.Equal(t, entityID, lookup.Data.EntityID)

	_, stderr, err = v.CLI(t, user.Token(), "secrets", "list")
	require.Error(t, err, "the user's policy does not allow listing mounts")
	require.Contains(t, stderr, "permission denied")

	_, _, err = v.CLI(t, "", "token", "lookup")
	require.Error(t, err, "without a token the CLI must not find one in HOME")
}

func TestVaultLogTailHidesRootToken(t *testing.T) {
	v := startTrivialVault(t)

	// Dev mode prints the root token in its banner, which can come shortly
	// after the server is ready.
	deadline := time.Now().Add(10 * time.Second)
	for !v.LogContains(t, v.Token) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, v.LogContains(t, v.Token), "dev mode banner with the root token not in the log")

	tail := v.logTail(1000)
	require.NotContains(t, tail, v.Token)
	require.Contains(t, tail, "<root token>")
	require.NotRegexp(t, `Unseal Key: [^<]`, tail)
}

func TestVaultStop(t *testing.T) {
	v := startTrivialVault(t)

	v.Stop(t)

	require.True(t, v.hasExited())
	require.True(t, v.cmd.ProcessState.Exited(), "vault server should exit on SIGTERM, got %s", v.cmd.ProcessState)
	_, err := v.Client.Sys().HealthWithContext(t.Context())
	require.Error(t, err, "a stopped server must not answer")
	v.Stop(t)
}

func TestVaultKillEndsPluginProcesses(t *testing.T) {
	var pgid int
	t.Run("kill", func(t *testing.T) {
		v := startTrivialVault(t)
		pgid = v.cmd.Process.Pid
		require.Greater(t, len(liveGroupMembers(t, pgid)), 1, "expected the server and the trivial plugin's process")

		v.Kill(t)

		require.True(t, v.hasExited())
		status := v.cmd.ProcessState.Sys().(syscall.WaitStatus)
		require.Equal(t, syscall.SIGKILL, status.Signal())
		require.NotEmpty(t, liveGroupMembers(t, pgid), "the plugin process outlives a killed server")
	})

	// The subtest's cleanup sent SIGKILL to the server's process group.
	// Orphans are reaped by init, so wait for them to go.
	deadline := time.Now().Add(10 * time.Second)
	for len(liveGroupMembers(t, pgid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.Empty(t, liveGroupMembers(t, pgid), "processes left in the server's process group")
}

// liveGroupMembers returns the pids of the processes in process group
// pgid that are not zombies, read from /proc.
func liveGroupMembers(t *testing.T, pgid int) []int {
	t.Helper()

	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)

	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited after the glob
		}

		// The fields after the command name, which is in parentheses and
		// may contain spaces: state, ppid, pgrp, ...
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}

func TestVaultSetupMountsZSPPlugin(t *testing.T) {
	v := StartVault(t, VaultOptions{})

	v.Setup(t)

	mounts, err := v.Client.Sys().ListMountsWithContext(t.Context())
	require.NoError(t, err)
	require.Contains(t, mounts, "zsp/")
	require.Equal(t, vaultPluginName, mounts["zsp/"].Type)
	require.Regexp(t, `^v\d+\.\d+\.\d+`, mounts["zsp/"].RunningVersion)
}
