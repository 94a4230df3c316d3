package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// extensionPrefix indexes the requests whose extension waits for approval.
const extensionPrefix = "pending-extensions/"

// requestAction is one workflow action on requests/:id/<action>.
type requestAction struct {
	name    string
	verb    string
	summary string
	handler func(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error)
}

func pathRequestActions(b *backend) []*framework.Path {
	actions := []requestAction{
		{"approve", "approve", "Approve a pending request or extension. An approver may shorten the grant with ttl, renewals included, never lengthen it.", b.approveRequest},
		{"deny", "deny", "Deny a pending request or extension, with a comment. A denial is final.", b.denyRequest},
		{"cancel", "cancel", "Cancel your own pending or approved request.", b.cancelRequest},
		{"revoke", "revoke", "Drop the request's account now. The requester or an approver of the role may revoke.", b.revokeRequest},
		{"extend", "extend", "Ask to extend an issued grant by ttl; the extension goes through approval again.", b.extendRequest},
	}

	paths := make([]*framework.Path, 0, len(actions))
	for _, action := range actions {
		action := action
		paths = append(paths, &framework.Path{
			Pattern: "requests/(?P<id>[^/]+)/" + action.name + "$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "request",
			},
			Fields: requestActionFields(),
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     b.withRequest(action.handler),
					Summary:      action.summary,
					Responses:    map[int][]framework.Response{200: {{Description: "The request after the action.", Fields: actionResponseFields}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: action.verb},
				},
			},
			HelpSynopsis:    action.summary,
			HelpDescription: strings.TrimSpace(requestActionsHelp),
		})
	}
	return paths
}

func requestActionFields() map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"id":            {Type: framework.TypeString, Description: "ID of the request.", Required: true},
		"comment":       {Type: framework.TypeString, Description: "Why: required to deny, optional otherwise, kept in the record."},
		"ttl":           {Type: framework.TypeSignedDurationSecond, Description: "approve: a shorter grant than asked for; renewals cannot pass it. extend: how much longer the grant should last."},
		"justification": {Type: framework.TypeString, Description: "extend: why the task needs more time."},
	}
}

var actionResponseFields = map[string]*framework.FieldSchema{
	"request_id": {Type: framework.TypeString, Description: "ID of the request."},
	"status":     {Type: framework.TypeString, Description: "Status of the request after the action."},
	"approvals":  {Type: framework.TypeInt, Description: "Distinct approvals so far, in the current round."},
	"required":   {Type: framework.TypeInt, Description: "Approvals the current round needs."},
	"extension":  {Type: framework.TypeString, Description: "Status of the extension round, when the action concerned one."},
	"window_end": {Type: framework.TypeString, Description: "Latest end of the grant, after an approved extension."},
}

// withRequest loads the request under its lock, expires it when due, and
// runs the action; every action needs an identity entity.
func (b *backend) withRequest(handler func(context.Context, *logical.Request, *requestRecord, *framework.FieldData) (*logical.Response, error)) framework.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
		if req.EntityID == "" {
			return logical.ErrorResponse("this token has no identity entity; log in through an auth method so the action is recorded against a person"), nil
		}

		id := d.Get("id").(string)
		lock := locksutil.LockForKey(b.requestLocks, id)
		lock.Lock()
		defer lock.Unlock()

		record, err := getRequest(ctx, req.Storage, id)
		if err != nil {
			return nil, err
		}
		if record == nil {
			return logical.ErrorResponse(fmt.Sprintf("unknown request %q; list requests with: vault list <mount>/requests", id)), nil
		}
		if err := b.expireIfDue(ctx, req.Storage, record); err != nil {
			return nil, err
		}

		resp, err := handler(ctx, req, record, d)
		return callerResponseOr(resp, err)
	}
}

func callerResponseOr(resp *logical.Response, err error) (*logical.Response, error) {
	if err != nil {
		return callerResponse(err)
	}
	return resp, nil
}

func (b *backend) approveRequest(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error) {
	return b.review(ctx, req, record, d, approval.DecisionApprove)
}

func (b *backend) denyRequest(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error) {
	if strings.TrimSpace(d.Get("comment").(string)) == "" {
		return nil, &callerError{`missing "comment": say why the request is denied, for the requester and the record`}
	}
	return b.review(ctx, req, record, d, approval.DecisionDeny)
}

