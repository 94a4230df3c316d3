package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
)

// Statuses of a creds response and of a request record, as the engine names
// them.
const (
	statusPending   = "pending"
	statusApproved  = "approved"
	statusIssued    = "issued"
	statusDenied    = "denied"
	statusCancelled = "cancelled"
	statusExpired   = "expired"
	statusRevoked   = "revoked"
)

// secretString is a password or a URL that contains one. fmt prints it as a
// placeholder, so it cannot reach an error or a log by accident. The outputs
// meant to carry the value call reveal.
type secretString string

func (s secretString) String() string   { return "<hidden>" }
func (s secretString) GoString() string { return `"<hidden>"` }
func (s secretString) reveal() string   { return string(s) }

// account is the PostgreSQL account of an issued grant.
type account struct {
	Username      string       `json:"username"`
	Password      secretString `json:"password"`
	Host          string       `json:"host"`
	Port          int          `json:"port"`
	Database      string       `json:"database"`
	ConnectionURL secretString `json:"connection_url"`
}

// riskFactor is one named part of a risk score.
type riskFactor struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
	Detail string `json:"detail"`
}

// credsResponse is one response of creds/<task>: an issued account with its
// lease, or a pending request without any secret.
type credsResponse struct {
	RequestID         string       `json:"request_id"`
	Status            string       `json:"status"`
	RiskScore         int          `json:"risk_score"`
	RiskFactors       []riskFactor `json:"risk_factors"`
	Approvers         []string     `json:"approvers"`
	RequiredApprovals int          `json:"required_approvals"`
	DecisionReason    string       `json:"decision_reason"`
	ExpiresAt         string       `json:"expires_at"`
	account

	LeaseID       string        `json:"-"`
	LeaseDuration time.Duration `json:"-"`
	Warnings      []string      `json:"-"`
	secret        *api.Secret   // the response as Vault sent it, for -format json
}

func (c *credsResponse) issued() bool { return c.Status == statusIssued }

// askCreds reads creds/<task> with query: it opens a request, returns the
// status of the same pending request, or claims the account of an approved
// one.
func (c *zspClient) askCreds(task string, query map[string][]string) (*credsResponse, error) {
	path := c.path("creds", task)

	// The read is never cancelled midway: once Vault has created the
	// account, a dropped response would leave it unused until its lease
	// ends, and the request could not issue it again.
	secret, err := c.vault.Logical().ReadWithDataWithContext(context.Background(), path, query)
	if err != nil {
		return nil, wrapAPIError("read "+path, err)
	}
	if secret == nil {
		return nil, fmt.Errorf("read %s: Vault found nothing there; check the task name and that the engine is mounted at %s/ (set -mount otherwise)", path, c.mount)
	}

	creds, err := newCredsResponse(secret)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return creds, nil
}

// newCredsResponse decodes a creds response and checks it is complete.
func newCredsResponse(secret *api.Secret) (*credsResponse, error) {
	creds := &credsResponse{secret: secret, LeaseID: secret.LeaseID, Warnings: secret.Warnings}
	creds.LeaseDuration = time.Duration(secret.LeaseDuration) * time.Second
	if err := decodeData(secret.Data, creds); err != nil {
		return nil, err
	}

	switch creds.Status {
	case statusIssued:
		if creds.LeaseID == "" || creds.Username == "" || creds.RequestID == "" {
			return nil, fmt.Errorf("issued response of request %q has no lease ID, username or request ID; check that the mount runs the zsp engine", creds.RequestID)
		}
	case statusPending:
		if creds.RequestID == "" {
			return nil, fmt.Errorf("pending response has no request ID; check that the mount runs the zsp engine")
		}
	default:
		return nil, fmt.Errorf("unexpected status %q of request %q: expected issued or pending", creds.Status, creds.RequestID)
	}
	return creds, nil
}
