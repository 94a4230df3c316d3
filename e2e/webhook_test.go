package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// messageSink is a webhook receiver on 127.0.0.1 that keeps every message.
type messageSink struct {
	mu       sync.Mutex
	messages []string
}

func (s *messageSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, body.Text)
	s.mu.Unlock()
}

func (s *messageSink) contains(fragment string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if strings.Contains(m, fragment) {
			return true
		}
	}
	return false
}

func TestWebhooksAnnounceAndNeverBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	people := newTeam(t, e)
	sink := &messageSink{}
	server := httptest.NewServer(sink)

	e.write("zsp/config", map[string]any{"webhook_urls": server.URL + "/hook"})
	e.writeApprovalRole("orders-fix", nil)

	id := requirePending(t, e.creds2(people.requester, "orders-fix"))
	waitFor(t, 10*time.Second, "the pending-request message", func() bool { return sink.contains(id) && sink.contains("asks for orders-fix") })

	_, err := action(people.approver1, id, "approve", nil)
	require.NoError(t, err)
	waitFor(t, 10*time.Second, "the decision message", func() bool { return sink.contains("was approved") })
	e.creds2(people.requester, "orders-fix")

	// With the receiver gone, requests still work and return at once.
	server.Close()
	started := time.Now()
	next := requirePending(t, e.creds2(people.requester, "orders-fix"))
	_, err = action(people.approver1, next, "approve", nil)
	require.NoError(t, err)
	secret := e.creds2(people.requester, "orders-fix")
	e.mustLogin(secret)
	require.Less(t, time.Since(started), 5*time.Second, "a dead webhook slowed the requests down")
}
