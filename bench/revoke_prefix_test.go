package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

const (
	// revocationTimeout bounds the wait for one contender's accounts to
	// disappear. A contender that takes longer is reported with the
	// accounts it left.
	revocationTimeout = 10 * time.Minute

	// maxRevokeCalls bounds the revoke-prefix calls per contender. Vault
	// ends a request that runs past its max_request_duration, so a slow
	// contender may need more than one call.
	maxRevokeCalls = 10

	// revocationConcurrency is the number of clients that issue the accounts
	// of the revocation figures.
	revocationConcurrency = 8
)

// prefixRow is one contender's revocation of all leases of a role with
// sys/leases/revoke-prefix.
type prefixRow struct {
	Contender      string  `json:"contender"`
	Accounts       int     `json:"accounts"`              // accounts issued and then revoked
	IssueErrors    int     `json:"issue_errors"`          // failed issuance calls, not counted in accounts
	IssueError     string  `json:"issue_error,omitempty"` // the first failed issuance call's error
	ClearedSeconds float64 `json:"cleared_seconds"`       // from the first call until pg_roles held none of the accounts
	Cleared        bool    `json:"cleared"`
	Remaining      int     `json:"remaining"`    // accounts left in pg_roles when the wait ended
	CallSeconds    float64 `json:"call_seconds"` // from the first call until the last one returned
	Calls          int     `json:"calls"`
	CallError      string  `json:"call_error,omitempty"` // the last failed call's error
}

// runRevokePrefix issues s.Accounts accounts on each engine's revocation
// role, interleaved, then revokes each engine's leases by prefix in turn.
func runRevokePrefix(t *testing.T, e *benchEnv, s settings) []prefixRow {
	t.Helper()

	var pluginLog, engineLog usernameLog
	contenders := []namedOperation{
		{contenderPlugin, pluginLog.recording(pluginIssuer(e.requester, roleRevoke, nil))},
		{contenderEngine, engineLog.recording(engineIssuer(e.requester, roleRevoke, nil))},
	}
	totals := interleave(t.Context(), t, e, "revocation accounts", revocationConcurrency, s.Accounts, s.Round, contenders)

	rows := []prefixRow{
		e.revokePrefix(t, contenderPlugin, pluginMount+"/creds/"+roleRevoke, pluginLog.usernames()),
		e.revokePrefix(t, contenderEngine, engineMount+"/creds/"+roleRevoke, engineLog.usernames()),
	}
	for i := range rows {
		rows[i].IssueErrors = totals[i].errors
		if totals[i].firstErr != nil {
			rows[i].IssueError = totals[i].firstErr.Error()
		}
	}
	return rows
}

// revokePrefix calls revoke-prefix with sync=true on prefix and times how
// long until pg_roles holds none of usernames.
func (e *benchEnv) revokePrefix(t *testing.T, contender, prefix string, usernames []string) prefixRow {
	t.Helper()

	row := prefixRow{Contender: contender, Accounts: len(usernames)}
	ctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
	defer cancel()

	start := time.Now()
	calls := make(chan prefixRow, 1)
	go func() { calls <- e.callRevokePrefix(ctx, prefix, usernames) }()

	gone, left, err := waitRolesGone(ctx, e.admin, usernames, start.Add(revocationTimeout))
	if err != nil {
		t.Fatalf("wait for revoked %s accounts to disappear: %v", contender, err)
	}
	outcome := <-calls

	row.Calls, row.CallSeconds, row.CallError = outcome.Calls, seconds(time.Since(start)), outcome.CallError
	row.Cleared, row.Remaining = left == 0, left
	if row.Cleared {
		row.ClearedSeconds = seconds(gone.Sub(start))
	}
	t.Logf("revoke-prefix %s: %d accounts, cleared %v after %.2f s, %d calls", contender, row.Accounts, row.Cleared, row.ClearedSeconds, row.Calls)
	return row
}

// callRevokePrefix repeats the synchronous revoke-prefix call until one
// succeeds or no account is left. Only Calls and CallError, the last failed
// call's error, are set.
func (e *benchEnv) callRevokePrefix(ctx context.Context, prefix string, usernames []string) prefixRow {
	var row prefixRow
	path := "sys/leases/revoke-prefix/" + prefix
	for row.Calls < maxRevokeCalls && ctx.Err() == nil {
		row.Calls++
		_, err := e.root.Logical().WriteWithContext(ctx, path, map[string]any{"sync": true})
		if err == nil {
			return row
		}
		row.CallError = fmt.Sprintf("call %d: %v", row.Calls, err)

		if left, countErr := countRoles(ctx, e.admin, usernames); countErr == nil && left == 0 {
			return row
		}
	}
	return row
}
