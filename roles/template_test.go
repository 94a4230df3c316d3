package roles

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// creationValues are the values of one account's creation statements.
func creationValues() map[string]string {
	return map[string]string{
		"name":       "zsp_app_alice_k3j9x0a1b2c3",
		"password":   "pw-Secret-1",
		"expiration": "2030-01-02 03:04:05+00",
		"group":      "zsp_app_0123456789",
		"schema":     "billing",
	}
}

func TestRenderContexts(t *testing.T) {
	tests := []struct {
		name     string
		template string
		values   map[string]string
		want     string
	}{
		{
			name:     "default creation statement",
			template: DefaultCreationStatements[0],
			values:   creationValues(),
			want:     `CREATE ROLE "zsp_app_alice_k3j9x0a1b2c3" WITH LOGIN PASSWORD 'pw-Secret-1' VALID UNTIL '2030-01-02 03:04:05+00' IN ROLE "zsp_app_0123456789"`,
		},
		{
			name:     "vault engine style",
			template: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`,
			values:   creationValues(),
			want:     `CREATE ROLE "zsp_app_alice_k3j9x0a1b2c3" WITH LOGIN PASSWORD 'pw-Secret-1' VALID UNTIL '2030-01-02 03:04:05+00'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "zsp_app_alice_k3j9x0a1b2c3";`,
		},
		{
			name:     "username alias and spaces",
			template: "GRANT {{ group }} TO {{username}}",
			values:   creationValues(),
			want:     `GRANT "zsp_app_0123456789" TO "zsp_app_alice_k3j9x0a1b2c3"`,
		},
		{
			name:     "parameter is an identifier",
			template: "GRANT USAGE ON SCHEMA {{schema}} TO {{group}}",
			values:   map[string]string{"schema": `we"ird`, "group": "g"},
			want:     `GRANT USAGE ON SCHEMA "we""ird" TO "g"`,
		},
		{
			name:     "code literal with quote",
			template: "ALTER ROLE x PASSWORD {{password}}",
			values:   map[string]string{"password": `it's`},
			want:     `ALTER ROLE x PASSWORD 'it''s'`,
		},
		{
			name:     "code literal with backslash",
			template: "ALTER ROLE x PASSWORD {{password}}",
			values:   map[string]string{"password": `a\'b`},
			want:     `ALTER ROLE x PASSWORD E'a\\''b'`,
		},
		{
			name:     "inside double quotes",
			template: `GRANT x TO "{{name}}"`,
			values:   map[string]string{"name": `a"b'c\d`},
			want:     `GRANT x TO "a""b'c\d"`,
		},
		{
			name:     "inside single quotes",
			template: `ALTER ROLE x PASSWORD '{{password}}'`,
			values:   map[string]string{"password": `a'b"c$$d`},
			want:     `ALTER ROLE x PASSWORD 'a''b"c$$d'`,
		},
		{
			name:     "inside escape string",
			template: `COMMENT ON ROLE x IS E'by \'zsp\' {{password}}'`,
			values:   map[string]string{"password": `a'b\c`},
			want:     `COMMENT ON ROLE x IS E'by \'zsp\' a''b\\c'`,
		},
		{
			name:     "escaped brace in escape string is text",
			template: `COMMENT ON ROLE x IS E'\{{password}}'`,
			values:   map[string]string{"password": `'`},
			want:     `COMMENT ON ROLE x IS E'\{{password}}'`,
		},
		{
			name:     "escape string continued on the next line",
			template: "COMMENT ON ROLE x IS E'a'\n'{{password}}'",
			values:   map[string]string{"password": `\'`},
			want:     "COMMENT ON ROLE x IS E'a'\n'\\\\'''",
		},
		{
			name:     "dollar body as code",
			template: "DO $$ BEGIN EXECUTE 'GRANT x TO ' || quote_ident('{{name}}'); EXECUTE 'GRANT y TO ' || {{name}}::text; END $$",
			values:   map[string]string{"name": `o'k`},
			want:     `DO $$ BEGIN EXECUTE 'GRANT x TO ' || quote_ident('o''k'); EXECUTE 'GRANT y TO ' || "o'k"::text; END $$`,
		},
		{
			name:     "tagged dollar body with nested body",
			template: "DO $fn$ BEGIN PERFORM $$ {{name}} $$; RAISE NOTICE '%', '{{name}}'; END $fn$",
			values:   map[string]string{"name": "a$b"},
			want:     `DO $fn$ BEGIN PERFORM $$ "a$b" $$; RAISE NOTICE '%', 'a$b'; END $fn$`,
		},
		{
			name:     "dollar body without placeholders is opaque",
			template: "COMMENT ON ROLE {{name}} IS $$it's {not} a placeholder$$",
			values:   map[string]string{"name": "a"},
			want:     `COMMENT ON ROLE "a" IS $$it's {not} a placeholder$$`,
		},
		{
			name:     "comments without placeholders are kept",
			template: "GRANT x TO {{name}} -- it's fine\n/* so is this */",
			values:   map[string]string{"name": "a"},
			want:     "GRANT x TO \"a\" -- it's fine\n/* so is this */",
		},
		{
			name:     "unicode string without placeholders is kept",
			template: `COMMENT ON ROLE {{name}} IS U&'d\0061t'`,
			values:   map[string]string{"name": "a"},
			want:     `COMMENT ON ROLE "a" IS U&'d\0061t'`,
		},
		{
			name:     "value that looks like a placeholder",
			template: "GRANT x TO {{name}}",
			values:   map[string]string{"name": "{{group}}"},
			want:     `GRANT x TO "{{group}}"`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderStatements([]string{tt.template}, tt.values, testQuoter{})
			require.NoError(t, err)
			require.Equal(t, []string{tt.want}, got)
		})
	}
}

