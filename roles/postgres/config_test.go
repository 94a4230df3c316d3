package postgres

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const adminSecret = "Adm1n-Secret-Value"

func TestValidateAcceptsTemplates(t *testing.T) {
	for _, connURL := range []string{
		"postgres://{{username}}:{{password}}@127.0.0.1:5432/app?sslmode=disable",
		"postgresql://{{username}}:{{password}}@db.example.internal/app",
		"postgres://{{username}}:{{password}}@[::1]:5432/app",
		"postgres://{{username}}:{{password}}@h1:5432,h2:5433/app",
		"postgres://{{username}}@127.0.0.1:5432/app",
		"host=127.0.0.1 port=5432 dbname=app user={{username}} password={{password}} sslmode=disable",
		"host=127.0.0.1 dbname='my app' password='{{password}}'",
	} {
		cfg := ConnectionConfig{URL: connURL, Username: "admin", Password: adminSecret}
		require.NoError(t, cfg.Validate(), connURL)
	}
}

func TestValidateRejectsBadURLs(t *testing.T) {
	for name, connURL := range map[string]string{
		"empty":                "",
		"unparsable port":      "postgres://{{username}}:{{password}}@127.0.0.1:notaport/app",
		"bad keyword form":     "this is not a connection string",
		"unterminated quote":   "host=127.0.0.1 dbname='app",
		"literal password":     "postgres://admin:" + adminSecret + "@127.0.0.1:5432/app",
		"escaped password":     "postgres://admin:" + url.PathEscape(adminSecret+"/x") + "@127.0.0.1:5432/app",
		"password in query":    "postgres://{{username}}@127.0.0.1:5432/app?password=" + adminSecret,
		"keyword password":     "host=127.0.0.1 dbname=app password=" + adminSecret,
		"quoted password":      "host=127.0.0.1 dbname=app password='" + adminSecret + " x'",
		"sslpassword":          "postgres://{{username}}:{{password}}@127.0.0.1/app?sslpassword=" + adminSecret,
		"no host":              "postgres://{{username}}:{{password}}@/app",
		"only a port":          "postgres://{{username}}:{{password}}@:5432/app",
		"keyword form no host": "dbname=app user={{username}} password={{password}}",
		"bad sslmode":          "postgres://{{username}}:{{password}}@127.0.0.1/app?sslmode=sometimes",
		"bad percent escape":   "postgres://{{username}}:{{password}}@127.0.0.1/app?application_name=%zz",
	} {
		cfg := ConnectionConfig{URL: connURL, Username: "admin", Password: adminSecret}
		err := cfg.Validate()
		require.Error(t, err, name)
		require.Contains(t, err.Error(), "connection_url", name)
		require.NotContains(t, err.Error(), adminSecret, name)
		require.NotContains(t, err.Error(), "zspplaceholder", name)
	}
}

func TestValidateLiteralPasswordMessage(t *testing.T) {
	cfg := ConnectionConfig{URL: "postgres://admin:" + adminSecret + "@127.0.0.1:5432/app", Username: "admin"}

	err := cfg.Validate()
	require.ErrorContains(t, err, "{{password}}")
	require.NotContains(t, err.Error(), adminSecret)
}

func TestValidateRejectsBadFields(t *testing.T) {
	base := ConnectionConfig{URL: "postgres://{{username}}:{{password}}@127.0.0.1:5432/app", Username: "admin"}

	noUser := base
	noUser.Username = ""
	require.ErrorContains(t, noUser.Validate(), `"username"`)

	negativeConns := base
	negativeConns.MaxOpenConnections = -1
	require.ErrorContains(t, negativeConns.Validate(), `"max_open_connections"`)

	negativeLifetime := base
	negativeLifetime.MaxConnectionLifetime = -time.Second
	require.ErrorContains(t, negativeLifetime.Validate(), `"max_connection_lifetime"`)
}

