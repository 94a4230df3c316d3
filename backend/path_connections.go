package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/locksutil"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

const (
	connectionPrefix = "connections/"

	// retiredConnectionPrefix keeps a force-deleted connection, by ID, until
	// its last live account is revoked, so revocation still reaches the database.
	retiredConnectionPrefix = "retired-connections/"

	pluginPostgreSQL          = "postgresql"
	defaultMaxOpenConnections = 4
	maxMaxOpenConnections     = 1000
	verifyTimeout             = 10 * time.Second
)

// connectionEntry is a stored connection. ID stays the same across updates
// and identifies this connection in leases; Revision changes on every write so
// cached pools of older settings are replaced.
type connectionEntry struct {
	SchemaVersion         int             `json:"schema_version"`
	ID                    string          `json:"id"`
	Revision              int64           `json:"revision"`
	PluginName            string          `json:"plugin_name"`
	ConnectionURL         string          `json:"connection_url"`
	Username              string          `json:"username"`
	Password              string          `json:"password"`
	VerifyConnection      bool            `json:"verify_connection"`
	MaxOpenConnections    int             `json:"max_open_connections"`
	MaxConnectionLifetime writtenDuration `json:"max_connection_lifetime"`
	PrivilegedRoles       []string        `json:"privileged_roles"`
}

func (c *connectionEntry) postgresConfig() postgres.ConnectionConfig {
	return postgres.ConnectionConfig{
		URL:                   c.ConnectionURL,
		Username:              c.Username,
		Password:              c.Password,
		MaxOpenConnections:    c.MaxOpenConnections,
		MaxConnectionLifetime: c.MaxConnectionLifetime.Value,
	}
}

func pathConnections(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "connections/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "connections",
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:     b.pathConnectionsList,
					Summary:      "List the names of the configured connections.",
					Responses:    listResponses("Connection names."),
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "list"},
				},
			},
			HelpSynopsis:    "List the configured connections.",
			HelpDescription: "Lists the names of the PostgreSQL connections this mount manages accounts on.",
		},
		{
			Pattern: "connections/" + nameSegment,
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "connection",
			},
			Fields:         connectionFields(),
			ExistenceCheck: b.connectionExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:     b.pathConnectionRead,
					Summary:      "Read a connection. The password is never returned.",
					Responses:    map[int][]framework.Response{200: {{Description: "OK", Fields: connectionResponseFields()}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "read"},
				},
				logical.CreateOperation: &framework.PathOperation{
					Callback:     b.pathConnectionWrite,
					Summary:      "Create a connection.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "create"},
				},
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     b.pathConnectionWrite,
					Summary:      "Update a connection. Fields not sent keep their value.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "update"},
				},
				logical.DeleteOperation: &framework.PathOperation{
					Callback:     b.pathConnectionDelete,
					Summary:      "Delete a connection. Refused while accounts issued through it are live, unless force is set.",
					Responses:    map[int][]framework.Response{204: {{Description: "No Content"}}},
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "delete"},
				},
			},
			HelpSynopsis:    "Manage a PostgreSQL connection.",
			HelpDescription: strings.TrimSpace(connectionHelp),
		},
	}
}

func connectionFields() map[string]*framework.FieldSchema {
	return map[string]*framework.FieldSchema{
		"name": {
			Type:        framework.TypeString,
			Description: "Name of the connection.",
			Required:    true,
		},
		"plugin_name": {
			Type:          framework.TypeString,
			Description:   `Kind of database. Only "postgresql" is supported.`,
			Default:       pluginPostgreSQL,
			AllowedValues: []any{pluginPostgreSQL},
		},
		"connection_url": {
			Type:         framework.TypeString,
			Description:  "PostgreSQL URL or key=value connection string with {{username}} and {{password}} placeholders, for example postgres://{{username}}:{{password}}@db.example.com:5432/app?sslmode=verify-full. It must not contain a literal password.",
			DisplayAttrs: &framework.DisplayAttributes{Name: "Connection URL"},
		},
		"username": {
			Type:        framework.TypeString,
			Description: "Admin role the engine connects as. It must be a superuser or have CREATEROLE, and own or hold grant options on the objects task roles grant.",
		},
		"password": {
			Type:         framework.TypeString,
			Description:  "Password of the admin role. Write only: reads never return it. Use rotate-root to replace it with one only Vault knows.",
			DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
		},
		"verify_connection": {
			Type:        framework.TypeBool,
			Description: "Connect and check the admin role's privileges before saving.",
			Default:     true,
		},
		"max_open_connections": {
			Type:        framework.TypeInt,
			Description: "Maximum number of open connections to the database.",
			Default:     defaultMaxOpenConnections,
		},
		"max_connection_lifetime": {
			Type:        framework.TypeDurationSecond,
			Description: "Maximum time a pooled connection is reused. Zero keeps connections open.",
		},
		"privileged_roles": {
			Type:        framework.TypeCommaStringSlice,
			Description: "Roles on the database whose members hold standing privilege (for example an app_admin role); inventory/<name> reports their members.",
		},
		"force": {
			Type:        framework.TypeBool,
			Description: "On delete: delete even while accounts issued through this connection are live. Their leases still revoke them.",
			Query:       true,
		},
	}
}

