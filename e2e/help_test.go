package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"
)

var roleFieldNames = []string{
	"connection", "grant_statements", "creation_statements", "revocation_statements",
	"default_ttl", "max_ttl", "username_template", "parameters", "description",
	"risk_tier", "requester_groups", "approver_groups", "required_approvals",
	"security_approver_groups", "auto_approve_max_score", "require_justification",
	"allow_emergency", "oncall_schedule", "business_hours_only", "max_extensions",
	"log_statements",
}

func TestPathHelpDescribesRoleFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	stdout, stderr, err := e.vault.CLI(t, e.vault.Token, "path-help", "zsp/roles/x")
	require.NoError(t, err, stderr)
	for _, field := range roleFieldNames {
		require.Contains(t, stdout, field)
	}
	require.Contains(t, stdout, "{{group}}")
}

func asList(v any) []any {
	list, _ := v.([]any)
	return list
}