// review adds one approver's decision to the current round (the request, or
// its pending extension) and resolves the round.
func (b *backend) review(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData, decision approval.Decision) (*logical.Response, error) {
	now := b.now().UTC()
	groups, err := b.entityGroups(req.EntityID)
	if err != nil {
		return nil, err
	}

	extension := record.pendingExtension()
	state := record.state()
	if extension != nil {
		state = extension.State(record.RequesterEntityID, record.WindowEnd)
	}
	review := approval.Review{
		Approver: req.EntityID,
		Decision: decision,
		Security: memberOfAny(groups, record.SecurityGroups),
		At:       now,
		Comment:  strings.TrimSpace(d.Get("comment").(string)),
	}
	eligible := memberOfAny(groups, state.Route.Groups)
	if req.EntityID != record.RequesterEntityID && b.sharesAlias(req.EntityID, record.RequesterAliases) {
		b.countAttempt(ctx, req.Storage, attemptSelfApproval, record.ID)
		return nil, reviewError(approval.ErrSelfReview, record, req.EntityID)
	}
	if err := approval.CheckReview(state, review, eligible, now); err != nil {
		switch {
		case errors.Is(err, approval.ErrSelfReview):
			b.countAttempt(ctx, req.Storage, attemptSelfApproval, record.ID)
		case errors.Is(err, approval.ErrNotEligible):
			b.countAttempt(ctx, req.Storage, attemptNonMemberApproval, record.ID)
		}
		return nil, reviewError(err, record, req.EntityID)
	}

	shorter, err := approverTTL(d)
	if err != nil {
		return nil, err
	}
	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if extension != nil {
		if shorter > 0 && record.WindowEnd.Add(shorter).Before(extension.NewEnd) {
			extension.NewEnd = record.WindowEnd.Add(shorter)
		}
		return b.reviewExtension(ctx, req, record, extension, review, cfg)
	}

	record.Reviews = append(record.Reviews, review)
	record.addEvent(now, req.EntityID, string(decision), review.Comment)
	b.applyApproverTTL(record, shorter)
	if err := b.settle(ctx, req, record, cfg); err != nil {
		return nil, err
	}
	return actionResponse(record, approvalsIn(record.Reviews, record.RequesterEntityID), record.Route.RequiredApprovals, ""), nil
}

// reviewError turns a refused review into an error that names the reason.
func reviewError(err error, record *requestRecord, approver string) error {
	switch {
	case errors.Is(err, approval.ErrSelfReview):
		return &callerError{fmt.Sprintf("you cannot review your own request %s, whichever token or login you use; ask one of %v", record.ID, record.Route.Groups)}
	case errors.Is(err, approval.ErrNotEligible):
		return &callerError{fmt.Sprintf("entity %s is not a member of any approver group of request %s (%v); only current members may review", approver, record.ID, record.Route.Groups)}
	case errors.Is(err, approval.ErrAlreadyReviewed):
		return &callerError{fmt.Sprintf("you already reviewed request %s; one approver counts once", record.ID)}
	case errors.Is(err, approval.ErrExpired), errors.Is(err, approval.ErrResolved), errors.Is(err, approval.ErrInvalidReview):
		return &callerError{fmt.Sprintf("request %s: %v", record.ID, err)}
	}
	return err
}

// approverTTL reads the ttl an approver may send to shorten a grant or an
// extension; zero when none was sent.
func approverTTL(d *framework.FieldData) (time.Duration, error) {
	raw, ok := d.Raw["ttl"]
	if !ok {
		return 0, nil
	}
	ttl, err := parseWrittenDuration("ttl", raw)
	if err != nil {
		return 0, &callerError{err.Error()}
	}
	return ttl.Value, nil
}

// applyApproverTTL lets an approver shorten the grant, never lengthen it.
func (b *backend) applyApproverTTL(record *requestRecord, ttl time.Duration) {
	if ttl == 0 || ttl >= record.ApprovedTTL {
		return
	}
	// The cap bounds renewals too, or a renewal would undo the approver's
	// choice.
	record.ApprovedTTL = ttl
	record.ApproverCap = ttl
	record.addEvent(b.now(), "approver", "shortened", fmt.Sprintf("the grant may last %s in all, renewals included", ttl))
}

