package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/vault/api"
)

// zspClient calls one mount of the zsp secrets engine as the caller's token.
type zspClient struct {
	vault *api.Client
	mount string
}

// newClient builds a Vault API client from VAULT_ADDR and VAULT_TOKEN, or
// ~/.vault-token when VAULT_TOKEN is empty. The client reads the other
// VAULT_* settings (TLS, namespace, retries) as the vault command does.
func (a *app) newClient(mount string) (*zspClient, error) {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		return nil, usagef("invalid -mount: empty; give the engine's mount path, for example -mount zsp")
	}

	addr := strings.TrimSpace(a.getenv("VAULT_ADDR"))
	if addr == "" {
		return nil, errors.New("VAULT_ADDR is not set; export VAULT_ADDR=https://vault.example.com:8200")
	}
	token, err := a.vaultToken()
	if err != nil {
		return nil, err
	}

	config := api.DefaultConfig()
	if config.Error != nil {
		return nil, fmt.Errorf("read the VAULT_* settings: %w", config.Error)
	}
	config.Address = addr
	client, err := api.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("create a Vault client for VAULT_ADDR=%s: %w", addr, err)
	}
	client.SetToken(token)
	return &zspClient{vault: client, mount: mount}, nil
}

// vaultToken returns VAULT_TOKEN, or the token that `vault login` stored in
// ~/.vault-token.
//
// NOTE: a token helper configured in ~/.vault is not consulted.
func (a *app) vaultToken() (string, error) {
	if token := strings.TrimSpace(a.getenv("VAULT_TOKEN")); token != "" {
		return token, nil
	}

	home := a.getenv("HOME")
	if home == "" {
		return "", errors.New("VAULT_TOKEN is not set, and without HOME there is no ~/.vault-token; export VAULT_TOKEN or set HOME and log in with vault login")
	}
	path := filepath.Join(home, ".vault-token")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("VAULT_TOKEN is not set and %s does not exist; log in with vault login (for example -method=userpass) or export VAULT_TOKEN", path)
	}
	if err != nil {
		return "", fmt.Errorf("read the Vault token from %s: %w", path, err)
	}

	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("VAULT_TOKEN is not set and %s is empty; log in with vault login or export VAULT_TOKEN", path)
	}
	return token, nil
}

// path returns the Vault path of parts under the engine's mount.
func (c *zspClient) path(parts ...string) string {
	return c.mount + "/" + strings.Join(parts, "/")
}

// apiError is a failed call to Vault, in one line: the operation, the HTTP
// status and Vault's messages, or why Vault could not be reached.
type apiError struct {
	operation string
	status    int
	messages  []string
	err       error
}

func (e *apiError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %v; check VAULT_ADDR and that Vault is running", e.operation, e.err)
	}

	message := fmt.Sprintf("%s: Vault returned %d", e.operation, e.status)
	if len(e.messages) > 0 {
		message += ": " + oneLine(e.messages)
	}
	if e.status == 403 {
		message += " (check that the token is valid and its policy allows this path)"
	}
	return message
}

func (e *apiError) Unwrap() error { return e.err }

// multiErrorHeader starts Vault's messages that wrap a list of errors, such
// as "1 error occurred:\n\t* permission denied\n\n".
var multiErrorHeader = regexp.MustCompile(`^\d+ errors? occurred:\s*`)

// oneLine joins Vault's error messages into one line.
func oneLine(messages []string) string {
	lines := make([]string, 0, len(messages))
	for _, message := range messages {
		message = multiErrorHeader.ReplaceAllString(strings.TrimSpace(message), "")
		message = strings.TrimPrefix(message, "* ")
		message = strings.ReplaceAll(message, "\n\t* ", "; ")
		lines = append(lines, strings.Join(strings.Fields(message), " "))
	}
	return strings.Join(lines, "; ")
}

// wrapAPIError describes err from Vault for operation, such as
// "read zsp/creds/billing".
func wrapAPIError(operation string, err error) error {
	var response *api.ResponseError
	if errors.As(err, &response) {
		return &apiError{operation: operation, status: response.StatusCode, messages: response.Errors, err: err}
	}

	// A url.Error repeats the whole URL, query string included; its cause
	// is what the reader needs.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return &apiError{operation: operation, err: urlErr.Err}
	}
	return &apiError{operation: operation, err: err}
}

// statusOf returns the HTTP status of a failed Vault call, or 0.
func statusOf(err error) int {
	var failed *apiError
	if errors.As(err, &failed) {
		return failed.status
	}
	return 0
}

// decodeData copies a response's data into out through JSON, so struct tags
// name the fields and numbers keep their type.
func decodeData(data map[string]any, out any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode response data: %w", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode response data: %w", err)
	}
	return nil
}
