package backend

import (
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
	"github.com/stretchr/testify/require"
)

func TestConfigReadsBackAsWritten(t *testing.T) {
	b := newTestBackend(t)

	b.mustOK(logical.UpdateOperation, "config", map[string]any{"default_ttl": "30m", "max_ttl": 7200})
	resp := b.mustOK(logical.ReadOperation, "config", nil)
	require.Equal(t, "30m", resp.Data["default_ttl"])
	require.EqualValues(t, 7200, resp.Data["max_ttl"])

	// A partial write keeps the field it does not send.
	b.mustOK(logical.UpdateOperation, "config", map[string]any{"max_ttl": "4h"})
	resp = b.mustOK(logical.ReadOperation, "config", nil)
	require.Equal(t, "30m", resp.Data["default_ttl"])
	require.Equal(t, "4h", resp.Data["max_ttl"])
}

func TestConfigRejectsBadTTLs(t *testing.T) {
	b := newTestBackend(t)
	b.mustOK(logical.UpdateOperation, "config", map[string]any{"default_ttl": "30m", "max_ttl": "1h"})
	before := b.mustOK(logical.ReadOperation, "config", nil).Data

	b.mustReject(logical.UpdateOperation, "config", map[string]any{"default_ttl": "2h"}, `"default_ttl"`, "max_ttl")
	b.mustReject(logical.UpdateOperation, "config", map[string]any{"max_ttl": "-5s"}, "max_ttl")
	b.mustReject(logical.UpdateOperation, "config", map[string]any{"max_ttl": "soon"}, "max_ttl")

	require.Equal(t, before, b.mustOK(logical.ReadOperation, "config", nil).Data)
}
