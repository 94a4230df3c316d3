package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// groupCommentPrefix starts the comment on every group role the client sets
// up. The rest is the SHA-256 of the grant statements, so a change of grants
// is seen without storing them on the server.
const groupCommentPrefix = "zsp group grants sha256:"

// groupState is the group role as applyGroup finds it, and whether the admin is a superuser.
type groupState struct {
	adminIsSuperuser bool
	exists           bool
	canLogin         bool
	superuser        bool
	comment          string
}

// EnsureGroup makes group a NOLOGIN role that holds exactly the privileges of
// grants. It creates the role when missing. When the grants differ from those
// applied last (the role's comment holds their SHA-256), it first revokes the
// old privileges with DROP OWNED BY, after REASSIGN OWNED hands anything the
// group owns to QuarantineRole, then runs the grants. Callers serialize on an
// advisory lock keyed by the group name. A group the client has already
// brought up to date costs no round trip.
func (c *Client) EnsureGroup(ctx context.Context, group string, grants []string) error {
	if group == "" {
		return errors.New("missing group role name")
	}

	comment := groupComment(grants)
	if c.cachedGroupComment(group) == comment {
		return nil
	}

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	err := c.retryTransient(ctx, "ensure group", func(ctx context.Context) error {
		return c.applyGroup(ctx, group, grants, comment)
	})
	if err != nil {
		return fmt.Errorf("set up group role %q: %w", group, err)
	}

	c.cacheGroupComment(group, comment)
	return nil
}

// applyGroup brings the group up to date in one transaction.
func (c *Client) applyGroup(ctx context.Context, group string, grants []string, comment string) error {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return c.redact(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	if err := c.applyGroupIn(ctx, tx, group, grants, comment); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// GroupGrants is one group role and the grants it must hold.
type GroupGrants struct {
	Group  string
	Grants []string
}

// EnsureGroups brings several groups up to date in a single transaction, so
// a grant that fails for one of them changes none: a task role's write
// either applies to every set of its parameter values or to no set.
func (c *Client) EnsureGroups(ctx context.Context, groups []GroupGrants) error {
	sorted := slices.Clone(groups)
	slices.SortFunc(sorted, func(a, b GroupGrants) int { return strings.Compare(a.Group, b.Group) })

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	err := c.retryTransient(ctx, "ensure groups", func(ctx context.Context) error {
		tx, err := c.pool.Begin(ctx)
		if err != nil {
			return c.redact(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()

		// Locks are taken in name order, so two writers cannot deadlock.
		for _, g := range sorted {
			if err := c.applyGroupIn(ctx, tx, g.Group, g.Grants, groupComment(g.Grants)); err != nil {
				return fmt.Errorf("group role %q: %w", g.Group, err)
			}
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return err
	}

	for _, g := range sorted {
		c.cacheGroupComment(g.Group, groupComment(g.Grants))
	}
	return nil
}

// applyGroupIn brings the group up to date inside tx, after taking the
// group's advisory lock.
func (c *Client) applyGroupIn(ctx context.Context, tx pgx.Tx, group string, grants []string, comment string) error {
	if group == "" {
		return errors.New("missing group role name")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", group); err != nil {
		return fmt.Errorf("lock group: %w", err)
	}

	// Read after the lock, so a caller that waited reads what the one before it committed.
	state, err := readGroupState(ctx, tx, group)
	if err != nil {
		return err
	}
	if state.canLogin || state.superuser {
		return fmt.Errorf("role %q exists and can log in or is a superuser, so it cannot be a group role; rename the task role or drop that role", group)
	}
	if state.exists && state.comment == comment {
		return nil
	}

	if err := c.resetGroup(ctx, tx, group, state); err != nil {
		return err
	}
	for i, grant := range grants {
		if _, err := tx.Exec(ctx, grant); err != nil {
			return statementError(fmt.Sprintf("grant statement %d", i+1), err, grants...)
		}
	}

	commentStatement := "COMMENT ON ROLE " + Quoter{}.QuoteIdentifier(group) + " IS " + Quoter{}.QuoteLiteral(comment)
	if _, err := tx.Exec(ctx, commentStatement); err != nil {
		return statementError("comment on group role", err)
	}
	return nil
}

func readGroupState(ctx context.Context, tx pgx.Tx, group string) (groupState, error) {
	var state groupState
	err := tx.QueryRow(ctx, `
		SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
		       r.oid IS NOT NULL,
		       coalesce(r.rolcanlogin, false),
		       coalesce(r.rolsuper, false),
		       coalesce(shobj_description(r.oid, 'pg_authid'), '')
		FROM (SELECT 1) AS one
		LEFT JOIN pg_roles r ON r.rolname = $1`, group,
	).Scan(&state.adminIsSuperuser, &state.exists, &state.canLogin, &state.superuser, &state.comment)
	if err != nil {
		return groupState{}, fmt.Errorf("read group role: %w", err)
	}
	return state, nil
}

// resetGroup creates a missing group, or strips an existing one of what
// older grants gave it.
func (c *Client) resetGroup(ctx context.Context, tx pgx.Tx, group string, state groupState) error {
	quotedGroup := Quoter{}.QuoteIdentifier(group)
	quotedAdmin := Quoter{}.QuoteIdentifier(c.admin)

	if !state.exists {
		if _, err := tx.Exec(ctx, "CREATE ROLE "+quotedGroup+" NOLOGIN"); err != nil {
			return statementError("create group role", err)
		}
	}

	// On PostgreSQL 15 and older, REASSIGN OWNED and DROP OWNED need
	// membership in the role, which CREATEROLE alone does not give.
	if !state.adminIsSuperuser {
		if _, err := tx.Exec(ctx, "GRANT "+quotedGroup+" TO "+quotedAdmin); err != nil {
			return statementError("grant group role to the admin", err)
		}
	}

	if state.exists {
		err := c.ensureQuarantine(ctx, func(ctx context.Context, sql string) error {
			_, err := tx.Exec(ctx, sql)
			return err
		}, state.adminIsSuperuser, true)
		if err != nil {
			return statementError("create the quarantine role", err)
		}
		if _, err := tx.Exec(ctx, reassignToQuarantine(group)); err != nil {
			return statementError("revoke old grants", err)
		}
	}
	return nil
}

// groupComment returns the comment for a group with these grants. Each
// statement is hashed with its length first, so ["ab", "c"] and ["a", "bc"] differ.
func groupComment(grants []string) string {
	hash := sha256.New()
	for _, grant := range grants {
		_ = binary.Write(hash, binary.BigEndian, uint64(len(grant)))
		hash.Write([]byte(grant))
	}
	return groupCommentPrefix + hex.EncodeToString(hash.Sum(nil))
}

func (c *Client) cachedGroupComment(group string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[group]
}

func (c *Client) cacheGroupComment(group, comment string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups[group] = comment
}

// forgetGroup drops the cached state of a group, so the next EnsureGroup
// reads the server again: the role may have been dropped or changed there.
func (c *Client) forgetGroup(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.groups, group)
}
