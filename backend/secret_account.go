package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

const secretAccountType = "zsp_account"

// grantData is the lease's internal data: everything renewal and revocation
// need, so both work after the role is deleted or changed.
type grantData struct {
	RequestID            string            `json:"request_id"`
	Role                 string            `json:"role"`
	Connection           string            `json:"connection"`
	ConnectionID         string            `json:"connection_id"`
	Username             string            `json:"username"`
	Group                string            `json:"group"`
	Parameters           map[string]string `json:"parameters"`
	RevocationStatements []string          `json:"revocation_statements"`
	IssuedAt             time.Time         `json:"issued_at"`
	WindowEnd            time.Time         `json:"window_end"`
	DefaultTTL           time.Duration     `json:"default_ttl"`
}

func (g *grantData) internalData() (map[string]any, error) {
	encoded, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encode lease data of request %q: %w", g.RequestID, err)
	}
	var internal map[string]any
	if err := json.Unmarshal(encoded, &internal); err != nil {
		return nil, fmt.Errorf("encode lease data of request %q: %w", g.RequestID, err)
	}
	return internal, nil
}

func grantFromSecret(secret *logical.Secret) (*grantData, error) {
	if secret == nil {
		return nil, errors.New("lease has no secret data")
	}
	encoded, err := json.Marshal(secret.InternalData)
	if err != nil {
		return nil, fmt.Errorf("read lease data: %w", err)
	}
	grant := &grantData{}
	if err := json.Unmarshal(encoded, grant); err != nil {
		return nil, fmt.Errorf("read lease data: %w", err)
	}
	if grant.Username == "" || grant.ConnectionID == "" {
		return nil, errors.New("lease data has no username or connection; it was not issued by this engine")
	}
	return grant, nil
}

func secretAccount(b *backend) *framework.Secret {
	return &framework.Secret{
		Type: secretAccountType,
		Fields: map[string]*framework.FieldSchema{
			"username": {Type: framework.TypeString, Description: "Name of the PostgreSQL account."},
			"password": {Type: framework.TypeString, Description: "Password of the account."},
		},
		Renew:  b.accountRenew,
		Revoke: b.accountRevoke,
	}
}

// accountRenew extends the lease and the account's VALID UNTIL together, up
// to the grant's window end and never past it. The request record holds the
// window end, which an approved extension moves, and the requester must
// still be allowed to ask for the role.
func (b *backend) accountRenew(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	grant, err := grantFromSecret(req.Secret)
	if err != nil {
		return nil, err
	}

	lock := locksutil.LockForKey(b.requestLocks, grant.RequestID)
	lock.Lock()
	defer lock.Unlock()

	record, err := getRequest(ctx, req.Storage, grant.RequestID)
	if err != nil {
		return nil, err
	}
	if record != nil {
		if record.Status != approval.StatusIssued {
			return logical.ErrorResponse(fmt.Sprintf("request %s is %s; its account can no longer be renewed", record.ID, record.Status)), nil
		}
		grant.WindowEnd = record.WindowEnd
		// Vault ends the lease at the mount's maximum TTL from issue,
		// whatever the window, and VALID UNTIL must not outlast the lease.
		if mountMax := b.System().MaxLeaseTTL(); mountMax > 0 && grant.IssuedAt.Add(mountMax).Before(grant.WindowEnd) {
			grant.WindowEnd = grant.IssuedAt.Add(mountMax)
		}
		if err := b.checkRenewer(ctx, req.Storage, record); err != nil {
			return callerResponse(err)
		}
	}

	now := b.now().UTC()
	if !now.Before(grant.WindowEnd) {
		b.countAttempt(ctx, req.Storage, attemptRenewalPastWindow, grant.RequestID)
		return logical.ErrorResponse(fmt.Sprintf("request %s reached the end of its approved window at %s; ask for more time with requests/%s/extend",
			grant.RequestID, formatTime(grant.WindowEnd), grant.RequestID)), nil
	}

	ttl := req.Secret.Increment
	if ttl <= 0 {
		ttl = grant.DefaultTTL
	}
	var warnings []string
	if end := now.Add(ttl); end.After(grant.WindowEnd) {
		// Only an explicit increment requests time past the window. A plain
		// renewal near the end is capped without counting.
		if req.Secret.Increment > 0 {
			b.countAttempt(ctx, req.Storage, attemptRenewalPastWindow, grant.RequestID)
		}
		ttl = grant.WindowEnd.Sub(now)
		warnings = append(warnings, fmt.Sprintf("renewal capped at the approved window end %s; ask for more with requests/%s/extend", formatTime(grant.WindowEnd), grant.RequestID))
	}
	expiresAt := now.Add(ttl)

	client, release, err := b.grantClient(ctx, req.Storage, grant)
	if err != nil {
		return nil, err
	}
	defer release()

	if err := client.ExtendValidUntil(ctx, grant.Username, expiresAt); err != nil {
		return nil, fmt.Errorf("extend account %q of request %q: %w", grant.Username, grant.RequestID, err)
	}
	if record != nil {
		b.recordRenewal(record, expiresAt)
		if err := b.saveRequest(ctx, req.Storage, record); err != nil {
			return nil, err
		}
	}

	resp := &logical.Response{Secret: req.Secret}
	resp.Secret.TTL = ttl
	resp.Secret.MaxTTL = grant.WindowEnd.Sub(grant.IssuedAt)
	for _, warning := range warnings {
		resp.AddWarning(warning)
	}
	return resp, nil
}

