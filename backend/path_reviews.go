package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"
)

// reviewPrefix indexes break-glass grants that wait for their post-hoc review.
const reviewPrefix = "reviews/"

func pathReviews(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "reviews/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "reviews",
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:     b.pathReviewsList,
					Summary:      "List the break-glass grants that wait for a post-hoc review.",
					Responses:    listResponses("Request IDs of unreviewed break-glass grants."),
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List the post-hoc review queue.",
			HelpDescription: "Lists the request IDs of break-glass grants that nobody has reviewed yet.",
		},
		{
			Pattern: "reviews/(?P<id>[^/]+)$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "review",
			},
			Fields: map[string]*framework.FieldSchema{
				"id":      {Type: framework.TypeString, Description: "ID of the break-glass request.", Required: true},
				"comment": {Type: framework.TypeString, Description: "The reviewer's finding, kept in the record."},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:     b.pathReviewRead,
					Summary:      "Read a break-glass request's record.",
					Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: requestResponseFields}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     b.pathReviewWrite,
					Summary:      "Record the post-hoc review of a break-glass grant and take it off the queue.",
					Responses:    map[int][]framework.Response{200: {{Description: "The request after the review.", Fields: actionResponseFields}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "complete"},
				},
			},
			HelpSynopsis:    "Review a break-glass grant after the fact.",
			HelpDescription: strings.TrimSpace(reviewHelp),
		},
	}
}

func (b *backend) pathReviewsList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	ids, err := req.Storage.List(ctx, reviewPrefix)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return logical.ListResponse(ids), nil
}

func (b *backend) pathReviewRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	record, err := getRequest(ctx, req.Storage, d.Get("id").(string))
	if err != nil || record == nil || !record.Emergency {
		return nil, err
	}
	return &logical.Response{Data: record.responseData()}, nil
}

// pathReviewWrite closes a post-hoc review. Any approver of the request may
// close it, never the requester.
func (b *backend) pathReviewWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	id := d.Get("id").(string)
	lock := locksutil.LockForKey(b.requestLocks, id)
	lock.Lock()
	defer lock.Unlock()

	record, err := getRequest(ctx, req.Storage, id)
	if err != nil {
		return nil, err
	}
	if record == nil || !record.NeedsReview {
		return logical.ErrorResponse(fmt.Sprintf("request %q has no open post-hoc review; list them with: vault list <mount>/reviews", id)), nil
	}
	if req.EntityID == "" {
		return logical.ErrorResponse("this token has no identity entity; log in through an auth method so the review is recorded against a person"), nil
	}
	if req.EntityID == record.RequesterEntityID {
		return logical.ErrorResponse("the requester cannot review their own break-glass grant; ask an approver of the role"), nil
	}
	if err := b.checkApprover(req.EntityID, record); err != nil {
		return callerResponse(err)
	}

	comment := strings.TrimSpace(d.Get("comment").(string))
	if comment == "" {
		return logical.ErrorResponse(`missing "comment": record what the review found`), nil
	}
	record.NeedsReview = false
	record.addEvent(b.now(), req.EntityID, "reviewed", comment)
	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, reviewPrefix+id); err != nil {
		return nil, fmt.Errorf("close review of request %q: %w", id, err)
	}
	return actionResponse(record, approvalsIn(record.Reviews, record.RequesterEntityID), record.Route.RequiredApprovals, ""), nil
}

const reviewHelp = `
Break-glass grants on tiers 2 and 3 are approved at once and queued here for
review after the fact. An approver of the request reads the record, then
writes reviews/<id> with a comment to close the review.
`
