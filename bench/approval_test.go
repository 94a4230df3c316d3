package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// approvalFigure is the round trip of a tier 1 request: the requester opens
// it, an approver approves it, and the requester reads creds again to claim
// the account.
type approvalFigure struct {
	RoundTrip latencySummary `json:"round_trip"`
	Request   latencySummary `json:"request"` // the first creds read, which opens the pending request
	Approve   latencySummary `json:"approve"`
	Claim     latencySummary `json:"claim"` // the second creds read, which creates the account
}

// approvalSteps are the latencies of each step, one entry per successful round trip.
type approvalSteps struct {
	total, request, approve, claim runResult
}

// runApproval runs s.Approvals round trips one after the other on roleApprove.
func runApproval(t *testing.T, e *benchEnv, s settings) approvalFigure {
	t.Helper()

	var steps approvalSteps
	start := time.Now()
	for range s.Approvals {
		durations, err := e.approvalRoundTrip(t.Context())
		if err != nil {
			steps.total.errors++
			if steps.total.firstErr == nil {
				steps.total.firstErr = err
			}
			continue
		}
		steps.request.samples = append(steps.request.samples, durations[0])
		steps.approve.samples = append(steps.approve.samples, durations[1])
		steps.claim.samples = append(steps.claim.samples, durations[2])
		steps.total.samples = append(steps.total.samples, durations[0]+durations[1]+durations[2])
	}
	steps.total.elapsed = time.Since(start)

	figure := approvalFigure{
		RoundTrip: summarize(steps.total),
		Request:   summarize(steps.request),
		Approve:   summarize(steps.approve),
		Claim:     summarize(steps.claim),
	}
	t.Logf("approval: %d round trips, p50 %.1f ms, %d errors", figure.RoundTrip.Count, figure.RoundTrip.P50Ms, figure.RoundTrip.Errors)
	return figure
}

// approvalRoundTrip opens, approves and claims one request, and returns
// the duration of each of the three calls.
func (e *benchEnv) approvalRoundTrip(ctx context.Context) ([3]time.Duration, error) {
	var durations [3]time.Duration
	path := pluginMount + "/creds/" + roleApprove

	start := time.Now()
	pending, err := e.requester.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return durations, fmt.Errorf("ask: read %s: %w", path, err)
	}
	if pending == nil || pending.Data["status"] != "pending" {
		return durations, fmt.Errorf("ask: read %s returned no pending request; check that the role has risk_tier 1", path)
	}
	id, _ := pending.Data["request_id"].(string)
	durations[0] = time.Since(start)

	start = time.Now()
	approvePath := pluginMount + "/requests/" + id + "/approve"
	if _, err := e.approver.Logical().WriteWithContext(ctx, approvePath, nil); err != nil {
		return durations, fmt.Errorf("approve: write %s: %w", approvePath, err)
	}
	durations[1] = time.Since(start)

	start = time.Now()
	claimed, err := e.requester.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return durations, fmt.Errorf("claim: read %s: %w", path, err)
	}
	if claimed == nil || claimed.Data["status"] != "issued" || claimed.LeaseID == "" {
		return durations, fmt.Errorf("claim: read %s after approval returned no account", path)
	}
	durations[2] = time.Since(start)
	return durations, nil
}