// checkRenewer re-checks at renewal that the requester may still ask for the
// role. A deleted role leaves the grant to its approved window.
func (b *backend) checkRenewer(ctx context.Context, s logical.Storage, record *requestRecord) error {
	role, err := getRole(ctx, s, record.Role)
	if err != nil || role == nil {
		return err
	}
	return b.checkRequester(ctx, s, record.RequesterEntityID, record.Role, role)
}

// accountRevoke drops the account. It succeeds when the account is already
// gone, and returns an error otherwise so that Vault retries.
func (b *backend) accountRevoke(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	grant, err := grantFromSecret(req.Secret)
	if err != nil {
		return nil, err
	}

	client, release, err := b.grantClient(ctx, req.Storage, grant)
	if err != nil {
		return nil, err
	}
	defer release()

	extra, err := revocationStatements(grant)
	if err != nil {
		return nil, err
	}
	if err := client.DropAccount(ctx, grant.Username, extra); err != nil {
		return nil, fmt.Errorf("drop account %q of request %q: %w", grant.Username, grant.RequestID, err)
	}

	if err := b.recordRevocation(ctx, req, grant); err != nil {
		return nil, err
	}
	b.logger().Info("account revoked", "request_id", grant.RequestID, "role", grant.Role, "username", grant.Username)
	return nil, nil
}

func revocationStatements(grant *grantData) ([]string, error) {
	if len(grant.RevocationStatements) == 0 {
		return nil, nil
	}

	values := make(map[string]string, len(grant.Parameters)+3)
	for key, value := range grant.Parameters {
		values[key] = value
	}
	values["name"] = grant.Username
	values["username"] = grant.Username
	values["group"] = grant.Group

	statements, err := roles.RenderStatements(grant.RevocationStatements, values, postgres.Quoter{})
	if err != nil {
		return nil, fmt.Errorf("render revocation statements of request %q: %w", grant.RequestID, err)
	}
	return statements, nil
}

// grantClient returns a pool for the grant's connection: the cached one when
// the connection still exists under the same ID, or a short-lived one from
// the copy kept when the connection was force-deleted. release closes what
// was opened only for this call.
func (b *backend) grantClient(ctx context.Context, s logical.Storage, grant *grantData) (*postgres.Client, func(), error) {
	client, conn, err := b.clientFor(ctx, s, grant.Connection)
	if err != nil {
		return nil, nil, err
	}
	if conn != nil && conn.ID == grant.ConnectionID {
		return client, func() {}, nil
	}

	retired := &connectionEntry{}
	found, err := getJSON(ctx, s, retiredConnectionPrefix+grant.ConnectionID, retired)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("connection %q that issued account %q no longer exists; restore it to let Vault drop the account", grant.Connection, grant.Username)
	}

	temporary, err := postgres.Open(ctx, retired.postgresConfig(), b.logger().Named("postgres").With("connection", grant.Connection))
	if err != nil {
		return nil, nil, fmt.Errorf("open deleted connection %q: %w", grant.Connection, err)
	}
	return temporary, temporary.Close, nil
}

func (b *backend) recordRenewal(record *requestRecord, expiresAt time.Time) {
	record.ExpiresAt = expiresAt
	record.addEvent(b.now(), "vault", "renewed", "valid until "+formatTime(expiresAt))
}

// recordRevocation marks the request revoked, removes the live-grant entry,
// and deletes the kept copy of a force-deleted connection once no account
// depends on it.
func (b *backend) recordRevocation(ctx context.Context, req *logical.Request, grant *grantData) error {
	lock := locksutil.LockForKey(b.requestLocks, grant.RequestID)
	lock.Lock()
	defer lock.Unlock()

	record, err := getRequest(ctx, req.Storage, grant.RequestID)
	if err != nil {
		return err
	}
	if record != nil && record.Status != approval.StatusRevoked {
		now := b.now().UTC()
		record.setStatus(approval.StatusRevoked)
		record.RevokedAt = now
		record.addEvent(now, "vault", "revoked", "account dropped")
		if err := closeExtensions(ctx, req.Storage, record); err != nil {
			return err
		}
		if err := b.saveRequest(ctx, req.Storage, record); err != nil {
			return err
		}
	}

	if err := deleteLiveGrant(ctx, req.Storage, grant.ConnectionID, grant.RequestID); err != nil {
		return err
	}
	return b.dropRetiredConnection(ctx, req.Storage, grant.ConnectionID)
}

func (b *backend) dropRetiredConnection(ctx context.Context, s logical.Storage, connectionID string) error {
	// Most connections were never force-deleted, and one Get shows that
	// without listing every live grant of the connection.
	found, err := getJSON(ctx, s, retiredConnectionPrefix+connectionID, &connectionEntry{})
	if err != nil || !found {
		return err
	}
	live, err := countLiveGrants(ctx, s, connectionID)
	if err != nil || live > 0 {
		return err
	}
	if err := s.Delete(ctx, retiredConnectionPrefix+connectionID); err != nil {
		return fmt.Errorf("delete kept copy of connection %q: %w", connectionID, err)
	}
	return nil
}
