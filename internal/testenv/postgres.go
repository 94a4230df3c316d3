package testenv

// Tests get PostgreSQL from StartPostgres, one cluster per test, or from
// StartSharedPostgres, one cluster per test package started in TestMain:
//
//	func TestMain(m *testing.M) {
//		pg, stop, err := testenv.StartSharedPostgres()
//		...
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
//
// A shared cluster is cheaper, because creating one takes a second or two,
// so tests that share one use unique role and database names. A test that
// stops the server (Stop, then Start) gets a cluster of its own.
//
// NOTE: a test binary that dies without running its cleanups (a -timeout
// panic, SIGKILL) leaves its cluster running in /tmp/zsp-pg-*. Stop it with
// scripts/pg-cluster.sh stop DIR.
//
// When ZSP_PG_URL is set, both use that server instead and start nothing. The
// URL must name its host and port, so that no client falls back to a default
// server, and Stop fails on such a server because this process did not start it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// postgresScriptTimeout bounds one run of scripts/pg-cluster.sh. The first
	// run on a new machine may install the postgresql package.
	postgresScriptTimeout = 5 * time.Minute

	postgresConnectTimeout = 5 * time.Second
	postgresCallTimeout    = 15 * time.Second
)

// Postgres is a PostgreSQL server for tests: a throwaway cluster that this
// process started in Dir, or the server named by ZSP_PG_URL (Dir empty).
type Postgres struct {
	Host     string // always an explicit address, 127.0.0.1 for a started cluster
	Port     int
	User     string // superuser (zsp_admin in a started cluster)
	Password string
	Database string // database the admin connects to
	URL      string // admin URL with the password inside: for tests only, never print it
	Dir      string // cluster folder given to scripts/pg-cluster.sh; empty for ZSP_PG_URL
}

// StartPostgres returns a PostgreSQL server for one test. Without ZSP_PG_URL
// it starts a new cluster, which is stopped and deleted when the test ends.
func StartPostgres(tb testing.TB) *Postgres {
	tb.Helper()

	pg, stop, err := StartSharedPostgres()
	if err != nil {
		tb.Fatalf("start postgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("stop postgres: %v", err)
		}
	})
	return pg
}

// StartSharedPostgres returns a PostgreSQL server for a whole test package,
// for use in TestMain, where there is no testing.TB. Without ZSP_PG_URL it
// starts a new cluster in a fresh folder under the system temporary folder,
// which the postgres OS user can enter when the tests run as root. The
// returned stop function stops the cluster and deletes its folder.
func StartSharedPostgres() (*Postgres, func() error, error) {
	if raw := os.Getenv("ZSP_PG_URL"); raw != "" {
		pg, err := parsePostgresURL(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid ZSP_PG_URL: %w", err)
		}
		return pg, func() error { return nil }, nil
	}

	// Not t.TempDir: its parent folders are private to the test's user, so
	// the postgres OS user could not reach the cluster.
	dir, err := os.MkdirTemp("", "zsp-pg-")
	if err != nil {
		return nil, nil, fmt.Errorf("create cluster folder: %w", err)
	}

	pg := &Postgres{Dir: dir}
	if err := pg.runScript("start"); err != nil {
		_ = pg.runScript("stop")
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	if err := pg.loadEnv(); err != nil {
		_ = pg.runScript("stop")
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}

	stop := func() error {
		stopErr := pg.runScript("stop")
		if err := os.RemoveAll(dir); err != nil {
			return errors.Join(stopErr, fmt.Errorf("remove cluster folder %s: %w", dir, err))
		}
		return stopErr
	}
	return pg, stop, nil
}

// Stop shuts the server down (fast mode), for outage tests. It fails the
// test on a ZSP_PG_URL server, which this process did not start.
func (p *Postgres) Stop(tb testing.TB) {
	tb.Helper()

	p.requireOwnCluster(tb, "Stop")
	if err := p.runScript("stop"); err != nil {
		tb.Fatalf("stop postgres: %v", err)
	}
}

// Start restarts a cluster stopped by Stop, on the same port.
func (p *Postgres) Start(tb testing.TB) {
	tb.Helper()

	p.requireOwnCluster(tb, "Start")
	if err := p.runScript("start"); err != nil {
		tb.Fatalf("restart postgres: %v", err)
	}
}

// AdminConn connects as the superuser. The connection is closed when the test ends.
func (p *Postgres) AdminConn(tb testing.TB) *pgx.Conn {
	tb.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), postgresConnectTimeout)
	defer cancel()

	conn, err := p.Login(ctx, p.User, p.Password)
	if err != nil {
		tb.Fatalf("connect as admin %q: %v", p.User, err)
	}
	tb.Cleanup(func() {
		closeCtx, closeCancel := context.WithTimeout(context.Background(), postgresCallTimeout)
		defer closeCancel()
		_ = conn.Close(closeCtx)
	})
	return conn
}

