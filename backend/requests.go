package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
)

// requestPrefix holds one record per request: the audit trail of who asked
// for what, why, what was decided and when the account existed.
const requestPrefix = "requests/"

// requestRecord is the stored record of one request. It never holds a
// password or a connection secret.
type requestRecord struct {
	SchemaVersion     int                  `json:"schema_version"`
	ID                string               `json:"id"`
	Role              string               `json:"role"`
	Connection        string               `json:"connection"`
	ConnectionID      string               `json:"connection_id"`
	RequesterEntityID string               `json:"requester_entity_id"`
	RequesterName     string               `json:"requester_name"`
	RequesterAliases  []string             `json:"requester_aliases"`
	Parameters        map[string]string    `json:"parameters"`
	Justification     string               `json:"justification"`
	Emergency         bool                 `json:"emergency"`
	RequestedTTL      time.Duration        `json:"requested_ttl"`
	ApprovedTTL       time.Duration        `json:"approved_ttl"`
	ApproverCap       time.Duration        `json:"approver_cap"`
	Window            time.Duration        `json:"window"`
	RiskScore         int                  `json:"risk_score"`
	RiskFactors       []approval.Factor    `json:"risk_factors"`
	Route             approval.Route       `json:"route"`
	SecurityGroups    []string             `json:"security_groups"`
	ApproverGroups    []string             `json:"approver_groups"`
	Reviews           []approval.Review    `json:"reviews"`
	Statements        []string             `json:"statements"`
	Status            approval.Status      `json:"status"`
	Deadline          time.Time            `json:"deadline,omitzero"`
	NeedsReview       bool                 `json:"needs_review"`
	SLANotified       bool                 `json:"sla_notified"`
	Username          string               `json:"username,omitempty"`
	CreatedAt         time.Time            `json:"created_at"`
	DecidedAt         time.Time            `json:"decided_at,omitzero"`
	IssuedAt          time.Time            `json:"issued_at,omitzero"`
	ExpiresAt         time.Time            `json:"expires_at,omitzero"`
	WindowEnd         time.Time            `json:"window_end,omitzero"`
	RevokedAt         time.Time            `json:"revoked_at,omitzero"`
	Extensions        []approval.Extension `json:"extensions"`
	Events            []requestEvent       `json:"events"`

	// transitions are the status changes since the record was loaded, for
	// the program figures; saveRequest counts and clears them.
	transitions []statusChange
}

// setStatus moves the request to status and remembers the change.
func (r *requestRecord) setStatus(status approval.Status) {
	if r.Status == status {
		return
	}
	r.transitions = append(r.transitions, statusChange{from: r.Status, to: status})
	r.Status = status
}

// requestEvent is one step in a request's life: who did what, when, and why.
type requestEvent struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

func (r *requestRecord) addEvent(at time.Time, actor, action, detail string) {
	r.Events = append(r.Events, requestEvent{At: at.UTC(), Actor: actor, Action: action, Detail: detail})
}

// upgrade brings a record of an older build to the current schema. Version
// 0 records come from builds without approvals: every one of them was
// issued by policy, so its route records that.
func (r *requestRecord) upgrade() {
	if r.SchemaVersion < 1 && r.Route.Reason == "" {
		r.Route = approval.Route{AutoApprove: true, Reason: "issued before approvals existed"}
	}
	r.SchemaVersion = schemaVersion
}

// state returns the request as the approval package judges it.
func (r *requestRecord) state() approval.RequestState {
	return approval.RequestState{
		Requester: r.RequesterEntityID,
		Status:    r.Status,
		Route:     r.Route,
		Reviews:   r.Reviews,
		ExpiresAt: r.Deadline,
	}
}

// pendingExtension returns the extension awaiting approval, if any.
func (r *requestRecord) pendingExtension() *approval.Extension {
	for i := range r.Extensions {
		if r.Extensions[i].Status == approval.StatusPending {
			return &r.Extensions[i]
		}
	}
	return nil
}

