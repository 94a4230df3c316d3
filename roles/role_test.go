package roles

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// validRole returns a role that passes Validate, for tests to break one field at a time.
func validRole() *Role {
	return &Role{
		Name:                 "read-schema",
		Connection:           "main.db",
		GrantStatements:      []string{"GRANT USAGE ON SCHEMA {{schema}} TO {{group}}", "GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO {{group}}"},
		RevocationStatements: []string{"REASSIGN OWNED BY {{name}} TO {{group}}"},
		DefaultTTL:           time.Hour,
		MaxTTL:               4 * time.Hour,
		Parameters:           map[string][]string{"schema": {"billing", "sales"}},
		Description:          "Read the tables of one schema.",
	}
}

func TestValidateAcceptsValidRoles(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *Role)
	}{
		{name: "grant statements only", modify: func(*Role) {}},
		{name: "creation statements only", modify: func(r *Role) {
			r.GrantStatements = nil
			r.CreationStatements = []string{`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`, `GRANT SELECT ON ALL TABLES IN SCHEMA {{schema}} TO "{{name}}";`}
		}},
		{name: "username alias in creation", modify: func(r *Role) {
			r.CreationStatements = []string{"CREATE ROLE {{username}} LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}} IN ROLE {{group}}"}
		}},
		{name: "no parameters", modify: func(r *Role) {
			r.Parameters = nil
			r.GrantStatements = []string{"GRANT pg_read_all_data TO {{group}}"}
		}},
		{name: "zero TTLs", modify: func(r *Role) { r.DefaultTTL, r.MaxTTL = 0, 0 }},
		{name: "only default TTL", modify: func(r *Role) { r.DefaultTTL, r.MaxTTL = 10*time.Hour, 0 }},
		{name: "equal TTLs", modify: func(r *Role) { r.DefaultTTL, r.MaxTTL = time.Hour, time.Hour }},
		{name: "custom username template", modify: func(r *Role) { r.UsernameTemplate = "App_{{role}}_{{unix_time}}_{{random}}" }},
		{name: "longest description", modify: func(r *Role) { r.Description = strings.Repeat("d", 1000) }},
		{name: "longest names", modify: func(r *Role) {
			r.Name = "R" + strings.Repeat("x", 127)
			r.Connection = "9" + strings.Repeat("-", 127)
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := validRole()
			tt.modify(role)
			require.NoError(t, role.Validate())
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(r *Role)
		field   string
		message string
	}{
		{name: "missing name", modify: func(r *Role) { r.Name = "" }, field: "name", message: "missing; use 1 to 128 letters"},
		{name: "name with slash", modify: func(r *Role) { r.Name = "a/b" }, field: "name", message: `"a/b" is not a valid name; use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit`},
		{name: "name starting with dot", modify: func(r *Role) { r.Name = ".x" }, field: "name", message: `".x" is not a valid name`},
		{name: "name too long", modify: func(r *Role) { r.Name = strings.Repeat("a", 129) }, field: "name", message: "is not a valid name"},
		{name: "missing connection", modify: func(r *Role) { r.Connection = "" }, field: "connection", message: "missing; set it to the name of a configured connection"},
		{name: "bad connection", modify: func(r *Role) { r.Connection = "main db" }, field: "connection", message: `"main db" is not a valid name`},
		{name: "no statements", modify: func(r *Role) { r.GrantStatements = nil }, field: "grant_statements", message: "missing; set grant_statements (recommended) or creation_statements"},
		{name: "empty grant statement", modify: func(r *Role) { r.GrantStatements = append(r.GrantStatements, " \n\t") }, field: "grant_statements", message: "statement at index 2 is empty"},
		{name: "name placeholder in grant", modify: func(r *Role) { r.GrantStatements = []string{"GRANT x TO {{name}}"} }, field: "grant_statements", message: `statement at index 0: unknown placeholder "{{name}}"; use one of {{group}}, {{schema}}`},
		{name: "undeclared parameter", modify: func(r *Role) { r.GrantStatements = []string{"GRANT USAGE ON SCHEMA {{table}} TO {{group}}"} }, field: "grant_statements", message: `unknown placeholder "{{table}}"`},
		{name: "unterminated grant", modify: func(r *Role) { r.GrantStatements = []string{"GRANT x TO '{{group}}"} }, field: "grant_statements", message: "unterminated quoted string"},
		{name: "placeholder in comment", modify: func(r *Role) { r.GrantStatements = []string{"GRANT x TO {{group}} -- {{group}}"} }, field: "grant_statements", message: "inside a comment"},
		{name: "empty creation statement", modify: func(r *Role) { r.CreationStatements = []string{""} }, field: "creation_statements", message: "statement at index 0 is empty"},
		{name: "creation without password", modify: func(r *Role) { r.CreationStatements = []string{"CREATE ROLE {{name}} LOGIN IN ROLE {{group}}"} }, field: "creation_statements", message: "no statement uses {{password}}"},
		{name: "creation without name", modify: func(r *Role) { r.CreationStatements = []string{"CREATE ROLE x LOGIN PASSWORD {{password}}"} }, field: "creation_statements", message: "no statement uses {{name}}"},
		{name: "creation without expiry", modify: func(r *Role) {
			r.CreationStatements = []string{"CREATE ROLE {{name}} LOGIN PASSWORD {{password}}"}
		}, field: "creation_statements", message: "no statement uses {{expiration}}"},
		{name: "unknown creation placeholder", modify: func(r *Role) { r.CreationStatements = []string{"CREATE ROLE {{name}} PASSWORD {{pasword}}"} }, field: "creation_statements", message: `unknown placeholder "{{pasword}}"; use one of {{name}}, {{password}}, {{expiration}}, {{group}}, {{schema}}`},
		{name: "password in revocation", modify: func(r *Role) { r.RevocationStatements = []string{"ALTER ROLE {{name}} PASSWORD {{password}}"} }, field: "revocation_statements", message: `unknown placeholder "{{password}}"`},
		{name: "empty revocation statement", modify: func(r *Role) { r.RevocationStatements = []string{"  "} }, field: "revocation_statements", message: "statement at index 0 is empty"},
		{name: "negative default TTL", modify: func(r *Role) { r.DefaultTTL = -time.Second }, field: "default_ttl", message: "-1s is negative"},
		{name: "negative max TTL", modify: func(r *Role) { r.MaxTTL = -time.Minute }, field: "max_ttl", message: "-1m0s is negative"},
		{name: "default above max", modify: func(r *Role) { r.DefaultTTL, r.MaxTTL = 2*time.Hour, time.Hour }, field: "default_ttl", message: `2h0m0s is longer than "max_ttl" 1h0m0s; lower default_ttl or raise max_ttl`},
		{name: "parameter name uppercase", modify: func(r *Role) { r.Parameters = map[string][]string{"Schema": {"a"}} }, field: "parameters", message: `parameter name "Schema" is invalid; use 1 to 63 lowercase letters`},
		{name: "parameter name with digit first", modify: func(r *Role) { r.Parameters = map[string][]string{"1x": {"a"}} }, field: "parameters", message: `parameter name "1x" is invalid`},
		{name: "parameter name too long", modify: func(r *Role) { r.Parameters = map[string][]string{strings.Repeat("p", 64): {"a"}} }, field: "parameters", message: "is invalid"},
		{name: "parameter named like built-in", modify: func(r *Role) { r.Parameters = map[string][]string{"username": {"a"}} }, field: "parameters", message: `parameter name "username" is reserved for a built-in placeholder`},
		{name: "parameter named group", modify: func(r *Role) { r.Parameters = map[string][]string{"group": {"a"}} }, field: "parameters", message: `"group" is reserved`},
		{name: "parameter without values", modify: func(r *Role) { r.Parameters["schema"] = nil }, field: "parameters", message: `parameter "schema" has no allowed values`},
		{name: "empty value", modify: func(r *Role) { r.Parameters["schema"] = []string{"billing", ""} }, field: "parameters", message: `parameter "schema": value at index 1 is empty`},
		{name: "value not UTF-8", modify: func(r *Role) { r.Parameters["schema"] = []string{"bill\xffing"} }, field: "parameters", message: "is not valid UTF-8"},
		{name: "value too long", modify: func(r *Role) { r.Parameters["schema"] = []string{strings.Repeat("é", 32)} }, field: "parameters", message: "is 64 bytes long; use at most 63 bytes"},
		{name: "value with newline", modify: func(r *Role) { r.Parameters["schema"] = []string{"bill\ning"} }, field: "parameters", message: "contains a control character"},
		{name: "duplicate value", modify: func(r *Role) { r.Parameters["schema"] = []string{"billing", "sales", "billing"} }, field: "parameters", message: `value "billing" is listed twice`},
		{name: "username template without random", modify: func(r *Role) { r.UsernameTemplate = "zsp_{{role}}" }, field: "username_template", message: "missing {{random}}"},
		{name: "username template with dash", modify: func(r *Role) { r.UsernameTemplate = "zsp-{{random}}" }, field: "username_template", message: `contains '-'`},
		{name: "description too long", modify: func(r *Role) { r.Description = strings.Repeat("d", 1001) }, field: "description", message: "is 1001 bytes long; shorten it to at most 1000 bytes"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := validRole()
			tt.modify(role)

			err := role.Validate()
			var fieldErr *FieldError
			require.True(t, errors.As(err, &fieldErr), "error %v is not a *FieldError", err)
			require.Equal(t, tt.field, fieldErr.Field)
			require.False(t, fieldErr.Parameter)
			require.Contains(t, fieldErr.Message, tt.message)
			require.True(t, strings.HasPrefix(err.Error(), `invalid "`+tt.field+`": `), "error %q does not start with the field", err)
		})
	}
}