func TestParseStatementErrors(t *testing.T) {
	allowed := []string{"name", "password", "expiration", "group", "schema"}

	tests := []struct {
		name     string
		template string
		allowed  []string
		want     string
	}{
		{
			name:     "unknown placeholder",
			template: "GRANT x TO {{nmae}}",
			allowed:  allowed,
			want:     `unknown placeholder "{{nmae}}"; use one of {{name}}, {{password}}, {{expiration}}, {{group}}, {{schema}}`,
		},
		{
			name:     "placeholder not allowed here",
			template: "GRANT x TO {{name}}",
			allowed:  []string{"group"},
			want:     `unknown placeholder "{{name}}"; use one of {{group}}`,
		},
		{
			name:     "no placeholders allowed",
			template: "GRANT x TO {{group}}",
			allowed:  nil,
			want:     "this statement takes no placeholders",
		},
		{
			name:     "unknown placeholder in string",
			template: "COMMENT ON ROLE x IS '{{passwrd}}'",
			allowed:  allowed,
			want:     `unknown placeholder "{{passwrd}}"`,
		},
		{
			name:     "unknown placeholder in dollar body",
			template: "DO $$ BEGIN PERFORM '{{grop}}'; END $$",
			allowed:  allowed,
			want:     `in dollar-quoted string $$: unknown placeholder "{{grop}}"`,
		},
		{
			name:     "malformed placeholder",
			template: "GRANT x TO {{na me}}",
			allowed:  allowed,
			want:     `invalid placeholder "{{na me}}"; write placeholders as {{name}}`,
		},
		{
			name:     "unclosed placeholder",
			template: "GRANT x TO {{name",
			allowed:  allowed,
			want:     `invalid placeholder "{{name"`,
		},
		{
			name:     "placeholder in line comment",
			template: "GRANT x TO {{name}} -- for {{name}}",
			allowed:  allowed,
			want:     `"{{name}}" inside a comment is not allowed`,
		},
		{
			name:     "placeholder in block comment",
			template: "GRANT x TO {{name}} /* for {{name}} */",
			allowed:  allowed,
			want:     `"{{name}}" inside a comment is not allowed`,
		},
		{
			name:     "placeholder in comment in dollar body",
			template: "DO $$ BEGIN -- {{name}}\n END $$",
			allowed:  allowed,
			want:     "inside a comment is not allowed",
		},
		{
			name:     "placeholder in unicode string",
			template: "COMMENT ON ROLE x IS U&'{{name}}'",
			allowed:  allowed,
			want:     "inside a Unicode string U&'...' is not allowed",
		},
		{
			name:     "unterminated string",
			template: "ALTER ROLE {{name}} PASSWORD '{{password}}",
			allowed:  allowed,
			want:     "unterminated quoted string '...'",
		},
		{
			name:     "unterminated dollar quote",
			template: "DO $$ BEGIN {{name}}",
			allowed:  allowed,
			want:     "unterminated dollar-quoted string",
		},
		{
			name:     "dollar body that does not lex",
			template: "COMMENT ON ROLE x IS $$it's {{name}}$$",
			allowed:  allowed,
			want:     "in dollar-quoted string $$: unterminated quoted string",
		},
		{
			name:     "backslash in plain string",
			template: `COMMENT ON ROLE {{name}} IS 'C:\temp'`,
			allowed:  allowed,
			want:     `string "'C:\\temp'" contains a backslash, which PostgreSQL reads as an escape when standard_conforming_strings is off; write it as E'...'`,
		},
		{
			name:     "backslash in plain string in dollar body",
			template: `DO $$ BEGIN PERFORM '\', {{name}}; END $$`,
			allowed:  allowed,
			want:     "contains a backslash",
		},
		{
			name:     "unterminated comment",
			template: "GRANT x TO {{name}} /* note",
			allowed:  allowed,
			want:     "unterminated /* comment",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatement(tt.template, tt.allowed)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestStatementPlaceholders(t *testing.T) {
	statement, err := ParseStatement(
		"CREATE ROLE {{username}} PASSWORD '{{password}}' IN ROLE {{group}}; DO $$ BEGIN PERFORM {{schema}}, {{name}}; END $$",
		[]string{"name", "password", "group", "schema"},
	)
	require.NoError(t, err)
	require.Equal(t, []string{"name", "password", "group", "schema"}, statement.Placeholders())
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		template string
		values   map[string]string
		want     string
	}{
		{
			name:     "value with NUL byte",
			template: "ALTER ROLE x PASSWORD {{password}}",
			values:   map[string]string{"password": "se\x00cret"},
			want:     "value for placeholder {{password}} contains a NUL byte",
		},
		{
			name:     "value not UTF-8",
			template: "ALTER ROLE x PASSWORD '{{password}}'",
			values:   map[string]string{"password": "se\xffcret"},
			want:     "value for placeholder {{password}} is not valid UTF-8",
		},
		{
			name:     "value with backslash in plain string",
			template: "ALTER ROLE x PASSWORD '{{password}}'",
			values:   map[string]string{"password": `se\cret`},
			want:     "value for placeholder {{password}} contains a backslash, which a '...' string reads differently when standard_conforming_strings is off",
		},
		{
			name:     "value closes empty dollar tag",
			template: "DO $$ BEGIN PERFORM '{{password}}'; END $$",
			values:   map[string]string{"password": "a$$b"},
			want:     "contains $$, which would end the string early",
		},
		{
			name:     "value closes tagged dollar quote",
			template: "DO $fn$ BEGIN PERFORM {{name}}; END $fn$",
			values:   map[string]string{"name": "x$fn$y"},
			want:     "contains $fn$",
		},
		{
			name:     "value and template text form the delimiter",
			template: "DO $$ BEGIN PERFORM '{{password}}$'; END $$",
			values:   map[string]string{"password": "pw$"},
			want:     "which would end the string early",
		},
		{
			name:     "value in nested body closes it",
			template: "DO $fn$ BEGIN PERFORM $$ '{{password}}' $$; END $fn$",
			values:   map[string]string{"password": "pw$$pw"},
			want:     "contains $$",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderStatements([]string{tt.template}, tt.values, testQuoter{})
			require.ErrorContains(t, err, tt.want)
			for key, value := range tt.values {
				if key == "password" {
					require.NotContains(t, err.Error(), value, "the error shows the password")
				}
			}
		})
	}
}

func TestRenderStatementsIndexInError(t *testing.T) {
	_, err := RenderStatements([]string{"GRANT x TO {{name}}", "GRANT y TO {{nobody}}"}, map[string]string{"name": "a"}, testQuoter{})
	require.ErrorContains(t, err, `parse statement at index 1: unknown placeholder "{{nobody}}"`)
}

func TestRenderMissingValue(t *testing.T) {
	statement, err := ParseStatement("GRANT x TO {{name}} IN ROLE {{group}}", []string{"name", "group"})
	require.NoError(t, err)

	_, err = statement.Render(map[string]string{"name": "a"}, testQuoter{})
	require.ErrorContains(t, err, "missing value for placeholder {{group}}")
}

func TestRenderUsernameFromNameKey(t *testing.T) {
	statement, err := ParseStatement("GRANT x TO {{username}}", []string{"name"})
	require.NoError(t, err)

	got, err := statement.Render(map[string]string{"name": "a"}, testQuoter{})
	require.NoError(t, err)
	require.Equal(t, `GRANT x TO "a"`, got)
}

func TestRenderWithoutQuoter(t *testing.T) {
	statement, err := ParseStatement("GRANT x TO {{name}}", []string{"name"})
	require.NoError(t, err)

	_, err = statement.Render(map[string]string{"name": "a"}, nil)
	require.ErrorContains(t, err, "no quoter")
}

func TestRenderKeepsStatementWhole(t *testing.T) {
	template := "CREATE ROLE {{name}};\nGRANT x TO {{name}}; DO $$ BEGIN NULL; END $$;"
	got, err := RenderStatements([]string{template}, map[string]string{"name": "a"}, testQuoter{})
	require.NoError(t, err)
	require.Equal(t, []string{"CREATE ROLE \"a\";\nGRANT x TO \"a\"; DO $$ BEGIN NULL; END $$;"}, got)
}
