package backend

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/logical"
)

// liveGrantPrefix indexes the accounts that exist right now, per connection
// ID, so deleting a connection can tell whether accounts depend on it without
// reading every request record.
const liveGrantPrefix = "live/"

type liveGrant struct {
	RequestID string `json:"request_id"`
	Username  string `json:"username"`
	Role      string `json:"role"`
}

func liveGrantKey(connectionID, requestID string) string {
	return liveGrantPrefix + connectionID + "/" + requestID
}

func putLiveGrant(ctx context.Context, s logical.Storage, connectionID string, g liveGrant) error {
	return putJSON(ctx, s, liveGrantKey(connectionID, g.RequestID), g)
}

func deleteLiveGrant(ctx context.Context, s logical.Storage, connectionID, requestID string) error {
	if err := s.Delete(ctx, liveGrantKey(connectionID, requestID)); err != nil {
		return fmt.Errorf("remove live grant %q: %w", requestID, err)
	}
	return nil
}

func countLiveGrants(ctx context.Context, s logical.Storage, connectionID string) (int, error) {
	keys, err := s.List(ctx, liveGrantPrefix+connectionID+"/")
	if err != nil {
		return 0, fmt.Errorf("list live grants of connection %q: %w", connectionID, err)
	}
	return len(keys), nil
}

func liveGrantExists(ctx context.Context, s logical.Storage, connectionID, requestID string) (bool, error) {
	return getJSON(ctx, s, liveGrantKey(connectionID, requestID), &liveGrant{})
}
