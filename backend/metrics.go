package backend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// metricsKey holds the program figures. They are updated as requests change,
// so reading them never scans the request records.
const metricsKey = "metrics"

// Circumvention attempts counted in programMetrics.Circumvention.
const (
	attemptSelfApproval      = "self_approval"
	attemptNonMemberApproval = "non_member_approval"
	attemptRenewalPastWindow = "renewal_past_window"
	attemptOutsideRequesters = "outside_requester_groups"
	attemptUnmanagedAccounts = "unmanaged_privileged_accounts"
)

// programMetrics are the figures a zero-standing-privilege program is run by.
type programMetrics struct {
	Requests          int64            `json:"requests"`
	ByStatus          map[string]int64 `json:"by_status"`
	GrantsIssued      int64            `json:"grants_issued"`
	LiveByRole        map[string]int64 `json:"live_by_role"`
	LiveByConnection  map[string]int64 `json:"live_by_connection"`
	BreakGlass        int64            `json:"break_glass"`
	SLABreaches       int64            `json:"sla_breaches"`
	Circumvention     map[string]int64 `json:"circumvention"`
	UnmanagedAccounts map[string]int64 `json:"unmanaged_accounts"`
	PrivilegeDuration histogram        `json:"privilege_duration"`
	ApprovalLatency   histogram        `json:"approval_latency"`
}

func newProgramMetrics() *programMetrics {
	return &programMetrics{
		ByStatus:          map[string]int64{},
		LiveByRole:        map[string]int64{},
		LiveByConnection:  map[string]int64{},
		Circumvention:     map[string]int64{},
		UnmanagedAccounts: map[string]int64{},
		PrivilegeDuration: newHistogram(),
		ApprovalLatency:   newHistogram(),
	}
}

// metricsStore caches the stored figures and serializes their updates.
type metricsStore struct {
	mu     sync.Mutex
	cached *programMetrics
}

// updateMetrics applies change to the figures and stores them.
func (b *backend) updateMetrics(ctx context.Context, s logical.Storage, change func(m *programMetrics)) error {
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()

	m, err := b.loadMetricsLocked(ctx, s)
	if err != nil {
		return err
	}
	change(m)
	if err := putJSON(ctx, s, metricsKey, m); err != nil {
		b.metrics.cached = nil
		return fmt.Errorf("save program figures: %w", err)
	}
	return nil
}

// metricsSnapshot returns a copy of the figures for reading.
func (b *backend) metricsSnapshot(ctx context.Context, s logical.Storage) (*programMetrics, error) {
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()

	m, err := b.loadMetricsLocked(ctx, s)
	if err != nil {
		return nil, err
	}
	return m.clone(), nil
}

// clone returns a deep copy. The cached figures' maps change under the
// store's lock, and a reader holding a shallow copy would race with those
// writes, which the Go runtime ends by aborting the plugin process.
func (m *programMetrics) clone() *programMetrics {
	copied := *m
	copied.ByStatus = maps.Clone(m.ByStatus)
	copied.LiveByRole = maps.Clone(m.LiveByRole)
	copied.LiveByConnection = maps.Clone(m.LiveByConnection)
	copied.Circumvention = maps.Clone(m.Circumvention)
	copied.UnmanagedAccounts = maps.Clone(m.UnmanagedAccounts)
	copied.PrivilegeDuration = m.PrivilegeDuration.clone()
	copied.ApprovalLatency = m.ApprovalLatency.clone()
	return &copied
}

func (b *backend) loadMetricsLocked(ctx context.Context, s logical.Storage) (*programMetrics, error) {
	if b.metrics.cached != nil {
		return b.metrics.cached, nil
	}
	m := newProgramMetrics()
	if _, err := getJSON(ctx, s, metricsKey, m); err != nil {
		return nil, err
	}
	b.metrics.cached = m
	return m, nil
}

// forgetMetrics drops the cache when another node changed the figures.
func (b *backend) forgetMetrics() {
	b.metrics.mu.Lock()
	b.metrics.cached = nil
	b.metrics.mu.Unlock()
}

