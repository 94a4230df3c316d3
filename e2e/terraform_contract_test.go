package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// terraformExampleDir holds the Terraform example, relative to this package.
const terraformExampleDir = "../bootstrap/terraform"

// terraformWriteOnlyFields lists, per resource of the example, the fields
// that reads never return.
var terraformWriteOnlyFields = map[string][]string{
	"connection": {"password"},
}

// terraformPartialWrites is, per resource of the example, a write of some of
// its fields with values that differ from the example's.
var terraformPartialWrites = map[string]map[string]any{
	"config":             {"approval_sla": "45m", "business_hours": "mon-fri 08:00-17:00"},
	"connection":         {"max_open_connections": 6},
	"oncall_dba":         {"description": "DBA rotation, weekdays"},
	"role_orders_hotfix": {"max_ttl": "45m", "approver_groups": []any{"dba-leads", "sre-leads"}},
	"role_read_schema":   {"default_ttl": 600, "parameters": map[string]any{"schema": []any{"sales"}}},
}

// TestTerraformExampleContract applies the bodies of
// bootstrap/terraform/main.tf over Vault's HTTP API the way the Terraform
// Vault provider's vault_generic_endpoint does. It checks what the provider
// relies on. A read returns what was written, a second identical write
// changes nothing, a partial write changes only the fields sent, and a
// delete makes the next read return 404.
func TestTerraformExampleContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// newEnv wrote connections/main for the other tests, but the example
	// creates it itself.
	_, err := e.root.Logical().Delete("zsp/connections/main")
	require.NoError(t, err)

	example := loadTerraformExample(t, terraformExampleDir, map[string]cty.Value{
		"postgres_connection_url": cty.StringVal(e.pg.ConnectionURLTemplate()),
		"postgres_admin_username": cty.StringVal(e.pg.User),
		"postgres_admin_password": cty.StringVal(e.pg.Password),
		"dba_oncall_shifts": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
			"members": cty.ListVal([]cty.Value{cty.StringVal("3f1c7a52-0000-4000-8000-00000000dba1")}),
			"start":   cty.StringVal("2026-12-07T09:00:00Z"),
			"end":     cty.StringVal("2026-12-14T09:00:00+01:00"),
		})}),
	})
	require.Equal(t, "zsp", example.mountPath, "vault_mount.zsp path")
	require.Equal(t, "vault-plugin-secrets-zsp", example.mountType, "vault_mount.zsp type")

	var names []string
	for _, endpoint := range example.endpoints {
		names = append(names, endpoint.name)
	}
	require.ElementsMatch(t, []string{"config", "connection", "oncall_dba", "role_orders_hotfix", "role_read_schema"}, names,
		"the vault_generic_endpoint resources of main.tf changed; cover the new ones in terraformPartialWrites and terraformWriteOnlyFields")

	for _, endpoint := range example.endpoints {
		t.Run("apply "+endpoint.name, func(t *testing.T) {
			requireEndpointContract(t, e, endpoint)
		})
	}

	// Terraform destroys dependents first, so in the reverse apply order.
	for _, endpoint := range slices.Backward(example.endpoints) {
		t.Run("destroy "+endpoint.name, func(t *testing.T) {
			requireEndpointDestroys(t, e.root, endpoint)
		})
	}
}

