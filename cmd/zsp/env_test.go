package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testPassword = `pa'ss "word$`

func testAccount() account {
	return account{
		Username:      "v_alice_billing_1",
		Password:      secretString(testPassword),
		Host:          "127.0.0.1",
		Port:          6543,
		Database:      "app",
		ConnectionURL: secretString("postgres://v_alice_billing_1:secret@127.0.0.1:6543/app?sslmode=verify-full"),
	}
}

func TestAccountEnv(t *testing.T) {
	vars := accountEnv(testAccount())

	require.Equal(t, []envVar{
		{"PGHOST", "127.0.0.1"},
		{"PGPORT", "6543"},
		{"PGDATABASE", "app"},
		{"PGUSER", "v_alice_billing_1"},
		{"PGPASSWORD", testPassword},
		{"DATABASE_URL", "postgres://v_alice_billing_1:secret@127.0.0.1:6543/app?sslmode=verify-full"},
		{"PGSSLMODE", "verify-full"},
	}, vars)
}

func TestAccountEnvWithoutSSLMode(t *testing.T) {
	acct := testAccount()
	acct.ConnectionURL = "postgres://u:p@127.0.0.1:5432/app"

	for _, v := range accountEnv(acct) {
		require.NotEqual(t, "PGSSLMODE", v.name)
	}
}

func TestChildEnv(t *testing.T) {
	base := []string{"PATH=/usr/bin", "PGHOST=old.example.com", "PGHOSTADDR=192.0.2.1", "PGSERVICE=prod", "PGUSER=someone", "HOME=/root", "PGAPPNAME=report"}

	env := childEnv(base, accountEnv(testAccount()))

	require.Equal(t, []string{
		"PATH=/usr/bin",
		"HOME=/root",
		"PGAPPNAME=report",
		"PGHOST=127.0.0.1",
		"PGPORT=6543",
		"PGDATABASE=app",
		"PGUSER=v_alice_billing_1",
		"PGPASSWORD=" + testPassword,
		"DATABASE_URL=postgres://v_alice_billing_1:secret@127.0.0.1:6543/app?sslmode=verify-full",
		"PGSSLMODE=verify-full",
	}, env)
}

func TestWriteEnvRoundTripsThroughShell(t *testing.T) {
	creds := &credsResponse{RequestID: "req-1", Status: statusIssued, account: testAccount(), LeaseID: "zsp/creds/billing/abc"}
	var out bytes.Buffer
	require.NoError(t, writeEnv(&out, creds))
	require.Contains(t, out.String(), "export PGHOST='127.0.0.1'\n")

	// The shell must read back exactly the values, quotes included.
	script := out.String() + `printf '%s\n' "$PGPASSWORD" "$PGUSER" "$ZSP_REQUEST_ID" "$ZSP_LEASE_ID"`
	got, err := exec.Command("sh", "-c", script).Output()
	require.NoError(t, err)
	require.Equal(t, testPassword+"\nv_alice_billing_1\nreq-1\nzsp/creds/billing/abc\n", string(got))
}

func TestShellQuote(t *testing.T) {
	require.Equal(t, `'plain'`, shellQuote("plain"))
	require.Equal(t, `'it'\''s'`, shellQuote("it's"))
	require.Equal(t, `'$HOME `+"`id`"+`'`, shellQuote("$HOME `id`"))
}

func TestSecretStringHiddenFromFmt(t *testing.T) {
	acct := testAccount()

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		formatted := fmt.Sprintf(verb, acct)
		require.False(t, strings.Contains(formatted, "pa'ss"), "%s shows the password", verb)
		require.False(t, strings.Contains(formatted, ":secret@"), "%s shows the connection URL's password", verb)
	}
	require.Equal(t, testPassword, acct.Password.reveal())
}

func TestWriteAnswerEnvNeedsAccount(t *testing.T) {
	pending := &credsResponse{RequestID: "req-2", Status: statusPending}
	var out bytes.Buffer

	err := writeCredsResponse(&out, pending, formatEnv)

	require.ErrorContains(t, err, "request req-2 is pending, so there is no account to export yet; add -wait")
	require.Empty(t, out.String())
}
