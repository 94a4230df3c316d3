package postgres

import (
	"context"
)

// QuarantineRole receives the objects that revoked accounts and reset
// group roles owned. It is NOLOGIN and holds no privilege, so a SECURITY
// DEFINER function a task account created runs with no rights after
// revocation. Handing such objects to the connection's admin, often a
// superuser, would let any later account that may call the function act as
// the admin.
const QuarantineRole = "zsp_quarantine"

// createQuarantine creates the quarantine role when it is missing. A
// concurrent creation by another revocation counts as success.
const createQuarantine = `DO $quarantine$
BEGIN
	CREATE ROLE ` + QuarantineRole + ` NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
	NULL;
END
$quarantine$`

// ensureQuarantine makes sure the quarantine role exists and, when the admin
// is not a superuser, that the admin may hand objects to it: REASSIGN OWNED
// needs the privileges of the target role on PostgreSQL 15 and older. Only
// autocommitted statements (inTransaction false) may mark the work done,
// because a transaction that rolls back would undo it.
func (c *Client) ensureQuarantine(ctx context.Context, exec func(ctx context.Context, sql string) error, adminIsSuperuser, inTransaction bool) error {
	c.mu.Lock()
	ready := c.quarantineReady
	c.mu.Unlock()
	if ready {
		return nil
	}

	if err := exec(ctx, createQuarantine); err != nil {
		return err
	}
	if !adminIsSuperuser {
		if err := exec(ctx, "GRANT "+QuarantineRole+" TO "+Quoter{}.QuoteIdentifier(c.admin)); err != nil {
			return err
		}
	}

	if !inTransaction {
		c.mu.Lock()
		c.quarantineReady = true
		c.mu.Unlock()
	}
	return nil
}

// reassignToQuarantine returns the statements that hand what role owns to
// the quarantine role and drop its remaining privileges.
func reassignToQuarantine(role string) string {
	quoted := Quoter{}.QuoteIdentifier(role)
	return "REASSIGN OWNED BY " + quoted + " TO " + QuarantineRole + "; DROP OWNED BY " + quoted
}
