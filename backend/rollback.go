package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

const (
	walKindAccount    = "account"
	walKindRotateRoot = "rotate-root"

	// walRollbackMinAge leaves a WAL entry alone while the request that wrote
	// it may still be running; issuing takes well under a second.
	walRollbackMinAge = 1 * time.Minute
)

// accountWAL records an account about to be created, so an account left by a
// crash before its lease was handed out is dropped.
type accountWAL struct {
	Connection   string `json:"connection"`
	ConnectionID string `json:"connection_id"`
	Username     string `json:"username"`
	RequestID    string `json:"request_id"`
}

// rotateRootWAL records a root password about to be set on the database, so a
// crash between the database change and the storage write loses nothing.
type rotateRootWAL struct {
	Connection   string `json:"connection"`
	ConnectionID string `json:"connection_id"`
	NewPassword  string `json:"new_password"`
}

func (b *backend) walRollback(ctx context.Context, req *logical.Request, kind string, data any) error {
	switch kind {
	case walKindAccount:
		entry := &accountWAL{}
		if err := decodeWAL(data, entry); err != nil {
			return err
		}
		return b.rollbackAccount(ctx, req.Storage, entry)
	case walKindRotateRoot:
		entry := &rotateRootWAL{}
		if err := decodeWAL(data, entry); err != nil {
			return err
		}
		return b.rollbackRotateRoot(ctx, req.Storage, entry)
	default:
		return fmt.Errorf("unknown WAL entry kind %q", kind)
	}
}

func decodeWAL(data any, out any) error {
	encoded, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("decode WAL entry: %w", err)
	}
	if err := json.Unmarshal(encoded, out); err != nil {
		return fmt.Errorf("decode WAL entry: %w", err)
	}
	return nil
}

// rollbackAccount drops an account whose lease was never handed out, and
// records that on its request.
func (b *backend) rollbackAccount(ctx context.Context, s logical.Storage, entry *accountWAL) error {
	grant := &grantData{
		RequestID:    entry.RequestID,
		Connection:   entry.Connection,
		ConnectionID: entry.ConnectionID,
		Username:     entry.Username,
	}
	client, release, err := b.grantClient(ctx, s, grant)
	if err != nil {
		return err
	}
	defer release()

	if err := client.DropAccount(ctx, entry.Username, nil); err != nil {
		return fmt.Errorf("roll back account %q of request %q: %w", entry.Username, entry.RequestID, err)
	}
	b.logger().Info("rolled back account whose lease was never issued", "request_id", entry.RequestID, "username", entry.Username)

	// The record describes this account only when it names it: a retried
	// claim may have issued another account on the same request since.
	lock := lockRequest(b, entry.RequestID)
	defer lock.Unlock()
	record, err := getRequest(ctx, s, entry.RequestID)
	if err != nil {
		return err
	}
	if record == nil || record.Username != entry.Username {
		return nil
	}
	if record.Status == approval.StatusIssued {
		now := b.now().UTC()
		record.setStatus(approval.StatusRevoked)
		record.RevokedAt = now
		record.addEvent(now, "vault", "rolled_back", "the lease was never handed out; account dropped")
		if err := b.saveRequest(ctx, s, record); err != nil {
			return err
		}
	}

	if err := deleteLiveGrant(ctx, s, entry.ConnectionID, entry.RequestID); err != nil {
		return err
	}
	return b.dropRetiredConnection(ctx, s, entry.ConnectionID)
}
