package backend

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

func pathRequests(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "requests/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "requests",
			},
			Fields: map[string]*framework.FieldSchema{
				"status":     {Type: framework.TypeString, Description: "Only requests with this status: pending, approved, issued, denied, cancelled, expired or revoked.", Query: true},
				"role":       {Type: framework.TypeString, Description: "Only requests for this task role.", Query: true},
				"requester":  {Type: framework.TypeString, Description: "Only requests of this identity entity ID.", Query: true},
				"after":      {Type: framework.TypeString, Description: "Page: only IDs that sort after this one.", Query: true},
				"limit":      {Type: framework.TypeInt, Description: "Page: at most this many IDs; 0 lists all.", Query: true},
				"approvable": {Type: framework.TypeBool, Description: "Only pending requests and extensions the caller may approve now: the caller is a current member of their approver groups and not the requester.", Query: true},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback: b.pathRequestsList,
					Summary:  "List request IDs, optionally filtered, with each request's role, status, requester and creation time.",
					Responses: map[int][]framework.Response{200: {{Description: "OK", Fields: map[string]*framework.FieldSchema{
						"keys":     {Type: framework.TypeStringSlice, Description: "Request IDs."},
						"key_info": {Type: framework.TypeMap, Description: "Per request ID: role, status, requester_entity_id, requester_name, risk_score, created_at."},
					}}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List recorded requests.",
			HelpDescription: strings.TrimSpace(requestsListHelp),
		},
		{
			Pattern: "requests/(?P<id>[^/]+)$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "request",
			},
			Fields: map[string]*framework.FieldSchema{
				"id": {Type: framework.TypeString, Description: "ID of the request.", Required: true},
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
	"requester_name":      {Type: framework.TypeString, Description: "Name of the requester's entity, or its login name."},
	"parameters":          {Type: framework.TypeMap, Description: "Parameter values the requester chose."},
	"justification":       {Type: framework.TypeString, Description: "Why the requester needs the access."},
	"emergency":           {Type: framework.TypeBool, Description: "Whether this is a break-glass request."},
	"requested_ttl":       {Type: framework.TypeDurationSecond, Description: "TTL the requester asked for; 0 when none."},
	"approved_ttl":        {Type: framework.TypeDurationSecond, Description: "Lease TTL the grant gets, after any approver shortened it."},
	"risk_score":          {Type: framework.TypeInt, Description: "Risk score, 0 to 100."},
	"risk_factors":        {Type: framework.TypeSlice, Description: "Each factor of the score: name, points and detail."},
	"approvers":           {Type: framework.TypeStringSlice, Description: "Identity groups whose members may approve."},
	"required_approvals":  {Type: framework.TypeInt, Description: "Distinct approvals the request needs."},
	"decision_reason":     {Type: framework.TypeString, Description: "Why the policy approved the request or routed it to these approvers."},
	"reviews":             {Type: framework.TypeSlice, Description: "Every approval and denial: approver entity, decision, security group, time and comment."},
	"statements":          {Type: framework.TypeStringSlice, Description: "The SQL the grant runs, with the values filled in and the account's name, password and expiry as placeholders."},
	"status":              {Type: framework.TypeString, Description: "pending, approved, issued, denied, cancelled, expired or revoked."},
	"deadline":            {Type: framework.TypeString, Description: "When a pending request or an unclaimed approval expires (RFC 3339, UTC)."},
	"needs_review":        {Type: framework.TypeBool, Description: "Whether a break-glass grant still waits for its post-hoc review."},
	"username":            {Type: framework.TypeString, Description: "Name of the issued account."},
	"created_at":          {Type: framework.TypeString, Description: "When the request was made (RFC 3339, UTC)."},
	"decided_at":          {Type: framework.TypeString, Description: "When it was approved, denied or cancelled."},
	"issued_at":           {Type: framework.TypeString, Description: "When the account was created: the access clock starts here."},
	"expires_at":          {Type: framework.TypeString, Description: "When the account's current lease and VALID UNTIL end."},
	"window_end":          {Type: framework.TypeString, Description: "Latest end renewals can reach; an approved extension moves it."},
	"revoked_at":          {Type: framework.TypeString, Description: "When the account was dropped."},
	"extensions":          {Type: framework.TypeSlice, Description: "Extension rounds with their new end, status and reviews."},
	"events":              {Type: framework.TypeSlice, Description: "Every step with its time, actor, action and detail."},
}

func (b *backend) pathRequestsList(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	filter := requestFilter{
		status:    strings.TrimSpace(d.Get("status").(string)),
		role:      strings.TrimSpace(d.Get("role").(string)),
		requester: strings.TrimSpace(d.Get("requester").(string)),
	}
	if d.Get("approvable").(bool) {
		if req.EntityID == "" {
			return logical.ErrorResponse("approvable=true needs a token with an identity entity; log in through an auth method"), nil
		}
		groups, err := b.entityGroups(req.EntityID)
		if err != nil {
			return nil, err
		}
		filter.approver = req.EntityID
		filter.approverGroups = groups
	}
	if filter.status != "" {
		if _, err := approval.ParseStatus(filter.status); err != nil {
			return logical.ErrorResponse(fmt.Sprintf(`invalid "status": %q; use pending, approved, issued, denied, cancelled, expired or revoked`, filter.status)), nil
		}
	}

	ids, err := b.candidateRequests(ctx, req.Storage, filter)
	if err != nil {
		return nil, err
	}
	limit := d.Get("limit").(int)
	if limit < 0 {
		return logical.ErrorResponse(fmt.Sprintf(`invalid "limit": %d; use 0 for all or a positive page size`, limit)), nil
	}
	sort.Strings(ids)
	ids = page(ids, d.Get("after").(string))

	if filter.empty() && (limit == 0 && len(ids) > maxKeyInfo) {
		resp := logical.ListResponse(ids)
		resp.AddWarning(fmt.Sprintf("%d requests: details are left out above %d; page with limit and after to get them", len(ids), maxKeyInfo))
		return resp, nil
	}

	var keys []string
	info := make(map[string]any)
	for _, id := range ids {
		if limit > 0 && len(keys) == limit {
			break
		}
		record, err := getRequest(ctx, req.Storage, id)
		if err != nil {
			return nil, err
		}
		if record == nil || !filter.matches(record) {
			continue
		}
		keys = append(keys, id)
		info[id] = map[string]any{
			"role":                record.Role,
			"status":              string(record.Status),
			"requester_entity_id": record.RequesterEntityID,
			"requester_name":      record.RequesterName,
			"risk_score":          record.RiskScore,
			"created_at":          formatTime(record.CreatedAt),
		}
	}
	return logical.ListResponseWithInfo(keys, info), nil
}

// maxKeyInfo bounds how many records an unpaged, unfiltered list reads for
// its details.
const maxKeyInfo = 1000

// page returns the sorted IDs after the given one.
func page(sorted []string, after string) []string {
	if after == "" {
		return sorted
	}
	i := sort.SearchStrings(sorted, after)
	if i < len(sorted) && sorted[i] == after {
		i++
	}
	return sorted[i:]
}

type requestFilter struct {
	status, role, requester string

	// approver, when set, keeps only the rounds this entity may approve,
	// given its current groups.
	approver       string
	approverGroups map[string]bool
}

func (f requestFilter) empty() bool {
	return f.status == "" && f.role == "" && f.requester == "" && f.approver == ""
}

func (f requestFilter) matches(record *requestRecord) bool {
	return (f.status == "" || string(record.Status) == f.status) &&
		(f.role == "" || record.Role == f.role) &&
		(f.requester == "" || record.RequesterEntityID == f.requester) &&
		(f.approver == "" || f.mayApprove(record))
}

// mayApprove reports whether the filter's approver could approve the
// request's open round now.
func (f requestFilter) mayApprove(record *requestRecord) bool {
	if record.RequesterEntityID == f.approver {
		return false
	}
	route := record.Route
	if extension := record.pendingExtension(); extension != nil {
		route = extension.Route
	} else if record.Status != approval.StatusPending {
		return false
	}
	for _, review := range record.Reviews {
		if review.Approver == f.approver && extensionFree(record) {
			return false
		}
	}
	return memberOfAny(f.approverGroups, route.Groups)
}

// extensionFree reports whether the record has no pending extension, so its
// own reviews are the open round's.
func extensionFree(record *requestRecord) bool {
	return record.pendingExtension() == nil
}

// candidateRequests returns the request IDs to check against the filter.
// Pending and approved requests come from the index of open requests;
// other filters read every record.
func (b *backend) candidateRequests(ctx context.Context, s logical.Storage, filter requestFilter) ([]string, error) {
	openOnly := filter.status == string(approval.StatusPending) || filter.status == string(approval.StatusApproved)
	if !openOnly && filter.approver == "" {
		// TODO: index records by status and role once stores grow past what
		// one list can read in a request's time.
		ids, err := s.List(ctx, requestPrefix)
		if err != nil {
			return nil, fmt.Errorf("list requests: %w", err)
		}
		return ids, nil
	}

	keys, err := s.List(ctx, openPrefix)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var ids []string
	if filter.approver != "" {
		ids, err = s.List(ctx, extensionPrefix)
		if err != nil {
			return nil, fmt.Errorf("list pending extensions: %w", err)
		}
	}
	for _, key := range keys {
		open := &openEntry{}
		found, err := getJSON(ctx, s, openPrefix+key, open)
		if err != nil {
			return nil, err
		}
		if found {
			ids = append(ids, open.RequestID)
		}
	}
	return ids, nil
}

func (b *backend) pathRequestRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	record, err := getRequest(ctx, req.Storage, d.Get("id").(string))
	if err != nil || record == nil {
		return nil, err
	}
	return &logical.Response{Data: record.responseData()}, nil
}

const requestsListHelp = `
Lists recorded requests: the engine's audit trail. Filter with status, role
and requester (an identity entity ID), for example to see what waits for
approval:

    vault read zsp/requests list=true status=pending

Each key comes with its role, status, requester, risk score and creation
time in key_info.
`

const requestHelp = `
Every read of creds/<role> leaves a request record: who asked (the identity
entity), for which role and parameter values, the account's name, when it was
issued, renewed and revoked, and each step with its actor. Records never hold
passwords.
`
