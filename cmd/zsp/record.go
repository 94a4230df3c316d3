package main

import (
	"context"
	"fmt"
)

// requestRecord is a request as requests/<id> returns it: the audit trail
// of one ask. It never holds a password.
type requestRecord struct {
	ID                string            `json:"id"`
	Role              string            `json:"role"`
	Connection        string            `json:"connection"`
	RequesterEntityID string            `json:"requester_entity_id"`
	RequesterName     string            `json:"requester_name"`
	Parameters        map[string]string `json:"parameters"`
	Justification     string            `json:"justification"`
	Emergency         bool              `json:"emergency"`
	RequestedTTL      int64             `json:"requested_ttl"` // seconds
	ApprovedTTL       int64             `json:"approved_ttl"`  // seconds
	RiskScore         int               `json:"risk_score"`
	RiskFactors       []riskFactor      `json:"risk_factors"`
	Approvers         []string          `json:"approvers"`
	RequiredApprovals int               `json:"required_approvals"`
	DecisionReason    string            `json:"decision_reason"`
	Reviews           []review          `json:"reviews"`
	Statements        []string          `json:"statements"`
	Status            string            `json:"status"`
	Deadline          string            `json:"deadline"`
	NeedsReview       bool              `json:"needs_review"`
	Username          string            `json:"username"`
	CreatedAt         string            `json:"created_at"`
	DecidedAt         string            `json:"decided_at"`
	IssuedAt          string            `json:"issued_at"`
	ExpiresAt         string            `json:"expires_at"`
	WindowEnd         string            `json:"window_end"`
	RevokedAt         string            `json:"revoked_at"`
	Extensions        []extension       `json:"extensions"`
	Events            []event           `json:"events"`

	data map[string]any // the record as Vault sent it, for -format json
}

// review is one approver's decision on a request or an extension.
type review struct {
	Approver string `json:"approver"` // identity entity ID
	Decision string `json:"decision"` // approve or deny
	Security bool   `json:"security"`
	At       string `json:"at"`
	Comment  string `json:"comment"`
}

// extension is one round of asking for more time on an issued grant.
type extension struct {
	ID          string   `json:"id"`
	RequestedBy string   `json:"requested_by"`
	NewEnd      string   `json:"new_end"`
	Status      string   `json:"status"`
	CreatedAt   string   `json:"created_at"`
	Reviews     []review `json:"reviews"`
}

// event is one step in a request's life.
type event struct {
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Detail string `json:"detail"`
}

// approvals counts the distinct approvers who approved, as the engine
// counts them: one approver counts once and the requester never counts.
func (r *requestRecord) approvals() int {
	seen := map[string]bool{}
	for _, rv := range r.Reviews {
		if rv.Decision == "approve" && rv.Approver != r.RequesterEntityID {
			seen[rv.Approver] = true
		}
	}
	return len(seen)
}

// denial returns the review that denied the request, if any.
func (r *requestRecord) denial() *review {
	for i := range r.Reviews {
		if r.Reviews[i].Decision == "deny" {
			return &r.Reviews[i]
		}
	}
	return nil
}

// readRequest reads requests/<id>.
func (c *zspClient) readRequest(ctx context.Context, id string) (*requestRecord, error) {
	path := c.path("requests", id)
	secret, err := c.vault.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, wrapAPIError("read "+path, err)
	}
	if secret == nil {
		return nil, fmt.Errorf("request %s not found at %s; check the ID, or list requests with: vault list %s", id, path, c.path("requests"))
	}

	record := &requestRecord{data: secret.Data}
	if err := decodeData(secret.Data, record); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return record, nil
}
