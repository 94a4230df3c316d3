package backend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func pathTidy(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "tidy$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "requests",
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{
				Callback: b.pathTidy,
				Summary:  "Delete request records older than config request_retention; never one whose grant is live or whose request is still open.",
				Responses: map[int][]framework.Response{200: {{Description: "OK", Fields: map[string]*framework.FieldSchema{
					"checked": {Type: framework.TypeInt, Description: "Records read."},
					"deleted": {Type: framework.TypeInt, Description: "Records deleted."},
					"kept":    {Type: framework.TypeInt, Description: "Old records kept because their grant is live or their request is open."},
				}}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "tidy"},
			},
		},
		HelpSynopsis:    "Delete old request records.",
		HelpDescription: strings.TrimSpace(tidyHelp),
	}}
}

// pathTidy reads every record once; it is a maintenance call, not a
// request-time one.
func (b *backend) pathTidy(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	ids, err := req.Storage.List(ctx, requestPrefix)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}

	cutoff := b.now().Add(-cfg.RequestRetention.Value)
	deleted, kept := 0, 0
	for _, id := range ids {
		removed, old, err := b.tidyOne(ctx, req.Storage, id, cutoff)
		if err != nil {
			return nil, err
		}
		switch {
		case removed:
			deleted++
		case old:
			kept++
		}
	}

	b.logger().Info("tidied request records", "checked", len(ids), "deleted", deleted, "kept", kept, "retention", cfg.RequestRetention.Value.String())
	return &logical.Response{Data: map[string]any{"checked": len(ids), "deleted": deleted, "kept": kept}}, nil
}

// tidyOne deletes one record created before cutoff unless its grant is live
// or its request still open. old reports a record past the cutoff.
func (b *backend) tidyOne(ctx context.Context, s logical.Storage, id string, cutoff time.Time) (removed, old bool, err error) {
	lock := lockRequest(b, id)
	defer lock.Unlock()

	record, err := getRequest(ctx, s, id)
	if err != nil || record == nil || !record.CreatedAt.Before(cutoff) {
		return false, false, err
	}
	switch record.Status {
	case approval.StatusIssued, approval.StatusPending, approval.StatusApproved:
		return false, true, nil
	}

	if err := s.Delete(ctx, requestPrefix+id); err != nil {
		return false, true, fmt.Errorf("delete request %q: %w", id, err)
	}
	return true, true, nil
}

const tidyHelp = `
Deletes request records created longer ago than config request_retention
(default 395 days: a year and a month). A record whose grant is live, or
whose request still waits for approval or claim, is always kept.
`
