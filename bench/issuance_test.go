package bench

import (
	"testing"
)

// issuanceRow is one contender at one concurrency level.
type issuanceRow struct {
	Concurrency int    `json:"concurrency"`
	Contender   string `json:"contender"`
	latencySummary
	CPUPerAccount cpuPerCall `json:"cpu_per_account"`
}

// issuanceRatio compares one plugin contender with the other contenders at
// one concurrency level.
type issuanceRatio struct {
	Concurrency        int     `json:"concurrency"`
	Plugin             string  `json:"plugin"`               // the plugin contender compared
	P50VsEngine        float64 `json:"p50_vs_engine"`        // plugin p50 / engine p50: below 1 means the plugin responds sooner
	ThroughputVsEngine float64 `json:"throughput_vs_engine"` // plugin accounts/s / engine accounts/s
	PercentOfRaw       float64 `json:"throughput_percent_of_raw"`
}

type issuanceFigure struct {
	Rows   []issuanceRow   `json:"rows"`
	Ratios []issuanceRatio `json:"ratios"` // per concurrency level, the plugin with one requester, then with a requester per client
}

// runIssuance measures issuance by the plugin (auto-approved tier 2 role),
// the database engine and raw pgx at each concurrency level. The plugin
// runs twice: with every client logged in as the same requester, as the
// engine's clients share one token, and with a requester per client,
// because the plugin serializes the requests of one requester for one role.
func runIssuance(t *testing.T, e *benchEnv, s settings) issuanceFigure {
	t.Helper()

	var figure issuanceFigure
	for _, concurrency := range s.Concurrency {
		rows := issueAtConcurrency(t, e, s, concurrency)
		figure.Rows = append(figure.Rows, rows...)
		figure.Ratios = append(figure.Ratios,
			compareIssuance(concurrency, contenderPlugin, rows),
			compareIssuance(concurrency, contenderPluginCrowd, rows))
	}
	return figure
}

func issueAtConcurrency(t *testing.T, e *benchEnv, s settings, concurrency int) []issuanceRow {
	t.Helper()

	// Raw pgx gets one connection per worker, opened before timing starts.
	pool := newAdminPool(t, e.pg, concurrency)
	defer pool.Close()

	crowd := make([]issuer, concurrency)
	for i := range crowd {
		crowd[i] = pluginIssuer(e.workerRequesters[i], roleIssue, nil)
	}
	contenders := []namedOperation{
		{contenderPlugin, pluginIssuer(e.requester, roleIssue, nil).asOperation()},
		{contenderPluginCrowd, perWorker(crowd)},
		{contenderEngine, engineIssuer(e.requester, roleIssue, nil).asOperation()},
		{contenderRaw, rawIssuer(pool).asOperation()},
	}
	totals := interleave(t.Context(), t, e, "issuance", concurrency, s.Accounts, s.Round, contenders)

	rows := make([]issuanceRow, len(contenders))
	for i, c := range contenders {
		rows[i] = issuanceRow{
			Concurrency:    concurrency,
			Contender:      c.name,
			latencySummary: summarize(totals[i]),
			CPUPerAccount:  totals[i].cpu.perCall(len(totals[i].samples)),
		}
	}
	return rows
}

func compareIssuance(concurrency int, pluginContender string, rows []issuanceRow) issuanceRatio {
	byName := make(map[string]latencySummary, len(rows))
	for _, row := range rows {
		byName[row.Contender] = row.latencySummary
	}
	plugin, engine, raw := byName[pluginContender], byName[contenderEngine], byName[contenderRaw]

	return issuanceRatio{
		Concurrency:        concurrency,
		Plugin:             pluginContender,
		P50VsEngine:        ratio(plugin.P50Ms, engine.P50Ms),
		ThroughputVsEngine: ratio(plugin.PerSecond, engine.PerSecond),
		PercentOfRaw:       percent(plugin.PerSecond, raw.PerSecond),
	}
}
