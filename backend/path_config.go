package backend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const configKey = "config"

// engineConfig holds the engine-wide defaults that apply where a task role
// sets none.
type engineConfig struct {
	DefaultTTL writtenDuration `json:"default_ttl"`
	MaxTTL     writtenDuration `json:"max_ttl"`
}

func pathConfig(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "config$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "configuration",
		},
		Fields: map[string]*framework.FieldSchema{
			"default_ttl": {
				Type:        framework.TypeSignedDurationSecond,
				Description: "Lease TTL for roles that set no default_ttl. Zero uses the mount's default lease TTL.",
				DisplayAttrs: &framework.DisplayAttributes{Name: "Default TTL"},
			},
			"max_ttl": {
				Type:        framework.TypeSignedDurationSecond,
				Description: "Cap on every grant's window, across all roles. Zero leaves only the role's max_ttl and the mount's maximum lease TTL.",
				DisplayAttrs: &framework.DisplayAttributes{Name: "Max TTL"},
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:  b.pathConfigRead,
				Summary:   "Read the engine-wide defaults.",
				Responses: map[int][]framework.Response{200: {{Description: "OK", Fields: configResponseFields}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
			},
			logical.UpdateOperation: &framework.PathOperation{
				Callback:  b.pathConfigWrite,
				Summary:   "Set the engine-wide defaults. Fields not sent keep their value.",
				Responses: map[int][]framework.Response{204: {{Description: "No Content"}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "configure"},
			},
		},
		HelpSynopsis:    "Engine-wide defaults.",
		HelpDescription: strings.TrimSpace(configHelp),
	}}
}

var configResponseFields = map[string]*framework.FieldSchema{
	"default_ttl": {Type: framework.TypeDurationSecond, Description: "Lease TTL for roles that set no default_ttl, as written."},
	"max_ttl":     {Type: framework.TypeDurationSecond, Description: "Cap on every grant's window, as written."},
}

func (b *backend) pathConfigRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"default_ttl": cfg.DefaultTTL.readForm(),
		"max_ttl":     cfg.MaxTTL.readForm(),
	}}, nil
}

func (b *backend) pathConfigWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}

	for field, target := range map[string]*writtenDuration{"default_ttl": &cfg.DefaultTTL, "max_ttl": &cfg.MaxTTL} {
		raw, ok := d.Raw[field]
		if !ok {
			continue
		}
		parsed, err := parseWrittenDuration(field, raw)
		if err != nil {
			return logical.ErrorResponse(err.Error()), nil
		}
		*target = parsed
	}

	if cfg.MaxTTL.Value > 0 && cfg.DefaultTTL.Value > cfg.MaxTTL.Value {
		return logical.ErrorResponse(fmt.Sprintf(`invalid "default_ttl": %s is longer than "max_ttl" %s; lower default_ttl or raise max_ttl`,
			cfg.DefaultTTL.Value, cfg.MaxTTL.Value)), nil
	}

	if err := putJSON(ctx, req.Storage, configKey, cfg); err != nil {
		return nil, err
	}
	return nil, nil
}

// getConfig returns the stored configuration, or the zero configuration when
// none was written.
func getConfig(ctx context.Context, s logical.Storage) (*engineConfig, error) {
	cfg := &engineConfig{}
	if _, err := getJSON(ctx, s, configKey, cfg); err != nil {
		return nil, err
	}
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
Engine-wide defaults for every task role of this mount.

default_ttl is the lease TTL of a grant whose role sets no default_ttl.
max_ttl caps every grant's window; a role's max_ttl and the mount's maximum
lease TTL cap it further. Durations take seconds or a unit suffix (90s, 30m, 1h).
`
