package postgres

import (
	"context"
	"fmt"
)

// RotatePassword sets the admin role's password to newPassword. The server
// gets the SCRAM verifier, never the plaintext. Pooled connections stay open,
// and new ones log in with the new password.
func (c *Client) RotatePassword(ctx context.Context, newPassword string) error {
	verifier, err := SCRAMVerifier(newPassword)
	if err != nil {
		return fmt.Errorf("rotate password of admin role %q: %w", c.admin, err)
	}

	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	statement := "ALTER ROLE " + Quoter{}.QuoteIdentifier(c.admin) + " PASSWORD " + Quoter{}.QuoteLiteral(verifier)
	if _, err := c.pool.Exec(ctx, statement); err != nil {
		return fmt.Errorf("rotate password of admin role %q: %w", c.admin, statementError("ALTER ROLE", c.redact(err), statement))
	}

	c.setPassword(newPassword)
	c.logger.Info("admin password rotated", "username", c.admin)
	return nil
}
