package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewAccount is an account to create with rendered statements.
type NewAccount struct {
	Username   string
	Statements []string // rendered creation statements; they hold the password verifier
	LockKey    string   // serializes custom statements per task role: the group name
	Marker     string   // stored with COMMENT ON ROLE, so plugin-made accounts can be recognized later

	// LogStatements sets log_statement = 'all' on the account, so the
	// server log ties every statement it runs to its name.
	LogStatements bool
	Default       bool // Statements is the single default create-and-join statement
}

// CreateAccount runs the creation statements and sets the marker comment,
// all in one transaction, so a failed statement leaves nothing on the server.
// (A connection lost during the commit leaves the outcome unknown, which the
// caller's write-ahead log covers.) The default statement is sent with the comment as one
// simple-protocol query, which PostgreSQL runs as one implicit transaction, in
// one round trip. Custom statements run in an explicit transaction that
// first takes the advisory lock on LockKey, so grants on shared objects from
// one task role do not collide. Both are retried on SQLSTATE XX000, 40001
// and 40P01. Errors hold the SQLSTATE and the server message with the
// statements' literals masked, never the statements.
func (c *Client) CreateAccount(ctx context.Context, a NewAccount) error {
	if err := a.validate(); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	create := c.createCustom
	if a.Default {
		create = c.createDefault
	}
	err := c.retryTransient(ctx, "create account", func(ctx context.Context) error {
		return create(ctx, a)
	})
	if err != nil {
		if sqlState(err) == codeUndefinedObject && a.LockKey != "" {
			// The group role may have been dropped since EnsureGroup cached it.
			c.forgetGroup(a.LockKey)
		}
		return fmt.Errorf("create account %q: %w", a.Username, err)
	}

	c.logger.Debug("account created", "username", a.Username)
	return nil
}

func (a NewAccount) validate() error {
	if a.Username == "" {
		return errors.New("missing account username")
	}
	if len(a.Statements) == 0 {
		return fmt.Errorf("no creation statements for account %q", a.Username)
	}
	if a.Default && len(a.Statements) != 1 {
		return fmt.Errorf("the default creation for account %q takes exactly one statement, got %d", a.Username, len(a.Statements))
	}
	return nil
}

// createDefault sends the statement and the comment as one query. pgx v5
// uses the simple protocol for Exec without arguments, and PostgreSQL runs a
// multi-statement simple query as one implicit transaction. The separator
// starts on a new line, so a trailing "--" comment cannot swallow it.
func (c *Client) createDefault(ctx context.Context, a NewAccount) error {
	query := a.Statements[0]
	if comment := a.commentStatement(); comment != "" {
		query += "\n;\n" + comment
	}
	if a.LogStatements {
		query += "\n;\n" + a.logStatement()
	}

	if _, err := c.pool.Exec(ctx, query); err != nil {
		return statementError("creation statement", c.redact(err), a.Statements...)
	}
	return nil
}

func (c *Client) createCustom(ctx context.Context, a NewAccount) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return c.redact(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	if a.LockKey != "" {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", a.LockKey); err != nil {
			return fmt.Errorf("lock %q: %w", a.LockKey, err)
		}
	}

	for i, statement := range a.Statements {
		if _, err := tx.Exec(ctx, statement); err != nil {
			return statementError(fmt.Sprintf("creation statement %d", i+1), err, a.Statements...)
		}
	}

	if comment := a.commentStatement(); comment != "" {
		if _, err := tx.Exec(ctx, comment); err != nil {
			return statementError("comment on account", err)
		}
	}
	if a.LogStatements {
		if _, err := tx.Exec(ctx, a.logStatement()); err != nil {
			return statementError("statement logging for account", err)
		}
	}
	return tx.Commit(ctx)
}

func (a NewAccount) logStatement() string {
	return "ALTER ROLE " + Quoter{}.QuoteIdentifier(a.Username) + " SET log_statement = 'all'"
}

func (a NewAccount) commentStatement() string {
	if a.Marker == "" {
		return ""
	}
	return "COMMENT ON ROLE " + Quoter{}.QuoteIdentifier(a.Username) + " IS " + Quoter{}.QuoteLiteral(a.Marker)
}

// ExtendValidUntil moves the account's VALID UNTIL to until when that is
// later, and never earlier. A role without VALID UNTIL, which could log in
// forever, gets until, and one valid until 'infinity' is left alone. The
// comparison runs in SQL after an advisory lock on the username, so
// concurrent extensions cannot move it back. An account that does not exist
// gives an error wrapping ErrAccountNotFound.
func (c *Client) ExtendValidUntil(ctx context.Context, username string, until time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		return c.extendValidUntil(ctx, tx, username, until)
	})
	if err != nil {
		return fmt.Errorf("extend VALID UNTIL of account %q to %s: %w", username, FormatExpiration(until), c.redact(err))
	}
	return nil
}

// validUntilLockSeed gives the username locks their own key space, apart
// from the group locks, which use seed 0.
const validUntilLockSeed = 1

func (c *Client) extendValidUntil(ctx context.Context, tx pgx.Tx, username string, until time.Time) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, $2))", username, validUntilLockSeed); err != nil {
		return fmt.Errorf("lock account: %w", err)
	}

	var later bool
	err := tx.QueryRow(ctx,
		"SELECT rolvaliduntil IS NULL OR rolvaliduntil < $2 FROM pg_roles WHERE rolname = $1",
		username, until,
	).Scan(&later)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrAccountNotFound
	}
	if err != nil {
		return fmt.Errorf("read VALID UNTIL: %w", err)
	}
	if !later {
		return nil
	}

	statement := "ALTER ROLE " + Quoter{}.QuoteIdentifier(username) + " VALID UNTIL " + Quoter{}.QuoteLiteral(FormatExpiration(until))
	if _, err := tx.Exec(ctx, statement); err != nil {
		return statementError("ALTER ROLE", err)
	}
	c.logger.Debug("account valid until extended", "username", username, "valid_until", FormatExpiration(until))
	return nil
}

// AccountExists reports whether a role named username exists.
func (c *Client) AccountExists(ctx context.Context, username string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	var exists bool
	err := c.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", username).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look up account %q: %w", username, c.redact(err))
	}
	return exists, nil
}
