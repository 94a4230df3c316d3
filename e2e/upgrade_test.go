package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

const upgradePluginName = "vault-plugin-secrets-zsp"

// upgradeBuild is one build of the plugin, registered under its own file
// name in the plugin directory.
type upgradeBuild struct {
	version string
	command string // file name in the plugin directory
	sha256  string
}

// TestPluginUpgradeKeepsStateAndGrants mounts v0.1.0 of the plugin, leaves
// a pending request and an issued lease, and switches the mount to v0.2.0
// with a tune and a reload. Then the new build must finish what the old one
// started: the request is approved and claimed, the lease revokes, and the
// stored settings read the same.
func TestPluginUpgradeKeepsStateAndGrants(t *testing.T) {
	t.Parallel()
	pluginDir := t.TempDir()
	oldBuild := buildPluginVersion(t, pluginDir, "v0.1.0")
	newBuild := buildPluginVersion(t, pluginDir, "v0.2.0")

	pg := testenv.StartPostgres(t)
	_, err := pg.AdminConn(t).Exec(context.Background(), sampleSchema)
	require.NoError(t, err)
	vault := testenv.StartVault(t, testenv.VaultOptions{PluginDir: pluginDir})
	e := &env{t: t, vault: vault, pg: pg, root: vault.Client}

	for _, build := range []upgradeBuild{oldBuild, newBuild} {
		e.write("sys/plugins/catalog/secret/"+upgradePluginName, map[string]any{
			"version": build.version,
			"command": build.command,
			"sha256":  build.sha256,
		})
	}
	e.write("sys/mounts/zsp", map[string]any{
		"type":   upgradePluginName,
		"config": map[string]any{"plugin_version": oldBuild.version},
	})
	requireMountRuns(t, e, oldBuild)

	e.write("zsp/connections/main", map[string]any{
		"connection_url": pg.ConnectionURLTemplate(),
		"username":       pg.User,
		"password":       pg.Password,
	})
	e.write("zsp/config", map[string]any{"approval_sla": "20m", "business_hours": "mon-fri 09:00-18:00"})
	e.write("zsp/roles/orders-fix", map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA sales TO {{group}}", "GRANT SELECT, UPDATE ON sales.orders TO {{group}}"},
		"risk_tier":        1, "requester_groups": "app-team", "approver_groups": "dba-leads",
		"default_ttl": "10m", "max_ttl": "30m",
	})
	e.write("zsp/roles/billing-readonly", map[string]any{
		"connection": "main", "grant_statements": readOnlyGrants,
		"risk_tier": 3, "requester_groups": "app-team", "default_ttl": 900,
	})
	people := newTeam(t, e)

	pending, err := credsErr(people.requester.client, "orders-fix", nil)
	require.NoError(t, err)
	pendingID := requirePending(t, pending)
	issued := e.creds(people.requester.client, "billing-readonly", nil)
	issuedUser := issued.Data["username"].(string)
	e.mustLogin(issued)

	storedPaths := []string{"zsp/config", "zsp/connections/main", "zsp/roles/orders-fix", "zsp/roles/billing-readonly"}
	before := map[string]map[string]any{}
	for _, path := range storedPaths {
		before[path] = normalizeJSON(t, e.read(path).Data)
	}

	e.write("sys/mounts/zsp/tune", map[string]any{"plugin_version": newBuild.version})
	e.write("sys/plugins/reload/backend", map[string]any{"plugin": upgradePluginName})
	requireMountRuns(t, e, newBuild)

	t.Run("stored settings read the same", func(t *testing.T) {
		for _, path := range storedPaths {
			require.Equal(t, before[path], normalizeJSON(t, e.read(path).Data), "read %s after the upgrade", path)
		}
	})

	t.Run("pending request is approved and claimed", func(t *testing.T) {
		resp, err := action(people.approver1, pendingID, "approve", map[string]any{"comment": "approved after the upgrade"})
		require.NoError(t, err)
		require.Equal(t, "approved", resp.Data["status"])

		claimed := e.creds(people.requester.client, "orders-fix", nil)
		require.Equal(t, pendingID, claimed.Data["request_id"])
		conn := e.mustLogin(claimed)
		_, err = conn.Exec(context.Background(), "UPDATE sales.orders SET status = 'new' WHERE id = 2")
		require.NoError(t, err, "the account issued after the upgrade cannot do its task")
	})

	t.Run("lease issued before the upgrade revokes", func(t *testing.T) {
		require.True(t, e.accountExists(issuedUser))
		require.NoError(t, e.root.Sys().Revoke(issued.LeaseID))
		waitFor(t, 10*time.Second, "the account issued by v0.1.0 to leave pg_roles", func() bool {
			return !e.accountExists(issuedUser)
		})
		require.Equal(t, "revoked", e.record(issued.Data["request_id"].(string))["status"])
	})
}

// requireMountRuns checks that zsp/ is pinned to the build and that the
// process serving it is that build. Vault reports the version the running
// plugin returns and the SHA-256 of the binary it started.
func requireMountRuns(t *testing.T, e *env, build upgradeBuild) {
	t.Helper()
	mounts, err := e.root.Sys().ListMounts()
	require.NoError(t, err)
	mount, ok := mounts["zsp/"]
	require.True(t, ok, "zsp/ is not mounted")
	require.Equal(t, build.version, mount.PluginVersion, "plugin_version of zsp/")
	require.Equal(t, build.version, mount.RunningVersion, "running_plugin_version of zsp/")
	require.Equal(t, build.sha256, mount.RunningSha256, "running_sha256 of zsp/")
}

// buildPluginVersion builds the plugin with scripts/build-plugin.sh, which
// stamps version into the binary, and renames the binary to
// vault-plugin-secrets-zsp-<version> so several builds share one plugin
// directory.
func buildPluginVersion(t *testing.T, pluginDir, version string) upgradeBuild {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"), "the e2e tests must run from the e2e folder of the module")

	buildDir := t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "scripts", "build-plugin.sh"), buildDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION="+version)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "VERSION=%s scripts/build-plugin.sh: %s", version, stderr.String())

	command := upgradePluginName + "-" + version
	require.NoError(t, os.Rename(filepath.Join(buildDir, upgradePluginName), filepath.Join(pluginDir, command)))
	sum := strings.TrimSpace(stdout.String())
	require.Regexp(t, `^[0-9a-f]{64}$`, sum, "scripts/build-plugin.sh output")
	return upgradeBuild{version: version, command: command, sha256: sum}
}
