package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// envVar is one environment variable.
type envVar struct {
	name  string
	value string
}

// accountEnv returns the libpq environment variables and DATABASE_URL for
// an account, in a fixed order. PGSSLMODE is set only when the account's URL
// names an sslmode, so that psql keeps the TLS mode of the connection.
func accountEnv(acct account) []envVar {
	vars := []envVar{
		{"PGHOST", acct.Host},
		{"PGPORT", strconv.Itoa(acct.Port)},
		{"PGDATABASE", acct.Database},
		{"PGUSER", acct.Username},
		{"PGPASSWORD", acct.Password.reveal()},
		{"DATABASE_URL", acct.ConnectionURL.reveal()},
	}
	if mode := sslMode(acct.ConnectionURL.reveal()); mode != "" {
		vars = append(vars, envVar{"PGSSLMODE", mode})
	}
	return vars
}

// sslMode returns the sslmode query value of a postgres:// URL, or "".
func sslMode(rawURL string) string {
	parsed, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return parsed.Query().Get("sslmode")
}

// redirectingEnv are libpq variables that would send the account's password
// to another server than PGHOST: PGHOSTADDR replaces the address PGHOST
// resolves to, and a PGSERVICE entry takes precedence over PGHOST.
var redirectingEnv = map[string]bool{"PGHOSTADDR": true, "PGSERVICE": true}

// childEnv returns base, a list of NAME=value entries, with vars set: an
// entry of base with the same name is replaced, and the redirecting libpq
// variables are dropped.
func childEnv(base []string, vars []envVar) []string {
	replaced := make(map[string]bool, len(vars))
	for _, v := range vars {
		replaced[v.name] = true
	}

	env := make([]string, 0, len(base)+len(vars))
	for _, entry := range base {
		name, _, _ := strings.Cut(entry, "=")
		if replaced[name] || redirectingEnv[name] {
			continue
		}
		env = append(env, entry)
	}
	for _, v := range vars {
		env = append(env, v.name+"="+v.value)
	}
	return env
}

// writeEnv prints shell export lines for an issued account, plus
// ZSP_REQUEST_ID and ZSP_LEASE_ID for revoking it later.
func writeEnv(w io.Writer, creds *credsResponse) error {
	vars := accountEnv(creds.account)
	vars = append(vars, envVar{"ZSP_REQUEST_ID", creds.RequestID}, envVar{"ZSP_LEASE_ID", creds.LeaseID})
	for _, v := range vars {
		if _, err := fmt.Fprintf(w, "export %s=%s\n", v.name, shellQuote(v.value)); err != nil {
			return fmt.Errorf("write env output: %w", err)
		}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special except the single quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
