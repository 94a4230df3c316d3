package backend

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// periodic runs about once a minute on the active node: it expires open
// requests past their deadline, sends one SLA-breach notification per
// request that waits longer than the approval SLA, and sweeps each
// connection for orphaned accounts every few minutes. It reads only the open
// requests, never every record.
func (b *backend) periodic(ctx context.Context, req *logical.Request) error {
	defer b.sweepAll(ctx, req.Storage)

	keys, err := req.Storage.List(ctx, openPrefix)
	if err != nil {
		return fmt.Errorf("list open requests: %w", err)
	}
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return err
	}

	for _, key := range keys {
		open := &openEntry{}
		found, err := getJSON(ctx, req.Storage, openPrefix+key, open)
		if err != nil || !found {
			continue
		}
		if err := b.checkOpenRequest(ctx, req.Storage, open.RequestID, cfg, req.MountPoint); err != nil {
			b.logger().Warn("could not check open request", "request_id", open.RequestID, "error", err)
		}
	}
	return nil
}

func (b *backend) checkOpenRequest(ctx context.Context, s logical.Storage, id string, cfg *engineConfig, mount string) error {
	lock := locksutil.LockForKey(b.requestLocks, id)
	lock.Lock()
	defer lock.Unlock()

	record, err := getRequest(ctx, s, id)
	if err != nil || record == nil {
		return err
	}
	if err := b.expireIfDue(ctx, s, record); err != nil {
		return err
	}

	sla := cfg.ApprovalSLA.Value
	if record.Status != approval.StatusPending || sla <= 0 || record.SLANotified || b.now().Sub(record.CreatedAt) < sla {
		return nil
	}
	record.SLANotified = true
	record.addEvent(b.now(), "policy", "sla breached", fmt.Sprintf("pending longer than %s", sla))
	if err := b.saveRequest(ctx, s, record); err != nil {
		return err
	}
	if err := b.updateMetrics(ctx, s, func(m *programMetrics) { m.SLABreaches++ }); err != nil {
		return err
	}
	b.notify(cfg, record.ID, fmt.Sprintf("SLA breach: request %s of %s for %s has waited longer than %s. Approve with: vault write %srequests/%s/approve",
		record.ID, record.RequesterName, record.Role, sla, mount, record.ID))
	return nil
}

// sweepSchedule remembers when each connection was last swept.
type sweepSchedule struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether name was not swept within interval, and if so marks
// it swept now.
func (s *sweepSchedule) due(name string, now time.Time, interval time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.last[name]; ok && now.Sub(last) < interval {
		return false
	}
	s.last[name] = now
	return true
}

// lockRequest takes the lock of one request.
func lockRequest(b *backend, requestID string) *locksutil.LockEntry {
	lock := locksutil.LockForKey(b.requestLocks, requestID)
	lock.Lock()
	return lock
}
