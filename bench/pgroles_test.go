package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pollInterval is how often the revocation figures count the accounts left.
const pollInterval = 100 * time.Millisecond

// countRoles returns how many of usernames exist in pg_roles.
func countRoles(ctx context.Context, pool *pgxpool.Pool, usernames []string) (int, error) {
	var n int
	err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = ANY($1)", usernames).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %d accounts in pg_roles: %w", len(usernames), err)
	}
	return n, nil
}

// waitRolesGone polls pg_roles until it holds none of usernames or deadline
// passes. It returns when the roles were first seen gone (zero if not) and
// how many were left at the last poll.
func waitRolesGone(ctx context.Context, pool *pgxpool.Pool, usernames []string, deadline time.Time) (time.Time, int, error) {
	for {
		left, err := countRoles(ctx, pool, usernames)
		if err != nil {
			return time.Time{}, -1, err
		}
		if left == 0 {
			return time.Now(), 0, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, left, nil
		}

		select {
		case <-ctx.Done():
			return time.Time{}, left, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}
