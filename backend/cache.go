package backend

import (
	"context"
	"sync"

	"github.com/hashicorp/vault/sdk/logical"
)

// entryCache keeps decoded storage entries of one kind in memory, so the
// creds path skips a storage round trip per entry. Every write and delete
// through the engine drops the entry, and so does Invalidate when another
// node changed it.
type entryCache[T any] struct {
	mu      sync.RWMutex
	entries map[string]T
}

func newEntryCache[T any]() *entryCache[T] {
	return &entryCache[T]{entries: make(map[string]T)}
}

// get returns a copy of the cached value.
func (c *entryCache[T]) get(key string) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	value, ok := c.entries[key]
	return value, ok
}

func (c *entryCache[T]) put(key string, value T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = value
}

func (c *entryCache[T]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// cachedRole returns the named role from memory, reading storage once.
// Callers get their own copy of the entry's fields.
func (b *backend) cachedRole(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	if role, ok := b.roleCache.get(name); ok {
		return &role, nil
	}
	role, err := getRole(ctx, s, name)
	if err != nil || role == nil {
		return role, err
	}
	b.roleCache.put(name, *role)
	return role, nil
}

// cachedConfig returns the configuration from memory, reading storage once.
func (b *backend) cachedConfig(ctx context.Context, s logical.Storage) (*engineConfig, error) {
	if cfg, ok := b.configCache.get(configKey); ok {
		return &cfg, nil
	}
	cfg, err := getConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	b.configCache.put(configKey, *cfg)
	return cfg, nil
}
