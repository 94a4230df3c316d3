package bench

import (
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

const (
	// maxIdleConnections lets 32 concurrent workers keep their TCP
	// connections to Vault. Go's default of 2 idle connections per host
	// would make most requests at concurrency 32 open a new connection.
	maxIdleConnections = 64

	// apiTimeout bounds one request. It is long because a synchronous
	// revoke-prefix can take minutes, unless Vault ends it first at its
	// max_request_duration.
	apiTimeout = 10 * time.Minute
)

// newAPIClient returns a Vault API client for the server at addr with token
// and MaxRetries 0, so a failed request counts as an error instead of being
// retried out of sight. Like the test harness's clients, it uses no proxy,
// follows no redirects and ignores VAULT_* variables other than the token,
// which it replaces.
func newAPIClient(t testing.TB, addr, token string) *api.Client {
	t.Helper()

	transport := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        maxIdleConnections,
		MaxIdleConnsPerHost: maxIdleConnections,
		IdleConnTimeout:     90 * time.Second,
	}
	httpClient := &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	client, err := api.NewClient(&api.Config{
		Address:    addr,
		HttpClient: httpClient,
		Timeout:    apiTimeout,
		MaxRetries: 0,
	})
	if err != nil {
		t.Fatalf("create vault client for %s: %v", addr, err)
	}

	client.SetToken(token)
	client.ClearNamespace()
	client.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	t.Cleanup(transport.CloseIdleConnections)
	return client
}
