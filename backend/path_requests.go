package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

func pathRequests(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "requests/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "requests",
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:     b.pathRequestsList,
					Summary:      "List the IDs of the recorded requests.",
					Responses:    listResponses("Request IDs."),
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List recorded requests.",
			HelpDescription: "Lists the IDs of every recorded request: the engine's audit trail.",
		},
		{
			Pattern: "requests/" + nameSegment,
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "request",
			},
			Fields: map[string]*framework.FieldSchema{
				"name": {Type: framework.TypeString, Description: "ID of the request.", Required: true},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:     b.pathRequestRead,
					Summary:      "Read a request's record.",
					Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: requestResponseFields}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
			},
			HelpSynopsis:    "Read the record of one request.",
			HelpDescription: strings.TrimSpace(requestHelp),
		},
	}
}

var requestResponseFields = map[string]*framework.FieldSchema{
	"id":                  {Type: framework.TypeString, Description: "Request ID."},
	"role":                {Type: framework.TypeString, Description: "Task role asked for."},
	"connection":          {Type: framework.TypeString, Description: "Connection the account is created on."},
	"requester_entity_id": {Type: framework.TypeString, Description: "Vault identity entity of the requester."},
	"requester_name":      {Type: framework.TypeString, Description: "Display name of the requester's token."},
	"parameters":          {Type: framework.TypeMap, Description: "Parameter values the requester chose."},
	"requested_ttl":       {Type: framework.TypeDurationSecond, Description: "TTL the requester asked for; 0 when none."},
	"status":              {Type: framework.TypeString, Description: "issued, revoked or rolled_back."},
	"username":            {Type: framework.TypeString, Description: "Name of the issued account."},
	"lease_id":            {Type: framework.TypeString, Description: "Vault lease of the account, known once the lease was renewed or revoked."},
	"created_at":          {Type: framework.TypeString, Description: "When the request was made (RFC 3339, UTC)."},
	"issued_at":           {Type: framework.TypeString, Description: "When the account was created."},
	"expires_at":          {Type: framework.TypeString, Description: "When the account's current lease and VALID UNTIL end."},
	"window_end":          {Type: framework.TypeString, Description: "Latest end renewals can reach."},
	"revoked_at":          {Type: framework.TypeString, Description: "When the account was dropped."},
	"events":              {Type: framework.TypeSlice, Description: "Every step with its time, actor, action and detail."},
}

func (b *backend) pathRequestsList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	ids, err := req.Storage.List(ctx, requestPrefix)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return logical.ListResponse(ids), nil
}

func (b *backend) pathRequestRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	record, err := getRequest(ctx, req.Storage, d.Get("name").(string))
	if err != nil || record == nil {
		return nil, err
	}
	return &logical.Response{Data: record.responseData()}, nil
}

const requestHelp = `
Every read of creds/<role> leaves a request record: who asked (the identity
entity), for which role and parameter values, the account's name, when it was
issued, renewed and revoked, and each step with its actor. Records never hold
passwords.
`
