package bench

import (
	"fmt"
	"strings"
)

// Lines around the printed tables, which scripts/bench.sh looks for.
const (
	tableBegin = "BENCH TABLE BEGIN"
	tableEnd   = "BENCH TABLE END"
)

// markdown renders the results as the Markdown tables of BENCHMARKS.md.
func (r *results) markdown() string {
	var w strings.Builder
	r.writeSummary(&w)
	r.writeIssuance(&w)
	r.writeRevocation(&w)
	r.writeApproval(&w)
	r.writeScale(&w)
	r.writeTargets(&w)
	return w.String()
}

func (r *results) writeSummary(w *strings.Builder) {
	s, env := r.Settings, r.Environment
	fmt.Fprintf(w, "Run started %s, benchmark client built with %s. ", r.StartedAt, env.GoVersion)
	fmt.Fprintf(w, "Counts: %d accounts per contender and concurrency level in rounds of %d, %d approval round trips, %d request records. ",
		s.Accounts, s.Round, s.Approvals, s.Records)
	fmt.Fprintf(w, "Load average at start %s, at end %s.\n\n", env.LoadAverageStart, env.LoadAverageEnd)
}

func (r *results) writeIssuance(w *strings.Builder) {
	if r.Issuance == nil {
		return
	}
	w.WriteString("#### Issuance\n\n")
	w.WriteString("| clients | contender | p50 ms | p95 ms | p99 ms | accounts/s | errors |\n")
	w.WriteString("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, row := range r.Issuance.Rows {
		fmt.Fprintf(w, "| %d | %s | %.1f | %.1f | %.1f | %.1f | %d |\n",
			row.Concurrency, row.Contender, row.P50Ms, row.P95Ms, row.P99Ms, row.PerSecond, row.Errors)
	}

	w.WriteString("\n| clients | plugin contender | p50, plugin / engine | accounts/s, plugin / engine | plugin accounts/s, % of raw pgx |\n")
	w.WriteString("| ---: | --- | ---: | ---: | ---: |\n")
	for _, ratio := range r.Issuance.Ratios {
		fmt.Fprintf(w, "| %d | %s | %.2f | %.2f | %.0f%% |\n", ratio.Concurrency, ratio.Plugin, ratio.P50VsEngine, ratio.ThroughputVsEngine, ratio.PercentOfRaw)
	}

	w.WriteString("\nCPU time per account, in ms, from /proc/<pid>/stat around each contender's rounds:\n\n")
	w.WriteString("| clients | contender | Vault server | plugin process | PostgreSQL | benchmark client | total |\n")
	w.WriteString("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, row := range r.Issuance.Rows {
		c := row.CPUPerAccount
		fmt.Fprintf(w, "| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", row.Concurrency, row.Contender,
			c.VaultMs, c.PluginMs, c.PostgresMs, c.ClientMs, c.VaultMs+c.PluginMs+c.PostgresMs+c.ClientMs)
	}
	w.WriteString("\n")
}

func (r *results) writeRevocation(w *strings.Builder) {
	if len(r.RevokePrefix) > 0 {
		w.WriteString("#### Revocation by prefix (sys/leases/revoke-prefix, sync=true)\n\n")
		w.WriteString("| contender | accounts | gone after s | calls | calls returned after s | left in pg_roles |\n")
		w.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
		for _, row := range r.RevokePrefix {
			fmt.Fprintf(w, "| %s | %d | %s | %d | %.1f | %d |\n",
				row.Contender, row.Accounts, clearedText(row.Cleared, row.ClearedSeconds), row.Calls, row.CallSeconds, row.Remaining)
		}
		plugin, engine := r.RevokePrefix[0], r.RevokePrefix[len(r.RevokePrefix)-1]
		writeClearedRatio(w, plugin.Cleared && engine.Cleared, plugin.ClearedSeconds, engine.ClearedSeconds)
	}

	if len(r.MassExpiry) > 0 {
		w.WriteString("#### Leases expiring in the same second\n\n")
		w.WriteString("| contender | accounts | lease ends, s after the second | gone, s after the second | left in pg_roles |\n")
		w.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
		for _, row := range r.MassExpiry {
			fmt.Fprintf(w, "| %s | %d | %.1f to %.1f | %s | %d |\n",
				row.Contender, row.Accounts, row.LeaseEndsFrom, row.LeaseEndsTo, clearedText(row.Cleared, row.ClearedSeconds), row.Remaining)
		}
		plugin, engine := r.MassExpiry[0], r.MassExpiry[len(r.MassExpiry)-1]
		writeClearedRatio(w, plugin.Cleared && engine.Cleared, plugin.ClearedSeconds, engine.ClearedSeconds)
	}
}

// writeClearedRatio writes the plugin's time until its accounts were gone
// over the database engine's, when both contenders' accounts were gone.
func writeClearedRatio(w *strings.Builder, bothCleared bool, plugin, engine float64) {
	if !bothCleared {
		w.WriteString("\nTime until gone, plugin / engine: not measured, because accounts were left at the timeout.\n\n")
		return
	}
	fmt.Fprintf(w, "\nTime until gone, plugin / engine: %.2f.\n\n", ratio(plugin, engine))
}

func clearedText(cleared bool, secs float64) string {
	if !cleared {
		return "not within the timeout"
	}
	return fmt.Sprintf("%.1f", secs)
}

func (r *results) writeApproval(w *strings.Builder) {
	a := r.Approval
	if a == nil {
		return
	}
	fmt.Fprintf(w, "#### Approval round trip, tier 1 (%d in a row)\n\n", a.RoundTrip.Count)
	w.WriteString("| step | p50 ms | p95 ms |\n| --- | ---: | ---: |\n")
	for _, step := range []struct {
		name    string
		summary latencySummary
	}{
		{"ask (opens a pending request)", a.Request},
		{"approve", a.Approve},
		{"claim (creates the account)", a.Claim},
		{"round trip", a.RoundTrip},
	} {
		fmt.Fprintf(w, "| %s | %.1f | %.1f |\n", step.name, step.summary.P50Ms, step.summary.P95Ms)
	}
	w.WriteString("\n")
}

func (r *results) writeScale(w *strings.Builder) {
	sc := r.Scale
	if sc == nil {
		return
	}
	before, after := sc.Before, sc.After
	w.WriteString("#### Scale\n\n")
	fmt.Fprintf(w, "| reading | %d records | %d records |\n| --- | ---: | ---: |\n", before.StoredRecords, after.StoredRecords)
	latencyRow := func(name string, b, a latencySummary) {
		fmt.Fprintf(w, "| %s, p50 / p95 ms | %.1f / %.1f | %.1f / %.1f |\n", name, b.P50Ms, b.P95Ms, a.P50Ms, a.P95Ms)
	}
	latencyRow("`requests?list=true&limit=100`, first page", before.ListFirstPage, after.ListFirstPage)
	latencyRow("the same, page after the middle ID", before.ListLaterPage, after.ListLaterPage)
	latencyRow("`metrics`", before.Metrics, after.Metrics)
	fmt.Fprintf(w, "| plugin process peak RSS (VmHWM), MB | %.1f | %.1f |\n", before.Plugin.PeakMB, after.Plugin.PeakMB)
	fmt.Fprintf(w, "| Vault server peak RSS (VmHWM), MB | %.1f | %.1f |\n", before.VaultServer.PeakMB, after.VaultServer.PeakMB)
	fmt.Fprintf(w, "\nRecords were created at %.0f/s (ask, then cancel, from %d requesters at once).\n\n", sc.CreatePerSecond, scaleWorkers)
}
