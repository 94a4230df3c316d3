package backend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

const (
	// openPrefix indexes the requests that still wait for approval or claim,
	// one per requester, role and parameter values, so a second read finds
	// the first request instead of opening another.
	openPrefix = "open/"

	// denialPrefix records denials per requester as
	// denials/<entity>/<unix time>-<request id>, for the risk score.
	denialPrefix = "denials/"

	// historyPrefix marks the parameter values each requester was granted
	// before, for the risk score.
	historyPrefix = "history/"

	denialWindow = 30 * 24 * time.Hour
)

type openEntry struct {
	RequestID string `json:"request_id"`
}

// openKey identifies a requester's ask for one role with one set of values.
func openKey(entityID, role string, params map[string]string) string {
	return openPrefix + askHash(entityID, role, params)
}

func askHash(entityID, role string, params map[string]string) string {
	h := sha256.New()
	h.Write([]byte(entityID + "\x00" + role))
	for _, key := range sortedKeys(params) {
		h.Write([]byte("\x00" + key + "=" + params[key]))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// handleAsk resumes the requester's open request for the same role and
// values, or opens a new one. The lock on the requester, role and values
// keeps two reads from opening two pending requests. It is released before
// an account is issued by policy, because that opens nothing a second read
// could find, so one pipeline's parallel reads do not wait for each other.
func (b *backend) handleAsk(ctx context.Context, req *logical.Request, ask *grantAsk, cfg *engineConfig) (*logical.Response, error) {
	key := openKey(req.EntityID, ask.roleName, ask.parameters)
	lock := locksutil.LockForKey(b.openLocks, key)
	lock.Lock()
	locked := true
	defer func() {
		if locked {
			lock.Unlock()
		}
	}()

	open := &openEntry{}
	found, err := getJSON(ctx, req.Storage, key, open)
	if err != nil {
		return nil, err
	}
	if found {
		resp, done, err := b.resumeRequest(ctx, req, ask, open.RequestID, key)
		if err != nil || done {
			return resp, err
		}
	}

	record, err := b.newRequestRecord(ctx, req, ask, cfg)
	if err != nil {
		return nil, err
	}
	if !record.Route.AutoApprove {
		return b.openPending(ctx, req, record, cfg, key)
	}

	lock.Unlock()
	locked = false
	return b.issueByPolicy(ctx, req, ask, record, cfg)
}

// resumeRequest returns the status of an open request while it waits, or
// the account once it is approved. done is false when the request
// ended (expired, denied, cancelled) and a new one should be opened.
func (b *backend) resumeRequest(ctx context.Context, req *logical.Request, ask *grantAsk, requestID, key string) (*logical.Response, bool, error) {
	lock := locksutil.LockForKey(b.requestLocks, requestID)
	lock.Lock()
	defer lock.Unlock()

	record, err := getRequest(ctx, req.Storage, requestID)
	if err != nil {
		return nil, false, err
	}
	if record == nil {
		return nil, false, req.Storage.Delete(ctx, key)
	}
	if err := b.expireIfDue(ctx, req.Storage, record); err != nil {
		return nil, false, err
	}

	switch record.Status {
	case approval.StatusPending:
		resp := pendingResponse(record)
		addResumeWarning(resp, ask, record)
		return resp, true, nil
	case approval.StatusApproved:
		resp, err := b.claim(ctx, req, ask, record, key)
		if resp != nil {
			addResumeWarning(resp, ask, record)
		}
		return resp, true, err
	default:
		ask.warnings = append(ask.warnings, endedWarning(record))
		return nil, false, req.Storage.Delete(ctx, key)
	}
}

// addResumeWarning warns the requester that an open request was resumed
// with its own ttl, justification and break-glass flag, not the new ones.
func addResumeWarning(resp *logical.Response, ask *grantAsk, record *requestRecord) {
	if ask.requestedTTL == record.RequestedTTL && ask.justification == record.Justification && ask.emergency == record.Emergency {
		return
	}
	resp.AddWarning(fmt.Sprintf("this is request %s, opened earlier with its own ttl, justification and emergency flag; the new values were ignored. Cancel it (requests/%s/cancel) to ask again differently",
		record.ID, record.ID))
}

// endedWarning returns a warning with the outcome of the requester's
// previous request, for the response that opens a new one.
func endedWarning(record *requestRecord) string {
	reason := ""
	for i := len(record.Reviews) - 1; i >= 0; i-- {
		if record.Reviews[i].Decision == approval.DecisionDeny && record.Reviews[i].Comment != "" {
			reason = fmt.Sprintf(": %q", record.Reviews[i].Comment)
			break
		}
	}
	return fmt.Sprintf("your previous request %s was %s%s; this is a new request", record.ID, record.Status, reason)
}

// openPending stores a request that waits for approvers, indexes it under
// key, and announces it.
func (b *backend) openPending(ctx context.Context, req *logical.Request, record *requestRecord, cfg *engineConfig, key string) (*logical.Response, error) {
	lock := lockRequest(b, record.ID)
	defer lock.Unlock()

	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return nil, err
	}
	if err := putJSON(ctx, req.Storage, key, &openEntry{RequestID: record.ID}); err != nil {
		return nil, err
	}
	b.logger().Info("request waits for approval", "request_id", record.ID, "role", record.Role, "risk_score", record.RiskScore)
	b.notify(cfg, record.ID, fmt.Sprintf("%s asks for %s (risk %d): %s. Approve with: vault write %srequests/%s/approve",
		record.RequesterName, record.Role, record.RiskScore, justificationText(record), req.MountPoint, record.ID))
	return pendingResponse(record), nil
}

// issueByPolicy issues the account of a request the policy approved, and
// queues a break-glass grant for its post-hoc review.
func (b *backend) issueByPolicy(ctx context.Context, req *logical.Request, ask *grantAsk, record *requestRecord, cfg *engineConfig) (*logical.Response, error) {
	lock := lockRequest(b, record.ID)
	defer lock.Unlock()

	now := b.now().UTC()
	record.setStatus(approval.StatusApproved)
	record.DecidedAt = now
	record.addEvent(now, "policy", "approved", record.Route.Reason)
	if record.Route.NeedsReview {
		record.NeedsReview = true
		if err := putJSON(ctx, req.Storage, reviewPrefix+record.ID, &openEntry{RequestID: record.ID}); err != nil {
			return nil, err
		}
		b.notify(cfg, record.ID, fmt.Sprintf("Break-glass: %s was granted %s: %s. Review with: vault write %sreviews/%s comment=...",
			record.RequesterName, record.Role, justificationText(record), req.MountPoint, record.ID))
	}
	return b.issueAccount(ctx, req, ask, record)
}

// claim issues the account of an approved request, once. The requester must
// still be allowed to ask for the role.
//
// The grant takes the TTL, window and break-glass flag of the request as it
// was approved, not of the read that claims it, and the claim is refused when
// the role's SQL or connection changed since: approvers approved that SQL.
func (b *backend) claim(ctx context.Context, req *logical.Request, ask *grantAsk, record *requestRecord, key string) (*logical.Response, error) {
	if err := b.checkRequester(ctx, req.Storage, req.EntityID, ask.roleName, ask.role); err != nil {
		return nil, err
	}
	if ask.role.Connection != record.Connection || !sameStatements(previewStatements(ask), record.Statements) {
		return nil, b.voidChangedApproval(ctx, req.Storage, record, key)
	}

	cfg, err := getConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	ask.requestedTTL = record.RequestedTTL
	ask.justification = record.Justification
	ask.emergency = record.Emergency
	ask.warnings = nil
	b.applyTTLs(ask, cfg)
	if record.ApprovedTTL > 0 && record.ApprovedTTL < ask.ttl {
		ask.ttl = record.ApprovedTTL
	}
	if record.ApproverCap > 0 && record.ApproverCap < ask.window {
		ask.window = record.ApproverCap
	}

	resp, err := b.issueAccount(ctx, req, ask, record)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, key); err != nil {
		return nil, fmt.Errorf("close request %q: %w", record.ID, err)
	}
	return resp, nil
}