// requireEndpointContract writes one resource's body and checks each step of
// the contract on it.
func requireEndpointContract(t *testing.T, e *env, endpoint terraformEndpoint) {
	t.Helper()
	written := endpoint.body(t)
	require.False(t, endpoint.disableRead, "%s sets disable_read, which turns off drift detection", endpoint.name)

	// A path with a delete operation is absent before the first apply, so
	// the first write is a create.
	if !endpoint.disableDelete {
		existing, err := e.root.Logical().Read(endpoint.path)
		require.NoError(t, err, "read %s before the first write", endpoint.path)
		require.Nil(t, existing, "%s exists before the first write", endpoint.path)
	}

	_, err := e.root.Logical().Write(endpoint.path, written)
	require.NoError(t, err, "write %s", endpoint.path)
	first := readEndpoint(t, e.root, endpoint.path)
	requireReadMatchesWrite(t, endpoint, written, first)
	require.Empty(t, providerDrift(endpoint, written, first), "terraform plan would show drift on %s", endpoint.name)

	// A second apply of the same body.
	_, err = e.root.Logical().Write(endpoint.path, written)
	require.NoError(t, err, "write %s again", endpoint.path)
	second := readEndpoint(t, e.root, endpoint.path)
	require.Equal(t, normalizeJSON(t, first), normalizeJSON(t, second), "an identical write to %s changed what a read returns", endpoint.path)

	partial, ok := terraformPartialWrites[endpoint.name]
	require.True(t, ok, "no partial write for %s in terraformPartialWrites; add one", endpoint.name)
	for field, value := range partial {
		require.False(t, jsonEqual(value, second[field]), "partial write of %s sends %q with its current value; pick another value", endpoint.name, field)
	}
	_, err = e.root.Logical().Write(endpoint.path, partial)
	require.NoError(t, err, "partial write %s", endpoint.path)
	requireOnlySentFieldsChanged(t, endpoint.path, second, partial, readEndpoint(t, e.root, endpoint.path))

	// The next apply writes the whole body again and must undo the change.
	_, err = e.root.Logical().Write(endpoint.path, written)
	require.NoError(t, err, "write %s after the partial write", endpoint.path)
	restored := readEndpoint(t, e.root, endpoint.path)
	require.Equal(t, normalizeJSON(t, first), normalizeJSON(t, restored), "writing the body again did not restore %s", endpoint.path)
}

// requireReadMatchesWrite checks every written field against the read: the
// same value in the same form, or absent when the field is write only. It
// reports every mismatch at once.
func requireReadMatchesWrite(t *testing.T, endpoint terraformEndpoint, written, read map[string]any) {
	t.Helper()
	writeOnly := terraformWriteOnlyFields[endpoint.name]
	readJSON := normalizeJSON(t, read)

	var problems []string
	for _, field := range sortedKeys(written) {
		got, returned := readJSON[field]
		want := normalizeValue(written[field])
		switch {
		case slices.Contains(writeOnly, field) && returned:
			problems = append(problems, fmt.Sprintf("write-only field %q is returned by reads", field))
		case slices.Contains(writeOnly, field):
		case !returned:
			problems = append(problems, fmt.Sprintf("field %q is written but not returned", field))
		case !jsonEqual(want, got):
			problems = append(problems, fmt.Sprintf("field %q: wrote %s, read %s", field, dump(want), dump(got)))
		}
	}

	if !endpoint.ignoreAbsentFields {
		for _, field := range sortedKeys(read) {
			if _, ok := written[field]; !ok {
				problems = append(problems, fmt.Sprintf("field %q is returned but not written, and ignore_absent_fields is off", field))
			}
		}
	}

	for _, field := range writeOnly {
		if secret, ok := written[field].(string); ok && secret != "" && strings.Contains(dump(read), secret) {
			problems = append(problems, fmt.Sprintf("the value of write-only field %q appears in the read", field))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%s: the read differs from the body of main.tf:\n  %s", endpoint.path, strings.Join(problems, "\n  "))
	}
}

// providerDrift returns the fields in which the provider's view of a read
// differs from the body. The view is computed as vault_generic_endpoint
// computes it. With ignore_absent_fields it starts from the body and takes
// from the read only the fields the body has, so a field the read leaves out
// keeps the body's value. Without it the view is the whole read.
func providerDrift(endpoint terraformEndpoint, written, read map[string]any) []string {
	view := read
	if endpoint.ignoreAbsentFields {
		view = make(map[string]any, len(written))
		for field, value := range written {
			view[field] = value
			if readValue, ok := read[field]; ok {
				view[field] = readValue
			}
		}
	}

	var drift []string
	for _, field := range sortedKeys(mergeKeys(written, view)) {
		if dump(normalizeValue(written[field])) != dump(normalizeValue(view[field])) {
			drift = append(drift, field)
		}
	}
	return drift
}

// requireOnlySentFieldsChanged compares the reads before and after a partial
// write: each sent field has the sent value, every other field is unchanged.
func requireOnlySentFieldsChanged(t *testing.T, path string, before, partial, after map[string]any) {
	t.Helper()
	beforeJSON := normalizeJSON(t, before)
	afterJSON := normalizeJSON(t, after)
	sentJSON := normalizeJSON(t, partial)

	var problems []string
	for _, field := range sortedKeys(mergeKeys(beforeJSON, afterJSON)) {
		want := beforeJSON[field]
		if sent, ok := sentJSON[field]; ok {
			want = sent
		}
		got, ok := afterJSON[field]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("field %q disappeared", field))
		case !jsonEqual(want, got):
			problems = append(problems, fmt.Sprintf("field %q: expected %s, read %s", field, dump(want), dump(got)))
		}
	}
	if len(problems) > 0 {
		t.Fatalf("partial write %s of %s:\n  %s", dump(partial), path, strings.Join(problems, "\n  "))
	}
}

