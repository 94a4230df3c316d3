package backend

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

// credsFields are the request fields of creds/:name; every other field a
// requester sends is taken as a role parameter.
var credsFields = map[string]bool{"name": true, "ttl": true}

func pathCreds(b *backend) []*framework.Path {
	operation := func(summary, verb string) *framework.PathOperation {
		return &framework.PathOperation{
			Callback:     b.pathCredsRead,
			Summary:      summary,
			Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: credsResponseFields}}},
			DisplayAttrs: &framework.DisplayAttributes{OperationVerb: verb},
		}
	}

	return []*framework.Path{{
		Pattern: "creds/" + nameSegment,
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "credentials",
		},
		Fields: map[string]*framework.FieldSchema{
			"name": {
				Type:        framework.TypeString,
				Description: "Name of the task role.",
				Required:    true,
			},
			"ttl": {
				Type:        framework.TypeSignedDurationSecond,
				Description: "Lease TTL to ask for. It is capped at the role's max_ttl. Zero uses the role's default_ttl.",
				Query:       true,
				DisplayAttrs: &framework.DisplayAttributes{Name: "TTL"},
			},
		},
		// Role parameters (schema=billing) are arbitrary field names.
		TakesArbitraryInput: true,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   operation("Get an account for the task role. Role parameters go in the query string.", "generate"),
			logical.UpdateOperation: operation("Get an account for the task role. Role parameters go in the body.", "generate-with-parameters"),
		},
		HelpSynopsis:    "Get a short-lived account scoped to one task.",
		HelpDescription: strings.TrimSpace(credsHelp),
	}}
}

var credsResponseFields = map[string]*framework.FieldSchema{
	"username":       {Type: framework.TypeString, Description: "Name of the new PostgreSQL account."},
	"password":       {Type: framework.TypeString, Description: "Its password, returned once and never stored by the engine.", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
	"request_id":     {Type: framework.TypeString, Description: "ID of the request record (requests/<id>)."},
	"host":           {Type: framework.TypeString, Description: "Database host."},
	"port":           {Type: framework.TypeInt, Description: "Database port."},
	"database":       {Type: framework.TypeString, Description: "Database name."},
	"connection_url": {Type: framework.TypeString, Description: "URL for this account, with its own password and no admin secret.", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
	"expires_at":     {Type: framework.TypeString, Description: "When the lease and the account's VALID UNTIL end (RFC 3339, UTC)."},
}

// grantAsk is one validated ask for an account.
type grantAsk struct {
	roleName     string
	role         *roleEntry
	parameters   map[string]string
	requestedTTL time.Duration
	ttl          time.Duration
	window       time.Duration
	warnings     []string
}

func (b *backend) pathCredsRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	if req.EntityID == "" {
		return logical.ErrorResponse("this token has no identity entity (a root token, for example); log in through an auth method such as userpass or OIDC so the request is recorded against a person or pipeline"), nil
	}

	ask, err := b.validateAsk(ctx, req, d)
	if err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	resp, err := b.issueAccount(ctx, req, ask)
	if err != nil {
		return nil, err
	}
	for _, warning := range ask.warnings {
		resp.AddWarning(warning)
	}
	return resp, nil
}

// validateAsk checks the role, parameters and TTL of a creds request. Every
// error it returns is the caller's to fix.
func (b *backend) validateAsk(ctx context.Context, req *logical.Request, d *framework.FieldData) (*grantAsk, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return nil, err
	}

	role, err := getRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, fmt.Errorf("unknown role %q; list the task roles with: vault list <mount>/roles", name)
	}

	given, err := requestParameters(req.Data)
	if err != nil {
		return nil, err
	}
	parameters, err := role.model(name).ResolveParameters(given)
	if err != nil {
		return nil, err
	}

	ask := &grantAsk{roleName: name, role: role, parameters: parameters}
	if raw, ok := d.Raw["ttl"]; ok {
		requested, err := parseWrittenDuration("ttl", raw)
		if err != nil {
			return nil, err
		}
		ask.requestedTTL = requested.Value
	}

	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	b.applyTTLs(ask, cfg)
	return ask, nil
}

// requestParameters collects the role parameters a requester sent: every
// field that is not one of the creds path's own fields.
func requestParameters(data map[string]any) (map[string]string, error) {
	params := make(map[string]string)
	for key, raw := range data {
		if credsFields[key] {
			continue
		}
		value, err := singleString(key, raw)
		if err != nil {
			return nil, err
		}
		params[key] = value
	}
	return params, nil
}

// singleString accepts a string, or a list holding exactly one string as a
// repeated query parameter arrives.
func singleString(key string, raw any) (string, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case []string:
		if len(v) == 1 {
			return v[0], nil
		}
	case []any:
		if len(v) == 1 {
			if s, ok := v[0].(string); ok {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("invalid parameter %q: send one string value, for example %s=value", key, key)
}

// applyTTLs sets the ask's lease TTL and its window, the latest end that
// renewals may reach: the role's max_ttl, capped by the engine's max_ttl and
// the mount's maximum lease TTL.
func (b *backend) applyTTLs(ask *grantAsk, cfg *engineConfig) {
	mountMax := b.System().MaxLeaseTTL()

	window := firstPositive(ask.role.MaxTTL.Value, cfg.MaxTTL.Value, mountMax)
	window = cfg.capTTL(window)
	if mountMax > 0 && window > mountMax {
		window = mountMax
	}

	ttl := firstPositive(ask.requestedTTL, ask.role.DefaultTTL.Value, cfg.DefaultTTL.Value, b.System().DefaultLeaseTTL())
	if ttl > window {
		if ask.requestedTTL > 0 {
			ask.warnings = append(ask.warnings, fmt.Sprintf("ttl %s is longer than this role allows; the grant lasts %s", ask.requestedTTL, window))
		}
		ttl = window
	}

	ask.ttl = ttl
	ask.window = window
}

func firstPositive(values ...time.Duration) time.Duration {
	for _, v := range values {
		if v > 0 {
			return v
		}
	}
	return 0
}

// sortedKeys returns the keys of m in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const credsHelp = `
Reading creds/<role> creates a PostgreSQL account that can do the role's task
and nothing else, and returns its username and password with a Vault lease.
The account expires in PostgreSQL (VALID UNTIL) when the lease does, and the
engine drops it when the lease ends or is revoked.

Role parameters go in the query string or body (schema=billing); a value
outside the role's allowed list is rejected before anything runs. ttl asks
for a shorter or longer lease within the role's max_ttl.

The token must belong to an identity entity (log in through an auth method),
so every request is recorded against a person or pipeline.
`
