package postgres

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrAccountNotFound reports that the account's role does not exist on the server.
var ErrAccountNotFound = errors.New("account not found")

// SQLSTATE codes the client acts on.
const (
	codeInternalError        = "XX000" // also "tuple concurrently updated" on catalog rows
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUndefinedObject      = "42704" // a role that does not exist
)

// StatementError is a failed statement reported by SQLSTATE and server
// message only. It holds no statement text and does not wrap the driver's
// error, whose fields may quote the statement and so the password verifier.
type StatementError struct {
	Step    string // which statement failed, such as "creation statement 2"
	Code    string // SQLSTATE
	Message string // server message, with the statements' string literals masked
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s failed: %s (SQLSTATE %s)", e.Step, e.Message, e.Code)
}

// sqlState returns the SQLSTATE of err, or "" when the server did not send one.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	var stmtErr *StatementError
	switch {
	case errors.As(err, &pgErr):
		return pgErr.Code
	case errors.As(err, &stmtErr):
		return stmtErr.Code
	}
	return ""
}

// statementError turns a server error from running statements into a
// StatementError. A syntax error quotes the token near the error, which can
// be a string literal holding a password or verifier, so every literal of
// the statements is masked in the message. Other errors (network, timeout)
// quote no SQL and are wrapped as they are.
func statementError(step string, err error, statements ...string) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("%s failed: %w", step, err)
	}

	message := pgErr.Message
	for _, statement := range statements {
		for _, literal := range stringLiterals(statement) {
			message = strings.ReplaceAll(message, literal, "[redacted]")
		}
	}
	return &StatementError{Step: step, Code: pgErr.Code, Message: message}
}

// minMaskedLiteral is the shortest literal that statementError masks. Masking
// shorter ones would garble messages (a literal 'on' inside "permission"),
// and the secrets the plugin sends are at least 32 characters.
const minMaskedLiteral = 8

// stringLiterals returns the contents of the single-quoted literals in a
// statement, longest first so that a literal inside another is masked last,
// both as written, with quotes doubled, and as the value they stand for.
func stringLiterals(statement string) []string {
	var literals []string
	for rest := statement; ; {
		start := strings.IndexByte(rest, '\'')
		if start < 0 {
			break
		}
		end := closingQuote(rest, start+1)
		if end < 0 {
			// An unterminated literal runs to the end of the statement.
			end = len(rest)
		}

		raw := rest[start+1 : end]
		if len(raw) >= minMaskedLiteral {
			literals = append(literals, raw, strings.ReplaceAll(raw, "''", "'"))
		}
		if end >= len(rest) {
			break
		}
		rest = rest[end+1:]
	}

	slices.SortFunc(literals, func(a, b string) int { return len(b) - len(a) })
	return literals
}

// closingQuote returns the index of the quote that ends a literal starting at
// from, skipping doubled quotes, or -1.
func closingQuote(s string, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			i++
			continue
		}
		return i
	}
	return -1
}
