// Package postgres creates, extends and drops the task-scoped accounts that
// the plugin issues on PostgreSQL, through one pgx pool per connection.
//
// Each task role's privileges live in a NOLOGIN group role (EnsureGroup), and
// an account is created by one statement that joins it (CreateAccount).
// Statements that carry a password are sent through pgx's simple protocol
// with the SCRAM verifier, never the plaintext, and errors report the server's
// SQLSTATE and message, never the statement text.
package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// callTimeout bounds each call on the server, and each step of DropAccount
// separately, so a hung server cannot block a Vault request indefinitely.
const callTimeout = 15 * time.Second

// Client manages accounts on one PostgreSQL server. It is safe for concurrent use.
type Client struct {
	pool   *pgxpool.Pool
	admin  string // admin role, ConnectionConfig.Username
	target Target // server and database, for messages
	logger hclog.Logger

	mu       sync.Mutex
	password string            // admin password for new connections, replaced by RotatePassword
	groups   map[string]string // group role name to the comment that EnsureGroup last applied or found

	// quarantineReady records that QuarantineRole exists and the admin may
	// hand objects to it.
	quarantineReady bool
}

// Open returns a client with a lazy pool: nothing connects until the first
// call. Connections time out after 5 seconds unless the URL sets connect_timeout.
func Open(ctx context.Context, cfg ConnectionConfig, logger hclog.Logger) (*Client, error) {
	poolConfig, err := cfg.poolConfig()
	if err != nil {
		return nil, err
	}
	target, err := cfg.Target()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	client := &Client{
		admin:    cfg.Username,
		target:   target,
		logger:   logger,
		password: cfg.Password,
		groups:   map[string]string{},
	}

	// Every new connection reads the current password, so connections opened
	// after RotatePassword log in with the new one.
	poolConfig.BeforeConnect = func(_ context.Context, conn *pgx.ConnConfig) error {
		conn.Password = client.currentPassword()
		return nil
	}

	client.pool, err = pgxpool.NewWithConfig(ctx, poolConfig)
	if err != nil {
		return nil, fmt.Errorf("create connection pool for %s: %w", client.describeTarget(), client.redact(err))
	}
	return client, nil
}

// Verify connects and checks that the admin role can create roles: it must
// be a superuser or have CREATEROLE.
func (c *Client) Verify(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()

	var superuser, createRole bool
	err := c.pool.QueryRow(ctx,
		"SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user",
	).Scan(&superuser, &createRole)
	if err != nil {
		return fmt.Errorf("connect to %s as %q: %w", c.describeTarget(), c.admin, c.redact(err))
	}

	if !superuser && !createRole {
		return fmt.Errorf("admin role %q cannot create roles: run ALTER ROLE %s CREATEROLE as a superuser, or set \"username\" to a role that has CREATEROLE",
			c.admin, Quoter{}.QuoteIdentifier(c.admin))
	}
	return nil
}

// Close closes the pool's connections. Calls after Close fail.
func (c *Client) Close() {
	c.pool.Close()
}

func (c *Client) currentPassword() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.password
}

func (c *Client) setPassword(password string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.password = password
}

func (c *Client) describeTarget() string {
	return fmt.Sprintf("%s:%d/%s", c.target.Host, c.target.Port, c.target.Database)
}

// redact masks the admin password in the message of err. The driver does not
// put passwords into its errors, so this is a second line of defence. The
// result still wraps err, so errors.As finds the server's SQLSTATE even when a
// weak password such as "postgres" also appears as a database name.
func (c *Client) redact(err error) error {
	password := c.currentPassword()
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redactedError{message: strings.ReplaceAll(err.Error(), password, "[redacted]"), cause: err}
}

// redactedError is an error whose message has a secret masked.
type redactedError struct {
	message string
	cause   error
}

func (e *redactedError) Error() string { return e.message }
func (e *redactedError) Unwrap() error { return e.cause }
