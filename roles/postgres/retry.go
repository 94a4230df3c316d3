package postgres

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	// maxAttempts, retryBaseDelay and retryMaxDelay bound the retries of a
	// transaction that failed on a transient conflict. There are up to 7
	// waits that double from 20 ms up to 500 ms. Jitter adds up to as much
	// again to each, so they take at most about 3.3 s. TestCreateAccountConcurrentCustomGrants
	// (8 task roles granting on one schema) needed a 4th attempt in about
	// 1 run in 15, so 5 attempts left too thin a margin.
	maxAttempts    = 8
	retryBaseDelay = 20 * time.Millisecond
	retryMaxDelay  = 500 * time.Millisecond
)

// isTransient reports whether running the same transaction again may
// succeed. Concurrent GRANTs on one schema or table fail with "tuple
// concurrently updated" (XX000, internal_error) when two transactions update
// the same catalog row; 40001 and 40P01 are serialization failures and deadlocks.
func isTransient(err error) bool {
	switch sqlState(err) {
	case codeInternalError, codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// retryTransient runs attempt until it succeeds, fails with a permanent
// error, runs out of attempts or ctx ends, and returns the last error. Each
// attempt must be a whole transaction that rolls back on error.
func (c *Client) retryTransient(ctx context.Context, operation string, attempt func(context.Context) error) error {
	for number := 1; ; number++ {
		err := attempt(ctx)
		if err == nil || number == maxAttempts || !isTransient(err) {
			return err
		}

		// Jitter keeps colliding callers from retrying in lockstep.
		delay := min(retryBaseDelay<<(number-1), retryMaxDelay)
		delay += rand.N(delay)
		c.logger.Warn("retrying after a transient database error",
			"operation", operation, "attempt", number, "sqlstate", sqlState(err), "delay", delay)

		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}
