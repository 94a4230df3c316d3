package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testApp is an app with captured output and a fixed environment.
type testApp struct {
	app
	out, errOut bytes.Buffer
}

func newTestApp(env map[string]string) *testApp {
	ta := &testApp{}
	ta.app = app{
		stdin:   strings.NewReader(""),
		stdout:  &ta.out,
		stderr:  &ta.errOut,
		getenv:  func(name string) string { return env[name] },
		environ: func() []string { return nil },
	}
	return ta
}

func TestMainWithoutCommand(t *testing.T) {
	ta := newTestApp(nil)

	require.Equal(t, exitUsage, ta.main(nil))
	require.Contains(t, ta.errOut.String(), "usage: zsp [-mount path] <command>")
}

func TestMainUnknownCommand(t *testing.T) {
	ta := newTestApp(nil)

	require.Equal(t, exitUsage, ta.main([]string{"lease"}))
	require.Contains(t, ta.errOut.String(), `unknown command "lease"`)
	require.Contains(t, ta.errOut.String(), "commands:")
}

func TestHelpListsEveryCommand(t *testing.T) {
	ta := newTestApp(nil)

	require.Equal(t, exitOK, ta.main([]string{"help"}))
	for _, cmd := range commands() {
		require.Contains(t, ta.out.String(), "  "+cmd.name+" ")
	}
}

func TestHelpOfEachCommand(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			viaHelp := newTestApp(nil)
			require.Equal(t, exitOK, viaHelp.main([]string{"help", cmd.name}))
			require.Contains(t, viaHelp.out.String(), "usage: "+cmd.usageLine())
			require.Contains(t, viaHelp.out.String(), "-mount")

			viaFlag := newTestApp(nil)
			require.Equal(t, exitOK, viaFlag.main([]string{cmd.name, "-h"}))
			require.Equal(t, viaHelp.out.String(), viaFlag.out.String())
		})
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	ta := newTestApp(nil)

	require.Equal(t, exitUsage, ta.main([]string{"help", "nope"}))
	require.Contains(t, ta.errOut.String(), `unknown command "nope"`)
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "request without task", args: []string{"request"}, wantErr: "missing task"},
		{name: "request with bad parameter", args: []string{"request", "read-schema", "-p", "schema"}, wantErr: `parameter "schema" has no value`},
		{name: "run without command", args: []string{"run", "billing"}, wantErr: "missing command: put it after --"},
		{name: "deny without comment", args: []string{"deny", "req-1"}, wantErr: "missing -comment"},
		{name: "approve with two IDs", args: []string{"approve", "a", "b"}, wantErr: "expected one request ID"},
		{name: "show with bad ID", args: []string{"show", "../x"}, wantErr: `invalid request ID "../x"`},
		{name: "pending with argument", args: []string{"pending", "x"}, wantErr: "pending takes no arguments"},
		{name: "unknown global flag", args: []string{"-colour", "pending"}, wantErr: "-colour"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_TOKEN": "t"})

			require.Equal(t, exitUsage, ta.main(tc.args))
			require.Contains(t, ta.errOut.String(), tc.wantErr)
			require.Empty(t, ta.out.String())
		})
	}
}

func TestMissingVaultAddr(t *testing.T) {
	ta := newTestApp(map[string]string{"VAULT_TOKEN": "t"})

	require.Equal(t, exitFailure, ta.main([]string{"pending"}))
	require.Contains(t, ta.errOut.String(), "VAULT_ADDR is not set; export VAULT_ADDR=https://vault.example.com:8200")
}

func TestVaultTokenFromEnvironment(t *testing.T) {
	ta := newTestApp(map[string]string{"VAULT_TOKEN": " hvs.from-env\n", "HOME": t.TempDir()})

	token, err := ta.vaultToken()
	require.NoError(t, err)
	require.Equal(t, "hvs.from-env", token)
}

func TestVaultTokenFromFile(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, ".vault-token"), []byte("hvs.from-file\n"), 0o600))
	ta := newTestApp(map[string]string{"HOME": home})

	token, err := ta.vaultToken()
	require.NoError(t, err)
	require.Equal(t, "hvs.from-file", token)
}

func TestVaultTokenMissing(t *testing.T) {
	home := t.TempDir()
	ta := newTestApp(map[string]string{"HOME": home, "VAULT_ADDR": "http://127.0.0.1:8200"})

	_, err := ta.vaultToken()
	require.ErrorContains(t, err, "VAULT_TOKEN is not set and "+filepath.Join(home, ".vault-token")+" does not exist; log in with vault login")

	require.NoError(t, os.WriteFile(filepath.Join(home, ".vault-token"), []byte("\n"), 0o600))
	_, err = ta.vaultToken()
	require.ErrorContains(t, err, "is empty")
}

func TestNewClientMountAndToken(t *testing.T) {
	ta := newTestApp(map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_TOKEN": "hvs.token"})

	client, err := ta.newClient("/team-zsp/")
	require.NoError(t, err)
	require.Equal(t, "team-zsp/creds/billing", client.path("creds", "billing"))
	require.Equal(t, "http://127.0.0.1:8200", client.vault.Address())
	require.Equal(t, "hvs.token", client.vault.Token())

	_, err = ta.newClient("/")
	require.ErrorContains(t, err, "invalid -mount")
}

func TestAPIErrorIsOneLine(t *testing.T) {
	err := &apiError{operation: "revoke lease zsp/creds/x/abc", status: 403, messages: []string{"1 error occurred:\n\t* permission denied\n\n"}}
	require.Equal(t, "revoke lease zsp/creds/x/abc: Vault returned 403: permission denied (check that the token is valid and its policy allows this path)", err.Error())

	err = &apiError{operation: "read zsp/creds/x", status: 400, messages: []string{"2 errors occurred:\n\t* first\n\t* second\n\n", `unknown role "x"`}}
	require.Equal(t, `read zsp/creds/x: Vault returned 400: first; second; unknown role "x"`, err.Error())
}
