package backend

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

// credsFields are the request fields of creds/:name; every other field a
// requester sends is taken as a role parameter. A risk score sent by the
// requester would be a parameter and is rejected as an unknown one.
var credsFields = map[string]bool{"name": true, "ttl": true, "justification": true, "emergency": true}

func pathCreds(b *backend) []*framework.Path {
	operation := func(summary, verb string) *framework.PathOperation {
		return &framework.PathOperation{
			Callback:     b.pathCredsRead,
			Summary:      summary,
			Responses:    map[int][]framework.Response{200: {{Description: "An account, or the status of a request that waits for approval.", Fields: credsResponseFields}}},
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
				Type:         framework.TypeSignedDurationSecond,
				Description:  "Lease TTL to ask for, capped at the role's max_ttl. Zero uses the role's default_ttl. Asking above the default raises the risk score.",
				Query:        true,
				DisplayAttrs: &framework.DisplayAttributes{Name: "TTL"},
			},
			"justification": {
				Type:        framework.TypeString,
				Description: "Why the task needs the access, for approvers and the record. Required by roles with require_justification and for break-glass.",
				Query:       true,
			},
			"emergency": {
				Type:        framework.TypeBool,
				Description: "Break-glass: on roles with allow_emergency, tiers 2 and 3 are approved at once and flagged for review; tiers 0 and 1 need one approval from any approver.",
				Query:       true,
			},
		},
		// Role parameters (schema=billing) are arbitrary field names.
		TakesArbitraryInput: true,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   operation("Ask for an account for the task role, or get the status of the pending ask. Role parameters go in the query string.", "request"),
			logical.UpdateOperation: operation("Ask for an account for the task role, or get the status of the pending ask. Role parameters go in the body.", "request-with-body"),
		},
		HelpSynopsis:    "Ask for a short-lived account scoped to one task.",
		HelpDescription: strings.TrimSpace(credsHelp),
	}}
}

var credsResponseFields = map[string]*framework.FieldSchema{
	"username":           {Type: framework.TypeString, Description: "Name of the new PostgreSQL account (issued only)."},
	"password":           {Type: framework.TypeString, Description: "Its password, returned once and never stored by the engine (issued only).", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
	"request_id":         {Type: framework.TypeString, Description: "ID of the request record (requests/<id>)."},
	"status":             {Type: framework.TypeString, Description: "issued, or pending while approvals are missing."},
	"host":               {Type: framework.TypeString, Description: "Database host (issued only)."},
	"port":               {Type: framework.TypeInt, Description: "Database port (issued only)."},
	"database":           {Type: framework.TypeString, Description: "Database name (issued only)."},
	"connection_url":     {Type: framework.TypeString, Description: "URL for this account, with its own password and no admin secret (issued only).", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
	"expires_at":         {Type: framework.TypeString, Description: "Issued: when the lease and VALID UNTIL end. Pending: when the request expires unless approved (RFC 3339, UTC)."},
	"risk_score":         {Type: framework.TypeInt, Description: "Risk score, 0 to 100."},
	"risk_factors":       {Type: framework.TypeSlice, Description: "Each factor of the score with its points."},
	"approvers":          {Type: framework.TypeStringSlice, Description: "Identity groups whose members may approve (pending only)."},
	"required_approvals": {Type: framework.TypeInt, Description: "Approvals the request needs (pending only)."},
	"decision_reason":    {Type: framework.TypeString, Description: "Why the request was approved by policy or routed to these approvers."},
}

// grantAsk is one validated ask for an account.
type grantAsk struct {
	roleName      string
	role          *roleEntry
	parameters    map[string]string
	requestedTTL  time.Duration
	justification string
	emergency     bool
	ttl           time.Duration
	window        time.Duration
	warnings      []string
}

func (b *backend) pathCredsRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	if req.EntityID == "" {
		return logical.ErrorResponse("this token has no identity entity (a root token, for example); log in through an auth method such as userpass or OIDC so the request is recorded against a person or pipeline"), nil
	}

	cfg, err := b.cachedConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	ask, err := b.validateAsk(ctx, req, d, cfg)
	if err == nil {
		err = b.checkRequester(ctx, req.Storage, req.EntityID, ask.roleName, ask.role)
	}
	if err != nil {
		return callerResponse(err)
	}

	resp, err := b.handleAsk(ctx, req, ask, cfg)
	if err != nil {
		return callerResponse(err)
	}
	for _, warning := range ask.warnings {
		resp.AddWarning(warning)
	}
	return resp, nil
}

// callerResponse turns a caller's mistake into a 400 response and passes
// every other error on as an internal one.
func callerResponse(err error) (*logical.Response, error) {
	var caller *callerError
	var field *roles.FieldError
	if errors.As(err, &caller) || errors.As(err, &field) {
		return logical.ErrorResponse(err.Error()), nil
	}
	return nil, err
}

// validateAsk checks the role, parameters, TTL, justification and
// break-glass flag of a creds request. Every error it returns is the
// caller's to fix.
func (b *backend) validateAsk(ctx context.Context, req *logical.Request, d *framework.FieldData, cfg *engineConfig) (*grantAsk, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return nil, err
	}

	role, err := b.cachedRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, &callerError{fmt.Sprintf("unknown role %q; list the task roles with: vault list <mount>/roles", name)}
	}

	given, err := requestParameters(req.Data)
	if err != nil {
		return nil, err
	}
	parameters, err := role.model(name).ResolveParameters(given)
	if err != nil {
		return nil, err
	}

	ask := &grantAsk{
		roleName:      name,
		role:          role,
		parameters:    parameters,
		justification: strings.TrimSpace(d.Get("justification").(string)),
		emergency:     d.Get("emergency").(bool),
	}
	if raw, ok := d.Raw["ttl"]; ok {
		requested, err := parseWrittenDuration("ttl", raw)
		if err != nil {
			return nil, &callerError{err.Error()}
		}
		ask.requestedTTL = requested.Value
	}
	if err := b.checkAskRules(ask, cfg); err != nil {
		return nil, err
	}

	b.applyTTLs(ask, cfg)
	return ask, nil
}

