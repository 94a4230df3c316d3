package bench

import (
	"fmt"
	"os"
	"testing"
)

// TestBenchmarks runs every figure on one Vault dev server and one
// PostgreSQL cluster, saving results.json after each, then prints the
// tables. It fails only when calls fail, never on a missed target.
func TestBenchmarks(t *testing.T) {
	if os.Getenv("ZSP_BENCH") != "1" {
		t.Skip("benchmarks run only with ZSP_BENCH=1; run make bench (scripts/bench.sh)")
	}

	s := loadSettings(t)
	e := newBenchEnv(t)
	r := newResults(t, e, s)
	r.save(t)

	issuance := runIssuance(t, e, s)
	r.Issuance = &issuance
	r.save(t)

	r.RevokePrefix = runRevokePrefix(t, e, s)
	r.save(t)

	r.MassExpiry = runMassExpiry(t, e, s, issuanceRates(issuance, 8))
	r.save(t)

	approval := runApproval(t, e, s)
	r.Approval = &approval
	r.save(t)

	scale := runScale(t, e, s)
	r.Scale = &scale
	r.Environment.LoadAverageEnd = loadAverage()
	r.save(t)

	fmt.Println(tableBegin)
	fmt.Print(r.markdown())
	fmt.Println(tableEnd)
	r.checkErrors(t)
}

// issuanceRates returns each contender's accounts/s at the given number of
// clients.
func issuanceRates(figure issuanceFigure, concurrency int) map[string]float64 {
	rates := make(map[string]float64)
	for _, row := range figure.Rows {
		if row.Concurrency == concurrency {
			rates[row.Contender] = row.PerSecond
		}
	}
	return rates
}
