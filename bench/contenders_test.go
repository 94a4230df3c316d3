package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles/postgres"
)

// Contender names, as they appear in results.json and the tables.
const (
	contenderPlugin      = "plugin"
	contenderPluginCrowd = "plugin, a requester per client"
	contenderEngine      = "database engine"
	contenderRaw         = "raw pgx"
)

// issuedAccount is one account a contender created. Its password is
// dropped at once: the benchmarks never log in.
type issuedAccount struct {
	username string
	leaseEnd time.Time // latest time the Vault lease can end, zero for raw pgx
}

// issuer creates one account per call.
type issuer func(ctx context.Context) (issuedAccount, error)

// pluginIssuer reads zsp/creds/<role> as client, with query parameters
// such as ttl, and expects an account issued at once.
func pluginIssuer(client *api.Client, role string, query func() (map[string][]string, error)) issuer {
	path := pluginMount + "/creds/" + role
	return func(ctx context.Context) (issuedAccount, error) {
		var params map[string][]string
		if query != nil {
			var err error
			if params, err = query(); err != nil {
				return issuedAccount{}, err
			}
		}

		secret, err := client.Logical().ReadWithDataWithContext(ctx, path, params)
		if err != nil {
			return issuedAccount{}, fmt.Errorf("read %s: %w", path, err)
		}
		if secret != nil && secret.Data["status"] != "issued" {
			return issuedAccount{}, fmt.Errorf("read %s: status %v, expected issued; check that the role is auto-approved (risk_tier 2 or 3 and a low risk score)", path, secret.Data["status"])
		}
		return accountFromSecret(path, secret)
	}
}

// engineIssuer reads <engine mount>/creds/<role> as client. before, when
// set, runs first, so a figure can change the role's TTL.
func engineIssuer(client *api.Client, role string, before func(ctx context.Context) error) issuer {
	path := engineMount + "/creds/" + role
	return func(ctx context.Context) (issuedAccount, error) {
		if before != nil {
			if err := before(ctx); err != nil {
				return issuedAccount{}, err
			}
		}

		secret, err := client.Logical().ReadWithContext(ctx, path)
		if err != nil {
			return issuedAccount{}, fmt.Errorf("read %s: %w", path, err)
		}
		return accountFromSecret(path, secret)
	}
}

func accountFromSecret(path string, secret *api.Secret) (issuedAccount, error) {
	if secret == nil {
		return issuedAccount{}, fmt.Errorf("read %s: empty response, expected an account", path)
	}
	username, _ := secret.Data["username"].(string)
	if username == "" || secret.LeaseID == "" {
		return issuedAccount{}, fmt.Errorf("read %s: response without username or lease", path)
	}

	leaseEnd := time.Now().Add(time.Duration(secret.LeaseDuration) * time.Second)
	return issuedAccount{username: username, leaseEnd: leaseEnd}, nil
}

// rawIssuer runs the plugin's default creation statement through pgx on
// pool, with a fresh password and a SCRAM-SHA-256 verifier computed in this
// process for each account, as the plugin does. The statement joins
// rawGroup.
func rawIssuer(pool *pgxpool.Pool) issuer {
	return func(ctx context.Context) (issuedAccount, error) {
		statement, username, err := rawCreateStatement()
		if err != nil {
			return issuedAccount{}, err
		}
		if _, err := pool.Exec(ctx, statement); err != nil {
			return issuedAccount{}, fmt.Errorf("create role %q: %w", username, err)
		}
		return issuedAccount{username: username}, nil
	}
}

func rawCreateStatement() (statement, username string, err error) {
	suffix := make([]byte, 10)
	if _, err := rand.Read(suffix); err != nil {
		return "", "", fmt.Errorf("read random bytes for a username: %w", err)
	}
	username = "bench_raw_" + hex.EncodeToString(suffix)

	password, err := postgres.GeneratePassword()
	if err != nil {
		return "", "", err
	}
	verifier, err := postgres.SCRAMVerifier(password)
	if err != nil {
		return "", "", fmt.Errorf("build scram verifier: %w", err)
	}

	q := postgres.Quoter{}
	statement = "CREATE ROLE " + q.QuoteIdentifier(username) +
		" WITH LOGIN PASSWORD " + q.QuoteLiteral(verifier) +
		" VALID UNTIL " + q.QuoteLiteral(postgres.FormatExpiration(time.Now().Add(leaseTTL))) +
		" IN ROLE " + q.QuoteIdentifier(rawGroup)
	return statement, username, nil
}

// asOperation turns an issuer into a timed operation that drops the account
// details.
func (i issuer) asOperation() operation {
	return func(ctx context.Context, _ int) error {
		_, err := i(ctx)
		return err
	}
}

// perWorker returns an operation whose worker i issues with issuers[i].
func perWorker(issuers []issuer) operation {
	return func(ctx context.Context, worker int) error {
		_, err := issuers[worker](ctx)
		return err
	}
}
