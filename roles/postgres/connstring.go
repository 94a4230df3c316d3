package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// parseConnString returns the settings that a connection string itself sets,
// without the PG* environment variables and defaults that pgconn merges in.
// Validate needs them to tell "the URL names a host" from "a default was
// used" and to find a password written into the URL. Keys use libpq's names
// (host, password, sslmode); "database" is read as "dbname". Errors never
// quote the string.
func parseConnString(connString string) (map[string]string, error) {
	if strings.IndexByte(connString, 0) >= 0 {
		return nil, errors.New("it contains a NUL byte")
	}

	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		return parseURLSettings(connString)
	}
	return parseKeywordValues(connString)
}

// parseURLSettings reads postgres://[user[:password]@][host][:port][,...][/dbname][?key=value&...]
// the way libpq splits it: the userinfo ends at an '@' that comes before any
// '/', even one inside what looks like the query string. It splits by hand,
// because net/url rejects the comma-separated host lists that libpq accepts.
func parseURLSettings(connString string) (map[string]string, error) {
	_, rest, _ := strings.Cut(connString, "://")
	settings := map[string]string{}

	if at := strings.IndexAny(rest, "@/"); at >= 0 && rest[at] == '@' {
		userinfo := rest[:at]
		rest = rest[at+1:]
		if _, rawPassword, found := strings.Cut(userinfo, ":"); found && rawPassword != "" {
			password, err := url.PathUnescape(rawPassword)
			if err != nil {
				return nil, errors.New("the password part of the URL has an invalid percent escape")
			}
			settings["password"] = password
		}
	}

	authority, rest := rest, ""
	if end := strings.IndexAny(authority, "/?"); end >= 0 {
		authority, rest = authority[:end], authority[end:]
	}
	if host := hostsWithoutPorts(authority); host != "" {
		settings["host"] = host
	}

	path, rawQuery, _ := strings.Cut(rest, "?")
	if database := strings.TrimPrefix(path, "/"); database != "" {
		settings["dbname"] = database
	}

	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("its query string is invalid: %s", describeQueryError(err))
	}
	for key, values := range query {
		settings[canonicalKey(key)] = values[len(values)-1]
	}
	return settings, nil
}

// hostsWithoutPorts returns the host names of "host:port,host:port" with the
// ports removed, so an authority of only ":5432" counts as naming no host.
func hostsWithoutPorts(authority string) string {
	var hosts []string
	for _, hostPort := range strings.Split(authority, ",") {
		host := hostPort
		if strings.HasPrefix(hostPort, "[") {
			// An IPv6 address in brackets: the port follows the closing bracket.
			host, _, _ = strings.Cut(strings.TrimPrefix(hostPort, "["), "]")
		} else if colon := strings.LastIndexByte(hostPort, ':'); colon >= 0 {
			host = hostPort[:colon]
		}
		if host != "" {
			hosts = append(hosts, host)
		}
	}
	return strings.Join(hosts, ",")
}

// describeQueryError drops the quoted text from a url.ParseQuery error, which
// could be part of a password.
func describeQueryError(err error) string {
	var escapeErr url.EscapeError
	if errors.As(err, &escapeErr) {
		return "a value has an invalid percent escape"
	}
	return "it could not be parsed"
}

// parseKeywordValues reads libpq's key=value form: pairs separated by white
// space, values optionally in single quotes, with \ escaping the next character.
func parseKeywordValues(connString string) (map[string]string, error) {
	settings := map[string]string{}
	rest := strings.TrimLeft(connString, asciiSpaces)

	for rest != "" {
		key, afterKey, found := strings.Cut(rest, "=")
		key = strings.TrimRight(key, asciiSpaces)
		if !found || key == "" || strings.ContainsAny(key, asciiSpaces) {
			return nil, errors.New(`it is neither a postgres:// URL nor key=value pairs; a key has no "=" after it`)
		}

		value, remainder, err := readKeywordValue(strings.TrimLeft(afterKey, asciiSpaces))
		if err != nil {
			return nil, err
		}
		settings[canonicalKey(key)] = value
		rest = strings.TrimLeft(remainder, asciiSpaces)
	}
	return settings, nil
}

const asciiSpaces = " \t\n\r\v\f"

// readKeywordValue reads one value at the start of s and returns it with the unread rest.
func readKeywordValue(s string) (value, rest string, err error) {
	quoted := strings.HasPrefix(s, "'")
	if quoted {
		s = s[1:]
	}

	var builder strings.Builder
	for i := 0; i < len(s); i++ {
		switch char := s[i]; {
		case char == '\\' && i+1 < len(s):
			i++
			builder.WriteByte(s[i])
		case char == '\\':
			// A trailing backslash escapes the end of the string, and libpq drops it.
		case quoted && char == '\'':
			return builder.String(), s[i+1:], nil
		case !quoted && strings.IndexByte(asciiSpaces, char) >= 0:
			return builder.String(), s[i:], nil
		default:
			builder.WriteByte(char)
		}
	}

	if quoted {
		return "", "", errors.New("a quoted value has no closing quote")
	}
	return builder.String(), "", nil
}

func canonicalKey(key string) string {
	if key == "database" {
		return "dbname"
	}
	return key
}