// countAttempt records one circumvention attempt; a failure to count is
// logged, because the caller already returns the refusal.
func (b *backend) countAttempt(ctx context.Context, s logical.Storage, kind, requestID string) {
	err := b.updateMetrics(ctx, s, func(m *programMetrics) { m.Circumvention[kind]++ })
	if err != nil {
		b.logger().Warn("could not count circumvention attempt", "kind", kind, "request_id", requestID, "error", err)
	}
}

// applyTransitions counts the status changes of a saved request.
func applyTransitions(m *programMetrics, record *requestRecord, transitions []statusChange) {
	for _, change := range transitions {
		if change.from == "" {
			m.Requests++
			if record.Emergency {
				m.BreakGlass++
			}
		} else {
			m.ByStatus[string(change.from)]--
		}
		m.ByStatus[string(change.to)]++

		switch change.to {
		case approval.StatusApproved:
			if !record.Route.AutoApprove && !record.DecidedAt.IsZero() {
				m.ApprovalLatency.observe(record.DecidedAt.Sub(record.CreatedAt))
			}
		case approval.StatusIssued:
			m.GrantsIssued++
			m.LiveByRole[record.Role]++
			m.LiveByConnection[record.Connection]++
		case approval.StatusRevoked:
			if change.from == approval.StatusIssued {
				m.LiveByRole[record.Role]--
				m.LiveByConnection[record.Connection]--
				dropZero(m.LiveByRole, record.Role)
				dropZero(m.LiveByConnection, record.Connection)
				m.PrivilegeDuration.observe(record.RevokedAt.Sub(record.IssuedAt))
			}
		}
	}
}

func dropZero(m map[string]int64, key string) {
	if m[key] <= 0 {
		delete(m, key)
	}
}

// statusChange is one status transition of a request, counted when the
// request is saved.
type statusChange struct {
	from, to approval.Status
}

// histogram counts durations in fixed buckets, so its stored size stays
// constant however many grants there are.
type histogram struct {
	Bounds []float64 `json:"bounds"` // upper bounds in seconds
	Counts []int64   `json:"counts"` // per bound, plus one for +Inf
	Sum    float64   `json:"sum"`
	Count  int64     `json:"count"`
}

// histogramBounds span one second to one day, for grant lengths and
// approval waits.
var histogramBounds = []float64{1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400}

func newHistogram() histogram {
	return histogram{Bounds: histogramBounds, Counts: make([]int64, len(histogramBounds)+1)}
}

func (h histogram) clone() histogram {
	h.Bounds = slices.Clone(h.Bounds)
	h.Counts = slices.Clone(h.Counts)
	return h
}

func (h *histogram) observe(d time.Duration) {
	if len(h.Counts) != len(h.Bounds)+1 {
		*h = newHistogram()
	}
	seconds := d.Seconds()
	if seconds < 0 {
		seconds = 0
	}
	i := 0
	for i < len(h.Bounds) && seconds > h.Bounds[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += seconds
	h.Count++
}

func (h histogram) mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / float64(h.Count)
}

// quantile estimates the q-quantile by linear interpolation inside the
// bucket that holds it, as Prometheus's histogram_quantile does.
func (h histogram) quantile(q float64) float64 {
	if h.Count == 0 || len(h.Counts) != len(h.Bounds)+1 {
		return 0
	}
	rank := q * float64(h.Count)
	var seen int64
	for i, count := range h.Counts {
		if float64(seen+count) < rank || count == 0 {
			seen += count
			continue
		}
		if i == len(h.Bounds) {
			return h.Bounds[len(h.Bounds)-1]
		}
		lower := 0.0
		if i > 0 {
			lower = h.Bounds[i-1]
		}
		return lower + (h.Bounds[i]-lower)*(rank-float64(seen))/float64(count)
	}
	return h.Bounds[len(h.Bounds)-1]
}
