package postgres

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

// Quoter quotes template values for PostgreSQL statements. It implements the
// roles.Quoter interface.
type Quoter struct{}

var _ roles.Quoter = Quoter{}

// QuoteIdentifier returns s as a double-quoted identifier, with pgx's own
// quoting: embedded double quotes are doubled and NUL bytes removed.
func (Quoter) QuoteIdentifier(s string) string {
	return pgx.Identifier{s}.Sanitize()
}

// QuoteLiteral returns s as a string literal with single quotes doubled. A
// value with a backslash becomes an escape string (E'...') with backslashes
// doubled, which reads the same whatever standard_conforming_strings is set
// to. NUL bytes, which PostgreSQL text cannot hold, are removed.
func (Quoter) QuoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	quoted := "'" + strings.ReplaceAll(s, "'", "''") + "'"

	if !strings.Contains(s, `\`) {
		return quoted
	}
	return "E" + strings.ReplaceAll(quoted, `\`, `\\`)
}

// expirationLayout is a timestamptz literal in UTC with microseconds, the
// precision PostgreSQL stores.
const expirationLayout = "2006-01-02 15:04:05.999999+00"

// FormatExpiration formats t for VALID UNTIL, in UTC.
func FormatExpiration(t time.Time) string {
	return t.UTC().Format(expirationLayout)
}
