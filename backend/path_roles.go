package backend

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

const (
	rolePrefix = "roles/"

	// maxGroupsOnWrite bounds how many parameter combinations a role write
	// prepares at once; the rest are prepared on first use.
	maxGroupsOnWrite = 256
)

// roleEntry is a stored task role: the fields exactly as written.
type roleEntry struct {
	SchemaVersion        int                 `json:"schema_version"`
	Connection           string              `json:"connection"`
	GrantStatements      []string            `json:"grant_statements"`
	CreationStatements   []string            `json:"creation_statements"`
	RevocationStatements []string            `json:"revocation_statements"`
	DefaultTTL           writtenDuration     `json:"default_ttl"`
	MaxTTL               writtenDuration     `json:"max_ttl"`
	UsernameTemplate     string              `json:"username_template"`
	Parameters           map[string][]string `json:"parameters"`
	Description          string              `json:"description"`

	RiskTier               int      `json:"risk_tier"`
	RequesterGroups        []string `json:"requester_groups"`
	ApproverGroups         []string `json:"approver_groups"`
	RequiredApprovals      int      `json:"required_approvals"`
	SecurityApproverGroups []string `json:"security_approver_groups"`
	AutoApproveMaxScore    int      `json:"auto_approve_max_score"`
	RequireJustification   bool     `json:"require_justification"`
	AllowEmergency         bool     `json:"allow_emergency"`
	OncallSchedule         string   `json:"oncall_schedule"`
	BusinessHoursOnly      bool     `json:"business_hours_only"`
	MaxExtensions          int      `json:"max_extensions"`
	LogStatements          bool     `json:"log_statements"`
}

// model returns the role as the roles package's type.
func (r *roleEntry) model(name string) *roles.Role {
	return &roles.Role{
		Name:                 name,
		Connection:           r.Connection,
		GrantStatements:      r.GrantStatements,
		CreationStatements:   r.CreationStatements,
		RevocationStatements: r.RevocationStatements,
		DefaultTTL:           r.DefaultTTL.Value,
		MaxTTL:               r.MaxTTL.Value,
		UsernameTemplate:     r.UsernameTemplate,
		Parameters:           r.Parameters,
		Description:          r.Description,
	}
}

func pathRoles(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "roles/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "roles",
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:     b.pathRolesList,
					Summary:      "List the names of the task roles.",
					Responses:    listResponses("Task role names."),
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List the task roles.",
			HelpDescription: "Lists the names of the task roles requesters can read credentials for.",
		},
		{
			Pattern: "roles/" + nameSegment,
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "role",
			},
			Fields:         roleFields(),
			ExistenceCheck: b.roleExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:     b.pathRoleRead,
					Summary:      "Read a task role.",
					Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: roleResponseFields()}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
				logical.CreateOperation: &framework.PathOperation{
					Callback:     b.pathRoleWrite,
					Summary:      "Create a task role.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "create"},
				},
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     b.pathRoleWrite,
					Summary:      "Update a task role. Fields not sent keep their value.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "update"},
				},
				logical.DeleteOperation: &framework.PathOperation{
					Callback:     b.pathRoleDelete,
					Summary:      "Delete a task role. Accounts already issued keep their leases and are still revoked.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "delete"},
				},
			},
			HelpSynopsis:    "Manage a task role: the privileges one task needs and how long a grant lasts.",
			HelpDescription: strings.TrimSpace(roleHelp),
		},
	}
}

func roleFields() map[string]*framework.FieldSchema {
	fields := roleResponseFields()
	fields["name"] = &framework.FieldSchema{
		Type:        framework.TypeString,
		Description: "Name of the task role: letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters.",
		Required:    true,
	}
	// Writes accept signed durations so a negative value reaches the handler,
	// which rejects it with an error that names the fix.
	fields["default_ttl"].Type = framework.TypeSignedDurationSecond
	fields["max_ttl"].Type = framework.TypeSignedDurationSecond
	return fields
}

