package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

// errSimulatedCrash stops rotate-root where a crash would, for tests.
var errSimulatedCrash = errors.New("simulated failure after the database accepted the new password")

func pathRotateRoot(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "rotate-root/" + nameSegment,
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "root-credentials",
		},
		Fields: map[string]*framework.FieldSchema{
			"name": {Type: framework.TypeString, Description: "Name of the connection whose admin password to rotate.", Required: true},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback:     b.pathRotateRoot,
				Summary:      "Replace the connection's admin password with a new one only Vault knows.",
				Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "rotate"},
			},
		},
		HelpSynopsis:    "Rotate the admin password of a connection.",
		HelpDescription: strings.TrimSpace(rotateRootHelp),
	}}
}

func (b *backend) pathRotateRoot(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	lock := locksutil.LockForKey(b.connectionLocks, name)
	lock.Lock()
	defer lock.Unlock()

	conn, err := getConnection(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return logical.ErrorResponse(fmt.Sprintf("unknown connection %q; list connections with: vault list <mount>/connections", name)), nil
	}
	if conn.Username == "" {
		return logical.ErrorResponse(fmt.Sprintf(`connection %q has no "username"; set it before rotating`, name)), nil
	}

	if err := b.rotateRoot(ctx, req.Storage, name, conn); err != nil {
		return nil, err
	}
	return nil, nil
}

// rotateRoot sets a new admin password on the database and in storage. The
// WAL entry written first holds the new password until storage does, so a
// failure in between is rolled forward instead of locking the engine out.
func (b *backend) rotateRoot(ctx context.Context, s logical.Storage, name string, conn *connectionEntry) error {
	client, err := b.clients.get(ctx, b, name, conn)
	if err != nil {
		return err
	}

	newPassword, err := postgres.GeneratePassword()
	if err != nil {
		return fmt.Errorf("generate password: %w", err)
	}

	walID, err := framework.PutWAL(ctx, s, walKindRotateRoot, &rotateRootWAL{Connection: name, ConnectionID: conn.ID, NewPassword: newPassword})
	if err != nil {
		return fmt.Errorf("write WAL entry for rotating connection %q: %w", name, err)
	}

	if err := client.RotatePassword(ctx, newPassword); err != nil {
		return fmt.Errorf("set new admin password on connection %q: %w", name, redactError(err, newPassword, conn.Password))
	}
	if b.failAfterRootRotation.Load() {
		return errSimulatedCrash
	}

	if err := b.saveRootPassword(ctx, s, name, conn, newPassword); err != nil {
		return err
	}
	if err := framework.DeleteWAL(ctx, s, walID); err != nil {
		b.logger().Warn("could not delete WAL entry of a finished rotation", "connection", name, "error", err)
	}
	b.logger().Info("admin password rotated", "connection", name)
	return nil
}

func (b *backend) saveRootPassword(ctx context.Context, s logical.Storage, name string, conn *connectionEntry, password string) error {
	conn.Password = password
	conn.Revision++
	if err := putJSON(ctx, s, connectionPrefix+name, conn); err != nil {
		return fmt.Errorf("save rotated password of connection %q: %w", name, err)
	}
	b.clients.evict(name)
	return updateRetiredPasswords(ctx, s, conn)
}

// updateRetiredPasswords gives the new password to the kept copies of
// force-deleted connections that log in as the same admin on the same
// server, so revoking their accounts keeps working after the rotation.
func updateRetiredPasswords(ctx context.Context, s logical.Storage, conn *connectionEntry) error {
	target, err := conn.postgresConfig().Target()
	if err != nil {
		return err
	}
	ids, err := s.List(ctx, retiredConnectionPrefix)
	if err != nil {
		return fmt.Errorf("list kept connections: %w", err)
	}

	for _, id := range ids {
		retired := &connectionEntry{}
		found, err := getJSON(ctx, s, retiredConnectionPrefix+id, retired)
		if err != nil || !found || retired.Username != conn.Username {
			if err != nil {
				return err
			}
			continue
		}
		retiredTarget, err := retired.postgresConfig().Target()
		if err != nil || retiredTarget.Host != target.Host || retiredTarget.Port != target.Port {
			continue
		}
		retired.Password = conn.Password
		if err := putJSON(ctx, s, retiredConnectionPrefix+id, retired); err != nil {
			return err
		}
	}
	return nil
}

// rollbackRotateRoot finishes an interrupted rotation. When the database
// accepts the new password, storage takes it. When it does not, the database
// still has the stored one, so nothing is left to do.
func (b *backend) rollbackRotateRoot(ctx context.Context, s logical.Storage, entry *rotateRootWAL) error {
	lock := locksutil.LockForKey(b.connectionLocks, entry.Connection)
	lock.Lock()
	defer lock.Unlock()

	conn, err := getConnection(ctx, s, entry.Connection)
	if err != nil {
		return err
	}
	if conn == nil || conn.ID != entry.ConnectionID || conn.Password == entry.NewPassword {
		return nil
	}

	candidate := *conn
	candidate.Password = entry.NewPassword
	client, err := postgres.Open(ctx, candidate.postgresConfig(), b.logger().Named("postgres").With("connection", entry.Connection))
	if err != nil {
		return fmt.Errorf("check rotated password of connection %q: %w", entry.Connection, redactError(err, entry.NewPassword))
	}
	defer client.Close()

	err = client.Verify(ctx)
	if postgres.IsAuthenticationFailure(err) {
		b.logger().Info("interrupted rotation never reached the database; keeping the stored password", "connection", entry.Connection)
		return nil
	}
	if err != nil {
		return fmt.Errorf("check rotated password of connection %q: %w", entry.Connection, redactError(err, entry.NewPassword))
	}

	if err := b.saveRootPassword(ctx, s, entry.Connection, conn, entry.NewPassword); err != nil {
		return err
	}
	b.logger().Info("finished interrupted rotation of the admin password", "connection", entry.Connection)
	return nil
}

const rotateRootHelp = `
Rotating sets a new random password on the connection's admin role, in the
database and in Vault, so that only Vault knows it. The old password stops
working at once. The database receives only a SCRAM-SHA-256 verifier of the
new password, never the password itself.
`