func TestValidateDefaultTTLMessage(t *testing.T) {
	role := validRole()
	role.DefaultTTL, role.MaxTTL = 2*time.Hour, time.Hour

	require.EqualError(t, role.Validate(), `invalid "default_ttl": 2h0m0s is longer than "max_ttl" 1h0m0s; lower default_ttl or raise max_ttl`)
}

func TestValidateStatementErrorUnwraps(t *testing.T) {
	role := validRole()
	role.GrantStatements = []string{"GRANT x TO {{nobody}}"}

	err := role.Validate()
	var fieldErr *FieldError
	require.True(t, errors.As(err, &fieldErr))
	require.Error(t, fieldErr.Unwrap())
	require.Contains(t, fieldErr.Unwrap().Error(), `unknown placeholder "{{nobody}}"`)
}

func TestValidateNameErrorType(t *testing.T) {
	err := ValidateName("connection", "bad name")

	var fieldErr *FieldError
	require.True(t, errors.As(err, &fieldErr))
	require.Equal(t, "connection", fieldErr.Field)
	require.EqualError(t, err, `invalid "connection": "bad name" is not a valid name; use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit`)
}

func TestCreationDefault(t *testing.T) {
	role := validRole()
	require.Equal(t, DefaultCreationStatements, role.Creation())

	role.Creation()[0] = "changed"
	require.Equal(t, "CREATE ROLE {{name}} WITH LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}} IN ROLE {{group}}", DefaultCreationStatements[0])

	role.CreationStatements = []string{"CREATE ROLE {{name}} PASSWORD {{password}}"}
	require.Equal(t, role.CreationStatements, role.Creation())
}
