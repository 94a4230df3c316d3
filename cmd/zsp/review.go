package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// actionResult is the response of requests/<id>/approve and deny.
type actionResult struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Approvals int    `json:"approvals"`
	Required  int    `json:"required"`
	Extension string `json:"extension"` // status of the extension round, when the review concerned one
}

func setupApprove(fs *flag.FlagSet) runFunc {
	comment := fs.String("comment", "", "why you approve, kept in the request's record")
	ttl := fs.Duration("ttl", 0, "shorten the grant's lease TTL to this, such as 15m; an approver cannot lengthen it")

	return func(a *app, mount string, inv invocation) error {
		id, err := oneArg(inv, "request ID")
		if err != nil {
			return err
		}
		if *ttl < 0 || *ttl%time.Second != 0 {
			return usagef("invalid -ttl %s: use a positive number of whole seconds, such as 15m", *ttl)
		}

		data := map[string]any{"comment": strings.TrimSpace(*comment)}
		if *ttl > 0 {
			data["ttl"] = strconv.FormatInt(int64(*ttl/time.Second), 10)
		}
		return a.review(mount, id, "approve", data)
	}
}

func setupDeny(fs *flag.FlagSet) runFunc {
	comment := fs.String("comment", "", "why you deny: required, shown to the requester and kept in the record")

	return func(a *app, mount string, inv invocation) error {
		id, err := oneArg(inv, "request ID")
		if err != nil {
			return err
		}
		reason := strings.TrimSpace(*comment)
		if reason == "" {
			return usagef(`missing -comment: say why the request is denied, for example -comment "use the runbook instead"`)
		}
		return a.review(mount, id, "deny", map[string]any{"comment": reason})
	}
}

// review writes requests/<id>/<action> and prints the outcome.
func (a *app) review(mount, id, action string, data map[string]any) error {
	client, err := a.newClient(mount)
	if err != nil {
		return err
	}

	path := client.path("requests", id, action)
	secret, err := client.vault.Logical().WriteWithContext(context.Background(), path, data)
	if err != nil {
		return wrapAPIError("write "+path, err)
	}
	result := &actionResult{RequestID: id}
	if secret != nil {
		if err := decodeData(secret.Data, result); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return writeReview(a.stdout, action, result)
}

// writeReview prints what a review changed.
func writeReview(w io.Writer, action string, result *actionResult) error {
	verb := map[string]string{"approve": "approved", "deny": "denied"}[action]
	subject := "request " + result.RequestID
	status := result.Status
	if result.Extension != "" {
		subject = "the extension of request " + result.RequestID
		status = result.Extension
	}

	_, err := fmt.Fprintf(w, "%s %s: %d of %d approvals, now %s\n", verb, subject, result.Approvals, result.Required, status)
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