func connectionResponseFields() map[string]*framework.FieldSchema {
	fields := connectionFields()
	delete(fields, "name")
	delete(fields, "password")
	delete(fields, "force")
	return fields
}

func (b *backend) connectionExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	conn, err := getConnection(ctx, req.Storage, d.Get("name").(string))
	return conn != nil, err
}

func (b *backend) pathConnectionsList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, connectionPrefix)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return logical.ListResponse(names), nil
}

func (b *backend) pathConnectionRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	conn, err := getConnection(ctx, req.Storage, d.Get("name").(string))
	if err != nil || conn == nil {
		return nil, err
	}

	return &logical.Response{Data: map[string]any{
		"plugin_name":             conn.PluginName,
		"connection_url":          conn.ConnectionURL,
		"username":                conn.Username,
		"verify_connection":       conn.VerifyConnection,
		"max_open_connections":    conn.MaxOpenConnections,
		"max_connection_lifetime": conn.MaxConnectionLifetime.readForm(),
		"privileged_roles":        nonNil(conn.PrivilegedRoles),
	}}, nil
}

func (b *backend) pathConnectionWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := roles.ValidateName("name", name); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}

	lock := locksutil.LockForKey(b.connectionLocks, name)
	lock.Lock()
	defer lock.Unlock()

	conn, err := getConnection(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		conn, err = newConnectionEntry()
		if err != nil {
			return nil, err
		}
	}

	if err := applyConnectionFields(conn, d); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if err := validateConnection(conn); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if conn.VerifyConnection {
		if err := b.verifyConnection(ctx, name, conn); err != nil {
			return logical.ErrorResponse(err.Error()), nil
		}
	}

	conn.Revision++
	if err := putJSON(ctx, req.Storage, connectionPrefix+name, conn); err != nil {
		return nil, err
	}
	b.clients.evict(name)
	return nil, nil
}

func newConnectionEntry() (*connectionEntry, error) {
	id, err := uuid.GenerateUUID()
	if err != nil {
		return nil, fmt.Errorf("generate connection id: %w", err)
	}
	return &connectionEntry{
		SchemaVersion:      schemaVersion,
		ID:                 id,
		PluginName:         pluginPostgreSQL,
		VerifyConnection:   true,
		MaxOpenConnections: defaultMaxOpenConnections,
	}, nil
}

// applyConnectionFields copies the fields present in the request onto conn.
func applyConnectionFields(conn *connectionEntry, d *framework.FieldData) error {
	if raw, ok := d.GetOk("plugin_name"); ok {
		conn.PluginName = strings.TrimSpace(raw.(string))
	}
	if raw, ok := d.GetOk("connection_url"); ok {
		conn.ConnectionURL = strings.TrimSpace(raw.(string))
	}
	if raw, ok := d.GetOk("username"); ok {
		conn.Username = raw.(string)
	}
	if raw, ok := d.GetOk("password"); ok {
		conn.Password = raw.(string)
	}
	if raw, ok := d.GetOk("verify_connection"); ok {
		conn.VerifyConnection = raw.(bool)
	}
	if raw, ok := d.GetOk("max_open_connections"); ok {
		conn.MaxOpenConnections = raw.(int)
	}
	if raw, ok := d.Raw["privileged_roles"]; ok {
		list, err := parseStringList("privileged_roles", raw)
		if err != nil {
			return err
		}
		conn.PrivilegedRoles = list
	}
	if raw, ok := d.Raw["max_connection_lifetime"]; ok {
		lifetime, err := parseWrittenDuration("max_connection_lifetime", raw)
		if err != nil {
			return err
		}
		conn.MaxConnectionLifetime = lifetime
	}
	return nil
}

