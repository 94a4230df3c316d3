package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// terminateWaitMillis is how long pg_terminate_backend waits for each
// session to exit (PostgreSQL 14 and later), so no session of the account
// still runs when its objects are reassigned.
const terminateWaitMillis = 5000

// accountRole is the account's role as DropAccount looks it up, with facts about the admin.
type accountRole struct {
	oid              uint32
	adminIsSuperuser bool
	database         string // the pool's database
}

// DropAccount removes an account and everything it left behind. An account
// that is already gone counts as dropped, so revocation can be retried
// safely. The steps, in order:
//
//  1. ALTER ROLE NOLOGIN, so it cannot log in again;
//  2. end its sessions, including those that ran SET ROLE, because
//     pg_stat_activity.usesysid is the session user;
//  3. run extra, the rendered revocation statements, in one transaction;
//  4. in every database where pg_shdepend shows it owning objects or holding
//     privileges, and in the pool's database, REASSIGN OWNED BY it TO
//     QuarantineRole and DROP OWNED BY it;
//  5. DROP ROLE.
//
// An account that owns nothing elsewhere costs five round trips on pooled
// connections, and each other database one short-lived connection.
func (c *Client) DropAccount(ctx context.Context, username string, extra []string) error {
	if username == "" {
		return errors.New("missing account username")
	}
	if username == c.admin {
		return fmt.Errorf("cannot drop account %q: it is the connection's admin role, which the plugin needs", username)
	}

	err := c.dropAccount(ctx, username, extra)
	if err == nil {
		return nil
	}

	// A concurrent revocation may have dropped the role between two steps.
	if exists, existsErr := c.AccountExists(ctx, username); existsErr == nil && !exists {
		c.logger.Debug("account dropped by another caller", "username", username)
		return nil
	}
	return fmt.Errorf("drop account %q: %w", username, err)
}

func (c *Client) dropAccount(ctx context.Context, username string, extra []string) error {
	role, found, err := c.lookUpAccount(ctx, username)
	if err != nil || !found {
		return err
	}

	quotedUser := Quoter{}.QuoteIdentifier(username)
	if err := c.execStep(ctx, "disable login", "ALTER ROLE "+quotedUser+" NOLOGIN"); err != nil {
		return err
	}

	// REASSIGN OWNED, DROP OWNED and ending its sessions need membership in
	// the role when the admin is not a superuser (PostgreSQL 15 and older).
	if !role.adminIsSuperuser {
		if err := c.execStep(ctx, "grant the account to the admin", "GRANT "+quotedUser+" TO "+Quoter{}.QuoteIdentifier(c.admin)); err != nil {
			return err
		}
	}

	if err := c.terminateSessions(ctx, username, role.oid); err != nil {
		return err
	}
	err = c.ensureQuarantine(ctx, func(ctx context.Context, sql string) error {
		return c.execStep(ctx, "create the quarantine role", sql)
	}, role.adminIsSuperuser, false)
	if err != nil {
		return err
	}
	if err := c.runRevocation(ctx, extra); err != nil {
		return err
	}

	databases, err := c.dependentDatabases(ctx, role.oid)
	if err != nil {
		return err
	}
	for _, database := range databases {
		if database != role.database {
			if err := c.dropOwnedIn(ctx, database, username); err != nil {
				return err
			}
		}
	}

	// The pool's database comes last, in the same implicit transaction as DROP ROLE.
	final := reassignToQuarantine(username) + "; DROP ROLE IF EXISTS " + quotedUser
	if err := c.execStep(ctx, "drop owned objects and role", final); err != nil {
		return err
	}

	c.logger.Debug("account dropped", "username", username, "other_databases", len(databases))
	return nil
}

func (c *Client) lookUpAccount(ctx context.Context, username string) (accountRole, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	var role accountRole
	err := c.pool.QueryRow(ctx, `
		SELECT r.oid, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), current_database()
		FROM pg_roles r WHERE r.rolname = $1`, username,
	).Scan(&role.oid, &role.adminIsSuperuser, &role.database)
	if errors.Is(err, pgx.ErrNoRows) {
		c.logger.Debug("account already gone", "username", username)
		return accountRole{}, false, nil
	}
	if err != nil {
		return accountRole{}, false, fmt.Errorf("look up role: %w", c.redact(err))
	}
	return role, true, nil
}

// execStep runs one statement without arguments on a pooled connection.
func (c *Client) execStep(ctx context.Context, step, statement string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	if _, err := c.pool.Exec(ctx, statement); err != nil {
		return statementError(step, c.redact(err))
	}
	return nil
}

func (c *Client) terminateSessions(ctx context.Context, username string, oid uint32) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	var sessions, terminated int
	err := c.pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE pg_terminate_backend(pid, $2))
		FROM pg_stat_activity WHERE usesysid = $1`, oid, terminateWaitMillis,
	).Scan(&sessions, &terminated)
	if err != nil {
		return fmt.Errorf("end sessions: %w", c.redact(err))
	}

	if sessions > 0 {
		c.logger.Debug("ended account sessions", "username", username, "sessions", sessions, "terminated", terminated)
	}
	return nil
}

// runRevocation runs the rendered revocation statements in one transaction,
// retried on transient conflicts like the creation statements.
func (c *Client) runRevocation(ctx context.Context, statements []string) error {
	if len(statements) == 0 {
		return nil
	}

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	return c.retryTransient(ctx, "revoke account", func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
			for i, statement := range statements {
				if _, err := tx.Exec(ctx, statement); err != nil {
					return statementError(fmt.Sprintf("revocation statement %d", i+1), err, statements...)
				}
			}
			return nil
		})
	})
}

// dependentDatabases lists the databases where the role owns objects or holds
// privileges. pg_shdepend is shared by all databases, so one query covers them.
func (c *Client) dependentDatabases(ctx context.Context, oid uint32) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	rows, err := c.pool.Query(ctx, `
		SELECT DISTINCT d.datname
		FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid
		WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND s.dbid <> 0`, oid)
	if err != nil {
		return nil, fmt.Errorf("find databases with objects of the role: %w", c.redact(err))
	}

	databases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find databases with objects of the role: %w", c.redact(err))
	}
	slices.Sort(databases)
	return databases, nil
}

// dropOwnedIn reassigns and drops what username owns in another database,
// over a short-lived admin connection, because a pooled connection is bound
// to the pool's database.
func (c *Client) dropOwnedIn(ctx context.Context, database, username string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	config := c.pool.Config().ConnConfig
	config.Database = database
	config.Password = c.currentPassword()

	conn, err := pgx.ConnectConfig(ctx, config)
	if err != nil {
		return fmt.Errorf("connect to database %q: %w", database, c.redact(err))
	}
	defer func() {
		if err := conn.Close(ctx); err != nil {
			c.logger.Warn("closing connection failed", "database", database, "error", c.redact(err))
		}
	}()

	if _, err := conn.Exec(ctx, reassignToQuarantine(username)); err != nil {
		return statementError(fmt.Sprintf("drop owned objects in database %q", database), c.redact(err))
	}
	return nil
}