// Login connects over TCP as any role, authenticating with SCRAM-SHA-256. The
// user and password are set on the parsed configuration, so they need no
// escaping. The caller closes the connection.
func (p *Postgres) Login(ctx context.Context, user, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil {
		// The parse error would quote the URL and its password.
		return nil, fmt.Errorf("invalid admin URL for %s:%d", p.Host, p.Port)
	}

	cfg.User = user
	cfg.Password = password
	cfg.ConnectTimeout = postgresConnectTimeout
	return pgx.ConnectConfig(ctx, cfg)
}

// CreateDatabase creates a database owned by the admin. It is dropped, with
// any sessions still in it, when the test ends.
func (p *Postgres) CreateDatabase(tb testing.TB, name string) {
	tb.Helper()

	conn := p.AdminConn(tb)
	quoted := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), postgresCallTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+quoted); err != nil {
		tb.Fatalf("create database %q: %v", name, err)
	}

	tb.Cleanup(func() {
		dropCtx, dropCancel := context.WithTimeout(context.Background(), postgresCallTimeout)
		defer dropCancel()

		admin, err := p.Login(dropCtx, p.User, p.Password)
		if err != nil {
			tb.Errorf("connect to drop database %q: %v", name, err)
			return
		}
		defer admin.Close(dropCtx)

		if _, err := admin.Exec(dropCtx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %q: %v", name, err)
		}
	})
}

// ConnectionURLTemplate returns the connection_url form the plugin stores:
// postgres://{{username}}:{{password}}@HOST:PORT/DATABASE?sslmode=disable.
func (p *Postgres) ConnectionURLTemplate() string {
	hostPort := net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	return "postgres://{{username}}:{{password}}@" + hostPort + "/" + url.PathEscape(p.Database) + "?sslmode=disable"
}

func (p *Postgres) requireOwnCluster(tb testing.TB, method string) {
	tb.Helper()

	if p.Dir == "" {
		tb.Fatalf("Postgres.%s needs a cluster started by this test process, but ZSP_PG_URL names an outside server; unset ZSP_PG_URL to run this test", method)
	}
}

// runScript runs scripts/pg-cluster.sh ACTION p.Dir. The script prints no
// secret, so its output may go into the error.
func (p *Postgres) runScript(action string) error {
	script, err := pgClusterScript()
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), postgresScriptTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, "bash", script, action, p.Dir)
	output, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s %s: %w\n%s", script, action, p.Dir, err, strings.TrimSpace(string(output)))
	}
	return nil
}

// loadEnv reads the KEY='value' lines that the script writes to DIR/env.
func (p *Postgres) loadEnv() error {
	path := filepath.Join(p.Dir, "env")
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read cluster settings: %w", err)
	}
	defer file.Close()

	env := map[string]string{}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		key, value, found := strings.Cut(scanner.Text(), "=")
		if found {
			env[key] = strings.Trim(value, "'")
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}

	port, err := strconv.Atoi(env["ZSP_PG_PORT"])
	if err != nil {
		return fmt.Errorf("invalid ZSP_PG_PORT %q in %s: %w", env["ZSP_PG_PORT"], path, err)
	}

	p.Host = env["ZSP_PG_HOST"]
	p.Port = port
	p.User = env["ZSP_PG_USER"]
	p.Password = env["ZSP_PG_PASSWORD"]
	p.Database = env["ZSP_PG_DATABASE"]
	p.URL = env["ZSP_PG_URL"]
	if p.Host == "" || p.User == "" || p.Password == "" || p.Database == "" || p.URL == "" {
		return fmt.Errorf("%s misses one of ZSP_PG_HOST, ZSP_PG_USER, ZSP_PG_PASSWORD, ZSP_PG_DATABASE, ZSP_PG_URL", path)
	}
	return nil
}

// parsePostgresURL reads ZSP_PG_URL. Errors never quote the URL, which holds a password.
func parsePostgresURL(raw string) (*Postgres, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")
	}

	if u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("the URL must name a host and a port, so tests never reach a default server")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, fmt.Errorf("invalid port %q", u.Port())
	}

	password, _ := u.User.Password()
	database := strings.TrimPrefix(u.Path, "/")
	if u.User.Username() == "" || database == "" {
		return nil, errors.New("the URL must name a user and a database")
	}

	return &Postgres{
		Host:     u.Hostname(),
		Port:     port,
		User:     u.User.Username(),
		Password: password,
		Database: database,
		URL:      raw,
	}, nil
}

// pgClusterScript returns scripts/pg-cluster.sh of this repository.
func pgClusterScript() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "scripts", "pg-cluster.sh")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("%s not found; run the tests inside the repository: %w", script, err)
	}
	return script, nil
}
