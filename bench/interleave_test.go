package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// namedOperation is one contender's operation in an interleaved run.
type namedOperation struct {
	name string
	op   operation
}

// interleave runs each contender's operation count times from concurrency
// workers, taking turns in rounds of round calls (plugin, engine, raw,
// plugin, ...), so that load from other processes on the machine falls on
// every contender alike. It returns each contender's total, in order, with
// the CPU time each process used during that contender's turns.
func interleave(ctx context.Context, t *testing.T, e *benchEnv, label string, concurrency, count, round int, contenders []namedOperation) []runResult {
	t.Helper()

	totals := make([]runResult, len(contenders))
	rounds := (count + round - 1) / round
	for r := range rounds {
		n := min(round, count-r*round)
		rates := make([]string, len(contenders))
		for i, c := range contenders {
			result := e.runSampled(t, concurrency, n, c.op)
			totals[i].add(result)
			rates[i] = fmt.Sprintf("%s %.0f/s (%d errors)", c.name, float64(len(result.samples))/result.elapsed.Seconds(), result.errors)
		}
		t.Logf("%s, concurrency %d, round %d of %d: %s", label, concurrency, r+1, rounds, strings.Join(rates, ", "))
	}
	return totals
}

// usernameLog collects the usernames an issuer created, safe for
// concurrent workers.
type usernameLog struct {
	mu       sync.Mutex
	accounts []issuedAccount
}

// recording wraps issue so that each account it creates is kept.
func (l *usernameLog) recording(issue issuer) operation {
	return func(ctx context.Context, _ int) error {
		account, err := issue(ctx)
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.accounts = append(l.accounts, account)
		l.mu.Unlock()
		return nil
	}
}

func (l *usernameLog) usernames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()

	names := make([]string, len(l.accounts))
	for i, a := range l.accounts {
		names[i] = a.username
	}
	return names
}

// runSampled is runConcurrently with the CPU time of each process measured
// around the run.
func (e *benchEnv) runSampled(t *testing.T, workers, count int, op operation) runResult {
	t.Helper()

	before, err := e.cpu.sample()
	if err != nil {
		t.Fatalf("sample cpu time: %v", err)
	}
	result := runConcurrently(t.Context(), workers, count, op)
	after, err := e.cpu.sample()
	if err != nil {
		t.Fatalf("sample cpu time: %v", err)
	}

	result.cpu = after.sub(before)
	return result
}
