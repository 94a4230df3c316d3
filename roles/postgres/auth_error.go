package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsAuthenticationFailure reports whether err is the server refusing the
// login itself (SQLSTATE 28P01 or 28000), as opposed to the server being
// unreachable. Only the first proves which password the database holds.
func IsAuthenticationFailure(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "28P01" || pgErr.Code == "28000"
}
