package bench

import (
	"fmt"
	"strings"
)

// Targets the tables report against. They are never asserted.
const (
	targetLatencyRatio    = 1.0   // plugin p50 / engine p50, at most
	targetThroughputRatio = 1.0   // plugin accounts/s / engine accounts/s, at least
	targetPercentOfRaw    = 70.0  // plugin accounts/s as % of raw pgx at 8 clients, at least
	targetExpirySeconds   = 60.0  // mass expiry gone within, after the expiry second
	targetPluginRSSMB     = 100.0 // plugin peak RSS below, with the scale figure's records
	targetMetricsMs       = 50.0  // metrics p50 below, with the scale figure's records
)

// target is one row of the targets table.
type target struct {
	name     string
	measured string
	met      bool
}

func (r *results) writeTargets(w *strings.Builder) {
	targets := r.issuanceTargets()
	targets = append(targets, r.expiryTargets()...)
	targets = append(targets, r.scaleTargets()...)
	if len(targets) == 0 {
		return
	}

	w.WriteString("#### Targets\n\n| target | measured | met |\n| --- | --- | --- |\n")
	for _, t := range targets {
		met := "no"
		if t.met {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.name, t.measured, met)
	}
	w.WriteString("\n")
}

func (r *results) issuanceTargets() []target {
	if r.Issuance == nil {
		return nil
	}

	var targets []target
	for _, ratio := range r.Issuance.Ratios {
		targets = append(targets,
			target{
				name:     fmt.Sprintf("issuance p50, %s / engine ≤ %.1f, %s", ratio.Plugin, targetLatencyRatio, clientsText(ratio.Concurrency)),
				measured: fmt.Sprintf("%.2f", ratio.P50VsEngine),
				met:      ratio.P50VsEngine > 0 && ratio.P50VsEngine <= targetLatencyRatio,
			},
			target{
				name:     fmt.Sprintf("issuance accounts/s, %s / engine ≥ %.1f, %s", ratio.Plugin, targetThroughputRatio, clientsText(ratio.Concurrency)),
				measured: fmt.Sprintf("%.2f", ratio.ThroughputVsEngine),
				met:      ratio.ThroughputVsEngine >= targetThroughputRatio,
			})
		if ratio.Concurrency == 8 {
			targets = append(targets, target{
				name:     fmt.Sprintf("%s ≥ %.0f%% of raw pgx accounts/s, 8 clients", ratio.Plugin, targetPercentOfRaw),
				measured: fmt.Sprintf("%.0f%%", ratio.PercentOfRaw),
				met:      ratio.PercentOfRaw >= targetPercentOfRaw,
			})
		}
	}
	return targets
}

func (r *results) expiryTargets() []target {
	var targets []target
	for _, row := range r.MassExpiry {
		if row.Contender != contenderPlugin {
			continue
		}
		targets = append(targets, target{
			name:     fmt.Sprintf("%d plugin leases expiring in one second gone within %.0f s", row.Accounts, targetExpirySeconds),
			measured: clearedText(row.Cleared, row.ClearedSeconds) + " s",
			met:      row.Cleared && row.ClearedSeconds <= targetExpirySeconds,
		})
	}
	return targets
}

func (r *results) scaleTargets() []target {
	if r.Scale == nil {
		return nil
	}

	after := r.Scale.After
	return []target{
		{
			name:     fmt.Sprintf("plugin peak RSS < %.0f MB, %d records", targetPluginRSSMB, after.StoredRecords),
			measured: fmt.Sprintf("%.1f MB", after.Plugin.PeakMB),
			met:      after.Plugin.PeakMB < targetPluginRSSMB,
		},
		{
			name:     fmt.Sprintf("`metrics` p50 < %.0f ms, %d records", targetMetricsMs, after.StoredRecords),
			measured: fmt.Sprintf("%.1f ms", after.Metrics.P50Ms),
			met:      after.Metrics.P50Ms < targetMetricsMs,
		},
	}
}

// clientsText returns "1 client" or "n clients".
func clientsText(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}
