package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var roleFieldNames = []string{
	"connection", "grant_statements", "creation_statements", "revocation_statements",
	"default_ttl", "max_ttl", "username_template", "parameters", "description",
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

// TestOpenAPIDescribesEveryField reads the OpenAPI document Vault generates
// and checks every zsp/ operation has a summary and every field a type and a
// description.
func TestOpenAPIDescribesEveryField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	doc := e.openAPIDocument()
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)

	found := 0
	for path, raw := range paths {
		if !strings.HasPrefix(path, "/zsp/") {
			continue
		}
		found++
		item := raw.(map[string]any)
		for _, param := range asList(item["parameters"]) {
			p := param.(map[string]any)
			require.NotEmpty(t, p["description"], "%s parameter %v has no description", path, p["name"])
		}
		for method, rawOp := range item {
			op, ok := rawOp.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			require.NotEmpty(t, op["summary"], "%s %s has no summary", method, path)
			requireFieldsDescribed(t, path, method, op, schemas)
		}
	}
	require.GreaterOrEqual(t, found, 8, "too few zsp/ paths in the OpenAPI document")
}

func requireFieldsDescribed(t *testing.T, path, method string, op map[string]any, schemas map[string]any) {
	t.Helper()
	for _, param := range asList(op["parameters"]) {
		p := param.(map[string]any)
		require.NotEmpty(t, p["description"], "%s %s parameter %v has no description", method, path, p["name"])
	}

	if _, ok := op["requestBody"]; !ok {
		return
	}
	// Vault 1.21 leaves the body's schema empty instead of a $ref; the schema
	// is named after the operation ID: zsp-read-role -> ZspReadRoleRequest.
	schema, ok := schemas[schemaName(op["operationId"].(string))+"Request"].(map[string]any)
	require.True(t, ok, "%s %s has no request schema", method, path)
	properties, _ := schema["properties"].(map[string]any)
	require.NotEmpty(t, properties, "%s %s has a request body with no fields", method, path)
	for name, rawField := range properties {
		field := rawField.(map[string]any)
		require.NotEmpty(t, field["type"], "%s %s field %s has no type", method, path, name)
		require.NotEmpty(t, field["description"], "%s %s field %s has no description", method, path, name)
	}
}

// openAPIDocument fetches the document over plain HTTP: the API client's
// generic read drops the "$ref" keys that link operations to their schemas.
func (e *env) openAPIDocument() map[string]any {
	e.t.Helper()
	req := e.root.NewRequest(http.MethodGet, "/v1/sys/internal/specs/openapi")
	resp, err := e.root.RawRequest(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()

	doc := map[string]any{}
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&doc))
	return doc
}

// schemaName turns an operation ID into Vault's schema name prefix.
func schemaName(operationID string) string {
	var b strings.Builder
	for _, part := range strings.Split(operationID, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func asList(v any) []any {
	list, _ := v.([]any)
	return list
}