// requireEndpointDestroys deletes what one resource wrote, as terraform
// destroy does, and checks the next read returns 404. For a resource with
// disable_delete it checks instead that the path has no delete operation,
// which is why the example sets it.
func requireEndpointDestroys(t *testing.T, client *api.Client, endpoint terraformEndpoint) {
	t.Helper()

	_, err := client.Logical().Delete(endpoint.path)
	if endpoint.disableDelete {
		var respErr *api.ResponseError
		require.ErrorAs(t, err, &respErr, "%s sets disable_delete, but DELETE %s succeeded; drop disable_delete", endpoint.name, endpoint.path)
		require.Equal(t, http.StatusMethodNotAllowed, respErr.StatusCode, err.Error())
		return
	}

	require.NoError(t, err, "delete %s", endpoint.path)
	secret, err := client.Logical().Read(endpoint.path)
	require.NoError(t, err, "read %s after delete", endpoint.path)
	require.Nil(t, secret, "read %s after delete returned data instead of 404", endpoint.path)
}

// readEndpoint reads a path as the provider does and fails on 404.
func readEndpoint(t *testing.T, client *api.Client, path string) map[string]any {
	t.Helper()
	secret, err := client.Logical().Read(path)
	require.NoError(t, err, "read %s", path)
	require.NotNil(t, secret, "read %s returned 404 after a write", path)
	return secret.Data
}

// normalizeJSON turns a response or body into the values plain JSON decoding
// gives (numbers as float64), so data from the API client and from main.tf
// compare equal when their JSON is equal.
func normalizeJSON(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	encoded, err := json.Marshal(data)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(encoded, &out))
	return out
}

func normalizeValue(value any) any {
	encoded, _ := json.Marshal(value)
	var out any
	_ = json.Unmarshal(encoded, &out)
	return out
}

func jsonEqual(want, got any) bool {
	return dump(normalizeValue(want)) == dump(normalizeValue(got))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func mergeKeys(a, b map[string]any) map[string]any {
	merged := make(map[string]any, len(a)+len(b))
	for key := range a {
		merged[key] = nil
	}
	for key := range b {
		merged[key] = nil
	}
	return merged
}

// terraformExample is the Terraform example evaluated for one test: the
// mount, and the vault_generic_endpoint resources in an order Terraform
// could apply them in.
type terraformExample struct {
	mountPath string
	mountType string
	endpoints []terraformEndpoint
}

// terraformEndpoint is one vault_generic_endpoint resource with its
// arguments evaluated.
type terraformEndpoint struct {
	name               string
	path               string
	dataJSON           string
	ignoreAbsentFields bool
	disableDelete      bool
	disableRead        bool
	dependsOn          []string // names of the vault_generic_endpoint resources it needs first
}

// body decodes data_json as the provider does, with numbers as float64.
func (te terraformEndpoint) body(t *testing.T) map[string]any {
	t.Helper()
	body := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(te.dataJSON), &body), "data_json of %s", te.name)
	return body
}

