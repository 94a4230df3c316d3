package backend

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMetricsReadWhileUpdating reads the figures, as every creds request
// does, while other requests update them. A shallow copy shared the maps
// with the writers, which the Go runtime ends by aborting the process.
func TestMetricsReadWhileUpdating(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()

	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				require.NoError(t, b.updateMetrics(ctx, b.storage, func(m *programMetrics) {
					m.ByStatus["denied"]++
					m.LiveByRole["r"]++
					m.PrivilegeDuration.observe(time.Second)
				}))
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				_, err := b.recentDenials(ctx, b.storage, "entity-test", time.Now())
				require.NoError(t, err)
				m, err := b.metricsSnapshot(ctx, b.storage)
				require.NoError(t, err)
				_ = metricsJSON(m, 0)
			}
		}()
	}
	wg.Wait()

	m, err := b.metricsSnapshot(ctx, b.storage)
	require.NoError(t, err)
	require.Equal(t, int64(2000), m.ByStatus["denied"])
	require.Equal(t, int64(2000), m.PrivilegeDuration.Count)
}
