package backend

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

func pathMetrics(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "metrics$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "metrics",
		},
		Fields: map[string]*framework.FieldSchema{
			"format": {
				Type:          framework.TypeString,
				Description:   `"json" (default) or "prometheus" for the Prometheus text exposition format, for a scraper that reads through Vault's API with a token.`,
				Default:       "json",
				AllowedValues: []any{"json", "prometheus"},
				Query:         true,
			},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:     b.pathMetricsRead,
				Summary:      "Read the program figures: live grants, issuance, durations, outcomes, approval latency, break-glass use and circumvention attempts.",
				Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: metricsResponseFields}}},
				DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
			},
		},
		HelpSynopsis:    "Program figures for zero standing privilege.",
		HelpDescription: strings.TrimSpace(metricsHelp),
	}}
}

var metricsResponseFields = map[string]*framework.FieldSchema{
	"standing_privileged_accounts":  {Type: framework.TypeInt, Description: "Accounts issued by this engine that exist now."},
	"live_grants_by_role":           {Type: framework.TypeMap, Description: "Live accounts per task role."},
	"live_grants_by_connection":     {Type: framework.TypeMap, Description: "Live accounts per connection."},
	"grants_issued":                 {Type: framework.TypeInt, Description: "Accounts issued since the mount was created."},
	"requests":                      {Type: framework.TypeInt, Description: "Requests made since the mount was created."},
	"requests_by_status":            {Type: framework.TypeMap, Description: "Requests per current status."},
	"privilege_duration_seconds":    {Type: framework.TypeMap, Description: "How long ended grants existed: count, mean, p50, p95."},
	"approval_latency_seconds":      {Type: framework.TypeMap, Description: "Time from request to approval by people: count, mean, p50, p95."},
	"sla_breaches":                  {Type: framework.TypeInt, Description: "Requests that waited longer than approval_sla."},
	"break_glass":                   {Type: framework.TypeInt, Description: "Break-glass requests made."},
	"reviews_open":                  {Type: framework.TypeInt, Description: "Break-glass grants still waiting for their post-hoc review."},
	"circumvention_attempts":        {Type: framework.TypeMap, Description: "Refused attempts by kind: self_approval, non_member_approval, renewal_past_window, outside_requester_groups, unmanaged_privileged_accounts."},
	"unmanaged_privileged_accounts": {Type: framework.TypeMap, Description: "Per connection, privileged accounts not managed by this engine at the last inventory."},
}

func (b *backend) pathMetricsRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	format := d.Get("format").(string)
	if format != "json" && format != "prometheus" {
		return logical.ErrorResponse(fmt.Sprintf(`invalid "format": %q; use json or prometheus`, format)), nil
	}

	m, err := b.metricsSnapshot(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	reviews, err := req.Storage.List(ctx, reviewPrefix)
	if err != nil {
		return nil, fmt.Errorf("list open reviews: %w", err)
	}

	if format == "prometheus" {
		return &logical.Response{Data: map[string]any{
			logical.HTTPContentType: "text/plain; version=0.0.4; charset=utf-8",
			logical.HTTPRawBody:     []byte(prometheusText(m, len(reviews))),
			logical.HTTPStatusCode:  200,
		}}, nil
	}
	return &logical.Response{Data: metricsJSON(m, len(reviews))}, nil
}

func metricsJSON(m *programMetrics, reviewsOpen int) map[string]any {
	return map[string]any{
		"standing_privileged_accounts":  sumValues(m.LiveByRole),
		"live_grants_by_role":           m.LiveByRole,
		"live_grants_by_connection":     m.LiveByConnection,
		"grants_issued":                 m.GrantsIssued,
		"requests":                      m.Requests,
		"requests_by_status":            nonZero(m.ByStatus),
		"privilege_duration_seconds":    histogramSummary(m.PrivilegeDuration),
		"approval_latency_seconds":      histogramSummary(m.ApprovalLatency),
		"sla_breaches":                  m.SLABreaches,
		"break_glass":                   m.BreakGlass,
		"reviews_open":                  reviewsOpen,
		"circumvention_attempts":        m.Circumvention,
		"unmanaged_privileged_accounts": m.UnmanagedAccounts,
	}
}