// settle resolves the request from its reviews and stores the outcome.
func (b *backend) settle(ctx context.Context, req *logical.Request, record *requestRecord, cfg *engineConfig) error {
	now := b.now().UTC()
	switch approval.Resolve(record.Route, record.RequesterEntityID, record.Reviews) {
	case approval.StatusApproved:
		record.setStatus(approval.StatusApproved)
		record.DecidedAt = now
		record.Deadline = cfg.expiry().ClaimDeadline(now)
		record.addEvent(now, "policy", "approved", "quorum reached")
		if record.Route.NeedsReview && !record.NeedsReview {
			record.NeedsReview = true
			if err := putJSON(ctx, req.Storage, reviewPrefix+record.ID, &openEntry{RequestID: record.ID}); err != nil {
				return err
			}
		}
		b.notify(cfg, record.ID, fmt.Sprintf("Request %s for %s was approved; %s can read creds/%s until %s.", record.ID, record.Role, record.RequesterName, record.Role, formatTime(record.Deadline)))
	case approval.StatusDenied:
		record.setStatus(approval.StatusDenied)
		record.DecidedAt = now
		record.addEvent(now, "policy", "denied", "an approver denied it")
		if err := b.closeOpen(ctx, req.Storage, record); err != nil {
			return err
		}
		key := fmt.Sprintf("%s%s/%d-%s", denialPrefix, record.RequesterEntityID, now.Unix(), record.ID)
		if err := putJSON(ctx, req.Storage, key, struct{}{}); err != nil {
			return err
		}
		b.notify(cfg, record.ID, fmt.Sprintf("Request %s of %s for %s was denied.", record.ID, record.RequesterName, record.Role))
	}
	return b.saveRequest(ctx, req.Storage, record)
}

func (b *backend) closeOpen(ctx context.Context, s logical.Storage, record *requestRecord) error {
	key := openKey(record.RequesterEntityID, record.Role, record.Parameters)
	open := &openEntry{}
	found, err := getJSON(ctx, s, key, open)
	if err != nil || !found || open.RequestID != record.ID {
		return err
	}
	return s.Delete(ctx, key)
}

