package backend

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

const configKey = "config"

// defaultRequestRetention keeps request records a year and a month, so a
// yearly access review still finds the whole year.
const defaultRequestRetention = 395 * 24 * time.Hour

// engineConfig holds the engine-wide settings: TTL defaults and caps, request
// expiry, business hours, the approval SLA and notification webhooks.
type engineConfig struct {
	SchemaVersion          int             `json:"schema_version"`
	DefaultTTL             writtenDuration `json:"default_ttl"`
	MaxTTL                 writtenDuration `json:"max_ttl"`
	RequestTTL             writtenDuration `json:"request_ttl"`
	ClaimTTL               writtenDuration `json:"claim_ttl"`
	EmergencyRequestTTL    writtenDuration `json:"emergency_request_ttl"`
	ApprovalSLA            writtenDuration `json:"approval_sla"`
	RequestRetention       writtenDuration `json:"request_retention"`
	BusinessHours          string          `json:"business_hours"`
	Timezone               string          `json:"timezone"`
	SecurityScoreThreshold int             `json:"security_score_threshold"`
	WebhookURLs            []string        `json:"webhook_urls"`
}

// defaultConfig is the configuration before any write.
func defaultConfig() *engineConfig {
	expiry := approval.DefaultExpiry()
	return &engineConfig{
		SchemaVersion:          schemaVersion,
		RequestTTL:             defaultDuration(expiry.RequestTTL),
		ClaimTTL:               defaultDuration(expiry.ClaimTTL),
		EmergencyRequestTTL:    defaultDuration(expiry.EmergencyRequestTTL),
		ApprovalSLA:            defaultDuration(30 * time.Minute),
		RequestRetention:       defaultDuration(defaultRequestRetention),
		Timezone:               "UTC",
		SecurityScoreThreshold: approval.DefaultSecurityThreshold,
	}
}

// defaultDuration is a default in the form a write would use, such as "30m".
func defaultDuration(d time.Duration) writtenDuration {
	form := strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
	return writtenDuration{Value: d, Form: form}
}

func pathConfig(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "config$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "configuration",
		},
		Fields: configFields(framework.TypeSignedDurationSecond),
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:     b.pathConfigRead,
				Summary:      "Read the engine-wide settings.",
				Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: configFields(framework.TypeDurationSecond)}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
			},
			logical.UpdateOperation: &framework.PathOperation{
				Callback:     b.pathConfigWrite,
				Summary:      "Set the engine-wide settings. Fields not sent keep their value.",
				Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "configure"},
			},
		},
		HelpSynopsis:    "Engine-wide settings.",
		HelpDescription: strings.TrimSpace(configHelp),
	}}
}

// configFields declares the fields. Writes take signed durations so that a
// negative value reaches the handler, whose error names the fix.
func configFields(durationType framework.FieldType) map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"default_ttl": {
			Type:         durationType,
			Description:  "Lease TTL for roles whose tier and fields set none. Zero uses the mount's default lease TTL.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Default TTL"},
		},
		"max_ttl": {
			Type:         durationType,
			Description:  "Cap on every grant's window, across all roles. Zero leaves the role's max_ttl and the mount's maximum lease TTL.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Max TTL"},
		},
		"request_ttl": {
			Type:        durationType,
			Description: "How long a request may wait for approval before it expires. Default 24h.",
		},
		"claim_ttl": {
			Type:        durationType,
			Description: "How long an approved request waits for the requester to read creds before it expires. Default 1h.",
		},
		"emergency_request_ttl": {
			Type:        durationType,
			Description: "How long a break-glass request may wait for its one approval. Default 15m.",
		},
		"approval_sla": {
			Type:         durationType,
			Description:  "Time within which approvers should decide; a request pending longer sends one SLA-breach notification. Zero turns it off. Default 30m.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Approval SLA"},
		},
		"request_retention": {
			Type:        durationType,
			Description: "How long tidy keeps request records; records of live grants and open requests are always kept. Default 395 days (9480h).",
		},
		"business_hours": {
			Type:        framework.TypeString,
			Description: `Business hours in the time zone below, such as "mon-fri 09:00-18:00". Empty means none are set: no request counts as outside business hours.`,
		},
		"timezone": {
			Type:        framework.TypeString,
			Description: `IANA time zone of business_hours, such as "Europe/Berlin". Default UTC.`,
		},
		"security_score_threshold": {
			Type:        framework.TypeInt,
			Description: "Risk score at or above which a request needs the role's security_approver_groups. Default 70.",
		},
		"webhook_urls": {
			Type:         framework.TypeCommaStringSlice,
			Description:  `HTTP(S) URLs that receive a JSON message {"text": "..."} (Slack-compatible) for each new pending request, decision, break-glass grant and SLA breach. Chat webhooks carry tokens and reads return the URLs, so limit read access to config in Vault policies; the engine never logs more than a URL's scheme and host.`,
			DisplayAttrs: &framework.DisplayAttributes{Name: "Webhook URLs", Sensitive: true},
		},
	}
}

func (b *backend) pathConfigRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"default_ttl":              cfg.DefaultTTL.readForm(),
		"max_ttl":                  cfg.MaxTTL.readForm(),
		"request_ttl":              cfg.RequestTTL.readForm(),
		"claim_ttl":                cfg.ClaimTTL.readForm(),
		"emergency_request_ttl":    cfg.EmergencyRequestTTL.readForm(),
		"approval_sla":             cfg.ApprovalSLA.readForm(),
		"request_retention":        cfg.RequestRetention.readForm(),
		"business_hours":           cfg.BusinessHours,
		"timezone":                 cfg.Timezone,
		"security_score_threshold": cfg.SecurityScoreThreshold,
		"webhook_urls":             nonNil(cfg.WebhookURLs),
	}}, nil
}

