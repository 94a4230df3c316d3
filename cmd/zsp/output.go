package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// newTable returns a writer that aligns tab-separated columns; call Flush
// when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// writeCredsResponse prints a creds response in format. The table and JSON
// formats can show a pending request, but env needs an account.
func writeCredsResponse(w io.Writer, creds *credsResponse, format outputFormat) error {
	switch format {
	case formatJSON:
		return writeJSON(w, creds.secret)
	case formatEnv:
		if !creds.issued() {
			return fmt.Errorf("request %s is %s, so there is no account to export yet; add -wait to wait for approval", creds.RequestID, creds.Status)
		}
		return writeEnv(w, creds)
	default:
		return writeCredsTable(w, creds)
	}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(v); err != nil {
		return fmt.Errorf("write JSON output: %w", err)
	}
	return nil
}

// writeCredsTable prints the request and, when issued, the account with
// its password: the one time the requester gets it.
func writeCredsTable(w io.Writer, creds *credsResponse) error {
	table := newTable(w)
	writeRequestRows(table, creds)
	if creds.issued() {
		fmt.Fprintf(table, "lease\t%s (%s)\n", creds.LeaseID, creds.LeaseDuration)
		fmt.Fprintf(table, "username\t%s\n", creds.Username)
		fmt.Fprintf(table, "password\t%s\n", creds.Password.reveal())
		fmt.Fprintf(table, "host\t%s\n", creds.Host)
		fmt.Fprintf(table, "port\t%d\n", creds.Port)
		fmt.Fprintf(table, "database\t%s\n", creds.Database)
		fmt.Fprintf(table, "connection url\t%s\n", creds.ConnectionURL.reveal())
	}
	return table.Flush()
}

// writeRequestRows prints the rows that pending and issued responses share,
// none of them secret.
func writeRequestRows(table io.Writer, creds *credsResponse) {
	fmt.Fprintf(table, "request\t%s\n", creds.RequestID)
	fmt.Fprintf(table, "status\t%s\n", creds.Status)
	writeScoreRows(table, creds.RiskScore, creds.RiskFactors)
	if creds.DecisionReason != "" {
		fmt.Fprintf(table, "decision\t%s\n", creds.DecisionReason)
	}
	if !creds.issued() {
		fmt.Fprintf(table, "approvers\t%s (%d approval(s) required)\n", strings.Join(creds.Approvers, ", "), creds.RequiredApprovals)
		fmt.Fprintf(table, "expires\t%s unless approved\n", creds.ExpiresAt)
		return
	}
	fmt.Fprintf(table, "expires\t%s\n", creds.ExpiresAt)
}

// writeScoreRows prints the risk score and one row per factor.
func writeScoreRows(table io.Writer, score int, factors []riskFactor) {
	fmt.Fprintf(table, "risk score\t%d\n", score)
	for _, factor := range factors {
		fmt.Fprintf(table, "  %s\t%+d  %s\n", factor.Name, factor.Points, factor.Detail)
	}
}

// writePendingSummary prints a pending request for someone who waits on
// it, with no secret.
func writePendingSummary(w io.Writer, creds *credsResponse) {
	table := newTable(w)
	writeRequestRows(table, creds)
	_ = table.Flush()
}

// writeWarnings prints the warnings Vault sent with an issued account, such
// as a TTL cut to the role's max_ttl. A pending response's warning only
// repeats that the request waits, so it is left out.
func writeWarnings(w io.Writer, creds *credsResponse) {
	if !creds.issued() {
		return
	}
	for _, warning := range creds.Warnings {
		fmt.Fprintf(w, "zsp: warning from Vault: %s\n", warning)
	}
}

// writeGrantLine prints one line about an issued grant, without secrets,
// for zsp run's standard error.
func writeGrantLine(w io.Writer, creds *credsResponse) {
	fmt.Fprintf(w, "zsp: request %s issued: account %s on %s:%d/%s until %s (risk score %d)\n",
		creds.RequestID, creds.Username, creds.Host, creds.Port, creds.Database, creds.ExpiresAt, creds.RiskScore)
}

// age returns how long ago an RFC 3339 time was, rounded for a table, or
// "-" when it cannot be read.
func age(stamp string, now time.Time) string {
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return "-"
	}

	// A clock a little behind the server's would show a negative age.
	elapsed := max(now.Sub(at), 0)
	switch {
	case elapsed < time.Minute:
		return fmt.Sprintf("%ds", int(elapsed.Seconds()))
	case elapsed < time.Hour:
		return fmt.Sprintf("%dm", int(elapsed.Minutes()))
	case elapsed < 48*time.Hour:
		return hoursMinutes(elapsed)
	default:
		return fmt.Sprintf("%dd", int(elapsed.Hours()/24))
	}
}

func hoursMinutes(d time.Duration) string {
	hours, minutes := int(d.Hours()), int(d.Minutes())%60
	if minutes == 0 {
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dh%dm", hours, minutes)
}
