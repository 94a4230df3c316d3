package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AccountMarkerPrefix starts the comment the engine sets on every account it
// creates, followed by the request ID.
const AccountMarkerPrefix = "zsp request "

// RoleInfo is one role on the server with what gives it standing privilege.
type RoleInfo struct {
	Name                  string
	Superuser             bool
	CreateRole            bool
	CreateDB              bool
	BypassRLS             bool
	Replication           bool
	CanLogin              bool
	ValidUntil            *time.Time // nil when the role has none
	Comment               string
	PrivilegedMemberships []string // privileged roles it is a member of, directly or not
	OwnedSchemas          []string
}

// Attributes lists the role's privileged attributes by their SQL names.
func (r RoleInfo) Attributes() []string {
	var out []string
	for name, set := range map[string]bool{"SUPERUSER": r.Superuser, "CREATEROLE": r.CreateRole, "CREATEDB": r.CreateDB, "BYPASSRLS": r.BypassRLS, "REPLICATION": r.Replication} {
		if set {
			out = append(out, name)
		}
	}
	return sortStrings(out)
}

// Privileged reports whether the role holds standing privilege: a privileged
// attribute, membership in a privileged role, or ownership of a schema.
func (r RoleInfo) Privileged() bool {
	return len(r.Attributes()) > 0 || len(r.PrivilegedMemberships) > 0 || len(r.OwnedSchemas) > 0
}

// RequestID returns the request of an engine-made account, from its marker.
func (r RoleInfo) RequestID() (string, bool) {
	return strings.CutPrefix(r.Comment, AccountMarkerPrefix)
}

// IsEngineGroup reports whether the role is one of the engine's NOLOGIN
// group roles.
func (r RoleInfo) IsEngineGroup() bool {
	return strings.HasPrefix(r.Comment, groupCommentPrefix) && !r.CanLogin
}

// inventoryQuery lists every role but PostgreSQL's own, with its attributes,
// its marker comment, its memberships in the named privileged roles
// (through any chain of membership) and the schemas it owns.
const inventoryQuery = `
SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
       r.rolcanlogin, r.rolvaliduntil,
       coalesce(shobj_description(r.oid, 'pg_authid'), ''),
       coalesce((SELECT array_agg(p.rolname ORDER BY p.rolname) FROM pg_roles p
                  WHERE p.rolname = ANY($1::text[]) AND p.oid <> r.oid AND pg_has_role(r.oid, p.oid, 'MEMBER')), '{}'),
       coalesce((SELECT array_agg(n.nspname::text ORDER BY n.nspname) FROM pg_namespace n
                  WHERE n.nspowner = r.oid AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'), '{}')
  FROM pg_roles r
 WHERE r.rolname NOT LIKE 'pg\_%'
 ORDER BY r.rolname`

// Inventory returns every role on the server with what privilege it holds.
// privilegedRoles names the roles whose members count as privileged.
func (c *Client) Inventory(ctx context.Context, privilegedRoles []string) ([]RoleInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	if privilegedRoles == nil {
		privilegedRoles = []string{}
	}
	rows, err := c.pool.Query(ctx, inventoryQuery, privilegedRoles)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", c.redact(err))
	}
	roles, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RoleInfo, error) {
		var r RoleInfo
		err := row.Scan(&r.Name, &r.Superuser, &r.CreateRole, &r.CreateDB, &r.BypassRLS, &r.Replication,
			&r.CanLogin, &r.ValidUntil, &r.Comment, &r.PrivilegedMemberships, &r.OwnedSchemas)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", c.redact(err))
	}
	return roles, nil
}

// EngineAccounts returns the accounts the engine created, found by their
// marker comment, never by name.
func (c *Client) EngineAccounts(ctx context.Context) ([]RoleInfo, error) {
	all, err := c.Inventory(ctx, nil)
	if err != nil {
		return nil, err
	}
	var accounts []RoleInfo
	for _, role := range all {
		if _, ok := role.RequestID(); ok {
			accounts = append(accounts, role)
		}
	}
	return accounts, nil
}

// CanSetLogStatement reports whether the admin may set log_statement on
// other roles: a superuser, or a role granted SET on the parameter.
func (c *Client) CanSetLogStatement(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	var allowed bool
	err := c.pool.QueryRow(ctx,
		`SELECT rolsuper OR has_parameter_privilege(current_user, 'log_statement', 'SET') FROM pg_roles WHERE rolname = current_user`).Scan(&allowed)
	if err != nil {
		return false, fmt.Errorf("check the admin's right to set log_statement: %w", c.redact(err))
	}
	return allowed, nil
}

func sortStrings(list []string) []string {
	slices.Sort(list)
	return list
}