func (b *backend) pathConfigWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if err := applyConfigFields(cfg, d); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if err := cfg.validate(); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	if err := putJSON(ctx, req.Storage, configKey, cfg); err != nil {
		return nil, err
	}
	b.configCache.drop(configKey)
	return nil, nil
}

func applyConfigFields(cfg *engineConfig, d *framework.FieldData) error {
	durations := map[string]*writtenDuration{
		"default_ttl":           &cfg.DefaultTTL,
		"max_ttl":               &cfg.MaxTTL,
		"request_ttl":           &cfg.RequestTTL,
		"claim_ttl":             &cfg.ClaimTTL,
		"emergency_request_ttl": &cfg.EmergencyRequestTTL,
		"approval_sla":          &cfg.ApprovalSLA,
		"request_retention":     &cfg.RequestRetention,
	}
	for field, target := range durations {
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

	if raw, ok := d.GetOk("business_hours"); ok {
		cfg.BusinessHours = strings.TrimSpace(raw.(string))
	}
	if raw, ok := d.GetOk("timezone"); ok {
		cfg.Timezone = strings.TrimSpace(raw.(string))
	}
	if raw, ok := d.GetOk("security_score_threshold"); ok {
		cfg.SecurityScoreThreshold = raw.(int)
	}
	if raw, ok := d.GetOk("webhook_urls"); ok {
		cfg.WebhookURLs = raw.([]string)
	}
	return nil
}

func (c *engineConfig) validate() error {
	if c.MaxTTL.Value > 0 && c.DefaultTTL.Value > c.MaxTTL.Value {
		return fmt.Errorf(`invalid "default_ttl": %s is longer than "max_ttl" %s; lower default_ttl or raise max_ttl`, c.DefaultTTL.Value, c.MaxTTL.Value)
	}
	for field, d := range map[string]writtenDuration{"request_ttl": c.RequestTTL, "claim_ttl": c.ClaimTTL, "emergency_request_ttl": c.EmergencyRequestTTL, "request_retention": c.RequestRetention} {
		if d.Value <= 0 {
			return fmt.Errorf("invalid %q: it must be longer than zero, such as 1h", field)
		}
	}
	if _, err := c.hours(); err != nil {
		return err
	}
	if c.SecurityScoreThreshold < 1 || c.SecurityScoreThreshold > 100 {
		return fmt.Errorf(`invalid "security_score_threshold": %d is out of range; use 1 to 100`, c.SecurityScoreThreshold)
	}
	for _, raw := range c.WebhookURLs {
		if err := validateWebhookURL(raw); err != nil {
			return err
		}
	}
	return nil
}

// hours returns the configured business hours.
func (c *engineConfig) hours() (approval.BusinessHours, error) {
	hours, err := approval.ParseBusinessHours(c.BusinessHours, c.Timezone)
	if err != nil {
		return approval.BusinessHours{}, fmt.Errorf(`invalid "business_hours" or "timezone": %w`, err)
	}
	return hours, nil
}

// expiry returns the request expiry settings.
func (c *engineConfig) expiry() approval.Expiry {
	return approval.Expiry{RequestTTL: c.RequestTTL.Value, ClaimTTL: c.ClaimTTL.Value, EmergencyRequestTTL: c.EmergencyRequestTTL.Value}
}

func validateWebhookURL(raw string) error {
	parsed, err := url.Parse(raw)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		// The URL itself may carry a token, so the message shows only its start.
		return fmt.Errorf(`invalid "webhook_urls": %q is not an http or https URL with a host; send URLs such as https://hooks.example.com/...`, redactURL(raw))
	}
	return nil
}

// redactURL shortens a URL to its scheme and host, for messages and logs.
func redactURL(raw string) string {
	parsed, err := url.Parse(raw)
	if err != nil || parsed.Host == "" {
		if len(raw) > 12 {
			return raw[:12] + "..."
		}
		return raw
	}
	return parsed.Scheme + "://" + parsed.Host + "/..."
}

// getConfig returns the stored configuration, or the defaults when none was
// written.
func getConfig(ctx context.Context, s logical.Storage) (*engineConfig, error) {
	cfg := defaultConfig()
	if _, err := getJSON(ctx, s, configKey, cfg); err != nil {
		return nil, err
	}
	cfg.SchemaVersion = schemaVersion
	return cfg, nil
}

// capTTL applies the engine-wide cap to a grant window.
func (c *engineConfig) capTTL(window time.Duration) time.Duration {
	if c.MaxTTL.Value > 0 && window > c.MaxTTL.Value {
		return c.MaxTTL.Value
	}
	return window
}

const configHelp = `
Engine-wide settings for every task role of this mount.

default_ttl and max_ttl apply where a role and its tier set none; max_ttl
also caps every grant. request_ttl, claim_ttl and emergency_request_ttl
bound how long a request waits for approval and for its claim.
business_hours and timezone feed the risk score ("outside business hours")
and roles with business_hours_only. approval_sla sets when a pending request
sends an SLA-breach notification. webhook_urls receive a Slack-compatible
JSON message for each pending request, decision, break-glass grant and SLA
breach; a failing webhook is logged and never blocks a request. Durations
take seconds or a unit suffix (90s, 30m, 1h).
`
