package bench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	// expiryMargin is added to the estimated issuance time when the run
	// picks the common expiry second.
	expiryMargin = 15 * time.Second

	// fallbackIssueRate, in accounts per second, estimates issuance time
	// when the issuance figure measured no rate.
	fallbackIssueRate = 20.0
)

// expiryRow is one contender's leases that all expire in the same second.
type expiryRow struct {
	Contender      string  `json:"contender"`
	Accounts       int     `json:"accounts"`
	IssueErrors    int     `json:"issue_errors"`
	IssueError     string  `json:"issue_error,omitempty"` // the first failed issuance call's error
	IssueSeconds   float64 `json:"issue_seconds"`
	SlackSeconds   float64 `json:"slack_seconds"`   // from the end of issuance to the expiry second, negative when issuance ran late
	LeaseEndsFrom  float64 `json:"lease_ends_from"` // earliest lease end, in seconds after the expiry second (upper bound)
	LeaseEndsTo    float64 `json:"lease_ends_to"`   // latest lease end, in seconds after the expiry second (upper bound)
	ClearedSeconds float64 `json:"cleared_seconds"` // from the expiry second until pg_roles held none of the accounts
	Cleared        bool    `json:"cleared"`
	Remaining      int     `json:"remaining"`
}

// runMassExpiry issues s.Accounts accounts per contender whose leases all
// end in one second, and times how long after that second the accounts
// are gone. The contenders run one after the other, so that neither's
// cleanup slows the other's. rates are the contenders' issuance rates at
// concurrency 8, used to pick a second that issuance finishes before.
func runMassExpiry(t *testing.T, e *benchEnv, s settings, rates map[string]float64) []expiryRow {
	t.Helper()

	plugin := func(target time.Time) issuer {
		return pluginIssuer(e.requester, roleExpire, func() (map[string][]string, error) {
			ttl, err := secondsUntil(target)
			if err != nil {
				return nil, err
			}
			return map[string][]string{"ttl": {strconv.Itoa(ttl)}}, nil
		})
	}
	engine := func(target time.Time) issuer {
		setter := &engineTTLSetter{env: e, role: roleExpire, target: target}
		return engineIssuer(e.requester, roleExpire, setter.ensure)
	}

	rows := []expiryRow{
		e.massExpiry(t, s, contenderPlugin, rates[contenderPlugin], plugin),
		e.massExpiry(t, s, contenderEngine, rates[contenderEngine], engine),
	}
	e.writeEngineRole(t, roleExpire, leaseTTL)
	return rows
}

func (e *benchEnv) massExpiry(t *testing.T, s settings, contender string, rate float64, newIssuer func(target time.Time) issuer) expiryRow {
	t.Helper()

	if rate <= 0 {
		rate = fallbackIssueRate
	}
	estimate := time.Duration(1.5 * float64(s.Accounts) / rate * float64(time.Second))
	target := time.Now().Add(estimate + expiryMargin).Truncate(time.Second).Add(time.Second)

	var log usernameLog
	result := runConcurrently(t.Context(), revocationConcurrency, s.Accounts, log.recording(newIssuer(target)))
	row := expiryRow{
		Contender:    contender,
		Accounts:     len(log.accounts),
		IssueErrors:  result.errors,
		IssueSeconds: seconds(result.elapsed),
		SlackSeconds: seconds(time.Until(target)),
	}
	row.LeaseEndsFrom, row.LeaseEndsTo = leaseEndRange(log.accounts, target)
	if result.firstErr != nil {
		row.IssueError = result.firstErr.Error()
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Until(target)+revocationTimeout)
	defer cancel()
	gone, left, err := waitRolesGone(ctx, e.admin, log.usernames(), target.Add(revocationTimeout))
	if err != nil {
		t.Fatalf("wait for expired %s accounts to disappear: %v", contender, err)
	}

	row.Cleared, row.Remaining = left == 0, left
	if row.Cleared {
		row.ClearedSeconds = seconds(gone.Sub(target))
	}
	t.Logf("mass expiry %s: %d accounts, cleared %v %.2f s after the expiry second", contender, row.Accounts, row.Cleared, row.ClearedSeconds)
	return row
}

// leaseEndRange returns the earliest and latest lease end of accounts, in
// seconds after target.
func leaseEndRange(accounts []issuedAccount, target time.Time) (from, to float64) {
	if len(accounts) == 0 {
		return 0, 0
	}
	from, to = math.Inf(1), math.Inf(-1)
	for _, a := range accounts {
		offset := a.leaseEnd.Sub(target).Seconds()
		from, to = math.Min(from, offset), math.Max(to, offset)
	}
	return round2(from), round2(to)
}

// secondsUntil returns the whole seconds from now to target, rounded up,
// so a lease of that TTL ends in target's second or just after it.
func secondsUntil(target time.Time) (int, error) {
	ttl := int(math.Ceil(time.Until(target).Seconds()))
	if ttl < 1 {
		return 0, fmt.Errorf("issuance ran past the common expiry second %s; lower ZSP_BENCH_ACCOUNTS", target.Format(time.TimeOnly))
	}
	return ttl, nil
}

// engineTTLSetter keeps the database engine role's default_ttl at the whole
// seconds until target. The engine's creds endpoint takes no ttl, so the
// role is rewritten each time the number of seconds changes.
type engineTTLSetter struct {
	env    *benchEnv
	role   string
	target time.Time

	mu      sync.Mutex
	current int
}

func (s *engineTTLSetter) ensure(ctx context.Context) error {
	ttl, err := secondsUntil(s.target)
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if ttl == s.current {
		return nil
	}
	if err := s.env.writeEngineRoleErr(ctx, s.role, time.Duration(ttl)*time.Second); err != nil {
		return err
	}
	s.current = ttl
	return nil
}