func TestPoolConfigDefaults(t *testing.T) {
	cfg := ConnectionConfig{URL: "postgres://{{username}}:{{password}}@127.0.0.1:5432/app", Username: "admin", Password: adminSecret}

	poolConfig, err := cfg.poolConfig()
	require.NoError(t, err)
	require.EqualValues(t, 4, poolConfig.MaxConns)
	require.Greater(t, poolConfig.MaxConnLifetime, 50*365*24*time.Hour)
	require.Equal(t, 5*time.Second, poolConfig.ConnConfig.ConnectTimeout)
	require.Equal(t, "admin", poolConfig.ConnConfig.User)
	require.Equal(t, adminSecret, poolConfig.ConnConfig.Password)

	cfg.URL += "?connect_timeout=9"
	cfg.MaxOpenConnections = 12
	cfg.MaxConnectionLifetime = time.Minute
	poolConfig, err = cfg.poolConfig()
	require.NoError(t, err)
	require.EqualValues(t, 12, poolConfig.MaxConns)
	require.Equal(t, time.Minute, poolConfig.MaxConnLifetime)
	require.Equal(t, 9*time.Second, poolConfig.ConnConfig.ConnectTimeout)
}

func TestTargetAndAccountURL(t *testing.T) {
	cfg := ConnectionConfig{URL: "postgres://{{username}}:{{password}}@127.0.0.1:6543/app?sslmode=require", Username: "admin"}

	target, err := cfg.Target()
	require.NoError(t, err)
	require.Equal(t, Target{Host: "127.0.0.1", Port: 6543, Database: "app", SSLMode: "require"}, target)

	password := `p'a"s@s/w:o%r?d#`
	accountURL := target.AccountURL("zsp_alice", password)
	parsed, err := url.Parse(accountURL)
	require.NoError(t, err)
	require.Equal(t, "zsp_alice", parsed.User.Username())
	parsedPassword, _ := parsed.User.Password()
	require.Equal(t, password, parsedPassword)
	require.Equal(t, "127.0.0.1:6543", parsed.Host)
	require.Equal(t, "/app", parsed.Path)
	require.Equal(t, "require", parsed.Query().Get("sslmode"))
}

func TestTargetKeywordForm(t *testing.T) {
	cfg := ConnectionConfig{URL: "host=127.0.0.1 port=6543 dbname='my app' user={{username}} password={{password}}", Username: "admin"}

	target, err := cfg.Target()
	require.NoError(t, err)
	require.Equal(t, Target{Host: "127.0.0.1", Port: 6543, Database: "my app"}, target)
	require.Equal(t, "postgres://zsp_bob:pw@127.0.0.1:6543/my%20app", target.AccountURL("zsp_bob", "pw"))
}

func TestAccountURLUnixSocket(t *testing.T) {
	target := Target{Host: "/run/postgresql", Port: 5432, Database: "app"}

	parsed, err := url.Parse(target.AccountURL("zsp_carol", "pw"))
	require.NoError(t, err)
	require.Empty(t, parsed.Host)
	require.Equal(t, "/run/postgresql", parsed.Query().Get("host"))
	require.Equal(t, "5432", parsed.Query().Get("port"))
}

func TestVerifyWrongPassword(t *testing.T) {
	cfg := adminConfig()
	cfg.Password = adminSecret

	client := openClient(t, cfg)
	err := client.Verify(testContext(t))
	require.Error(t, err)
	require.Equal(t, codeInvalidPassword, sqlState(err))
	require.NotContains(t, err.Error(), adminSecret)
}

func TestVerifyRejectsAdminWithoutCreateRole(t *testing.T) {
	name := uniqueName(t, "zsp_weak_admin")
	adminExec(t, "CREATE ROLE "+name+" LOGIN PASSWORD "+Quoter{}.QuoteLiteral(adminSecret))
	t.Cleanup(func() { adminExec(t, "DROP ROLE IF EXISTS "+name) })

	client := openClient(t, ConnectionConfig{URL: testPostgres.ConnectionURLTemplate(), Username: name, Password: adminSecret})
	err := client.Verify(testContext(t))
	require.ErrorContains(t, err, "CREATEROLE")
	require.NotContains(t, err.Error(), adminSecret)
}

func TestVerifySucceeds(t *testing.T) {
	require.NoError(t, newAdminClient(t).Verify(testContext(t)))
}

// TestVerifyMasksPasswordKeepsCode uses the wrong password "postgres", which
// is also the database name inside the driver's message.
func TestVerifyMasksPasswordKeepsCode(t *testing.T) {
	cfg := adminConfig()
	cfg.Password = testPostgres.Database

	err := openClient(t, cfg).Verify(testContext(t))
	require.Error(t, err)
	require.Equal(t, codeInvalidPassword, sqlState(err))
	require.Contains(t, err.Error(), "[redacted]")
}