func roleResponseFields() map[string]*framework.FieldSchema {
	fields := map[string]*framework.FieldSchema{
		"connection": {
			Type:        framework.TypeString,
			Description: "Name of the connection (connections/<name>) the task's accounts are created on.",
		},
		"grant_statements": {
			Type:        framework.TypeStringSlice,
			Description: "SQL statements that grant the task's privileges to its NOLOGIN group role, {{group}}. They run once per role version (and set of parameter values), not per account. Each list item is one statement; a single string is one statement and is never split.",
		},
		"creation_statements": {
			Type:        framework.TypeStringSlice,
			Description: "SQL statements that create one account, run in one transaction. Empty uses: CREATE ROLE {{name}} WITH LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}} IN ROLE {{group}}. Placeholders: {{name}}, {{password}}, {{expiration}}, {{group}} and the role's parameters.",
		},
		"revocation_statements": {
			Type:        framework.TypeStringSlice,
			Description: "Extra SQL statements run before the engine's own revocation, which always disables login, ends the account's sessions, reassigns and drops what it owns, and drops it. Placeholders: {{name}}, {{group}} and the role's parameters.",
		},
		"default_ttl": {
			Type:         framework.TypeDurationSecond,
			Description:  "Lease TTL when the requester asks for none. Zero uses the engine's, then the mount's default.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Default TTL"},
		},
		"max_ttl": {
			Type:         framework.TypeDurationSecond,
			Description:  "Longest window a grant may last, renewals included. Zero uses the engine's, then the mount's maximum.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Max TTL"},
		},
		"username_template": {
			Type:        framework.TypeString,
			Description: "Template of account names, with {{role}}, {{display_name}}, {{random}} (required) and {{unix_time}}. Names are lowercased to [a-z0-9_] and cut to 63 bytes, keeping the random part. Empty uses zsp_{{role}}_{{display_name}}_{{random}}.",
		},
		"parameters": {
			Type:        framework.TypeMap,
			Description: `Parameters a requester must choose, as a JSON object from each name to its allowed values, for example {"schema": ["billing", "sales"]}. Each is used in statements as {{name}} and rendered as a quoted identifier.`,
		},
		"description": {
			Type:        framework.TypeString,
			Description: "What the task is, for requesters and approvers.",
		},
	}
	for name, field := range rolePolicyFields() {
		fields[name] = field
	}
	return fields
}

func (b *backend) roleExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	role, err := getRole(ctx, req.Storage, d.Get("name").(string))
	return role != nil, err
}

func (b *backend) pathRolesList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return logical.ListResponse(names), nil
}

func (b *backend) pathRoleRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	role, err := getRole(ctx, req.Storage, d.Get("name").(string))
	if err != nil || role == nil {
		return nil, err
	}
	return &logical.Response{Data: role.readData()}, nil
}

// readData returns the role in exactly the form a write accepts.
func (r *roleEntry) readData() map[string]any {
	parameters := make(map[string]any, len(r.Parameters))
	for name, values := range r.Parameters {
		parameters[name] = nonNil(values)
	}
	return map[string]any{
		"connection":            r.Connection,
		"grant_statements":      nonNil(r.GrantStatements),
		"creation_statements":   nonNil(r.CreationStatements),
		"revocation_statements": nonNil(r.RevocationStatements),
		"default_ttl":           r.DefaultTTL.readForm(),
		"max_ttl":               r.MaxTTL.readForm(),
		"username_template":     r.UsernameTemplate,
		"parameters":            parameters,
		"description":           r.Description,

		"risk_tier":                r.RiskTier,
		"requester_groups":         nonNil(r.RequesterGroups),
		"approver_groups":          nonNil(r.ApproverGroups),
		"required_approvals":       r.RequiredApprovals,
		"security_approver_groups": nonNil(r.SecurityApproverGroups),
		"auto_approve_max_score":   r.AutoApproveMaxScore,
		"require_justification":    r.RequireJustification,
		"allow_emergency":          r.AllowEmergency,
		"oncall_schedule":          r.OncallSchedule,
		"business_hours_only":      r.BusinessHoursOnly,
		"max_extensions":           r.MaxExtensions,
		"log_statements":           r.LogStatements,
	}
}