func validateConnection(conn *connectionEntry) error {
	if conn.PluginName != pluginPostgreSQL {
		return fmt.Errorf(`invalid "plugin_name": %q is not supported; use %q`, conn.PluginName, pluginPostgreSQL)
	}
	if conn.ConnectionURL == "" {
		return errors.New(`missing "connection_url": set it to a PostgreSQL URL such as postgres://{{username}}:{{password}}@host:5432/database`)
	}
	if strings.Contains(conn.ConnectionURL, "{{username}}") && conn.Username == "" {
		return errors.New(`missing "username": connection_url has {{username}}; set username to the admin role`)
	}
	if strings.Contains(conn.ConnectionURL, "{{password}}") && conn.Password == "" {
		return errors.New(`missing "password": connection_url has {{password}}; set password to the admin role's password`)
	}
	if conn.MaxOpenConnections < 1 || conn.MaxOpenConnections > maxMaxOpenConnections {
		return fmt.Errorf(`invalid "max_open_connections": %d is out of range; use 1 to %d`, conn.MaxOpenConnections, maxMaxOpenConnections)
	}
	if err := conn.postgresConfig().Validate(); err != nil {
		return redactError(err, conn.Password)
	}
	return nil
}

// verifyConnection opens a separate pool for the new settings, so a failed
// check leaves the cached pool of the saved settings untouched.
func (b *backend) verifyConnection(ctx context.Context, name string, conn *connectionEntry) error {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()

	client, err := postgres.Open(ctx, conn.postgresConfig(), b.logger().Named("postgres").With("connection", name))
	if err != nil {
		return fmt.Errorf("connection %q could not be verified: %w; fix the settings or set verify_connection=false", name, redactError(err, conn.Password))
	}
	defer client.Close()

	if err := client.Verify(ctx); err != nil {
		return fmt.Errorf("connection %q could not be verified: %w; fix the settings or set verify_connection=false", name, redactError(err, conn.Password))
	}
	return nil
}

func (b *backend) pathConnectionDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)

	lock := locksutil.LockForKey(b.connectionLocks, name)
	lock.Lock()
	defer lock.Unlock()

	conn, err := getConnection(ctx, req.Storage, name)
	if err != nil || conn == nil {
		return nil, err
	}

	live, err := countLiveGrants(ctx, req.Storage, conn.ID)
	if err != nil {
		return nil, err
	}
	if live > 0 && !d.Get("force").(bool) {
		return logical.ErrorResponse(fmt.Sprintf(
			"connection %q has %d live accounts; revoke them first (vault lease revoke -prefix <mount>/creds/) or delete with force=true", name, live)), nil
	}
	if live > 0 {
		if err := putJSON(ctx, req.Storage, retiredConnectionPrefix+conn.ID, conn); err != nil {
			return nil, err
		}
		b.logger().Info("connection deleted with live accounts; kept for their revocation", "connection", name, "live", live)
	}

	if err := req.Storage.Delete(ctx, connectionPrefix+name); err != nil {
		return nil, fmt.Errorf("delete connection %q: %w", name, err)
	}
	b.clients.evict(name)
	return nil, nil
}

// getConnection returns the named connection, or nil when it does not exist.
func getConnection(ctx context.Context, s logical.Storage, name string) (*connectionEntry, error) {
	conn := &connectionEntry{VerifyConnection: true, MaxOpenConnections: defaultMaxOpenConnections}
	found, err := getJSON(ctx, s, connectionPrefix+name, conn)
	if err != nil || !found {
		return nil, err
	}
	conn.SchemaVersion = schemaVersion
	return conn, nil
}

const connectionHelp = `
A connection is a PostgreSQL database the engine creates task accounts on.

connection_url takes {{username}} and {{password}}, which the engine fills
from the username and password fields when it connects; the URL itself must
hold no secret, because reads return it. The admin role needs CREATEROLE (or
superuser) and the right to grant what the task roles grant.

Reads never return the password. Deleting a connection is refused while
accounts issued through it are live, unless force=true is sent; those
accounts are still revoked when their leases end.
`
