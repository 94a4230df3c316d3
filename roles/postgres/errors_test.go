package postgres

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func TestStringLiterals(t *testing.T) {
	literals := stringLiterals(`CREATE ROLE "x" PASSWORD 'it''s-a-secret' VALID UNTIL 'short'`)

	require.Equal(t, []string{"it''s-a-secret", "it's-a-secret"}, literals)
}

func TestStringLiteralsUnterminated(t *testing.T) {
	literals := stringLiterals(`CREATE ROLE x PASSWORD 'unterminated-secret`)

	require.Contains(t, literals, "unterminated-secret")
}

func TestStatementErrorMasksLiterals(t *testing.T) {
	statement := `CREATE ROLE x LOGIN 'it''s-a-secret'`
	pgErr := &pgconn.PgError{Code: "42601", Message: `syntax error at or near "'it''s-a-secret'"`}

	err := statementError("creation statement 1", pgErr, statement)

	var stmtErr *StatementError
	require.True(t, errors.As(err, &stmtErr))
	require.Equal(t, "42601", stmtErr.Code)
	require.Equal(t, `creation statement 1 failed: syntax error at or near "'[redacted]'" (SQLSTATE 42601)`, err.Error())
	require.False(t, errors.As(err, new(*pgconn.PgError)), "the driver's error must not be reachable")
}

func TestStatementErrorWrapsOtherErrors(t *testing.T) {
	cause := errors.New("connection reset")

	err := statementError("creation statement", cause, "CREATE ROLE x PASSWORD 'long-secret'")

	require.ErrorIs(t, err, cause)
	require.Equal(t, "creation statement failed: connection reset", err.Error())
}

func TestIsTransient(t *testing.T) {
	for code, want := range map[string]bool{
		"XX000": true, "40001": true, "40P01": true, "42601": false, "23505": false,
	} {
		require.Equal(t, want, isTransient(&pgconn.PgError{Code: code}), code)
		require.Equal(t, want, isTransient(&StatementError{Code: code}), code)
	}
	require.False(t, isTransient(errors.New("timeout")))
}