func (b *backend) pathRoleWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	lock := locksutil.LockForKey(b.roleLocks, name)
	lock.Lock()
	defer lock.Unlock()

	role, err := getRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		role = newRoleEntry()
	}

	if err := applyRoleFields(role, d); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if err := applyRolePolicyFields(role, d); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if err := role.model(name).Validate(); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if err := validateRolePolicy(ctx, req.Storage, role); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	client, conn, err := b.clientFor(ctx, req.Storage, role.Connection)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return logical.ErrorResponse(fmt.Sprintf(`invalid "connection": no connection named %q; create it at connections/%s first`, role.Connection, role.Connection)), nil
	}

	// Preparing the group roles now runs the grant statements against the
	// database, so a statement that PostgreSQL rejects fails this write
	// instead of a requester's first read.
	if err := b.prepareGroups(ctx, client, name, role); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if role.LogStatements {
		allowed, err := client.CanSetLogStatement(ctx)
		if err != nil {
			return logical.ErrorResponse(fmt.Sprintf(`"log_statements" could not be checked on connection %q: %v`, role.Connection, err)), nil
		}
		if !allowed {
			return logical.ErrorResponse(fmt.Sprintf(`invalid "log_statements": the admin of connection %q may not set log_statement; make it a superuser or GRANT SET ON PARAMETER log_statement TO it, or set log_statements=false`, role.Connection)), nil
		}
	}

	if err := putJSON(ctx, req.Storage, rolePrefix+name, role); err != nil {
		return nil, err
	}
	b.roleCache.drop(name)
	return nil, nil
}

// applyRoleFields copies the fields present in the request onto role.
func applyRoleFields(role *roleEntry, d *framework.FieldData) error {
	if raw, ok := d.GetOk("connection"); ok {
		role.Connection = strings.TrimSpace(raw.(string))
	}

	statementFields := map[string]*[]string{
		"grant_statements":      &role.GrantStatements,
		"creation_statements":   &role.CreationStatements,
		"revocation_statements": &role.RevocationStatements,
	}
	for field, target := range statementFields {
		raw, ok := d.Raw[field]
		if !ok {
			continue
		}
		list, err := parseStatementList(field, raw)
		if err != nil {
			return err
		}
		*target = list
	}

	durationFields := map[string]*writtenDuration{"default_ttl": &role.DefaultTTL, "max_ttl": &role.MaxTTL}
	for field, target := range durationFields {
		raw, ok := d.Raw[field]
		if !ok {
			continue
		}
		parsed, err := parseWrittenDuration(field, raw)
		if err != nil {
			return err
		}
		*target = parsed
	}

	if raw, ok := d.GetOk("username_template"); ok {
		role.UsernameTemplate = strings.TrimSpace(raw.(string))
	}
	if raw, ok := d.Raw["parameters"]; ok {
		parameters, err := parseParameterMap(raw)
		if err != nil {
			return err
		}
		role.Parameters = parameters
	}
	if raw, ok := d.GetOk("description"); ok {
		role.Description = raw.(string)
	}
	return nil
}

// prepareGroups creates the role's group roles and runs its grant
// statements for up to maxGroupsOnWrite combinations of parameter values, in
// one transaction: a statement PostgreSQL rejects for any combination leaves
// every group as it was.
func (b *backend) prepareGroups(ctx context.Context, client *postgres.Client, name string, role *roleEntry) error {
	if len(role.GrantStatements) == 0 {
		return nil
	}

	var groups []postgres.GroupGrants
	for _, params := range parameterCombinations(role.Parameters, maxGroupsOnWrite) {
		group, grants, err := renderGrants(name, role, params)
		if err != nil {
			return err
		}
		groups = append(groups, postgres.GroupGrants{Group: group, Grants: grants})
	}
	if err := client.EnsureGroups(ctx, groups); err != nil {
		return fmt.Errorf(`"grant_statements" failed on connection %q: %w; fix the statements or the connection's privileges`, role.Connection, err)
	}
	return nil
}

