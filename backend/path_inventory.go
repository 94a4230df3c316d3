package backend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

// Inventory classes of a role on the target.
const (
	classManaged     = "managed"      // a live grant of this engine
	classOrphaned    = "orphaned"     // made by this engine, no live grant
	classUnmanaged   = "unmanaged"    // standing privilege outside the engine
	classEngineGroup = "engine_group" // a NOLOGIN group role holding a task's grants
	classEngineAdmin = "engine_admin" // the role the engine connects as
	classQuarantine  = "quarantine"   // holds what revoked accounts owned, with no privilege
)

func pathInventory(b *backend) []*framework.Path {
	connectionField := map[string]*framework.FieldSchema{
		"name": {Type: framework.TypeString, Description: "Name of the connection.", Required: true},
	}
	return []*framework.Path{
		{
			Pattern: "inventory/" + nameSegment,
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "inventory",
			},
			Fields: connectionField,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:     b.pathInventoryRead,
					Summary:      "List every role on the connection's database that holds standing privilege, and every account this engine made, each classed managed, orphaned or unmanaged.",
					Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: inventoryResponseFields}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
			},
			HelpSynopsis:    "Standing privilege on a connection's database.",
			HelpDescription: strings.TrimSpace(inventoryHelp),
		},
		{
			Pattern: "inventory/(?P<name>[^/]+)/sweep$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "orphans",
			},
			Fields: connectionField,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{
					Callback: b.pathSweep,
					Summary:  "Drop the accounts this engine made whose grant ended or whose VALID UNTIL passed, now.",
					Responses: map[int][]framework.Response{200: {{Description: "OK", Fields: map[string]*framework.FieldSchema{
						"checked": {Type: framework.TypeInt, Description: "Accounts made by this engine that were found."},
						"dropped": {Type: framework.TypeStringSlice, Description: "Accounts dropped."},
						"failed":  {Type: framework.TypeStringSlice, Description: "Accounts that could not be dropped; the next sweep tries again."},
					}}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "sweep"},
				},
			},
			HelpSynopsis:    "Drop orphaned accounts on a connection now.",
			HelpDescription: strings.TrimSpace(sweepHelp),
		},
	}
}

var inventoryResponseFields = map[string]*framework.FieldSchema{
	"roles":              {Type: framework.TypeSlice, Description: "Each role: name, class, privileges, memberships, owned_schemas, can_login, valid_until, request_id."},
	"standing_privilege": {Type: framework.TypeInt, Description: "Roles with standing privilege that this engine does not manage (unmanaged)."},
	"managed":            {Type: framework.TypeInt, Description: "Live accounts of this engine."},
	"orphaned":           {Type: framework.TypeInt, Description: "Accounts this engine made that have no live grant; a sweep drops them."},
	"privileged_roles":   {Type: framework.TypeStringSlice, Description: "The connection's privileged_roles used for membership."},
	"connection":         {Type: framework.TypeString, Description: "Name of the connection."},
	"inventoried_at":     {Type: framework.TypeString, Description: "When the inventory was taken (RFC 3339, UTC)."},
}

func (b *backend) pathInventoryRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	client, conn, err := b.connectionForAdmin(ctx, req.Storage, name)
	if err != nil || conn == nil {
		return callerResponseOr(nil, err)
	}

	found, err := client.Inventory(ctx, conn.PrivilegedRoles)
	if err != nil {
		return nil, fmt.Errorf("inventory of connection %q: %w", name, err)
	}

	var out []map[string]any
	counts := map[string]int{}
	for _, role := range found {
		class, requestID, err := b.classify(ctx, req.Storage, conn, role)
		if err != nil {
			return nil, err
		}
		if class == "" {
			continue
		}
		counts[class]++
		out = append(out, inventoryEntry(role, class, requestID))
	}

	err = b.updateMetrics(ctx, req.Storage, func(m *programMetrics) {
		m.UnmanagedAccounts[name] = int64(counts[classUnmanaged])
		m.Circumvention[attemptUnmanagedAccounts] = sumValues(m.UnmanagedAccounts)
	})
	if err != nil {
		return nil, err
	}

	return &logical.Response{Data: map[string]any{
		"connection":         name,
		"roles":              out,
		"standing_privilege": counts[classUnmanaged],
		"managed":            counts[classManaged],
		"orphaned":           counts[classOrphaned],
		"privileged_roles":   nonNil(conn.PrivilegedRoles),
		"inventoried_at":     formatTime(b.now()),
	}}, nil
}

// classify returns the inventory class of a role, or "" for a role without
// standing privilege that this engine did not make.
func (b *backend) classify(ctx context.Context, s logical.Storage, conn *connectionEntry, role postgres.RoleInfo) (string, string, error) {
	if requestID, ok := role.RequestID(); ok {
		live, err := liveGrantExists(ctx, s, conn.ID, requestID)
		if err != nil {
			return "", "", err
		}
		if live {
			return classManaged, requestID, nil
		}
		return classOrphaned, requestID, nil
	}

	switch {
	case role.IsEngineGroup():
		return classEngineGroup, "", nil
	case role.Name == conn.Username:
		return classEngineAdmin, "", nil
	case role.Name == postgres.QuarantineRole:
		return classQuarantine, "", nil
	case role.Privileged():
		return classUnmanaged, "", nil
	}
	return "", "", nil
}

