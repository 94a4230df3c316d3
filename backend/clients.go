package backend

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

// clientCache holds one open pool per connection name. Each cached pool
// remembers the connection ID and revision it was opened for, so a pool
// opened for an older configuration is never handed out.
type clientCache struct {
	mu      sync.Mutex
	clients map[string]*cachedClient
}

type cachedClient struct {
	connectionID string
	revision     int64
	client       *postgres.Client
	entry        connectionEntry // the settings the pool was opened with
}

func newClientCache() *clientCache {
	return &clientCache{clients: make(map[string]*cachedClient)}
}

// get returns the pool for conn, opening one when none matches its revision.
func (c *clientCache) get(ctx context.Context, b *backend, name string, conn *connectionEntry) (*postgres.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()

	cached, ok := c.clients[name]
	if ok && cached.connectionID == conn.ID && cached.revision == conn.Revision {
		return cached.client, nil
	}
	if ok {
		cached.client.Close()
		delete(c.clients, name)
	}

	client, err := postgres.Open(ctx, conn.postgresConfig(), b.logger().Named("postgres").With("connection", name))
	if err != nil {
		return nil, fmt.Errorf("open connection %q: %w", name, err)
	}
	c.clients[name] = &cachedClient{connectionID: conn.ID, revision: conn.Revision, client: client, entry: *conn}
	return client, nil
}

// evict closes the pool of one connection and removes it from the cache.
func (c *clientCache) evict(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if cached, ok := c.clients[name]; ok {
		cached.client.Close()
		delete(c.clients, name)
	}
}

func (c *clientCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()

	for name, cached := range c.clients {
		cached.client.Close()
		delete(c.clients, name)
	}
}

// cached returns the open pool of a connection and the settings it was
// opened with. Every write, delete and rotation of the connection evicts it.
func (c *clientCache) cached(name string) (*postgres.Client, *connectionEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, ok := c.clients[name]
	if !ok {
		return nil, nil, false
	}
	entry := cached.entry
	return cached.client, &entry, true
}

// clientFor returns the named connection's pool and settings, or a nil
// client when the connection does not exist.
func (b *backend) clientFor(ctx context.Context, s logical.Storage, name string) (*postgres.Client, *connectionEntry, error) {
	if client, conn, ok := b.clients.cached(name); ok {
		return client, conn, nil
	}
	conn, err := getConnection(ctx, s, name)
	if err != nil || conn == nil {
		return nil, nil, err
	}

	client, err := b.clients.get(ctx, b, name, conn)
	if err != nil {
		return nil, nil, err
	}
	return client, conn, nil
}
