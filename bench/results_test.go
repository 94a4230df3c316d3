package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// resultsFile is written in the package folder, the working directory of
// go test: bench/results.json.
const resultsFile = "results.json"

// results is everything one run measured, as written to results.json.
type results struct {
	StartedAt    string          `json:"started_at"` // RFC 3339, UTC
	Settings     settings        `json:"settings"`
	Environment  environment     `json:"environment"`
	Issuance     *issuanceFigure `json:"issuance,omitempty"`
	RevokePrefix []prefixRow     `json:"revoke_prefix,omitempty"`
	MassExpiry   []expiryRow     `json:"mass_expiry,omitempty"`
	Approval     *approvalFigure `json:"approval,omitempty"`
	Scale        *scaleFigure    `json:"scale,omitempty"`
}

// environment is the software the run measured and the machine's load.
type environment struct {
	VaultVersion     string `json:"vault_version"`
	PostgresVersion  string `json:"postgres_version"`
	GoVersion        string `json:"go_version"`
	LoadAverageStart string `json:"load_average_start"` // 1, 5 and 15 minute load averages from /proc/loadavg
	LoadAverageEnd   string `json:"load_average_end,omitempty"`
}

func newResults(t *testing.T, e *benchEnv, s settings) *results {
	t.Helper()

	vault, postgres := e.versions(t)
	return &results{
		StartedAt: time.Now().UTC().Format(time.RFC3339),
		Settings:  s,
		Environment: environment{
			VaultVersion:     vault,
			PostgresVersion:  postgres,
			GoVersion:        runtime.Version(),
			LoadAverageStart: loadAverage(),
		},
	}
}

// save writes results.json, after each figure, so an interrupted run keeps
// what it measured.
func (r *results) save(t *testing.T) {
	t.Helper()

	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("encode %s: %v", resultsFile, err)
	}
	if err := os.WriteFile(resultsFile, append(data, '\n'), 0o644); err != nil {
		t.Fatalf("write %s: %v", resultsFile, err)
	}
}

// checkErrors fails the test when any timed call failed, because the
// figures then describe something other than the intended work.
// TestBenchmarks calls it after saving the results.
func (r *results) checkErrors(t *testing.T) {
	t.Helper()

	check := func(figure string, errors int, first string) {
		if errors > 0 {
			t.Errorf("%s: %d calls failed, first: %s", figure, errors, first)
		}
	}
	if r.Issuance != nil {
		for _, row := range r.Issuance.Rows {
			check(fmt.Sprintf("issuance, %s, concurrency %d", row.Contender, row.Concurrency), row.Errors, row.FirstError)
		}
	}
	for _, row := range r.RevokePrefix {
		check("revoke-prefix accounts, "+row.Contender, row.IssueErrors, row.IssueError)
	}
	for _, row := range r.MassExpiry {
		check("mass expiry accounts, "+row.Contender, row.IssueErrors, row.IssueError)
	}
	if r.Approval != nil {
		check("approval round trip", r.Approval.RoundTrip.Errors, r.Approval.RoundTrip.FirstError)
	}
	if r.Scale != nil {
		check("scale records", r.Scale.CreateErrors, r.Scale.FirstError)
	}
}

// loadAverage returns the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}