// ensureGroup renders the grant statements for one set of parameter values
// and applies them to that set's group role.
func ensureGroup(ctx context.Context, client *postgres.Client, name string, role *roleEntry, params map[string]string) error {
	group, grants, err := renderGrants(name, role, params)
	if err != nil {
		return err
	}
	if err := client.EnsureGroup(ctx, group, grants); err != nil {
		// Role writes prepare at most maxGroupsOnWrite sets of values, so a
		// later set can first fail here; that is the operator's to fix.
		return &callerError{fmt.Sprintf(`role %q: its grant statements failed on connection %q for these parameter values (group role %q): %v; ask an operator to fix the role`, name, role.Connection, group, err)}
	}
	return nil
}

// renderGrants returns the group role for one set of parameter values and
// the grant statements rendered for it.
func renderGrants(name string, role *roleEntry, params map[string]string) (string, []string, error) {
	group := roles.GroupName(name, params)
	values := make(map[string]string, len(params)+1)
	for key, value := range params {
		values[key] = value
	}
	values["group"] = group

	grants, err := roles.RenderStatements(role.GrantStatements, values, postgres.Quoter{})
	if err != nil {
		return "", nil, fmt.Errorf(`invalid "grant_statements": %w`, err)
	}
	return group, grants, nil
}

// parameterCombinations lists up to limit assignments of allowed values to
// the parameters, in a stable order. A role without parameters has one, empty.
func parameterCombinations(parameters map[string][]string, limit int) []map[string]string {
	names := make([]string, 0, len(parameters))
	for name := range parameters {
		names = append(names, name)
	}
	sort.Strings(names)

	combinations := []map[string]string{{}}
	for _, name := range names {
		var next []map[string]string
		for _, partial := range combinations {
			for _, value := range parameters[name] {
				if len(next) == limit {
					break
				}
				combined := make(map[string]string, len(partial)+1)
				for k, v := range partial {
					combined[k] = v
				}
				combined[name] = value
				next = append(next, combined)
			}
		}
		combinations = next
	}
	return combinations
}

func (b *backend) pathRoleDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)

	lock := locksutil.LockForKey(b.roleLocks, name)
	lock.Lock()
	defer lock.Unlock()

	if err := req.Storage.Delete(ctx, rolePrefix+name); err != nil {
		return nil, fmt.Errorf("delete role %q: %w", name, err)
	}
	b.roleCache.drop(name)
	// TODO: drop the role's group roles once no live account is a member.
	// Until then they stay in the database as NOLOGIN roles with the grants.
	return nil, nil
}

// getRole returns the named role, or nil when it does not exist.
func getRole(ctx context.Context, s logical.Storage, name string) (*roleEntry, error) {
	// Decoding over the defaults upgrades an entry from an older build: the
	// fields it never stored keep today's defaults.
	role := newRoleEntry()
	found, err := getJSON(ctx, s, rolePrefix+name, role)
	if err != nil || !found {
		return nil, err
	}
	role.SchemaVersion = schemaVersion
	return role, nil
}

// nonNil returns an empty list for nil, so reads show [] rather than null.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

const roleHelp = `
A task role is the least privilege one task needs, and how long it may be held.

The recommended form is grant_statements: they grant the task's privileges
to a NOLOGIN group role, {{group}}, once; every account then joins that group
with a single CREATE ROLE statement, so issuing is fast and grants do not pile
up on the database's objects. creation_statements replaces the default
account statement for what a group cannot express.

Placeholders are rendered by the engine: {{name}}, {{group}} and parameters
as quoted identifiers, {{password}} and {{expiration}} as quoted literals. A
placeholder written inside quotes, as in Vault's database engine
("{{name}}", '{{password}}'), is escaped for those quotes instead. Statements
are a list and never split on ';', so DO blocks work.

parameters lets one role serve several objects: with
{"schema": ["billing", "sales"]}, requesters read creds/<role> schema=billing
and the statements use {{schema}}. Any other value is rejected.
`
