package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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
)

const (
	// vaultPluginName is the plugin's catalog name and the name of its binary.
	vaultPluginName = "vault-plugin-secrets-zsp"

	// vaultPluginMount is the mount path used by Setup.
	vaultPluginMount = "zsp"

	// vaultBuildLockName is the lock file in each plugin build directory.
	vaultBuildLockName = ".lock"
)

var vaultSHA256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// vaultPluginBuild builds the plugin once per test process, because every
// server started by the process runs the same binary from its directory.
var vaultPluginBuild = sync.OnceValues(buildPluginOnce)

type vaultPluginBinary struct {
	dir    string
	sha256 string
}

// BuildPlugin builds ./cmd/vault-plugin-secrets-zsp with
// scripts/build-plugin.sh into a temporary directory, once per test
// process, and returns the directory and the binary's SHA-256.
func BuildPlugin(tb testing.TB) (dir string, sha256 string) {
	tb.Helper()

	built, err := vaultPluginBuild()
	if err != nil {
		tb.Fatalf("build plugin: %v", err)
	}
	return built.dir, built.sha256
}

func buildPluginOnce() (vaultPluginBinary, error) {
	root, err := ModuleRoot()
	if err != nil {
		return vaultPluginBinary{}, err
	}

	dir, err := vaultNewBuildDir("build-")
	if err != nil {
		return vaultPluginBinary{}, err
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-plugin.sh"), dir)
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return vaultPluginBinary{}, fmt.Errorf("scripts/build-plugin.sh %s: %w\n%s", dir, err, stderr.String())
	}

	sum := strings.TrimSpace(stdout.String())
	if !vaultSHA256Pattern.MatchString(sum) {
		return vaultPluginBinary{}, fmt.Errorf("scripts/build-plugin.sh printed %q, expected a hex SHA-256", sum)
	}
	return vaultPluginBinary{dir: dir, sha256: sum}, nil
}

// vaultNewBuildDir creates a directory for plugin binaries that must outlive
// any one test, so it cannot be a test temp dir. The calling process holds a
// shared lock on the directory until it exits, and later calls delete the
// directories whose lock is free.
func vaultNewBuildDir(prefix string) (string, error) {
	parent := filepath.Join(os.TempDir(), "zsp-plugin-builds")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("create plugin build directory: %w", err)
	}
	vaultRemoveUnusedBuildDirs(parent)

	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", fmt.Errorf("create plugin build directory: %w", err)
	}

	// The descriptor is never closed: the kernel releases the lock when the
	// process exits.
	lockPath := filepath.Join(dir, vaultBuildLockName)
	fd, err := syscall.Open(lockPath, syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("create lock file %s: %w", lockPath, err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_SH); err != nil {
		return "", fmt.Errorf("lock %s: %w", lockPath, err)
	}
	return dir, nil
}

// vaultRemoveUnusedBuildDirs deletes the build directories of processes that
// have exited. Directories younger than a minute are skipped, because their
// process may not have taken the lock yet. Failures are ignored because a
// leftover directory only costs disk space.
func vaultRemoveUnusedBuildDirs(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, entry := range entries {
		info, err := entry.Info()
		if err != nil || time.Since(info.ModTime()) < time.Minute {
			continue
		}

		dir := filepath.Join(parent, entry.Name())
		fd, err := syscall.Open(filepath.Join(dir, vaultBuildLockName), syscall.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(dir)
		}
		_ = syscall.Close(fd)
	}
}

// ModuleRoot returns the repository root: the nearest folder at or above
// the working directory, which go test sets to the package folder, that
// has a go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find module root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// RegisterPlugin adds a secrets plugin to the server's catalog. The command
// is name itself, so the binary must be PluginDir/name. An empty version
// registers the version the plugin reports.
func (v *Vault) RegisterPlugin(tb testing.TB, name, sha256, version string) {
	tb.Helper()

	err := v.Client.Sys().RegisterPluginWithContext(tb.Context(), &api.RegisterPluginInput{
		Name:    name,
		Type:    api.PluginTypeSecrets,
		Command: name,
		SHA256:  sha256,
		Version: version,
	})
	if err != nil {
		tb.Fatalf("register plugin %q (sha256 %s, version %q): %v", name, sha256, version, err)
	}
}

// Mount enables the secrets plugin named plugin at path. With no version
// given, Vault mounts the newest registered version.
func (v *Vault) Mount(tb testing.TB, path, plugin string) {
	tb.Helper()

	err := v.Client.Sys().MountWithContext(tb.Context(), path, &api.MountInput{Type: plugin})
	if err != nil {
		tb.Fatalf("mount plugin %q at %s/: %v", plugin, path, err)
	}
}

// Setup registers the plugin binary in PluginDir as
// vault-plugin-secrets-zsp and mounts it at zsp/.
func (v *Vault) Setup(tb testing.TB) {
	tb.Helper()

	sum, err := vaultHashFile(filepath.Join(v.PluginDir, vaultPluginName))
	if err != nil {
		tb.Fatalf("register plugin %q: %v; build it into %s with scripts/build-plugin.sh", vaultPluginName, err, v.PluginDir)
	}
	v.RegisterPlugin(tb, vaultPluginName, sum, "")
	v.Mount(tb, vaultPluginMount, vaultPluginName)
}

// vaultHashFile returns the hex SHA-256 of the file at path.
func vaultHashFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash file: %w", err)
	}
	defer file.Close()

	hash := sha256.New()
	if _, err := io.Copy(hash, file); err != nil {
		return "", fmt.Errorf("hash file %s: %w", path, err)
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}
