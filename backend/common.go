package backend

import (
	"errors"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
)

const (
	// operationPrefix names this engine's operations in the OpenAPI document
	// and the UI's API explorer, e.g. "zsp-read-role".
	operationPrefix = "zsp"

	// nameSegment matches one path segment. Handlers validate the name
	// themselves, so a bad name gets an error that names the fix rather
	// than "unsupported path".
	nameSegment = "(?P<name>[^/]+)$"
)

// listResponses declares the response of a list operation.
func listResponses(description string) map[int][]framework.Response {
	return map[int][]framework.Response{200: {{
		Description: "OK",
		Fields: map[string]*framework.FieldSchema{
			"keys": {Type: framework.TypeStringSlice, Description: description},
		},
	}}}
}

// redactError returns err with every secret replaced, for errors from
// libraries that might echo what they were given.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	message := err.Error()
	redacted := message
	for _, secret := range secrets {
		if secret != "" {
			redacted = strings.ReplaceAll(redacted, secret, "[redacted]")
		}
	}
	if redacted == message {
		return err
	}
	return errors.New(redacted)
}
