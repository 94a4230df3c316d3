package roles

import "strings"

// testQuoter quotes the way PostgreSQL drivers do. Identifiers become "..."
// with " doubled, and literals '...' with ' doubled, or E'...' with \
// doubled too when the value has a backslash.
type testQuoter struct{}

func (testQuoter) QuoteIdentifier(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func (testQuoter) QuoteLiteral(s string) string {
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + `'`
	}
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
