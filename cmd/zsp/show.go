package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

func setupShow(fs *flag.FlagSet) runFunc {
	format := registerFormatFlag(fs, formatTable, formatJSON)

	return func(a *app, mount string, inv invocation) error {
		id, err := oneArg(inv, "request ID")
		if err != nil {
			return err
		}
		client, err := a.newClient(mount)
		if err != nil {
			return err
		}

		record, err := client.readRequest(context.Background(), id)
		if err != nil {
			return err
		}
		if format.value == formatJSON {
			return writeJSON(a.stdout, record.data)
		}
		return writeRecord(a.stdout, record)
	}
}

// writeRecord prints a request record for people: the summary, then the
// statements, reviews, extensions and events.
func writeRecord(w io.Writer, record *requestRecord) error {
	table := newTable(w)
	writeRecordSummary(table, record)
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}

	writeStatements(w, record.Statements)
	writeReviews(w, "reviews", record.Reviews)
	writeExtensions(w, record.Extensions)
	writeEvents(w, record.Events)
	return nil
}

func writeRecordSummary(table io.Writer, r *requestRecord) {
	fmt.Fprintf(table, "request\t%s\n", r.ID)
	fmt.Fprintf(table, "status\t%s\n", r.Status)
	fmt.Fprintf(table, "role\t%s (connection %s)\n", r.Role, r.Connection)
	fmt.Fprintf(table, "requester\t%s (entity %s)\n", r.RequesterName, r.RequesterEntityID)
	fmt.Fprintf(table, "parameters\t%s\n", orNone(formatParameters(r.Parameters)))
	fmt.Fprintf(table, "justification\t%s\n", orNone(r.Justification))
	if r.Emergency {
		fmt.Fprintf(table, "break-glass\tyes (post-hoc review pending: %t)\n", r.NeedsReview)
	}
	fmt.Fprintf(table, "ttl\trequested %s, approved %s\n", formatSeconds(r.RequestedTTL, "the role's default"), formatSeconds(r.ApprovedTTL, "not yet set"))
	writeScoreRows(table, r.RiskScore, r.RiskFactors)
	fmt.Fprintf(table, "decision\t%s\n", orNone(r.DecisionReason))
	fmt.Fprintf(table, "approvers\t%s (%d of %d approvals)\n", orNone(strings.Join(r.Approvers, ", ")), r.approvals(), r.RequiredApprovals)
	writeTimeRows(table, r)
	if r.Username != "" {
		fmt.Fprintf(table, "username\t%s\n", r.Username)
	}
}

// writeTimeRows prints the record's times that are set.
func writeTimeRows(table io.Writer, r *requestRecord) {
	rows := []struct{ label, value string }{
		{"created", r.CreatedAt},
		{"deadline", r.Deadline},
		{"decided", r.DecidedAt},
		{"issued", r.IssuedAt},
		{"expires", r.ExpiresAt},
		{"window end", r.WindowEnd},
		{"revoked", r.RevokedAt},
	}
	for _, row := range rows {
		if row.value != "" {
			fmt.Fprintf(table, "%s\t%s\n", row.label, row.value)
		}
	}
}

func writeStatements(w io.Writer, statements []string) {
	fmt.Fprintln(w, "\nstatements")
	if len(statements) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, statement := range statements {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(statement, "\n", "\n  "))
	}
}

func writeReviews(w io.Writer, title string, reviews []review) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(reviews) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, rv := range reviews {
		line := fmt.Sprintf("  %s  %s by %s", rv.At, rv.Decision, rv.Approver)
		if rv.Security {
			line += " (security approver)"
		}
		if rv.Comment != "" {
			line += ": " + rv.Comment
		}
		fmt.Fprintln(w, line)
	}
}

func writeExtensions(w io.Writer, extensions []extension) {
	if len(extensions) == 0 {
		return
	}
	fmt.Fprintln(w, "\nextensions")
	for _, ext := range extensions {
		fmt.Fprintf(w, "  %s  until %s, %s (asked %s)\n", ext.ID, ext.NewEnd, ext.Status, ext.CreatedAt)
		for _, rv := range ext.Reviews {
			fmt.Fprintf(w, "    %s  %s by %s: %s\n", rv.At, rv.Decision, rv.Approver, orNone(rv.Comment))
		}
	}
}

func writeEvents(w io.Writer, events []event) {
	fmt.Fprintln(w, "\nevents")
	if len(events) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	table := newTable(w)
	for _, e := range events {
		fmt.Fprintf(table, "  %s\t%s\t%s\t%s\n", e.At, e.Actor, e.Action, e.Detail)
	}
	_ = table.Flush()
}

// formatParameters returns key=value pairs in key order.
func formatParameters(params map[string]string) string {
	pairs := make([]string, 0, len(params))
	for key, value := range params {
		pairs = append(pairs, key+"="+value)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, " ")
}

// formatSeconds renders a TTL in seconds as a duration, and 0 as zero.
func formatSeconds(seconds int64, zero string) string {
	if seconds == 0 {
		return zero
	}
	return (time.Duration(seconds) * time.Second).String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
