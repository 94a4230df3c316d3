package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"
)

// pendingItem is one request or extension the caller may approve, from the
// key_info of requests?approvable=true.
type pendingItem struct {
	ID            string `json:"-"`
	Role          string `json:"role"`
	Status        string `json:"status"`
	RequesterName string `json:"requester_name"`
	RiskScore     int    `json:"risk_score"`
	CreatedAt     string `json:"created_at"`
}

func setupPending(fs *flag.FlagSet) runFunc {
	return func(a *app, mount string, inv invocation) error {
		if len(inv.args) > 0 || inv.dashDash {
			return usagef("pending takes no arguments")
		}
		client, err := a.newClient(mount)
		if err != nil {
			return err
		}

		items, err := client.listApprovable(context.Background())
		if err != nil {
			return err
		}
		return writePending(a.stdout, items, time.Now())
	}
}

// listApprovable lists the pending requests and extensions the caller may
// approve now, oldest first.
func (c *zspClient) listApprovable(ctx context.Context) ([]pendingItem, error) {
	path := c.path("requests")
	// A read with list=true is Vault's LIST operation with a query string.
	secret, err := c.vault.Logical().ReadWithDataWithContext(ctx, path, map[string][]string{"list": {"true"}, "approvable": {"true"}})
	if err != nil {
		return nil, wrapAPIError("list "+path, err)
	}
	if secret == nil {
		return nil, nil
	}

	var listing struct {
		Keys    []string               `json:"keys"`
		KeyInfo map[string]pendingItem `json:"key_info"`
	}
	if err := decodeData(secret.Data, &listing); err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}

	items := make([]pendingItem, 0, len(listing.Keys))
	for _, id := range listing.Keys {
		item := listing.KeyInfo[id]
		item.ID = id
		items = append(items, item)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].CreatedAt < items[j].CreatedAt })
	return items, nil
}

// writePending prints the approvable requests as a table. An issued
// request in the list waits for approval of an extension.
func writePending(w io.Writer, items []pendingItem, now time.Time) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "no requests wait for your approval")
		return err
	}

	table := newTable(w)
	fmt.Fprintln(table, "ID\tROLE\tREQUESTER\tSCORE\tAGE\tWAITS FOR")
	for _, item := range items {
		waitsFor := "access"
		if item.Status == statusIssued {
			waitsFor = "extension"
		}
		fmt.Fprintf(table, "%s\t%s\t%s\t%d\t%s\t%s\n", item.ID, item.Role, item.RequesterName, item.RiskScore, age(item.CreatedAt, now), waitsFor)
	}
	return table.Flush()
}
