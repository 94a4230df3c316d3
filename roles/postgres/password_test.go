package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zsp-dev/vault-plugin-secrets-zsp/roles"
)

func TestPasswordAlphabet(t *testing.T) {
	require.Len(t, passwordAlphabet, 89)
	require.Contains(t, passwordAlphabet, `'`)
	require.Contains(t, passwordAlphabet, `"`)
	require.NotContains(t, passwordAlphabet, `\`)
	require.NotContains(t, passwordAlphabet, `$`)
	require.NotContains(t, passwordAlphabet, `{`)
	require.NotContains(t, passwordAlphabet, `}`)

	seen := map[rune]bool{}
	for _, char := range passwordAlphabet {
		require.False(t, seen[char], "duplicate %q in the alphabet", char)
		seen[char] = true
	}
}

func TestGeneratePasswordShape(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		password, err := GeneratePassword()
		require.NoError(t, err)
		require.Len(t, password, passwordLength)
		for _, char := range password {
			require.True(t, strings.ContainsRune(passwordAlphabet, char), "character %q outside the alphabet", char)
		}
		require.False(t, seen[password], "repeated password")
		seen[password] = true
	}
}

// TestGeneratedPasswordsLogIn sends the plaintext, not the verifier, so the
// quotes in the passwords go through Quoter and the roles templates.
func TestGeneratedPasswordsLogIn(t *testing.T) {
	client := newAdminClient(t)
	group := uniqueName(t, "zsp_pw_group")
	require.NoError(t, client.EnsureGroup(testContext(t), group, nil))

	var withSingleQuote, withDoubleQuote int
	for i := range 200 {
		password, err := GeneratePassword()
		require.NoError(t, err)
		if strings.Contains(password, `'`) {
			withSingleQuote++
		}
		if strings.Contains(password, `"`) {
			withDoubleQuote++
		}

		username := uniqueName(t, "zsp_pw")
		statements, err := roles.RenderStatements(roles.DefaultCreationStatements, map[string]string{
			"name":       username,
			"password":   password,
			"expiration": FormatExpiration(time.Now().Add(time.Hour)),
			"group":      group,
		}, Quoter{})
		require.NoError(t, err)

		err = client.CreateAccount(testContext(t), NewAccount{
			Username: username, Statements: statements, LockKey: group, Marker: "zsp test", Default: true,
		})
		require.NoError(t, err, "account %d", i)

		conn, err := testPostgres.Login(testContext(t), username, password)
		require.NoError(t, err, "login of account %d", i)
		require.NoError(t, conn.Close(testContext(t)))

		require.NoError(t, client.DropAccount(testContext(t), username, nil))
	}

	require.Positive(t, withSingleQuote, "no password had a single quote")
	require.Positive(t, withDoubleQuote, "no password had a double quote")
}
