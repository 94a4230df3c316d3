package bench

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
)

const (
	// scaleSamples is how many times each read of the scale figure is timed.
	scaleSamples = 30

	// listPageSize is the page size of the timed request lists.
	listPageSize = 100

	// scaleProgressSteps is how many progress lines record creation logs.
	scaleProgressSteps = 10

	// scaleWorkers is the number of requesters that create records at once,
	// each with its own identity, because one requester has one open
	// request per role.
	scaleWorkers = 8
)

// scaleFigure is the plugin with many request records stored.
type scaleFigure struct {
	RecordsCreated  int           `json:"records_created"`
	CreateErrors    int           `json:"create_errors"`
	CreateSeconds   float64       `json:"create_seconds"`
	CreatePerSecond float64       `json:"create_per_second"`
	FirstError      string        `json:"first_error,omitempty"`
	Before          scaleReadings `json:"before"` // before the records were created
	After           scaleReadings `json:"after"`
}

// scaleReadings are the reads timed at one store size.
type scaleReadings struct {
	StoredRecords int            `json:"stored_records"`  // keys under requests/
	ListFirstPage latencySummary `json:"list_first_page"` // requests?list=true&limit=100
	ListLaterPage latencySummary `json:"list_later_page"` // the same, after= the middle ID
	Metrics       latencySummary `json:"metrics"`
	Plugin        processMemory  `json:"plugin"`
	VaultServer   processMemory  `json:"vault_server"`
}

// runScale times the list and metrics reads, stores s.Records more request
// records with scaleWorkers workers, and times the reads again.
func runScale(t *testing.T, e *benchEnv, s settings) scaleFigure {
	t.Helper()

	figure := scaleFigure{Before: e.scaleReadings(t)}

	var total runResult
	step := max(s.Records/scaleProgressSteps, 1)
	for done := 0; done < s.Records; done += step {
		total.add(runConcurrently(t.Context(), scaleWorkers, min(step, s.Records-done), e.createCancelledRequest))
		t.Logf("scale: %d of %d request records, %.0f/s, %d errors", len(total.samples), s.Records,
			float64(len(total.samples))/total.elapsed.Seconds(), total.errors)
	}

	figure.RecordsCreated = len(total.samples)
	figure.CreateErrors = total.errors
	figure.CreateSeconds = seconds(total.elapsed)
	figure.CreatePerSecond = round2(float64(len(total.samples)) / total.elapsed.Seconds())
	if total.firstErr != nil {
		figure.FirstError = total.firstErr.Error()
	}

	figure.After = e.scaleReadings(t)
	return figure
}

// createCancelledRequest opens a pending request on the tier 1 role as the
// worker's requester and cancels it, so the worker's next read opens a new
// one. Each call leaves one request record.
func (e *benchEnv) createCancelledRequest(ctx context.Context, worker int) error {
	client := e.workerRequesters[worker]
	path := pluginMount + "/creds/" + roleScale

	pending, err := client.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if pending == nil {
		return fmt.Errorf("read %s: empty response, expected a pending request", path)
	}
	id, _ := pending.Data["request_id"].(string)
	if pending.Data["status"] != "pending" || id == "" {
		return fmt.Errorf("read %s: status %v, expected a pending request", path, pending.Data["status"])
	}

	cancelPath := pluginMount + "/requests/" + id + "/cancel"
	if _, err := client.Logical().WriteWithContext(ctx, cancelPath, nil); err != nil {
		return fmt.Errorf("write %s: %w", cancelPath, err)
	}
	return nil
}

// scaleReadings times the list pages and the metrics read, and reads the
// memory of the plugin and Vault server processes.
func (e *benchEnv) scaleReadings(t *testing.T) scaleReadings {
	t.Helper()

	ids := e.listAllRequests(t)
	middle := ""
	if len(ids) > 0 {
		middle = ids[len(ids)/2]
	}

	readings := scaleReadings{
		StoredRecords: len(ids),
		ListFirstPage: e.timeReads(t, func(ctx context.Context) error { return e.listPage(ctx, "") }),
		ListLaterPage: e.timeReads(t, func(ctx context.Context) error { return e.listPage(ctx, middle) }),
		Metrics:       e.timeReads(t, e.readMetrics),
	}
	readings.Plugin, readings.VaultServer = e.memory(t)
	t.Logf("scale: %d records stored, list p50 %.1f ms, metrics p50 %.1f ms, plugin peak RSS %.1f MB",
		readings.StoredRecords, readings.ListFirstPage.P50Ms, readings.Metrics.P50Ms, readings.Plugin.PeakMB)
	return readings
}

// listAllRequests returns every request ID, from one unpaged list.
func (e *benchEnv) listAllRequests(t *testing.T) []string {
	t.Helper()

	secret, err := e.root.Logical().ListWithContext(t.Context(), pluginMount+"/requests")
	if err != nil {
		t.Fatalf("list %s/requests: %v", pluginMount, err)
	}
	if secret == nil {
		return nil
	}
	raw, _ := secret.Data["keys"].([]any)
	ids := make([]string, 0, len(raw))
	for _, id := range raw {
		ids = append(ids, fmt.Sprint(id))
	}
	return ids
}

// listPage reads one page of listPageSize request IDs after the given one,
// as an approver would.
func (e *benchEnv) listPage(ctx context.Context, after string) error {
	query := url.Values{"list": {"true"}, "limit": {strconv.Itoa(listPageSize)}}
	if after != "" {
		query.Set("after", after)
	}

	secret, err := e.approver.Logical().ReadWithDataWithContext(ctx, pluginMount+"/requests", query)
	if err != nil {
		return fmt.Errorf("list %s/requests page after %q: %w", pluginMount, after, err)
	}
	if secret == nil || secret.Data["keys"] == nil {
		return fmt.Errorf("list %s/requests page after %q: no keys", pluginMount, after)
	}
	return nil
}

func (e *benchEnv) readMetrics(ctx context.Context) error {
	secret, err := e.approver.Logical().ReadWithContext(ctx, pluginMount+"/metrics")
	if err != nil {
		return fmt.Errorf("read %s/metrics: %w", pluginMount, err)
	}
	if secret == nil || secret.Data["requests"] == nil {
		return fmt.Errorf("read %s/metrics: no requests counter", pluginMount)
	}
	return nil
}

// timeReads runs read scaleSamples times, one after the other.
func (e *benchEnv) timeReads(t *testing.T, read func(ctx context.Context) error) latencySummary {
	t.Helper()

	result := runConcurrently(t.Context(), 1, scaleSamples, func(ctx context.Context, _ int) error {
		return read(ctx)
	})
	return summarize(result)
}

// memory reads the memory of the plugin process and of the Vault server.
func (e *benchEnv) memory(t *testing.T) (plugin, server processMemory) {
	t.Helper()

	serverPID, pluginPID := e.processes(t)
	server, err := readProcessMemory(serverPID)
	if err != nil {
		t.Fatalf("read vault server memory: %v", err)
	}
	plugin, err = readProcessMemory(pluginPID)
	if err != nil {
		t.Fatalf("read plugin process memory: %v", err)
	}
	return plugin, server
}