// terraformEndpointArguments are the vault_generic_endpoint arguments this
// test evaluates. Any other argument in main.tf fails the test, so the test
// is updated when the example starts to rely on another one.
var terraformEndpointArguments = []string{"path", "data_json", "ignore_absent_fields", "disable_delete", "disable_read", "depends_on"}

// loadTerraformExample parses the .tf files in dir and evaluates the
// arguments of its vault_mount and vault_generic_endpoint resources with
// the variables' defaults, overridden by vars, and Terraform's jsonencode.
func loadTerraformExample(t *testing.T, dir string, vars map[string]cty.Value) terraformExample {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no .tf files in %s", dir)

	parser := hclparse.NewParser()
	var blocks []*hclsyntax.Block
	for _, path := range files {
		file, diags := parser.ParseHCLFile(path)
		require.False(t, diags.HasErrors(), "parse %s: %s", path, diags.Error())
		blocks = append(blocks, file.Body.(*hclsyntax.Body).Blocks...)
	}

	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": terraformVariables(t, blocks, vars)},
		Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc},
	}
	example := terraformExample{}
	var endpointBlocks []*hclsyntax.Block
	for _, block := range blocks {
		switch {
		case block.Type == "terraform" || block.Type == "variable":
		case block.Type == "resource" && block.Labels[0] == "vault_mount" && block.Labels[1] == "zsp":
			example.mountPath = evalString(t, ctx, block, "path")
			example.mountType = evalString(t, ctx, block, "type")
		case block.Type == "resource" && block.Labels[0] == "vault_generic_endpoint":
			endpointBlocks = append(endpointBlocks, block)
		default:
			t.Fatalf("main.tf has %s %v, which this test does not cover; add it to the test", block.Type, block.Labels)
		}
	}
	require.NotEmpty(t, example.mountPath, "main.tf has no vault_mount.zsp resource")

	ctx.Variables["vault_mount"] = cty.ObjectVal(map[string]cty.Value{
		"zsp": cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal(example.mountPath)}),
	})
	var endpoints []terraformEndpoint
	for _, block := range endpointBlocks {
		endpoints = append(endpoints, terraformEndpointOf(t, ctx, block))
	}
	example.endpoints = applyOrder(t, endpoints)
	return example
}

// terraformVariables returns the values of the variable blocks: each
// default, replaced by the value in vars when there is one.
func terraformVariables(t *testing.T, blocks []*hclsyntax.Block, vars map[string]cty.Value) cty.Value {
	t.Helper()
	values := map[string]cty.Value{}
	for _, block := range blocks {
		if block.Type != "variable" {
			continue
		}
		name := block.Labels[0]
		if value, ok := vars[name]; ok {
			values[name] = value
			continue
		}
		attr, ok := block.Body.Attributes["default"]
		require.True(t, ok, "variable %q has no default; the test must set it", name)
		value, diags := attr.Expr.Value(nil)
		require.False(t, diags.HasErrors(), "default of variable %q: %s", name, diags.Error())
		values[name] = value
	}
	for name := range vars {
		require.Contains(t, values, name, "the test sets variable %q, which variables.tf does not declare", name)
	}
	return cty.ObjectVal(values)
}