func getRequest(ctx context.Context, s logical.Storage, id string) (*requestRecord, error) {
	record := &requestRecord{}
	found, err := getJSON(ctx, s, requestPrefix+id, record)
	if err != nil || !found {
		return nil, err
	}
	record.upgrade()
	return record, nil
}

// saveRequest stores the record, then counts its status changes in the
// program figures.
func (b *backend) saveRequest(ctx context.Context, s logical.Storage, record *requestRecord) error {
	if err := putJSON(ctx, s, requestPrefix+record.ID, record); err != nil {
		return fmt.Errorf("save request %q: %w", record.ID, err)
	}
	if len(record.transitions) == 0 {
		return nil
	}

	transitions := record.transitions
	record.transitions = nil
	return b.updateMetrics(ctx, s, func(m *programMetrics) { applyTransitions(m, record, transitions) })
}

// responseData returns the record as requests/:id shows it.
func (r *requestRecord) responseData() map[string]any {
	events := make([]map[string]any, 0, len(r.Events))
	for _, e := range r.Events {
		events = append(events, map[string]any{"at": formatTime(e.At), "actor": e.Actor, "action": e.Action, "detail": e.Detail})
	}
	reviews := make([]map[string]any, 0, len(r.Reviews))
	for _, review := range r.Reviews {
		reviews = append(reviews, reviewData(review))
	}
	extensions := make([]map[string]any, 0, len(r.Extensions))
	for _, ext := range r.Extensions {
		extReviews := make([]map[string]any, 0, len(ext.Reviews))
		for _, review := range ext.Reviews {
			extReviews = append(extReviews, reviewData(review))
		}
		extensions = append(extensions, map[string]any{
			"id": ext.ID, "requested_by": ext.RequestedBy, "new_end": formatTime(ext.NewEnd),
			"status": string(ext.Status), "created_at": formatTime(ext.CreatedAt), "reviews": extReviews,
		})
	}

	return map[string]any{
		"id":                  r.ID,
		"role":                r.Role,
		"connection":          r.Connection,
		"requester_entity_id": r.RequesterEntityID,
		"requester_name":      r.RequesterName,
		"parameters":          r.Parameters,
		"justification":       r.Justification,
		"emergency":           r.Emergency,
		"requested_ttl":       int64(r.RequestedTTL / time.Second),
		"approved_ttl":        int64(r.ApprovedTTL / time.Second),
		"risk_score":          r.RiskScore,
		"risk_factors":        factorData(r.RiskFactors),
		"approvers":           r.Route.Groups,
		"required_approvals":  r.Route.RequiredApprovals,
		"decision_reason":     r.Route.Reason,
		"reviews":             reviews,
		"statements":          nonNil(r.Statements),
		"status":              string(r.Status),
		"deadline":            formatTime(r.Deadline),
		"needs_review":        r.NeedsReview,
		"username":            r.Username,
		"created_at":          formatTime(r.CreatedAt),
		"decided_at":          formatTime(r.DecidedAt),
		"issued_at":           formatTime(r.IssuedAt),
		"expires_at":          formatTime(r.ExpiresAt),
		"window_end":          formatTime(r.WindowEnd),
		"revoked_at":          formatTime(r.RevokedAt),
		"extensions":          extensions,
		"events":              events,
	}
}

func reviewData(review approval.Review) map[string]any {
	return map[string]any{
		"approver": review.Approver,
		"decision": string(review.Decision),
		"security": review.Security,
		"at":       formatTime(review.At),
		"comment":  review.Comment,
	}
}

func factorData(factors []approval.Factor) []map[string]any {
	out := make([]map[string]any, 0, len(factors))
	for _, f := range factors {
		out = append(out, map[string]any{"name": f.Name, "points": f.Points, "detail": f.Detail})
	}
	return out
}

// formatTime renders t in RFC 3339 UTC, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
