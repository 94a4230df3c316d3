package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// requestPrefix holds one record per request: the audit trail of who asked
// for what, why, what was decided and when the account existed.
const requestPrefix = "requests/"

// Request statuses.
const (
	statusIssued     = "issued"
	statusRevoked    = "revoked"
	statusRolledBack = "rolled_back"
)

// requestRecord is the stored record of one request. It never holds a
// password or a connection secret.
type requestRecord struct {
	ID                string            `json:"id"`
	Role              string            `json:"role"`
	Connection        string            `json:"connection"`
	ConnectionID      string            `json:"connection_id"`
	RequesterEntityID string            `json:"requester_entity_id"`
	RequesterName     string            `json:"requester_name"`
	Parameters        map[string]string `json:"parameters"`
	RequestedTTL      time.Duration     `json:"requested_ttl"`
	Status            string            `json:"status"`
	Username          string            `json:"username,omitempty"`
	LeaseID           string            `json:"lease_id,omitempty"`
	CreatedAt         time.Time         `json:"created_at"`
	IssuedAt          time.Time         `json:"issued_at,omitzero"`
	ExpiresAt         time.Time         `json:"expires_at,omitzero"`
	WindowEnd         time.Time         `json:"window_end,omitzero"`
	RevokedAt         time.Time         `json:"revoked_at,omitzero"`
	Events            []requestEvent    `json:"events"`
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

func getRequest(ctx context.Context, s logical.Storage, id string) (*requestRecord, error) {
	record := &requestRecord{}
	found, err := getJSON(ctx, s, requestPrefix+id, record)
	if err != nil || !found {
		return nil, err
	}
	return record, nil
}

func putRequest(ctx context.Context, s logical.Storage, record *requestRecord) error {
	if err := putJSON(ctx, s, requestPrefix+record.ID, record); err != nil {
		return fmt.Errorf("save request %q: %w", record.ID, err)
	}
	return nil
}

// responseData returns the record as the requests/:id read shows it.
func (r *requestRecord) responseData() map[string]any {
	events := make([]map[string]any, 0, len(r.Events))
	for _, e := range r.Events {
		events = append(events, map[string]any{
			"at":     formatTime(e.At),
			"actor":  e.Actor,
			"action": e.Action,
			"detail": e.Detail,
		})
	}
	return map[string]any{
		"id":                  r.ID,
		"role":                r.Role,
		"connection":          r.Connection,
		"requester_entity_id": r.RequesterEntityID,
		"requester_name":      r.RequesterName,
		"parameters":          r.Parameters,
		"requested_ttl":       int64(r.RequestedTTL / time.Second),
		"status":              r.Status,
		"username":            r.Username,
		"lease_id":            r.LeaseID,
		"created_at":          formatTime(r.CreatedAt),
		"issued_at":           formatTime(r.IssuedAt),
		"expires_at":          formatTime(r.ExpiresAt),
		"window_end":          formatTime(r.WindowEnd),
		"revoked_at":          formatTime(r.RevokedAt),
		"events":              events,
	}
}

// formatTime renders t in RFC 3339 UTC, or "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