func histogramSummary(h histogram) map[string]any {
	return map[string]any{"count": h.Count, "mean": h.mean(), "p50": h.quantile(0.5), "p95": h.quantile(0.95)}
}

func sumValues(m map[string]int64) int64 {
	var total int64
	for _, v := range m {
		total += v
	}
	return total
}

func nonZero(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// prometheusText renders the figures in the Prometheus text exposition
// format, version 0.0.4.
func prometheusText(m *programMetrics, reviewsOpen int) string {
	var w strings.Builder
	gauge := func(name, help string, value int64) {
		fmt.Fprintf(&w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, value)
	}
	counter := func(name, help string, value int64) {
		fmt.Fprintf(&w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, value)
	}
	labeled := func(name, kind, help, label string, values map[string]int64) {
		fmt.Fprintf(&w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
		for _, key := range sortedKeys(values) {
			fmt.Fprintf(&w, "%s{%s=%s} %d\n", name, label, strconv.Quote(key), values[key])
		}
	}

	gauge("zsp_standing_privileged_accounts", "Accounts issued by this engine that exist now.", sumValues(m.LiveByRole))
	labeled("zsp_live_grants_by_role", "gauge", "Live accounts per task role.", "role", m.LiveByRole)
	labeled("zsp_live_grants_by_connection", "gauge", "Live accounts per connection.", "connection", m.LiveByConnection)
	counter("zsp_grants_issued_total", "Accounts issued.", m.GrantsIssued)
	counter("zsp_requests_total", "Requests made.", m.Requests)
	labeled("zsp_requests", "gauge", "Requests per current status.", "status", nonZero(m.ByStatus))
	writeHistogram(&w, "zsp_privilege_duration_seconds", "How long ended grants existed.", m.PrivilegeDuration)
	writeHistogram(&w, "zsp_approval_latency_seconds", "Time from request to approval by people.", m.ApprovalLatency)
	counter("zsp_sla_breaches_total", "Requests that waited longer than the approval SLA.", m.SLABreaches)
	counter("zsp_break_glass_total", "Break-glass requests made.", m.BreakGlass)
	gauge("zsp_reviews_open", "Break-glass grants waiting for their post-hoc review.", int64(reviewsOpen))
	labeled("zsp_circumvention_attempts_total", "counter", "Refused attempts to get around the workflow, by kind.", "kind", m.Circumvention)
	labeled("zsp_unmanaged_privileged_accounts", "gauge", "Privileged accounts not managed by this engine, per connection, at the last inventory.", "connection", m.UnmanagedAccounts)
	return w.String()
}

func writeHistogram(w *strings.Builder, name, help string, h histogram) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	if len(h.Counts) != len(h.Bounds)+1 {
		h = newHistogram()
	}
	var cumulative int64
	for i, bound := range h.Bounds {
		cumulative += h.Counts[i]
		fmt.Fprintf(w, "%s_bucket{le=%q} %d\n", name, strconv.FormatFloat(bound, 'f', -1, 64), cumulative)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, h.Count, name, strconv.FormatFloat(h.Sum, 'f', -1, 64), name, h.Count)
}

const metricsHelp = `
The figures a zero-standing-privilege program is run by: how many accounts
exist now (per role and connection), how many were issued, how long grants
lasted (mean, p50, p95), requests by status, how long approvals took and how
often the SLA was breached, break-glass use and open reviews, and refused
attempts to get around the workflow.

The engine keeps counters and fixed-bucket histograms as requests change, so
reading them costs the same however many records there are; p50 and p95 are
estimated within a bucket. format=prometheus returns the Prometheus text
format, for a scraper that reads through Vault's API with a token:

    curl -H "X-Vault-Token: $TOKEN" "$VAULT_ADDR/v1/zsp/metrics?format=prometheus"
`
