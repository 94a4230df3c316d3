package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// pollInterval is how often a wait for approval reads the request record.
const pollInterval = 2 * time.Second

// errStopped marks a wait that a signal ended.
var errStopped = errors.New("stopped by a signal")

// obtainGrant requests an account and, when opts.wait is set and the request
// is pending, waits for the decision and claims the account. Progress goes
// to progress. It returns the last response: issued, or pending without wait.
func (c *zspClient) obtainGrant(ctx context.Context, task string, opts *askOptions, progress io.Writer) (*credsResponse, error) {
	query := opts.query()
	creds, err := c.askCreds(task, query)
	if err != nil || !opts.wait || creds.issued() {
		return creds, err
	}

	writePendingSummary(progress, creds)
	waitCtx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()

	// A claimed read can return a new pending request when the approved
	// one was claimed elsewhere; the loop then waits for that one.
	for creds.Status == statusPending {
		if err := c.awaitApproval(waitCtx, creds, opts.timeout, progress); err != nil {
			return nil, err
		}
		creds, err = c.askCreds(task, query)
		if err != nil {
			return nil, err
		}
	}
	return creds, nil
}

// awaitApproval polls the pending request's record until it is approved,
// and fails when it is decided otherwise, its deadline passes, or ctx ends.
func (c *zspClient) awaitApproval(ctx context.Context, pending *credsResponse, timeout time.Duration, progress io.Writer) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	lastCount := -1
	for {
		record, err := c.readRequest(ctx, pending.RequestID)
		if ctx.Err() != nil {
			return waitEnded(ctx, pending.RequestID, timeout)
		}
		if err != nil {
			return err
		}

		approved, err := decision(record, time.Now())
		if approved || err != nil {
			return err
		}
		if count := record.approvals(); count != lastCount {
			fmt.Fprintf(progress, "waiting for request %s: %d of %d approvals from %s\n", record.ID, count, record.RequiredApprovals, strings.Join(record.Approvers, ", "))
			lastCount = count
		}

		select {
		case <-ctx.Done():
			return waitEnded(ctx, pending.RequestID, timeout)
		case <-ticker.C:
		}
	}
}

// decision reports whether the record is approved. It returns an error
// when the request can no longer be approved, and false without an error
// while it waits.
func decision(record *requestRecord, now time.Time) (bool, error) {
	switch record.Status {
	case statusApproved:
		return true, nil
	case statusPending:
		return false, pendingExpiry(record, now)
	case statusDenied:
		return false, denialError(record)
	case statusCancelled:
		return false, fmt.Errorf("request %s was cancelled; ask again for a new request", record.ID)
	case statusExpired:
		return false, fmt.Errorf("request %s expired before anyone approved it; ask again for a new request", record.ID)
	case statusIssued, statusRevoked:
		return false, fmt.Errorf("request %s was already issued to another read of creds/%s, so its account is not available here; ask again for a new request", record.ID, record.Role)
	default:
		return false, fmt.Errorf("request %s has status %q, which this zsp does not know; read it with: zsp show %s", record.ID, record.Status, record.ID)
	}
}

// pendingExpiry fails once a pending request's deadline has passed. The
// engine marks it expired on its next action, and a new read of creds would
// open a new request instead.
func pendingExpiry(record *requestRecord, now time.Time) error {
	deadline, err := time.Parse(time.RFC3339, record.Deadline)
	if err != nil || now.Before(deadline) {
		return nil
	}
	return fmt.Errorf("request %s expired at %s before anyone approved it; ask again for a new request", record.ID, record.Deadline)
}

func denialError(record *requestRecord) error {
	denied := record.denial()
	if denied == nil {
		return fmt.Errorf("request %s was denied; read why with: zsp show %s", record.ID, record.ID)
	}
	return fmt.Errorf("request %s was denied by %s: %s", record.ID, denied.Approver, denied.Comment)
}

// waitEnded explains why a wait stopped before a decision: the timeout, or
// a signal.
func waitEnded(ctx context.Context, id string, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for approval of request %s; it stays pending: run the same command again to keep waiting, or raise -timeout", timeout, id)
	}
	return fmt.Errorf("%w while waiting for approval of request %s; it stays pending", errStopped, id)
}