func inventoryEntry(role postgres.RoleInfo, class, requestID string) map[string]any {
	validUntil := ""
	if role.ValidUntil != nil && role.ValidUntil.Year() < 9999 {
		validUntil = formatTime(*role.ValidUntil)
	}
	return map[string]any{
		"name":          role.Name,
		"class":         class,
		"privileges":    nonNil(role.Attributes()),
		"memberships":   nonNil(role.PrivilegedMemberships),
		"owned_schemas": nonNil(role.OwnedSchemas),
		"can_login":     role.CanLogin,
		"valid_until":   validUntil,
		"request_id":    requestID,
	}
}

func (b *backend) pathSweep(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	client, conn, err := b.connectionForAdmin(ctx, req.Storage, name)
	if err != nil || conn == nil {
		return callerResponseOr(nil, err)
	}

	result, err := b.sweep(ctx, req.Storage, name, conn, client)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"checked": result.checked,
		"dropped": nonNil(result.dropped),
		"failed":  nonNil(result.failed),
	}}, nil
}

// connectionForAdmin loads a connection named in an operator path; a
// missing one is the caller's error.
func (b *backend) connectionForAdmin(ctx context.Context, s logical.Storage, name string) (*postgres.Client, *connectionEntry, error) {
	if err := roles.ValidateName("name", name); err != nil {
		return nil, nil, &callerError{err.Error()}
	}
	client, conn, err := b.clientFor(ctx, s, name)
	if err != nil {
		return nil, nil, err
	}
	if conn == nil {
		return nil, nil, &callerError{fmt.Sprintf("unknown connection %q; list connections with: vault list <mount>/connections", name)}
	}
	return client, conn, nil
}

type sweepResult struct {
	checked int
	dropped []string
	failed  []string
}

// sweep drops the accounts this engine made whose grant is over: the
// request is not issued any more (its lease ended while the database was
// unreachable, say), or the account's VALID UNTIL passed. Accounts without
// the engine's marker are never touched.
func (b *backend) sweep(ctx context.Context, s logical.Storage, name string, conn *connectionEntry, client *postgres.Client) (sweepResult, error) {
	accounts, err := client.EngineAccounts(ctx)
	if err != nil {
		return sweepResult{}, fmt.Errorf("list accounts on connection %q: %w", name, err)
	}

	result := sweepResult{checked: len(accounts)}
	for _, account := range accounts {
		requestID, _ := account.RequestID()
		orphan, err := b.sweepOne(ctx, s, conn, client, account, requestID)
		switch {
		case err != nil:
			result.failed = append(result.failed, account.Name)
			b.logger().Warn("could not drop orphaned account", "connection", name, "username", account.Name, "request_id", requestID, "error", err)
		case orphan:
			result.dropped = append(result.dropped, account.Name)
		}
	}

	b.logger().Info("orphan sweep finished", "connection", name, "checked", result.checked, "dropped", len(result.dropped), "failed", len(result.failed))
	return result, nil
}

// sweepOne drops one account when its grant is over. It holds the request's
// lock, which issuance holds until the request is saved, so an account
// created a moment ago is never taken for an orphan.
func (b *backend) sweepOne(ctx context.Context, s logical.Storage, conn *connectionEntry, client *postgres.Client, account postgres.RoleInfo, requestID string) (bool, error) {
	lock := lockRequest(b, requestID)
	defer lock.Unlock()

	record, err := getRequest(ctx, s, requestID)
	if err != nil {
		return false, err
	}
	now := b.now()
	expired := account.ValidUntil != nil && account.ValidUntil.Before(now)
	live := record != nil && record.Status == approval.StatusIssued
	if live && !expired {
		return false, nil
	}

	if err := client.DropAccount(ctx, account.Name, nil); err != nil {
		return false, err
	}
	if live {
		if err := b.markRevoked(ctx, s, record, "sweeper", "VALID UNTIL passed without a revocation; account dropped by the orphan sweep"); err != nil {
			return true, err
		}
	}
	b.logger().Info("dropped orphaned account", "username", account.Name, "request_id", requestID)
	return true, nil
}

// sweepInterval spaces the periodic sweeps of each connection.
const sweepInterval = 5 * time.Minute

// sweepAll sweeps every connection not swept in the last interval.
func (b *backend) sweepAll(ctx context.Context, s logical.Storage) {
	names, err := s.List(ctx, connectionPrefix)
	if err != nil {
		b.logger().Warn("could not list connections to sweep", "error", err)
		return
	}
	for _, name := range names {
		if !b.sweeps.due(name, b.now(), sweepInterval) {
			continue
		}
		client, conn, err := b.clientFor(ctx, s, name)
		if err != nil || conn == nil {
			continue
		}
		if _, err := b.sweep(ctx, s, name, conn, client); err != nil {
			b.logger().Warn("orphan sweep failed; next period tries again", "connection", name, "error", err)
		}
	}
}

const inventoryHelp = `
Lists the roles on the connection's database that hold standing privilege:
SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION, membership in one
of the connection's privileged_roles, or ownership of a schema. Each role is
classed:

  managed       an account of a live grant of this engine
  orphaned      made by this engine, without a live grant; a sweep drops it
  unmanaged     standing privilege outside the engine
  engine_group  a NOLOGIN group role holding one task's grants
  engine_admin  the role the engine connects as
  quarantine    owns what revoked accounts created, NOLOGIN and without
                privilege, so none of it runs with the admin's rights

The engine recognizes its accounts by the comment it sets on each one
("zsp request <id>"), never by name. standing_privilege counts the unmanaged
roles; the count also feeds metrics.
`

const sweepHelp = `
Drops, now, every account this engine made whose request is no longer issued
or whose VALID UNTIL passed: for example an account whose lease ended while
the database was down for longer than Vault kept retrying. The engine also
sweeps each connection every five minutes. Accounts without the engine's
marker comment are never touched.
`