func (b *backend) cancelRequest(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error) {
	if req.EntityID != record.RequesterEntityID {
		return nil, &callerError{fmt.Sprintf("only the requester may cancel request %s", record.ID)}
	}
	if !approval.CanTransition(record.Status, approval.StatusCancelled) {
		return nil, &callerError{fmt.Sprintf("request %s is %s and can no longer be cancelled", record.ID, record.Status)}
	}

	now := b.now().UTC()
	record.setStatus(approval.StatusCancelled)
	record.DecidedAt = now
	record.addEvent(now, req.EntityID, "cancelled", strings.TrimSpace(d.Get("comment").(string)))
	if err := b.closeOpen(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	return actionResponse(record, approvalsIn(record.Reviews, record.RequesterEntityID), record.Route.RequiredApprovals, ""), nil
}

// revokeRequest drops the account now. The lease stays until Vault expires
// or revokes it, and its revocation then finds the account gone.
func (b *backend) revokeRequest(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error) {
	if err := b.checkRequesterOrApprover(req.EntityID, record, "revoke it"); err != nil {
		return nil, err
	}
	if record.Status != approval.StatusIssued {
		return nil, &callerError{fmt.Sprintf("request %s is %s; only an issued request has an account to revoke", record.ID, record.Status)}
	}

	grant := &grantData{RequestID: record.ID, Role: record.Role, Connection: record.Connection, ConnectionID: record.ConnectionID, Username: record.Username}
	client, release, err := b.grantClient(ctx, req.Storage, grant)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := client.DropAccount(ctx, record.Username, nil); err != nil {
		return nil, fmt.Errorf("drop account %q of request %q: %w", record.Username, record.ID, err)
	}

	if err := b.markRevoked(ctx, req.Storage, record, req.EntityID, strings.TrimSpace(d.Get("comment").(string))); err != nil {
		return nil, err
	}
	b.logger().Info("account revoked on request", "request_id", record.ID, "by", req.EntityID, "username", record.Username)
	return actionResponse(record, approvalsIn(record.Reviews, record.RequesterEntityID), record.Route.RequiredApprovals, ""), nil
}

// checkRequesterOrApprover allows the requester and the current members of
// the role's approver and security groups, as recorded with the request.
func (b *backend) checkRequesterOrApprover(entityID string, record *requestRecord, action string) error {
	if entityID == record.RequesterEntityID {
		return nil
	}
	if err := b.checkApprover(entityID, record); err != nil {
		return &callerError{fmt.Sprintf("only the requester or an approver of request %s may %s", record.ID, action)}
	}
	return nil
}

// checkApprover allows current members of the request's approver groups.
func (b *backend) checkApprover(entityID string, record *requestRecord) error {
	groups, err := b.entityGroups(entityID)
	if err != nil {
		return err
	}
	if memberOfAny(groups, record.Route.Groups) || memberOfAny(groups, record.ApproverGroups) || memberOfAny(groups, record.SecurityGroups) {
		return nil
	}
	return &callerError{fmt.Sprintf("entity %s is not a member of any approver group of request %s", entityID, record.ID)}
}

// markRevoked records the revocation and removes the live-grant index entry.
func (b *backend) markRevoked(ctx context.Context, s logical.Storage, record *requestRecord, actor, detail string) error {
	now := b.now().UTC()
	record.setStatus(approval.StatusRevoked)
	record.RevokedAt = now
	if detail == "" {
		detail = "account dropped"
	}
	record.addEvent(now, actor, "revoked", detail)
	if err := closeExtensions(ctx, s, record); err != nil {
		return err
	}
	if err := b.saveRequest(ctx, s, record); err != nil {
		return err
	}
	if err := deleteLiveGrant(ctx, s, record.ConnectionID, record.ID); err != nil {
		return err
	}
	return b.dropRetiredConnection(ctx, s, record.ConnectionID)
}

func (b *backend) extendRequest(ctx context.Context, req *logical.Request, record *requestRecord, d *framework.FieldData) (*logical.Response, error) {
	if req.EntityID != record.RequesterEntityID {
		return nil, &callerError{fmt.Sprintf("only the requester may extend request %s", record.ID)}
	}
	if record.Status != approval.StatusIssued {
		return nil, &callerError{fmt.Sprintf("request %s is %s; only an issued grant can be extended", record.ID, record.Status)}
	}
	if record.pendingExtension() != nil {
		return nil, &callerError{fmt.Sprintf("request %s already has an extension waiting for approval", record.ID)}
	}

	role, err := getRole(ctx, req.Storage, record.Role)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, &callerError{fmt.Sprintf("role %q of request %s no longer exists; ask for a new grant", record.Role, record.ID)}
	}
	if err := approval.CanExtend(approvedExtensions(record), role.MaxExtensions); err != nil {
		return nil, &callerError{fmt.Sprintf("request %s: %v", record.ID, err)}
	}

	extension, err := b.newExtension(ctx, req, record, role, d)
	if err != nil {
		return nil, err
	}
	record.Extensions = append(record.Extensions, *extension)
	record.addEvent(extension.CreatedAt, req.EntityID, "extension requested", fmt.Sprintf("until %s; %s", formatTime(extension.NewEnd), extension.Route.Reason))

	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	pending := &record.Extensions[len(record.Extensions)-1]
	if pending.Route.AutoApprove {
		b.approveExtension(record, pending, "policy")
	} else {
		if err := putJSON(ctx, req.Storage, extensionPrefix+record.ID, &openEntry{RequestID: record.ID}); err != nil {
			return nil, err
		}
		b.notify(cfg, record.ID, fmt.Sprintf("%s asks to extend %s until %s. Approve with: vault write %srequests/%s/approve",
			record.RequesterName, record.Role, formatTime(pending.NewEnd), req.MountPoint, record.ID))
	}
	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	return actionResponse(record, 0, pending.Route.RequiredApprovals, string(pending.Status)), nil
}

// newExtension scores and routes an extension round like a new request.
func (b *backend) newExtension(ctx context.Context, req *logical.Request, record *requestRecord, role *roleEntry, d *framework.FieldData) (*approval.Extension, error) {
	raw, ok := d.Raw["ttl"]
	if !ok {
		return nil, &callerError{`missing "ttl": say how much longer the grant should last, for example ttl=30m`}
	}
	extra, err := parseWrittenDuration("ttl", raw)
	if err != nil || extra.Value <= 0 {
		return nil, &callerError{`invalid "ttl": send how much longer the grant should last, longer than zero, for example ttl=30m`}
	}
	// One extension adds at most one role window, so an extension is never
	// a way around max_ttl's scale.
	maxExtra := firstPositive(role.MaxTTL.Value, role.tierDefaults().MaxTTL)
	if extra.Value > maxExtra {
		return nil, &callerError{fmt.Sprintf(`invalid "ttl": %s is longer than one window of role %q (%s); ask for at most %s`, extra.Value, record.Role, maxExtra, maxExtra)}
	}

	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	ask := &grantAsk{roleName: record.Role, role: role, parameters: record.Parameters, requestedTTL: extra.Value,
		justification: strings.TrimSpace(d.Get("justification").(string))}
	now := b.now().UTC()
	input, err := b.riskInput(ctx, req, ask, cfg, now)
	if err != nil {
		return nil, err
	}
	score, _ := approval.Score(input)
	route, err := approval.Decide(role.policy(cfg), score, false, input.OnCall)
	if err != nil {
		return nil, &callerError{fmt.Sprintf("role %q cannot take this extension: %v", record.Role, err)}
	}

	id, err := uuid.GenerateUUID()
	if err != nil {
		return nil, fmt.Errorf("generate extension id: %w", err)
	}
	start := record.WindowEnd
	if start.Before(now) {
		start = now
	}
	return &approval.Extension{ID: id, RequestedBy: req.EntityID, NewEnd: start.Add(extra.Value), Route: route, Status: approval.StatusPending, CreatedAt: now}, nil
}

