package roles

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLexTokens(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []token
	}{
		{
			name: "code only, semicolons kept",
			sql:  "SELECT 1; SELECT 2;",
			want: []token{{kind: tokenCode, body: "SELECT 1; SELECT 2;"}},
		},
		{
			name: "standard string with doubled quote",
			sql:  "SELECT 'it''s'",
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenString, open: "'", body: "it''s", close: "'"},
			},
		},
		{
			name: "backslash does not escape in a standard string",
			sql:  `SELECT 'a\' , 'b'`,
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenString, open: "'", body: `a\`, close: "'"},
				{kind: tokenCode, body: " , "},
				{kind: tokenString, open: "'", body: "b", close: "'"},
			},
		},
		{
			name: "escape string with backslash quote",
			sql:  `SELECT e'a\'b''c\\'`,
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenEscapeString, open: "e'", body: `a\'b''c\\`, close: "'"},
			},
		},
		{
			name: "E inside a word is no prefix",
			sql:  `SELECT typE'a\'`,
			want: []token{
				{kind: tokenCode, body: "SELECT typE"},
				{kind: tokenString, open: "'", body: `a\`, close: "'"},
			},
		},
		{
			name: "E after a number starts an escape string",
			sql:  `SELECT 1E'a\''`,
			want: []token{
				{kind: tokenCode, body: "SELECT 1"},
				{kind: tokenEscapeString, open: "E'", body: `a\'`, close: "'"},
			},
		},
		{
			name: "exponent belongs to the number",
			sql:  `SELECT 1e5'a\'`,
			want: []token{
				{kind: tokenCode, body: "SELECT 1e5"},
				{kind: tokenString, open: "'", body: `a\`, close: "'"},
			},
		},
		{
			name: "escape string continues on the next line",
			sql:  "SELECT E'a'\n  -- note\n'b\\'c'",
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenEscapeString, open: "E'", body: "a", close: "'"},
				{kind: tokenCode, body: "\n  "},
				{kind: tokenLineComment, open: "--", body: " note"},
				{kind: tokenCode, body: "\n"},
				{kind: tokenEscapeString, open: "'", body: `b\'c`, close: "'"},
			},
		},
		{
			name: "no continuation without a newline",
			sql:  `SELECT E'a' 'b\'`,
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenEscapeString, open: "E'", body: "a", close: "'"},
				{kind: tokenCode, body: " "},
				{kind: tokenString, open: "'", body: `b\`, close: "'"},
			},
		},
		{
			name: "no continuation across a block comment",
			sql:  "SELECT E'a'\n/* c */\n'b\\'",
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenEscapeString, open: "E'", body: "a", close: "'"},
				{kind: tokenCode, body: "\n"},
				{kind: tokenBlockComment, open: "/*", body: " c ", close: "*/"},
				{kind: tokenCode, body: "\n"},
				{kind: tokenString, open: "'", body: `b\`, close: "'"},
			},
		},
		{
			name: "quoted identifier with doubled quote",
			sql:  `GRANT x TO "a""b"`,
			want: []token{
				{kind: tokenCode, body: "GRANT x TO "},
				{kind: tokenQuotedIdentifier, open: `"`, body: `a""b`, close: `"`},
			},
		},
		{
			name: "unicode string and identifier",
			sql:  `SELECT U&'d\0061t' AS u&"x"`,
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenUnicodeString, open: "U&'", body: `d\0061t`, close: "'"},
				{kind: tokenCode, body: " AS "},
				{kind: tokenUnicodeIdentifier, open: `u&"`, body: "x", close: `"`},
			},
		},
		{
			name: "empty dollar tag",
			sql:  "DO $$ BEGIN 'x' END $$;",
			want: []token{
				{kind: tokenCode, body: "DO "},
				{kind: tokenDollarString, open: "$$", body: " BEGIN 'x' END ", close: "$$"},
				{kind: tokenCode, body: ";"},
			},
		},
		{
			name: "tagged dollar quote holds other tags",
			sql:  "DO $fn$ a $$ b $$ $x $fn$",
			want: []token{
				{kind: tokenCode, body: "DO "},
				{kind: tokenDollarString, open: "$fn$", body: " a $$ b $$ $x ", close: "$fn$"},
			},
		},
		{
			name: "dollar inside an identifier starts nothing",
			sql:  "SELECT a$$b, $1, $ x",
			want: []token{{kind: tokenCode, body: "SELECT a$$b, $1, $ x"}},
		},
		{
			name: "nested block comment",
			sql:  "SELECT /* a /* b */ 'c' */ 1",
			want: []token{
				{kind: tokenCode, body: "SELECT "},
				{kind: tokenBlockComment, open: "/*", body: " a /* b */ 'c' ", close: "*/"},
				{kind: tokenCode, body: " 1"},
			},
		},
		{
			name: "line comment hides quotes",
			sql:  "SELECT 1 -- it's\n, 2",
			want: []token{
				{kind: tokenCode, body: "SELECT 1 "},
				{kind: tokenLineComment, open: "--", body: " it's"},
				{kind: tokenCode, body: "\n, 2"},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lex(tt.sql)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLexUnterminated(t *testing.T) {
	tests := []struct {
		sql  string
		want string
	}{
		{sql: "SELECT 'abc", want: "unterminated quoted string '...' starting at byte 7"},
		{sql: "SELECT 'it''", want: "unterminated quoted string"},
		{sql: `SELECT E'abc\'`, want: "unterminated escape string E'...'"},
		{sql: `SELECT E'abc\`, want: "unterminated escape string E'...'"},
		{sql: `GRANT x TO "abc`, want: `unterminated quoted identifier "..."`},
		{sql: "DO $$ BEGIN", want: "unterminated dollar-quoted string starting at byte 3; close it with $$"},
		{sql: "DO $a$ BEGIN $b$", want: "close it with $a$"},
		{sql: "SELECT /* a /* b */", want: "unterminated /* comment"},
		{sql: "SELECT U&'abc", want: "unterminated Unicode string"},
	}

	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := lex(tt.sql)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
