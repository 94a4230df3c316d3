package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/internal/testenv"
)

// openAPIPaths are the engine's paths as the OpenAPI document lists them,
// with each path parameter written as {}.
var openAPIPaths = []string{
	"/zsp/config",
	"/zsp/connections/", "/zsp/connections/{}", "/zsp/rotate-root/{}",
	"/zsp/roles/", "/zsp/roles/{}", "/zsp/creds/{}",
	"/zsp/requests/", "/zsp/requests/{}",
	"/zsp/requests/{}/approve", "/zsp/requests/{}/deny", "/zsp/requests/{}/cancel",
	"/zsp/requests/{}/revoke", "/zsp/requests/{}/extend",
	"/zsp/reviews/", "/zsp/reviews/{}",
	"/zsp/oncall/", "/zsp/oncall/{}",
	"/zsp/metrics", "/zsp/inventory/{}", "/zsp/inventory/{}/sweep", "/zsp/tidy",
}

// openAPIOperationID is the form of an operation ID built from DisplayAttrs
// with the prefix "zsp", such as zsp-read-role. Without DisplayAttrs Vault
// derives one from the method and path, such as postZspRolesName.
var openAPIOperationID = regexp.MustCompile(`^zsp(-[a-z0-9]+)+$`)

var openAPIMethods = []string{"get", "put", "post", "patch", "delete", "head", "options"}

// TestOpenAPIDocumentIsComplete reads the OpenAPI document of a real Vault
// and fails on every path, operation, parameter, body field and response
// field of zsp/ that is not fully described, listing all of them at once.
func TestOpenAPIDocumentIsComplete(t *testing.T) {
	t.Parallel()
	vault := testenv.StartVault(t, testenv.VaultOptions{})
	vault.Setup(t)

	doc := fetchOpenAPIDocument(t, vault.Client)

	var listed []string
	paths, _ := doc["paths"].(map[string]any)
	for path := range paths {
		if strings.HasPrefix(path, "/zsp/") {
			listed = append(listed, openAPIPathParameter.ReplaceAllString(path, "{}"))
		}
	}
	require.ElementsMatch(t, openAPIPaths, listed, "the zsp/ paths in the OpenAPI document")

	problems := openAPIProblems(doc, "/zsp/")
	if len(problems) > 0 {
		t.Fatalf("the OpenAPI document describes zsp/ incompletely, %d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}

// TestOpenAPICheckListsEveryOffender runs the completeness check on a small
// document with one flaw of each kind.
func TestOpenAPICheckListsEveryOffender(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(openAPIFlawedDocument), &doc))

	problems := openAPIProblems(doc, "/zsp/")

	expected := []string{
		`path /zsp/items/{name}: no summary (HelpSynopsis)`,
		`path /zsp/items/{name}: path parameter "name" is not declared`,
		`get /zsp/items/{name}: no summary`,
		`get /zsp/items/{name}: operationId "getZspItemsName" is not built from DisplayAttrs; set OperationPrefix "zsp" and an OperationVerb`,
		`get /zsp/items/{name}: parameter "format" has no type`,
		`get /zsp/items/{name}: parameter "format" has no description`,
		`get /zsp/items/{name}: response 200 has content but schema ZspReadItemResponse has no properties`,
		`post /zsp/items/{name}: request body field "size" has no description`,
		`post /zsp/items/{name}: request body field "tags" has no item type`,
		`post /zsp/items/{name}: response 200 has no content; declare its fields or answer 204`,
		`delete /zsp/items/{name}: no responses declared`,
		`post /zsp/other: request body has no schema ZspWriteOtherRequest with properties`,
		`post /zsp/other: response 204 has no description`,
	}
	require.ElementsMatch(t, expected, problems)
}

// fetchOpenAPIDocument reads sys/internal/specs/openapi over plain HTTP,
// because the API client's generic read drops the "$ref" keys.
func fetchOpenAPIDocument(t *testing.T, client *api.Client) map[string]any {
	t.Helper()
	req := client.NewRequest(http.MethodGet, "/v1/sys/internal/specs/openapi")
	resp, err := client.RawRequest(req)
	require.NoError(t, err, "GET /v1/sys/internal/specs/openapi")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	doc := map[string]any{}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc), "decode the OpenAPI document")
	return doc
}

var openAPIPathParameter = regexp.MustCompile(`\{[^}]*\}`)

// openAPIProblems returns, sorted, one line for each shortcoming of the
// paths under prefix.
func openAPIProblems(doc map[string]any, prefix string) []string {
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)

	var problems []string
	for path, raw := range paths {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		item, _ := raw.(map[string]any)
		problems = append(problems, openAPIPathProblems(path, item, schemas)...)
	}
	sort.Strings(problems)
	return problems
}

func openAPIPathProblems(path string, item map[string]any, schemas map[string]any) []string {
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("path %s: ", path)+fmt.Sprintf(format, args...))
	}

	// Vault writes a path's HelpSynopsis as the path item's description.
	if openAPIString(item, "description") == "" {
		report("no summary (HelpSynopsis)")
	}

	declared := map[string]bool{}
	for _, raw := range openAPIList(item["parameters"]) {
		parameter, _ := raw.(map[string]any)
		if openAPIString(parameter, "in") == "path" {
			declared[openAPIString(parameter, "name")] = true
		}
		problems = append(problems, openAPIParameterProblems("path "+path, parameter)...)
	}
	for _, match := range openAPIPathParameter.FindAllString(path, -1) {
		if name := strings.Trim(match, "{}"); !declared[name] {
			report("path parameter %q is not declared", name)
		}
	}

	for _, method := range openAPIMethods {
		if op, ok := item[method].(map[string]any); ok {
			problems = append(problems, openAPIOperationProblems(method+" "+path, op, schemas)...)
		}
	}
	return problems
}