// checkAskRules applies the role's rules on justification, break-glass and
// business hours.
func (b *backend) checkAskRules(ask *grantAsk, cfg *engineConfig) error {
	if ask.emergency && !ask.role.AllowEmergency {
		return &callerError{fmt.Sprintf("role %q does not allow break-glass requests; ask without emergency=true, or ask an operator to set allow_emergency", ask.roleName)}
	}
	if ask.emergency && ask.justification == "" {
		return &callerError{`missing "justification": a break-glass request must say why, for example justification="INC-1234 orders stuck"`}
	}
	if ask.role.RequireJustification && ask.justification == "" {
		return &callerError{fmt.Sprintf(`missing "justification": role %q requires one; say why the task needs access`, ask.roleName)}
	}

	if ask.role.BusinessHoursOnly && !ask.emergency {
		hours, err := cfg.hours()
		if err != nil {
			return err
		}
		if !hours.Contains(b.now()) {
			return &callerError{fmt.Sprintf("role %q may be requested only in business hours (%s); ask then, or use break-glass if this is an emergency", ask.roleName, hours.String())}
		}
	}
	return nil
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
	return "", &callerError{fmt.Sprintf("invalid parameter %q: send one string value, for example %s=value", key, key)}
}

// applyTTLs sets the ask's lease TTL and its window, the latest end that
// renewals may reach: the role's max_ttl (or its tier's), capped by the
// engine's max_ttl and the mount's maximum lease TTL. Break-glass grants are
// capped shorter.
func (b *backend) applyTTLs(ask *grantAsk, cfg *engineConfig) {
	tier := ask.role.tierDefaults()
	mountMax := b.System().MaxLeaseTTL()

	window := firstPositive(ask.role.MaxTTL.Value, tier.MaxTTL)
	window = cfg.capTTL(window)
	if mountMax > 0 && window > mountMax {
		window = mountMax
	}
	if ask.emergency && tier.EmergencyMaxTTL > 0 && window > tier.EmergencyMaxTTL {
		window = tier.EmergencyMaxTTL
	}

	// Every tier has a default TTL, so the mount's default, a call into
	// Vault, is never needed here.
	ttl := firstPositive(ask.requestedTTL, ask.role.DefaultTTL.Value, tier.DefaultTTL, cfg.DefaultTTL.Value)
	if ttl > window {
		if ask.requestedTTL > 0 {
			ask.warnings = append(ask.warnings, fmt.Sprintf("ttl %s is longer than this role allows; the grant lasts %s", ask.requestedTTL, window))
		}
		ttl = window
	}

	ask.ttl = ttl
	ask.window = window
}

// defaultTTL is the role's default lease TTL, for scoring a requested TTL.
func (r *roleEntry) defaultTTL() time.Duration {
	return firstPositive(r.DefaultTTL.Value, r.tierDefaults().DefaultTTL)
}

func firstPositive(values ...time.Duration) time.Duration {
	for _, v := range values {
		if v > 0 {
			return v
		}
	}
	return 0
}

// sortedKeys returns the keys of m in order, for stable messages and keys.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const credsHelp = `
Reading creds/<role> asks for a PostgreSQL account that can do the role's
task and nothing else. The engine scores the ask (risk_score and its
risk_factors) and either approves it by policy and returns the account with a
Vault lease, or opens a pending request and returns its request_id, the
approver groups and when it expires, without any secret.

Reading again with the same role and parameters returns that request's
status while it waits; once it is approved, the next read returns the
account, once. The account expires in PostgreSQL (VALID UNTIL) when the lease
does, and the engine drops it when the lease ends or is revoked.

Role parameters go in the query string or body (schema=billing); a value
outside the role's allowed list is rejected before anything runs. ttl asks
for a shorter or longer lease within the role's max_ttl; justification says
why; emergency=true asks for break-glass where the role allows it.

The token must belong to an identity entity (log in through an auth method),
so every request is recorded against a person or pipeline.
`
