package postgres

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// UsernamePlaceholder and PasswordPlaceholder are the only template
	// fields of a connection URL. The client sets the admin username and
	// password on the parsed configuration, never into the URL text.
	UsernamePlaceholder = "{{username}}"
	PasswordPlaceholder = "{{password}}"

	// The stand-ins replace the placeholders before parsing. They are plain
	// letters, so they parse in every position of a URL or a key=value string.
	usernameStandIn = "zspplaceholderusername"
	passwordStandIn = "zspplaceholderpassword"

	defaultMaxOpenConnections = 4
	defaultConnectTimeout     = 5 * time.Second
	applicationName           = "vault-plugin-secrets-zsp"
)

// ConnectionConfig is the admin connection to one PostgreSQL server, as the
// connections path stores it.
type ConnectionConfig struct {
	// URL is a template in URL form,
	// postgres://{{username}}:{{password}}@host:port/db?sslmode=disable, or in
	// key=value form. It must name the host and must not contain a password.
	URL                   string
	Username              string
	Password              string
	MaxOpenConnections    int           // 0 means 4
	MaxConnectionLifetime time.Duration // 0 means no limit
}

// Target is the server and database that issued accounts connect to, as the
// connection URL names them.
type Target struct {
	Host     string
	Port     uint16
	Database string
	SSLMode  string // empty when the URL does not set sslmode
}

// Validate checks that the URL parses once the placeholders are replaced,
// names a host and carries no password of its own. Reads of a connection
// return the URL, so it must not hold a secret. Errors name the field and
// never contain the password.
func (c ConnectionConfig) Validate() error {
	_, err := c.poolConfig()
	return err
}

// Target returns the host, port, database and sslmode of the URL.
func (c ConnectionConfig) Target() (Target, error) {
	settings, err := c.settings()
	if err != nil {
		return Target{}, err
	}
	poolConfig, err := c.poolConfig()
	if err != nil {
		return Target{}, err
	}

	conn := poolConfig.ConnConfig
	return Target{
		Host:     conn.Host,
		Port:     conn.Port,
		Database: conn.Database,
		SSLMode:  settings["sslmode"],
	}, nil
}

// AccountURL returns a postgres URL for an issued account. url.UserPassword
// escapes the username and password, and the URL keeps the connection's sslmode.
func (t Target) AccountURL(username, password string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(username, password),
		Path:   "/" + t.Database,
	}
	query := url.Values{}

	// A Unix socket folder cannot be the authority of a URL, so libpq takes it
	// from the host query parameter.
	if strings.HasPrefix(t.Host, "/") {
		query.Set("host", t.Host)
		query.Set("port", strconv.Itoa(int(t.Port)))
	} else {
		u.Host = net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port)))
	}

	if t.SSLMode != "" {
		query.Set("sslmode", t.SSLMode)
	}
	u.RawQuery = query.Encode()
	return u.String()
}

// poolConfig parses the URL into a pool configuration with the admin
// credentials, pool limits and timeouts applied.
func (c ConnectionConfig) poolConfig() (*pgxpool.Config, error) {
	if strings.TrimSpace(c.Username) == "" {
		return nil, errors.New(`missing "username": set the admin role that creates the accounts`)
	}
	if c.MaxOpenConnections < 0 {
		return nil, fmt.Errorf(`invalid "max_open_connections" %d: use a positive number, or 0 for the default of %d`, c.MaxOpenConnections, defaultMaxOpenConnections)
	}
	if c.MaxConnectionLifetime < 0 {
		return nil, fmt.Errorf(`invalid "max_connection_lifetime" %s: use a positive duration, or 0 for no limit`, c.MaxConnectionLifetime)
	}

	settings, err := c.settings()
	if err != nil {
		return nil, err
	}

	config, err := pgxpool.ParseConfig(c.expandedURL())
	if err != nil {
		return nil, c.urlError(c.restorePlaceholders(err.Error()))
	}

	c.applyPoolSettings(config, settings)
	return config, nil
}

func (c ConnectionConfig) applyPoolSettings(config *pgxpool.Config, settings map[string]string) {
	conn := config.ConnConfig
	conn.User = c.Username
	conn.Password = c.Password
	if _, set := settings["connect_timeout"]; !set {
		conn.ConnectTimeout = defaultConnectTimeout
	}
	if _, set := settings["application_name"]; !set {
		conn.RuntimeParams["application_name"] = applicationName
	}

	config.MaxConns = int32(defaultMaxOpenConnections)
	if c.MaxOpenConnections > 0 {
		config.MaxConns = int32(min(c.MaxOpenConnections, 1<<30))
	}

	// pgxpool has no "no limit" value, so a century stands for it.
	config.MaxConnLifetime = 100 * 365 * 24 * time.Hour
	if c.MaxConnectionLifetime > 0 {
		config.MaxConnLifetime = c.MaxConnectionLifetime
	}
}

// expandedURL replaces the placeholders with the stand-ins.
func (c ConnectionConfig) expandedURL() string {
	replacer := strings.NewReplacer(UsernamePlaceholder, usernameStandIn, PasswordPlaceholder, passwordStandIn)
	return replacer.Replace(c.URL)
}

// restorePlaceholders puts the placeholders back into a parser's message, so
// it quotes what the user wrote rather than the stand-ins.
func (c ConnectionConfig) restorePlaceholders(message string) string {
	replacer := strings.NewReplacer(usernameStandIn, UsernamePlaceholder, passwordStandIn, PasswordPlaceholder)
	return replacer.Replace(message)
}

// settings reads the keys that the URL itself sets, checks that it names a
// host and rejects a literal password.
func (c ConnectionConfig) settings() (map[string]string, error) {
	if strings.TrimSpace(c.URL) == "" {
		return nil, errors.New(`missing "connection_url": set it to postgres://{{username}}:{{password}}@HOST:PORT/DATABASE`)
	}

	settings, err := parseConnString(c.expandedURL())
	if err != nil {
		return nil, c.urlError(err.Error())
	}

	if password, set := settings["password"]; set && password != passwordStandIn {
		return nil, c.urlError("it contains a password, and reads return the URL; put {{password}} in its place and the password in the \"password\" field")
	}
	if _, set := settings["sslpassword"]; set {
		return nil, c.urlError("it contains sslpassword, a secret that reads would return; use an unencrypted client key")
	}
	if settings["host"] == "" {
		return nil, c.urlError("it names no host; add the server's address, as in postgres://{{username}}:{{password}}@HOST:PORT/DATABASE")
	}
	return settings, nil
}

// urlError builds an error about connection_url. As a last line of defence
// it masks the admin password, should a parser ever quote it.
func (c ConnectionConfig) urlError(reason string) error {
	if c.Password != "" {
		reason = strings.ReplaceAll(reason, c.Password, "[redacted]")
	}
	return fmt.Errorf(`invalid "connection_url": %s`, reason)
}