// terraformEndpointOf evaluates the arguments of one vault_generic_endpoint
// block and collects its dependencies: depends_on, and references to other
// such resources.
func terraformEndpointOf(t *testing.T, ctx *hcl.EvalContext, block *hclsyntax.Block) terraformEndpoint {
	t.Helper()
	endpoint := terraformEndpoint{
		name:               block.Labels[1],
		path:               evalString(t, ctx, block, "path"),
		dataJSON:           evalString(t, ctx, block, "data_json"),
		ignoreAbsentFields: evalBool(t, ctx, block, "ignore_absent_fields"),
		disableDelete:      evalBool(t, ctx, block, "disable_delete"),
		disableRead:        evalBool(t, ctx, block, "disable_read"),
	}
	require.Empty(t, block.Body.Blocks, "%s has nested blocks, which this test does not cover", endpoint.name)

	for name, attr := range block.Body.Attributes {
		require.Contains(t, terraformEndpointArguments, name, "%s sets %q, which this test does not cover; add it to the test", endpoint.name, name)
		if name == "depends_on" {
			endpoint.dependsOn = append(endpoint.dependsOn, dependsOnNames(t, endpoint.name, attr)...)
			continue
		}
		for _, traversal := range attr.Expr.Variables() {
			if traversal.RootName() == "vault_generic_endpoint" {
				endpoint.dependsOn = append(endpoint.dependsOn, traversal[1].(hcl.TraverseAttr).Name)
			}
		}
	}
	return endpoint
}

func dependsOnNames(t *testing.T, resource string, attr *hclsyntax.Attribute) []string {
	t.Helper()
	list, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
	require.True(t, ok, "depends_on of %s is not a list", resource)

	var names []string
	for _, item := range list.Exprs {
		traversal, diags := hcl.AbsTraversalForExpr(item)
		require.False(t, diags.HasErrors(), "depends_on of %s: %s", resource, diags.Error())
		if traversal.RootName() == "vault_generic_endpoint" {
			names = append(names, traversal[1].(hcl.TraverseAttr).Name)
		}
	}
	return names
}

func evalString(t *testing.T, ctx *hcl.EvalContext, block *hclsyntax.Block, name string) string {
	t.Helper()
	attr, ok := block.Body.Attributes[name]
	require.True(t, ok, "%v has no %s", block.Labels, name)
	value, diags := attr.Expr.Value(ctx)
	require.False(t, diags.HasErrors(), "evaluate %s of %v: %s", name, block.Labels, diags.Error())
	require.Equal(t, cty.String, value.Type(), "%s of %v is not a string", name, block.Labels)
	return value.AsString()
}

func evalBool(t *testing.T, ctx *hcl.EvalContext, block *hclsyntax.Block, name string) bool {
	t.Helper()
	attr, ok := block.Body.Attributes[name]
	if !ok {
		return false
	}
	value, diags := attr.Expr.Value(ctx)
	require.False(t, diags.HasErrors(), "evaluate %s of %v: %s", name, block.Labels, diags.Error())
	require.Equal(t, cty.Bool, value.Type(), "%s of %v is not a bool", name, block.Labels)
	return value.True()
}

// applyOrder sorts the endpoints so each comes after the ones it depends on.
// Terraform applies independent resources in parallel, so among the ready
// ones this takes the last declared first. A resource that lacks a
// depends_on is then written before what it needs, and the test fails.
func applyOrder(t *testing.T, endpoints []terraformEndpoint) []terraformEndpoint {
	t.Helper()
	known := map[string]bool{}
	for _, endpoint := range endpoints {
		known[endpoint.name] = true
	}

	applied := map[string]bool{}
	var order []terraformEndpoint
	remaining := slices.Clone(endpoints)
	for len(remaining) > 0 {
		next := -1
		for i := len(remaining) - 1; i >= 0 && next < 0; i-- {
			ready := true
			for _, dependency := range remaining[i].dependsOn {
				require.True(t, known[dependency], "%s depends on vault_generic_endpoint.%s, which main.tf does not declare", remaining[i].name, dependency)
				ready = ready && applied[dependency]
			}
			if ready {
				next = i
			}
		}
		require.GreaterOrEqual(t, next, 0, "the depends_on of main.tf form a cycle")

		applied[remaining[next].name] = true
		order = append(order, remaining[next])
		remaining = slices.Delete(remaining, next, next+1)
	}
	return order
}
