package roles

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var groupNamePattern = regexp.MustCompile(`^zsp_([a-z0-9]+(_[a-z0-9]+)*_)?[0-9a-f]{10}$`)

func TestGroupNameForm(t *testing.T) {
	tests := []struct {
		role   string
		params map[string]string
		prefix string
	}{
		{role: "read-schema", params: map[string]string{"schema": "billing"}, prefix: "zsp_read_schema_"},
		{role: "Restart.Billing--App", params: nil, prefix: "zsp_restart_billing_app_"},
		{role: strings.Repeat("r", 128), params: nil, prefix: "zsp_" + strings.Repeat("r", 48) + "_"},
		{role: strings.Repeat("a", 47) + "-b", params: nil, prefix: "zsp_" + strings.Repeat("a", 47) + "_"},
		{role: "日本語", params: nil, prefix: "zsp_"},
		{role: "", params: nil, prefix: "zsp_"},
	}

	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			name := GroupName(tt.role, tt.params)
			require.LessOrEqual(t, len(name), 63)
			require.Regexp(t, groupNamePattern, name)
			require.True(t, strings.HasPrefix(name, tt.prefix), "%q does not start with %q", name, tt.prefix)
			require.Len(t, strings.TrimPrefix(name, tt.prefix), 10)
		})
	}
}

func TestGroupNameDeterministic(t *testing.T) {
	params := map[string]string{"schema": "billing", "table": "orders", "a": "1", "z": "2"}
	first := GroupName("read-schema", params)

	for range 50 {
		copied := map[string]string{}
		for key, value := range params {
			copied[key] = value
		}
		require.Equal(t, first, GroupName("read-schema", copied))
	}
}

func TestGroupNameDiffers(t *testing.T) {
	cases := []struct {
		role   string
		params map[string]string
	}{
		{role: "read-schema", params: nil},
		{role: "read-schema", params: map[string]string{"schema": "billing"}},
		{role: "read-schema", params: map[string]string{"schema": "sales"}},
		{role: "read-schema", params: map[string]string{"schema": "sales", "table": "orders"}},
		{role: "read-schema", params: map[string]string{"schema": "salestable=orders"}},
		{role: "read-schema", params: map[string]string{"schem": "a=sales"}},
		{role: "read_schema", params: nil},
		{role: "Read-Schema", params: nil},
		{role: "read-schemaschema=sales", params: nil},
	}

	seen := map[string]int{}
	for i, c := range cases {
		name := GroupName(c.role, c.params)
		previous, ok := seen[name]
		require.False(t, ok, "cases %d and %d both give %q", previous, i, name)
		seen[name] = i
	}
}
