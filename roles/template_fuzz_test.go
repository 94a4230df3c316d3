package roles

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// fuzzTemplates cover every quoting context a value can land in.
var fuzzTemplates = []string{
	DefaultCreationStatements[0],
	`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT "{{group}}" TO "{{name}}";`,
	`GRANT {{group}} TO {{username}}; ALTER ROLE x{{name}}y SET search_path = {{schema}}, "{{schema}}"`,
	`COMMENT ON ROLE {{name}} IS E'by \'zsp\' {{password}} \\ \{{password}}' /* note */ -- it's`,
	"COMMENT ON ROLE {{name}} IS E'a'\n  -- continued\n'{{password}}'",
	"COMMENT ON ROLE {{name}} IS 'a'\n'{{password}}' ",
	`SELECT 1E'{{password}}', 1.e'{{password}}', .5E'{{password}}'`,
	`SELECT 1e5'{{password}}', typE'{{password}}', b'{{password}}'`,
	`DO $$ BEGIN EXECUTE 'GRANT x TO ' || quote_ident('{{name}}'); PERFORM {{name}}, {{password}}; END $$;`,
	`DO $$ BEGIN EXECUTE format('GRANT x TO %I', E'{{name}}'); PERFORM {{name}}, {{password}}; END $$;`,
	`DO $fn$ BEGIN PERFORM $$ {{name}} '{{password}}' $$; RAISE NOTICE '%', E'{{group}}'; END $fn$`,
	`DO $fn$ BEGIN PERFORM $$ {{name}} E'{{password}}' $$; RAISE NOTICE '%', E'{{group}}'; END $fn$`,
	`SELECT $1, a$$b, "{{name}}""x", '{{password}}''x', {{password}} {{password}}`,
}

// fuzzSeeds are values that have broken template engines before.
var fuzzSeeds = []string{
	"alice", "", `"`, `'`, `\`, `\'`, `''`, `""`, `$$`, `$fn$`, `$`, "*/", "/*", "--",
	`'; DROP TABLE t; --`, `"; DROP TABLE t; --`, `\'; DROP TABLE t; --`,
	"a\nb", "a\r\n'b", "E'", "{{name}}", "Zoë 日本語", `$$; DROP TABLE t; $$`,
}

func FuzzRender(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, value string) {
		for _, template := range fuzzTemplates {
			requireValueStaysInToken(t, template, value)
		}
		requireValueRoundTrips(t, value)
	})
}

// TestRenderSeedsStayInToken runs the fuzz check on its seeds, so a plain
// go test checks the property without -fuzz.
func TestRenderSeedsStayInToken(t *testing.T) {
	for _, value := range fuzzSeeds {
		for _, template := range fuzzTemplates {
			requireValueStaysInToken(t, template, value)
		}
		requireValueRoundTrips(t, value)
	}
}

// requireValueStaysInToken renders template with value in every placeholder
// and with a benign value, and requires the same token structure and the
// same text outside quoted tokens. A value that ended its token would
// change one or the other.
func requireValueStaysInToken(t *testing.T, template, value string) {
	t.Helper()

	benign, err := renderAll(template, "benign")
	require.NoError(t, err)

	rendered, err := renderAll(template, value)
	if err != nil {
		requireExpectedRenderError(t, value, err)
		return
	}

	require.Equal(t, tokenShape(t, benign), tokenShape(t, rendered), "template %q with value %q renders as %q", template, value, rendered)
}

// requireExpectedRenderError accepts only the errors Render documents.
func requireExpectedRenderError(t *testing.T, value string, err error) {
	t.Helper()

	switch {
	case !utf8.ValidString(value):
		require.ErrorContains(t, err, "is not valid UTF-8")
	case strings.ContainsRune(value, 0):
		require.ErrorContains(t, err, "contains a NUL byte")
	case strings.Contains(err.Error(), "contains a backslash"):
		require.Contains(t, value, `\`, "unexpected error %v", err)
	default:
		require.Contains(t, value, "$", "unexpected error %v", err)
		require.ErrorContains(t, err, "which would end the string early")
	}
}

func renderAll(template, value string) (string, error) {
	values := map[string]string{
		"name":       value,
		"password":   value,
		"expiration": value,
		"group":      value,
		"schema":     value,
	}
	rendered, err := RenderStatements([]string{template}, values, testQuoter{})
	if err != nil {
		return "", err
	}
	return rendered[0], nil
}

// tokenShape lexes sql and describes it: code and comments with their text,
// quoted tokens by kind only, and dollar-quoted bodies lexed again.
func tokenShape(t *testing.T, sql string) []string {
	t.Helper()

	tokens, err := lex(sql)
	require.NoError(t, err, "rendered statement %q does not lex", sql)

	shape := make([]string, 0, len(tokens))
	for _, tok := range tokens {
		shape = append(shape, describeToken(t, tok)...)
	}
	return shape
}

func describeToken(t *testing.T, tok token) []string {
	switch tok.kind {
	case tokenString, tokenEscapeString:
		return []string{"literal"}
	case tokenQuotedIdentifier:
		return []string{"identifier"}
	case tokenDollarString:
		if _, err := lex(tok.body); err != nil {
			return []string{"dollar " + tok.open + " opaque"}
		}
		shape := append([]string{"dollar " + tok.open + " {"}, tokenShape(t, tok.body)...)
		return append(shape, "}")
	}
	return []string{kindName(tok.kind) + ": " + tok.text()}
}

// requireValueRoundTrips renders templates whose placeholder fills a whole
// token and requires that decoding the token gives the value back.
func requireValueRoundTrips(t *testing.T, value string) {
	t.Helper()
	if !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		return
	}

	tests := []struct {
		template string
		kind     tokenKind
	}{
		{template: "{{name}}", kind: tokenQuotedIdentifier},
		{template: `"{{name}}"`, kind: tokenQuotedIdentifier},
		{template: "{{password}}", kind: tokenString},
		{template: "'{{password}}'", kind: tokenString},
		{template: "E'{{password}}'", kind: tokenEscapeString},
	}

	for _, tt := range tests {
		if tt.template == "'{{password}}'" && strings.Contains(value, `\`) {
			continue // rejected, as TestRenderErrors checks
		}
		rendered, err := renderAll(tt.template, value)
		require.NoError(t, err)

		tokens, err := lex(rendered)
		require.NoError(t, err)
		require.Len(t, tokens, 1, "%q renders as %q", tt.template, rendered)
		require.Equal(t, value, decodeToken(t, tokens[0]), "%q renders as %q", tt.template, rendered)
	}
}

// decodeToken returns the value a quoted token stands for, for the escapes
// that rendering produces.
func decodeToken(t *testing.T, tok token) string {
	switch tok.kind {
	case tokenQuotedIdentifier:
		return strings.ReplaceAll(tok.body, `""`, `"`)
	case tokenString:
		return strings.ReplaceAll(tok.body, `''`, `'`)
	case tokenEscapeString:
		var b strings.Builder
		for i := 0; i < len(tok.body); i++ {
			c := tok.body[i]
			if c == '\\' || c == '\'' {
				i++ // rendering writes \\ and '' only
				require.Less(t, i, len(tok.body))
				require.Equal(t, c, tok.body[i], "unexpected escape in %q", tok.body)
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	t.Fatalf("token %q is not a quoted identifier or string", tok.text())
	return ""
}
