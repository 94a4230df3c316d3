package main

import (
	"context"
	"errors"
	"fmt"
)

// revokeGrant ends a grant now. It revokes the lease, which drops the
// account before Vault returns, and falls back to requests/<id>/revoke when
// that fails, for example because the token's policy does not allow
// sys/leases/revoke. It returns how the grant was revoked.
func (c *zspClient) revokeGrant(creds *credsResponse) (string, error) {
	ctx := context.Background()

	leaseErr := c.revokeLease(ctx, creds.LeaseID)
	if leaseErr == nil {
		return fmt.Sprintf("lease %s revoked and account %s dropped", creds.LeaseID, creds.Username), nil
	}

	requestErr := c.revokeRequest(ctx, creds.RequestID)
	if requestErr == nil {
		return fmt.Sprintf("account %s dropped through %s because %s; lease %s stays until %s and then finds the account gone",
			creds.Username, c.path("requests", creds.RequestID, "revoke"), leaseFailure(leaseErr), creds.LeaseID, creds.ExpiresAt), nil
	}

	// Both can fail when the grant ended in between, for example because
	// the lease expired. The record then has status revoked.
	if record, err := c.readRequest(ctx, creds.RequestID); err == nil && record.Status == statusRevoked {
		return fmt.Sprintf("the grant was already revoked at %s", record.RevokedAt), nil
	}
	return "", errors.Join(leaseErr, requestErr)
}

// leaseFailure returns why a lease revocation failed, briefly for the
// common case of a policy without sys/leases/revoke.
func leaseFailure(err error) string {
	if statusOf(err) == 403 {
		return "this token may not revoke leases"
	}
	return fmt.Sprintf("the lease revocation failed (%v)", err)
}

// revokeLease revokes a lease synchronously, so the engine has dropped the
// account by the time Vault returns.
func (c *zspClient) revokeLease(ctx context.Context, leaseID string) error {
	_, err := c.vault.Logical().WriteWithContext(ctx, "sys/leases/revoke", map[string]any{"lease_id": leaseID, "sync": true})
	if err != nil {
		return wrapAPIError("revoke lease "+leaseID, err)
	}
	return nil
}

// revokeRequest drops the request's account through the engine, which the
// requester and the role's approvers may do.
func (c *zspClient) revokeRequest(ctx context.Context, id string) error {
	path := c.path("requests", id, "revoke")
	_, err := c.vault.Logical().WriteWithContext(ctx, path, map[string]any{"comment": "revoked by zsp run when its command ended"})
	if err != nil {
		return wrapAPIError("write "+path, err)
	}
	return nil
}
