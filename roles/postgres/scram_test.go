package postgres

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var verifierPattern = regexp.MustCompile(`^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$`)

func TestSCRAMVerifierFormat(t *testing.T) {
	verifier, err := SCRAMVerifier("correct horse battery staple")
	require.NoError(t, err)
	require.Regexp(t, verifierPattern, verifier)

	again, err := SCRAMVerifier("correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, verifier, again, "each verifier must have a fresh salt")
}

func TestSCRAMVerifierLogsIn(t *testing.T) {
	username := uniqueName(t, "zsp_scram")
	password, err := GeneratePassword()
	require.NoError(t, err)
	verifier, err := SCRAMVerifier(password)
	require.NoError(t, err)

	adminExec(t, "CREATE ROLE "+username+" LOGIN PASSWORD "+Quoter{}.QuoteLiteral(verifier))
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+username) })

	var stored string
	err = testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT rolpassword FROM pg_authid WHERE rolname = $1", username).Scan(&stored)
	require.NoError(t, err)
	require.Equal(t, verifier, stored, "the server must store the verifier as sent")

	conn := login(t, username, password)
	var current string
	require.NoError(t, conn.QueryRow(testContext(t), "SELECT current_user").Scan(&current))
	require.Equal(t, username, current)

	requireLoginRejected(t, username, password+"x")
	requireLoginRejected(t, username, strings.ToUpper(password))
}

// TestSCRAMVerifierMatchesServer rebuilds a verifier that PostgreSQL made
// from a plaintext password, with the server's salt and iteration count.
func TestSCRAMVerifierMatchesServer(t *testing.T) {
	username := uniqueName(t, "zsp_scram_server")
	password := `pa'ss "word" 123`

	adminExec(t,
		"SET password_encryption = 'scram-sha-256'",
		"CREATE ROLE "+username+" LOGIN PASSWORD "+Quoter{}.QuoteLiteral(password))
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+username) })

	var stored string
	err := testPostgres.AdminConn(t).QueryRow(testContext(t),
		"SELECT rolpassword FROM pg_authid WHERE rolname = $1", username).Scan(&stored)
	require.NoError(t, err)

	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	parts := strings.FieldsFunc(stored, func(r rune) bool { return r == '$' || r == ':' })
	require.Len(t, parts, 5)
	iterations, err := strconv.Atoi(parts[1])
	require.NoError(t, err)
	salt, err := base64.StdEncoding.DecodeString(parts[2])
	require.NoError(t, err)

	rebuilt, err := buildSCRAMVerifier(password, salt, iterations)
	require.NoError(t, err)
	require.Equal(t, stored, rebuilt)
}

func TestSCRAMVerifierRejectsNonASCII(t *testing.T) {
	for _, password := range []string{"", "pässword-secret", "tab\tsecret", "newline\nsecret"} {
		_, err := SCRAMVerifier(password)
		require.Error(t, err)
		if password != "" {
			require.NotContains(t, err.Error(), "secret")
		}
	}
}