// voidChangedApproval cancels an approved request whose role changed before
// the claim, and returns an error that tells the requester to read creds
// again.
func (b *backend) voidChangedApproval(ctx context.Context, s logical.Storage, record *requestRecord, key string) error {
	now := b.now().UTC()
	record.setStatus(approval.StatusCancelled)
	record.addEvent(now, "policy", "cancelled", "the role's statements or connection changed after approval")
	if err := b.saveRequest(ctx, s, record); err != nil {
		return err
	}
	if err := s.Delete(ctx, key); err != nil {
		return fmt.Errorf("close request %q: %w", record.ID, err)
	}
	return &callerError{fmt.Sprintf("role %q changed after request %s was approved, so the approval no longer covers its SQL; read creds again to open a new request", record.Role, record.ID)}
}

func sameStatements(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newRequestRecord scores the ask and routes it.
func (b *backend) newRequestRecord(ctx context.Context, req *logical.Request, ask *grantAsk, cfg *engineConfig) (*requestRecord, error) {
	id, err := uuid.GenerateUUID()
	if err != nil {
		return nil, fmt.Errorf("generate request id: %w", err)
	}
	now := b.now().UTC()

	input, err := b.riskInput(ctx, req, ask, cfg, now)
	if err != nil {
		return nil, err
	}
	score, factors := approval.Score(input)
	identity := b.requesterIdentity(req)
	route, err := approval.Decide(ask.role.policy(cfg), score, ask.emergency, input.OnCall)
	if err != nil {
		return nil, &callerError{fmt.Sprintf("role %q cannot take this request: %v", ask.roleName, err)}
	}

	record := &requestRecord{
		SchemaVersion:     schemaVersion,
		ID:                id,
		Role:              ask.roleName,
		Connection:        ask.role.Connection,
		RequesterEntityID: req.EntityID,
		RequesterName:     identity.name,
		RequesterAliases:  identity.aliases,
		Parameters:        ask.parameters,
		Justification:     ask.justification,
		Emergency:         ask.emergency,
		RequestedTTL:      ask.requestedTTL,
		ApprovedTTL:       ask.ttl,
		Window:            ask.window,
		RiskScore:         score,
		RiskFactors:       factors,
		Route:             route,
		SecurityGroups:    ask.role.SecurityApproverGroups,
		ApproverGroups:    ask.role.ApproverGroups,
		Statements:        previewStatements(ask),
		CreatedAt:         now,
		Deadline:          cfg.expiry().PendingDeadline(now, ask.emergency),
	}
	record.setStatus(approval.StatusPending)
	record.addEvent(now, req.EntityID, "requested", fmt.Sprintf("ttl %s, risk %d; %s", ask.ttl, score, route.Reason))
	return record, nil
}

// riskInput gathers what the score needs: the clock, business hours,
// on-call status, recent denials and whether the values are new to the
// requester.
func (b *backend) riskInput(ctx context.Context, req *logical.Request, ask *grantAsk, cfg *engineConfig, now time.Time) (approval.RiskInput, error) {
	hours, err := cfg.hours()
	if err != nil {
		return approval.RiskInput{}, err
	}
	isOnCall, err := onCall(ctx, req.Storage, ask.role.OncallSchedule, req.EntityID, now)
	if err != nil {
		return approval.RiskInput{}, err
	}
	denials, err := b.recentDenials(ctx, req.Storage, req.EntityID, now)
	if err != nil {
		return approval.RiskInput{}, err
	}
	unusual := false
	if len(ask.parameters) > 0 {
		seen, err := getJSON(ctx, req.Storage, historyKey(req.EntityID, ask.roleName, ask.parameters), &struct{}{})
		if err != nil {
			return approval.RiskInput{}, err
		}
		unusual = !seen
	}

	return approval.RiskInput{
		Tier:              ask.role.RiskTier,
		RequestedTTL:      ask.requestedTTL,
		DefaultTTL:        ask.role.defaultTTL(),
		At:                now,
		Hours:             hours,
		HoursConfigured:   cfg.BusinessHours != "",
		Emergency:         ask.emergency,
		HasSchedule:       ask.role.OncallSchedule != "",
		OnCall:            isOnCall,
		RecentDenials:     denials,
		UnusualParameters: unusual,
	}, nil
}

func historyKey(entityID, role string, params map[string]string) string {
	return historyPrefix + askHash(entityID, role, params)
}

// recentDenials counts the requester's denials in the last 30 days from the
// keys alone, without reading the records.
func (b *backend) recentDenials(ctx context.Context, s logical.Storage, entityID string, now time.Time) (int, error) {
	// The figures count denials; while there has never been one, listing
	// the requester's denials would only cost a call into Vault.
	m, err := b.metricsSnapshot(ctx, s)
	if err != nil {
		return 0, err
	}
	if m.ByStatus[string(approval.StatusDenied)] == 0 {
		return 0, nil
	}

	keys, err := s.List(ctx, denialPrefix+entityID+"/")
	if err != nil {
		return 0, fmt.Errorf("list denials of entity %q: %w", entityID, err)
	}
	count := 0
	for _, key := range keys {
		var unix int64
		if _, err := fmt.Sscanf(key, "%d-", &unix); err == nil && now.Sub(time.Unix(unix, 0)) < denialWindow {
			count++
		}
	}
	return count, nil
}

// previewStatements renders the SQL an approval lets run: the grants given
// to the task's group and the account's creation, with the account's name,
// password and expiry left as placeholders.
func previewStatements(ask *grantAsk) []string {
	group := roles.GroupName(ask.roleName, ask.parameters)
	values := map[string]string{"group": group}
	for key, value := range ask.parameters {
		values[key] = value
	}
	grants, err := roles.RenderStatements(ask.role.GrantStatements, values, postgres.Quoter{})
	if err != nil {
		grants = ask.role.GrantStatements
	}

	values["name"] = "{{name}}"
	values["username"] = "{{name}}"
	values["password"] = "{{password}}"
	values["expiration"] = "{{expiration}}"
	creation, err := roles.RenderStatements(ask.role.model(ask.roleName).Creation(), values, postgres.Quoter{})
	if err != nil {
		creation = ask.role.model(ask.roleName).Creation()
	}
	return append(grants, creation...)
}

// pendingResponse is the response for a request that waits: no secret,
// only its status, score, approvers and deadline.
func pendingResponse(record *requestRecord) *logical.Response {
	resp := &logical.Response{Data: map[string]any{
		"request_id":         record.ID,
		"status":             string(record.Status),
		"risk_score":         record.RiskScore,
		"risk_factors":       factorData(record.RiskFactors),
		"approvers":          nonNil(record.Route.Groups),
		"required_approvals": record.Route.RequiredApprovals,
		"decision_reason":    record.Route.Reason,
		"expires_at":         formatTime(record.Deadline),
	}}
	resp.AddWarning(fmt.Sprintf("request %s waits for %d approval(s) from %v; read the same path again once it is approved", record.ID, record.Route.RequiredApprovals, record.Route.Groups))
	return resp
}

// expireIfDue marks a pending or approved request expired once its deadline
// passed, and closes it.
func (b *backend) expireIfDue(ctx context.Context, s logical.Storage, record *requestRecord) error {
	now := b.now().UTC()
	if !approval.Expired(record.Status, record.Deadline, now) {
		return nil
	}

	detail := "nobody approved it in time"
	if record.Status == approval.StatusApproved {
		detail = "the requester did not read creds in time"
	}
	record.setStatus(approval.StatusExpired)
	record.addEvent(now, "policy", "expired", detail)
	if err := b.saveRequest(ctx, s, record); err != nil {
		return err
	}
	return s.Delete(ctx, openKey(record.RequesterEntityID, record.Role, record.Parameters))
}

func justificationText(record *requestRecord) string {
	if record.Justification == "" {
		return "no justification given"
	}
	return fmt.Sprintf("%q", record.Justification)
}
