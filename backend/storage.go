package backend

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/logical"
)

// schemaVersion is the version of every stored entry this build writes.
// Version 0 entries come from builds before task roles had approval fields.
// Reading one fills the fields it lacks with today's defaults, and the next
// write stores it as the current version.
const schemaVersion = 1

// getJSON decodes the entry at key into out. It returns false, nil when the
// key does not exist.
func getJSON(ctx context.Context, s logical.Storage, key string, out any) (bool, error) {
	entry, err := s.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read %q from storage: %w", key, err)
	}
	if entry == nil {
		return false, nil
	}
	if err := entry.DecodeJSON(out); err != nil {
		return false, fmt.Errorf("decode %q from storage: %w", key, err)
	}
	return true, nil
}

// putJSON stores value as JSON at key.
func putJSON(ctx context.Context, s logical.Storage, key string, value any) error {
	entry, err := logical.StorageEntryJSON(key, value)
	if err != nil {
		return fmt.Errorf("encode %q for storage: %w", key, err)
	}
	if err := s.Put(ctx, entry); err != nil {
		return fmt.Errorf("write %q to storage: %w", key, err)
	}
	return nil
}