func openAPIOperationProblems(where string, op map[string]any, schemas map[string]any) []string {
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}

	if openAPIString(op, "summary") == "" {
		report("no summary")
	}
	operationID := openAPIString(op, "operationId")
	if !openAPIOperationID.MatchString(operationID) {
		report(`operationId %q is not built from DisplayAttrs; set OperationPrefix "zsp" and an OperationVerb`, operationID)
	}

	for _, raw := range openAPIList(op["parameters"]) {
		parameter, _ := raw.(map[string]any)
		problems = append(problems, openAPIParameterProblems(where, parameter)...)
	}

	if body, ok := op["requestBody"].(map[string]any); ok {
		name, properties := openAPIBodyProperties(body, openAPISchemaName(operationID)+"Request", schemas)
		if len(properties) == 0 {
			report("request body has no schema %s with properties", name)
		}
		problems = append(problems, openAPIFieldProblems(where+": request body", properties)...)
	}

	problems = append(problems, openAPIResponseProblems(where, operationID, op, schemas)...)
	return problems
}

// openAPIResponseProblems checks that an operation declares its responses:
// each either has content whose schema lists described fields, or is a 204.
func openAPIResponseProblems(where, operationID string, op map[string]any, schemas map[string]any) []string {
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}

	responses, _ := op["responses"].(map[string]any)
	if len(responses) == 0 {
		report("no responses declared")
	}
	for _, code := range openAPISortedKeys(responses) {
		response, _ := responses[code].(map[string]any)
		if openAPIString(response, "description") == "" {
			report("response %s has no description", code)
		}

		if _, ok := response["content"]; !ok {
			if code != "204" {
				report("response %s has no content; declare its fields or answer 204", code)
			}
			continue
		}
		name, properties := openAPIBodyProperties(response, openAPISchemaName(operationID)+"Response", schemas)
		if len(properties) == 0 {
			report("response %s has content but schema %s has no properties", code, name)
		}
		problems = append(problems, openAPIFieldProblems(fmt.Sprintf("%s: response %s", where, code), properties)...)
	}
	return problems
}

func openAPIParameterProblems(where string, parameter map[string]any) []string {
	name := openAPIString(parameter, "name")
	schema, _ := parameter["schema"].(map[string]any)

	var problems []string
	if openAPIString(schema, "type") == "" {
		problems = append(problems, fmt.Sprintf("%s: parameter %q has no type", where, name))
	}
	if openAPIString(parameter, "description") == "" {
		problems = append(problems, fmt.Sprintf("%s: parameter %q has no description", where, name))
	}
	return problems
}

func openAPIFieldProblems(where string, properties map[string]any) []string {
	var problems []string
	for _, name := range openAPISortedKeys(properties) {
		field, _ := properties[name].(map[string]any)
		fieldType := openAPIString(field, "type")
		if fieldType == "" {
			problems = append(problems, fmt.Sprintf("%s field %q has no type", where, name))
		}
		if openAPIString(field, "description") == "" {
			problems = append(problems, fmt.Sprintf("%s field %q has no description", where, name))
		}
		items, _ := field["items"].(map[string]any)
		if fieldType == "array" && openAPIString(items, "type") == "" {
			problems = append(problems, fmt.Sprintf("%s field %q has no item type", where, name))
		}
	}
	return problems
}

// openAPIBodyProperties returns the schema name and fields of a request
// body or response. Vault 1.21 leaves the content's schema empty instead of
// a "$ref", so without one the schema is looked up by name, the one Vault
// derives from the operation ID.
func openAPIBodyProperties(body map[string]any, name string, schemas map[string]any) (string, map[string]any) {
	content, _ := body["content"].(map[string]any)
	for _, rawMedia := range content {
		media, _ := rawMedia.(map[string]any)
		schema, _ := media["schema"].(map[string]any)
		if ref := openAPIString(schema, "$ref"); ref != "" {
			name = strings.TrimPrefix(ref, "#/components/schemas/")
		}
	}

	schema, _ := schemas[name].(map[string]any)
	properties, _ := schema["properties"].(map[string]any)
	return name, properties
}

// openAPISchemaName turns an operation ID into the prefix of Vault's schema
// names: zsp-read-role becomes ZspReadRole.
func openAPISchemaName(operationID string) string {
	var b strings.Builder
	for _, part := range strings.Split(operationID, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func openAPIString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return strings.TrimSpace(s)
}

func openAPIList(v any) []any {
	list, _ := v.([]any)
	return list
}

func openAPISortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

// openAPIFlawedDocument has at least one flaw of each kind the check looks
// for, a $ref to a schema, and a path outside zsp/ that the check skips.
const openAPIFlawedDocument = `{
  "paths": {
    "/zsp/items/{name}": {
      "description": "",
      "get": {
        "operationId": "getZspItemsName",
        "parameters": [{"name": "format", "in": "query", "schema": {}}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ZspReadItemResponse"}}}}}
      },
      "post": {
        "summary": "Write an item.",
        "operationId": "zsp-write-item",
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "responses": {"200": {"description": "OK"}}
      },
      "delete": {
        "summary": "Delete an item.",
        "operationId": "zsp-delete-item"
      }
    },
    "/zsp/other": {
      "description": "Another path.",
      "post": {
        "summary": "Write the other thing.",
        "operationId": "zsp-write-other",
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "responses": {"204": {}}
      }
    },
    "/sys/ignored": {"get": {}}
  },
  "components": {
    "schemas": {
      "ZspReadItemResponse": {"type": "object"},
      "ZspWriteItemRequest": {"type": "object", "properties": {
        "size": {"type": "integer"},
        "tags": {"type": "array", "description": "Tags.", "items": {}}
      }}
    }
  }
}`
