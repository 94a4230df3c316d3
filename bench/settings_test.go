package bench

import (
	"os"
	"strconv"
	"testing"
)

// Default sizes of a full run. Each can be lowered with the environment
// variable named in loadSettings.
const (
	defaultAccounts  = 2000
	defaultRound     = 250
	defaultApprovals = 200
	defaultRecords   = 100_000
)

// settings are the sizes of one run.
type settings struct {
	Accounts    int   `json:"accounts"`    // accounts per contender per concurrency level, and per revocation figure
	Round       int   `json:"round"`       // accounts one contender issues before the next contender's turn
	Approvals   int   `json:"approvals"`   // approval round trips
	Records     int   `json:"records"`     // request records created for the scale figure
	Concurrency []int `json:"concurrency"` // concurrent clients of the issuance figure
}

// loadSettings reads the sizes from the environment and fails the test on
// a value that is not a positive whole number.
func loadSettings(t *testing.T) settings {
	t.Helper()

	s := settings{
		Accounts:    envPositiveInt(t, "ZSP_BENCH_ACCOUNTS", defaultAccounts),
		Round:       envPositiveInt(t, "ZSP_BENCH_ROUND", defaultRound),
		Approvals:   envPositiveInt(t, "ZSP_BENCH_APPROVALS", defaultApprovals),
		Records:     envPositiveInt(t, "ZSP_BENCH_RECORDS", defaultRecords),
		Concurrency: []int{1, 8, 32},
	}
	s.Round = min(s.Round, s.Accounts)
	return s
}

func envPositiveInt(t *testing.T, name string, fallback int) int {
	t.Helper()

	raw := os.Getenv(name)
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		t.Fatalf("invalid %s=%q: set a positive whole number, or unset it for the default %d", name, raw, fallback)
	}
	return n
}
