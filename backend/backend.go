// Package backend adapts the zero-standing-privilege engine to Vault: it turns
// Vault requests into calls on the roles and roles/postgres packages, keeps
// the engine's records in Vault storage, and ties each issued account to a
// Vault lease.
package backend

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// Factory returns a new backend for one mount, reporting a development version.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return FactoryWithVersion("v0.1.0-dev")(ctx, conf)
}

// FactoryWithVersion returns a factory whose backends report version to Vault.
func FactoryWithVersion(version string) logical.Factory {
	return func(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
		b := newBackend(version)
		if err := b.Setup(ctx, conf); err != nil {
			return nil, err
		}
		return b, nil
	}
}

// backend is one mount of the engine. Vault may serve several mounts from one
// plugin process, so all state lives here.
type backend struct {
	*framework.Backend

	// clients caches one PostgreSQL pool per connection name.
	clients *clientCache

	// connectionLocks serializes writes and rotations per connection name.
	connectionLocks []*locksutil.LockEntry

	// roleLocks serializes writes per task-role name.
	roleLocks []*locksutil.LockEntry

	// openLocks serializes the creds requests of one requester for one role
	// and set of parameter values.
	openLocks []*locksutil.LockEntry

	// requestLocks serializes every change to one request record. Code that
	// takes both takes the open lock first.
	requestLocks []*locksutil.LockEntry

	// metrics caches the program figures and serializes their updates.
	metrics *metricsStore

	// sweeps remembers when each connection was last swept for orphans.
	sweeps *sweepSchedule

	// roleCache and configCache keep decoded entries for the creds path.
	roleCache   *entryCache[roleEntry]
	configCache *entryCache[engineConfig]

	// notifier sends webhook messages in the background.
	notifier *notifier

	// now is the clock; tests replace it.
	now func() time.Time

	// failAfterRootRotation, when set by a test, fails rotate-root after the
	// database accepted the new password and before storage records it.
	failAfterRootRotation atomic.Bool
}

func newBackend(version string) *backend {
	b := &backend{
		clients:         newClientCache(),
		connectionLocks: locksutil.CreateLocks(),
		roleLocks:       locksutil.CreateLocks(),
		openLocks:       locksutil.CreateLocks(),
		requestLocks:    locksutil.CreateLocks(),
		notifier:        newNotifier(),
		roleCache:       newEntryCache[roleEntry](),
		configCache:     newEntryCache[engineConfig](),
		metrics:         &metricsStore{},
		sweeps:          &sweepSchedule{last: map[string]time.Time{}},
		now:             time.Now,
	}

	b.Backend = &framework.Backend{
		Help:        strings.TrimSpace(backendHelp),
		BackendType: logical.TypeLogical,
		PathsSpecial: &logical.Paths{
			LocalStorage:    []string{framework.WALPrefix},
			SealWrapStorage: []string{connectionPrefix, retiredConnectionPrefix},
		},
		Paths: framework.PathAppend(
			pathConfig(b),
			pathConnections(b),
			pathRotateRoot(b),
			pathRoles(b),
			pathCreds(b),
			pathRequests(b),
			pathRequestActions(b),
			pathReviews(b),
			pathOncall(b),
			pathMetrics(b),
			pathInventory(b),
			pathTidy(b),
		),
		Secrets:           []*framework.Secret{secretAccount(b)},
		WALRollback:       b.walRollback,
		WALRollbackMinAge: walRollbackMinAge,
		Invalidate:        b.invalidate,
		PeriodicFunc:      b.periodic,
		Clean:             b.clean,
		RunningVersion:    version,
	}
	return b
}

// invalidate drops a cached pool when another node changed its connection.
func (b *backend) invalidate(_ context.Context, key string) {
	if name, ok := strings.CutPrefix(key, connectionPrefix); ok {
		b.clients.evict(name)
	}
	if key == metricsKey {
		b.forgetMetrics()
	}
	if name, ok := strings.CutPrefix(key, rolePrefix); ok {
		b.roleCache.drop(name)
	}
	if key == configKey {
		b.configCache.drop(configKey)
	}
}

// clean closes every pool when Vault unmounts or reloads the backend.
func (b *backend) clean(_ context.Context) {
	b.clients.closeAll()
}

func (b *backend) logger() hclog.Logger {
	return b.Logger()
}

const backendHelp = `
The zsp secrets engine gives people and pipelines a short-lived PostgreSQL
account for one task, and no standing privilege between tasks.

An operator writes a connection (connections/<name>) and task roles
(roles/<name>) that hold the grants one task needs. A requester reads
creds/<role>; the engine creates an account that joins the task's group role,
ties it to a Vault lease, and drops it when the lease ends or is revoked.
Every request is recorded under requests/.
`
