package backend

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/approval"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

// accountCredentials are the secrets of one new account. They live only in
// memory and in the response.
type accountCredentials struct {
	username string
	password string
	verifier string
}

// issueAccount creates the account of an approved request and returns the
// lease response. A WAL entry covers the time between creating the account
// and handing out its lease, so an account from a crash in between is
// dropped on rollback. The caller holds the request's lock.
func (b *backend) issueAccount(ctx context.Context, req *logical.Request, ask *grantAsk, record *requestRecord) (*logical.Response, error) {
	client, conn, err := b.clientFor(ctx, req.Storage, ask.role.Connection)
	if err != nil {
		return nil, err
	}
	if conn == nil {
		return nil, &callerError{fmt.Sprintf("role %q uses connection %q, which does not exist; ask an operator to create it or fix the role", ask.roleName, ask.role.Connection)}
	}

	group := roles.GroupName(ask.roleName, ask.parameters)
	if len(ask.role.GrantStatements) > 0 {
		if err := ensureGroup(ctx, client, ask.roleName, ask.role, ask.parameters); err != nil {
			return nil, err
		}
	}

	creds, err := newAccountCredentials(ask, record.RequesterName, b.now())
	if err != nil {
		return nil, err
	}
	issuedAt := b.now().UTC()
	expiresAt := issuedAt.Add(ask.ttl)
	statements, err := creationStatements(ask, group, creds, expiresAt)
	if err != nil {
		return nil, &callerError{err.Error()}
	}

	walID, err := framework.PutWAL(ctx, req.Storage, walKindAccount, &accountWAL{
		Connection:   ask.role.Connection,
		ConnectionID: conn.ID,
		Username:     creds.username,
		RequestID:    record.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("write WAL entry for request %q: %w", record.ID, err)
	}

	err = client.CreateAccount(ctx, postgres.NewAccount{
		Username:      creds.username,
		Statements:    statements,
		LockKey:       group,
		Marker:        accountMarker(record.ID),
		LogStatements: ask.role.LogStatements,
		Default:       len(ask.role.CreationStatements) == 0,
	})
	if err != nil {
		b.deleteWAL(ctx, req.Storage, walID)
		return nil, fmt.Errorf("create account for request %q on connection %q: %w", record.ID, ask.role.Connection, redactError(err, creds.password, creds.verifier))
	}

	grant := &grantData{
		RequestID:            record.ID,
		Role:                 ask.roleName,
		Connection:           ask.role.Connection,
		ConnectionID:         conn.ID,
		Username:             creds.username,
		Group:                group,
		Parameters:           ask.parameters,
		RevocationStatements: ask.role.RevocationStatements,
		IssuedAt:             issuedAt,
		WindowEnd:            issuedAt.Add(ask.window),
		DefaultTTL:           ask.ttl,
	}
	if err := b.recordIssue(ctx, req, record, grant, expiresAt); err != nil {
		return nil, err
	}

	resp, err := b.grantResponse(conn, grant, creds, expiresAt, ask.ttl, record)
	if err != nil {
		return nil, err
	}

	if err := framework.DeleteWAL(ctx, req.Storage, walID); err != nil {
		return nil, fmt.Errorf("delete WAL entry for request %q: %w", record.ID, err)
	}
	b.logger().Info("account issued", "request_id", record.ID, "role", ask.roleName, "username", creds.username, "ttl", ask.ttl.String())
	return resp, nil
}

func newAccountCredentials(ask *grantAsk, displayName string, now time.Time) (*accountCredentials, error) {
	templateText := ask.role.UsernameTemplate
	if templateText == "" {
		templateText = roles.DefaultUsernameTemplate
	}
	template, err := roles.ParseUsernameTemplate(templateText)
	if err != nil {
		return nil, fmt.Errorf("parse username template of role %q: %w", ask.roleName, err)
	}
	username, err := template.Generate(ask.roleName, displayName, now, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate username for role %q: %w", ask.roleName, err)
	}

	password, err := postgres.GeneratePassword()
	if err != nil {
		return nil, fmt.Errorf("generate password: %w", err)
	}
	verifier, err := postgres.SCRAMVerifier(password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return &accountCredentials{username: username, password: password, verifier: verifier}, nil
}

// creationStatements renders the role's creation statements for one account.
// {{password}} becomes the SCRAM-SHA-256 verifier, so the plaintext password
// never reaches the database server or its log.
func creationStatements(ask *grantAsk, group string, creds *accountCredentials, expiresAt time.Time) ([]string, error) {
	values := make(map[string]string, len(ask.parameters)+4)
	for key, value := range ask.parameters {
		values[key] = value
	}
	values["name"] = creds.username
	values["username"] = creds.username
	values["group"] = group
	values["password"] = creds.verifier
	values["expiration"] = postgres.FormatExpiration(expiresAt)

	statements, err := roles.RenderStatements(ask.role.model(ask.roleName).Creation(), values, postgres.Quoter{})
	if err != nil {
		return nil, fmt.Errorf(`invalid "creation_statements" of role %q: %w`, ask.roleName, redactError(err, creds.verifier))
	}
	return statements, nil
}

// accountMarker is the comment set on every account the engine creates, so
// its accounts are recognized by more than their name.
func accountMarker(requestID string) string {
	return postgres.AccountMarkerPrefix + requestID
}

// recordIssue saves the issued request and indexes the live account.
func (b *backend) recordIssue(ctx context.Context, req *logical.Request, record *requestRecord, grant *grantData, expiresAt time.Time) error {
	record.setStatus(approval.StatusIssued)
	record.ConnectionID = grant.ConnectionID
	record.Username = grant.Username
	record.IssuedAt = grant.IssuedAt
	record.ExpiresAt = expiresAt
	record.WindowEnd = grant.WindowEnd
	record.addEvent(grant.IssuedAt, req.EntityID, "issued", fmt.Sprintf("account %s valid until %s", grant.Username, formatTime(expiresAt)))

	if err := b.saveRequest(ctx, req.Storage, record); err != nil {
		return err
	}
	if len(grant.Parameters) > 0 {
		if err := putJSON(ctx, req.Storage, historyKey(record.RequesterEntityID, grant.Role, grant.Parameters), struct{}{}); err != nil {
			return err
		}
	}
	return putLiveGrant(ctx, req.Storage, grant.ConnectionID, liveGrant{RequestID: record.ID, Username: grant.Username, Role: grant.Role})
}

// grantResponse builds the lease response for a new account.
func (b *backend) grantResponse(conn *connectionEntry, grant *grantData, creds *accountCredentials, expiresAt time.Time, ttl time.Duration, record *requestRecord) (*logical.Response, error) {
	target, err := conn.postgresConfig().Target()
	if err != nil {
		return nil, fmt.Errorf("read host and database of connection %q: %w", grant.Connection, err)
	}

	internal, err := grant.internalData()
	if err != nil {
		return nil, err
	}

	data := map[string]any{
		"username":        creds.username,
		"password":        creds.password,
		"request_id":      grant.RequestID,
		"host":            target.Host,
		"port":            int(target.Port),
		"database":        target.Database,
		"connection_url":  target.AccountURL(creds.username, creds.password),
		"expires_at":      formatTime(expiresAt),
		"status":          string(approval.StatusIssued),
		"risk_score":      record.RiskScore,
		"risk_factors":    factorData(record.RiskFactors),
		"decision_reason": record.Route.Reason,
	}
	resp := b.Secret(secretAccountType).Response(data, internal)
	resp.Secret.TTL = ttl
	resp.Secret.MaxTTL = grant.WindowEnd.Sub(grant.IssuedAt)
	resp.Secret.Renewable = true
	return resp, nil
}

func (b *backend) deleteWAL(ctx context.Context, s logical.Storage, id string) {
	if err := framework.DeleteWAL(ctx, s, id); err != nil {
		b.logger().Warn("could not delete WAL entry; rollback will handle it", "wal_id", id, "error", err)
	}
}

// requester is who asked: a readable name and the entity's logins.
type requester struct {
	name    string
	aliases []string
}

// requesterIdentity reads the requester's entity once. The name is the
// entity's name, or its first alias (the login name) when Vault generated
// the entity's name, or the token's display name when the entity cannot be
// read. Aliases are "<mount accessor>/<name>".
func (b *backend) requesterIdentity(req *logical.Request) requester {
	entity, err := b.System().EntityInfo(req.EntityID)
	if err != nil || entity == nil {
		return requester{name: req.DisplayName}
	}

	identity := requester{name: req.DisplayName}
	for _, alias := range entity.Aliases {
		identity.aliases = append(identity.aliases, alias.MountAccessor+"/"+alias.Name)
	}
	switch {
	case generatedEntityName.MatchString(entity.Name) && len(entity.Aliases) > 0 && entity.Aliases[0].Name != "":
		identity.name = entity.Aliases[0].Name
	case entity.Name != "":
		identity.name = entity.Name
	}
	return identity
}

// generatedEntityName matches the names Vault gives entities it creates on a
// first login, such as entity_93e9ffc5.
var generatedEntityName = regexp.MustCompile(`^entity_[0-9a-f]{8}$`)