// reviewExtension adds a review to the pending extension and resolves it.
func (b *backend) reviewExtension(ctx context.Context, req *logical.Request, record *requestRecord, extension *approval.Extension, review approval.Review, cfg *engineConfig) (*logical.Response, error) {
	extension.Reviews = append(extension.Reviews, review)
	record.addEvent(review.At, review.Approver, string(review.Decision)+" extension", review.Comment)

	switch approval.Resolve(extension.Route, record.RequesterEntityID, extension.Reviews) {
	case approval.StatusApproved:
		b.approveExtension(record, extension, "quorum reached")
		b.notify(cfg, record.ID, fmt.Sprintf("Extension of request %s approved: the grant may last until %s.", record.ID, formatTime(record.WindowEnd)))
	case approval.StatusDenied:
		extension.Status = approval.StatusDenied
		record.addEvent(review.At, "policy", "extension denied", "access still ends at "+formatTime(record.WindowEnd))
		b.notify(cfg, record.ID, fmt.Sprintf("Extension of request %s denied.", record.ID))
	}
	if extension.Status != approval.StatusPending {
		if err := req.Storage.Delete(ctx, extensionPrefix+record.ID); err != nil {
			return nil, fmt.Errorf("close extension of request %q: %w", record.ID, err)
		}
	}
	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	return actionResponse(record, approvalsIn(extension.Reviews, record.RequesterEntityID), extension.Route.RequiredApprovals, string(extension.Status)), nil
}

// approveExtension moves the grant's window end; renewals can then reach it.
func (b *backend) approveExtension(record *requestRecord, extension *approval.Extension, reason string) {
	extension.Status = approval.StatusApproved
	record.WindowEnd = extension.NewEnd
	record.addEvent(b.now(), "policy", "extension approved", fmt.Sprintf("%s; renewals may reach %s", reason, formatTime(record.WindowEnd)))
}

// closeExtensions cancels an extension that can no longer matter because
// the grant ended.
func closeExtensions(ctx context.Context, s logical.Storage, record *requestRecord) error {
	extension := record.pendingExtension()
	if extension == nil {
		return nil
	}
	extension.Status = approval.StatusCancelled
	if err := s.Delete(ctx, extensionPrefix+record.ID); err != nil {
		return fmt.Errorf("close extension of request %q: %w", record.ID, err)
	}
	return nil
}

func approvedExtensions(record *requestRecord) int {
	count := 0
	for _, ext := range record.Extensions {
		if ext.Status == approval.StatusApproved {
			count++
		}
	}
	return count
}

// approvalsIn counts distinct approvers other than the requester.
func approvalsIn(reviews []approval.Review, requester string) int {
	seen := map[string]bool{}
	for _, review := range reviews {
		if review.Approver != requester && review.Decision == approval.DecisionApprove {
			seen[review.Approver] = true
		}
	}
	return len(seen)
}

func actionResponse(record *requestRecord, approvals, required int, extension string) *logical.Response {
	return &logical.Response{Data: map[string]any{
		"request_id": record.ID,
		"status":     string(record.Status),
		"approvals":  approvals,
		"required":   required,
		"extension":  extension,
		"window_end": formatTime(record.WindowEnd),
	}}
}

const requestActionsHelp = `
The workflow's actions on a request:

approve   an approver's approval (one per approver; never the requester's own,
          whatever token or login they use); ttl may shorten the grant
deny      an approver's denial with a comment; a denial is final
cancel    the requester withdraws a pending or approved request
revoke    the requester or an approver drops the account now
extend    the requester asks for more time (ttl); until the extension is
          approved, access still ends at the original time

Approvers must be current members of the request's approver groups when they
act. Approving or denying a request that expired fails with "request expired".
`
