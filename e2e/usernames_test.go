package e2e

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
)

// multibyteNames are identity entity names, which Vault does not restrict to
// ASCII, unlike token display names.
var multibyteNames = []string{
	"Zoë Ångström-Łukasiewicz",
	"山田 太郎 (dba on call)",
	"Ølaf Øverby-Ñúñez \u00a0 the third of his name",
	"Ђорђе Јовановић 🚀",
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

func TestThousandUsernamesAreValidAndLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	roleName := "investigate-" + strings.Repeat("long-task-name-", 7) + "end"
	e.write("zsp/roles/"+roleName, map[string]any{
		"connection":       "main",
		"grant_statements": []any{"GRANT USAGE ON SCHEMA billing TO {{group}}"},
	})

	requesters := make([]*api.Client, len(multibyteNames))
	for i, name := range multibyteNames {
		requesters[i] = e.userWithEntityName(t, "requester"+string(rune('a'+i)), name)
	}

	const total = 1000
	secrets := make([]*api.Secret, total)
	runParallel(t, total, 8, func(i int) error {
		secret, err := credsErr(requesters[i%len(requesters)], roleName, nil)
		secrets[i] = secret
		return err
	})

	seen := make(map[string]bool, total)
	withQuote := 0
	for _, secret := range secrets {
		username := secret.Data["username"].(string)
		require.Regexp(t, usernamePattern, username)
		require.LessOrEqual(t, len(username), 63)
		require.False(t, seen[username], "duplicate username %s", username)
		seen[username] = true
		if strings.ContainsAny(secret.Data["password"].(string), `'"`) {
			withQuote++
		}
	}
	// A 32-character password from the 89-character alphabet holds a quote
	// with probability 1-(87/89)^32, about 0.52, so about 520 of 1,000 do;
	// fewer than 250 would be a broken generator, not chance.
	require.Greater(t, withQuote, total/4, "too few passwords contained quotes to test quoting")

	runParallel(t, total, 8, func(i int) error {
		conn, err := e.login(secrets[i])
		if err != nil {
			return err
		}
		return conn.Close(context.Background())
	})
}

// userWithEntityName creates a userpass user whose identity entity has the
// given name, and returns a client logged in as that user.
func (e *env) userWithEntityName(t *testing.T, username, entityName string) *api.Client {
	t.Helper()

	// NewUser enables userpass and writes the users' policy.
	e.vault.NewUser(t, "setup-"+username)

	entity := e.write("identity/entity", map[string]any{"name": entityName, "policies": []string{"zsp-full-access"}})
	auths, err := e.root.Sys().ListAuth()
	require.NoError(t, err)
	e.write("identity/entity-alias", map[string]any{
		"name":           username,
		"canonical_id":   entity.Data["id"],
		"mount_accessor": auths["userpass/"].Accessor,
	})
	e.write("auth/userpass/users/"+username, map[string]any{"password": "pw-" + username, "token_policies": "zsp-full-access"})

	login := e.write("auth/userpass/login/"+username, map[string]any{"password": "pw-" + username})
	require.Equal(t, entity.Data["id"], login.Auth.EntityID)

	client, err := e.root.Clone()
	require.NoError(t, err)
	client.SetToken(login.Auth.ClientToken)
	return client
}

// runParallel runs fn for 0..n-1 on workers goroutines and fails the test
// with the first error.
func runParallel(t *testing.T, n, workers int, fn func(i int) error) {
	t.Helper()
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
