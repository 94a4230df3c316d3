package roles

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is a task role: a connection, the statements that grant only what
// the task needs, the TTLs of its accounts and the parameters a request may
// set.
type Role struct {
	Name       string
	Connection string

	// GrantStatements run once on the task's NOLOGIN group role. Placeholders:
	// {{group}} and the parameters.
	GrantStatements []string

	// CreationStatements create one account; empty means
	// DefaultCreationStatements. Placeholders: {{name}}, {{password}},
	// {{expiration}}, {{group}} and the parameters.
	CreationStatements []string

	// RevocationStatements run before the built-in drop of an account.
	// Placeholders: {{name}}, {{group}} and the parameters.
	RevocationStatements []string

	DefaultTTL time.Duration
	MaxTTL     time.Duration

	// UsernameTemplate shapes account names; empty means DefaultUsernameTemplate.
	UsernameTemplate string

	// Parameters maps each parameter name to its allowed values.
	Parameters map[string][]string

	Description string
}

// DefaultCreationStatements create a login role that joins the task's group
// role and expires with the grant. Callers must not modify it.
var DefaultCreationStatements = []string{"CREATE ROLE {{name}} WITH LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}} IN ROLE {{group}}"}

// DefaultUsernameTemplate is the username template of a role that sets none.
const DefaultUsernameTemplate = "zsp_{{role}}_{{display_name}}_{{random}}"

// maxDescriptionBytes caps a role's description.
const maxDescriptionBytes = 1000

// Creation returns the role's creation statements, or a copy of the default.
func (r *Role) Creation() []string {
	if len(r.CreationStatements) == 0 {
		return slices.Clone(DefaultCreationStatements)
	}
	return r.CreationStatements
}

// Validate checks every field. It returns the first problem found as a
// *FieldError with the field, the value and the fix.
func (r *Role) Validate() error {
	checks := []func() error{
		r.validateNames,
		r.validateParameters,
		r.validateStatements,
		r.validateTTLs,
		r.validateUsernameTemplate,
		r.validateDescription,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (r *Role) validateNames() error {
	if err := ValidateName("name", r.Name); err != nil {
		return err
	}
	if r.Connection == "" {
		return &FieldError{Field: "connection", Message: "missing; set it to the name of a configured connection"}
	}
	return ValidateName("connection", r.Connection)
}

func (r *Role) validateTTLs() error {
	if r.DefaultTTL < 0 {
		return &FieldError{Field: "default_ttl", Message: fmt.Sprintf("%s is negative; use a positive duration, or 0 for the default", r.DefaultTTL)}
	}
	if r.MaxTTL < 0 {
		return &FieldError{Field: "max_ttl", Message: fmt.Sprintf("%s is negative; use a positive duration, or 0 for the default", r.MaxTTL)}
	}
	if r.DefaultTTL > 0 && r.MaxTTL > 0 && r.DefaultTTL > r.MaxTTL {
		return &FieldError{Field: "default_ttl", Message: fmt.Sprintf(`%s is longer than "max_ttl" %s; lower default_ttl or raise max_ttl`, r.DefaultTTL, r.MaxTTL)}
	}
	return nil
}

func (r *Role) validateUsernameTemplate() error {
	if r.UsernameTemplate == "" {
		return nil
	}
	if _, err := ParseUsernameTemplate(r.UsernameTemplate); err != nil {
		return &FieldError{Field: "username_template", Message: fmt.Sprintf("%q: %v", r.UsernameTemplate, err), Err: err}
	}
	return nil
}

func (r *Role) validateDescription() error {
	if len(r.Description) > maxDescriptionBytes {
		return &FieldError{Field: "description", Message: fmt.Sprintf("is %d bytes long; shorten it to at most %d bytes", len(r.Description), maxDescriptionBytes)}
	}
	return nil
}

// validateStatements parses every statement with the placeholders its list
// allows.
func (r *Role) validateStatements() error {
	if len(r.GrantStatements) == 0 && len(r.CreationStatements) == 0 {
		return &FieldError{Field: "grant_statements", Message: "missing; set grant_statements (recommended) or creation_statements"}
	}

	if _, err := validateStatementList("grant_statements", r.GrantStatements, r.placeholders(PlaceholderGroup)); err != nil {
		return err
	}
	if err := r.validateCreationStatements(); err != nil {
		return err
	}

	_, err := validateStatementList("revocation_statements", r.RevocationStatements, r.placeholders(PlaceholderName, PlaceholderGroup))
	return err
}

func (r *Role) validateCreationStatements() error {
	if len(r.CreationStatements) == 0 {
		// The default statement joins {{group}}, which only grant statements fill with privileges.
		if len(r.GrantStatements) == 0 {
			return &FieldError{Field: "grant_statements", Message: "missing; the default creation statement joins the group role that grant_statements set up, so set grant_statements or creation_statements"}
		}
		return nil
	}

	allowed := r.placeholders(PlaceholderName, PlaceholderPassword, PlaceholderExpiration, PlaceholderGroup)
	used, err := validateStatementList("creation_statements", r.CreationStatements, allowed)
	if err != nil {
		return err
	}

	for _, required := range []string{PlaceholderName, PlaceholderPassword, PlaceholderExpiration} {
		if !slices.Contains(used, required) {
			return &FieldError{Field: "creation_statements", Message: fmt.Sprintf("no statement uses {{%s}}; add it so the account gets the issued username, password and expiry, as in CREATE ROLE {{name}} WITH LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}}", required)}
		}
	}
	return nil
}

// placeholders returns the given built-ins plus the role's parameter names.
func (r *Role) placeholders(builtins ...string) []string {
	names := slices.Clone(builtins)
	for name := range r.Parameters {
		names = append(names, name)
	}
	return names
}

// validateStatementList parses each statement of one field and returns the
// placeholders they use together.
func validateStatementList(field string, texts, allowed []string) ([]string, error) {
	var used []string
	for i, text := range texts {
		if strings.TrimSpace(text) == "" {
			return nil, &FieldError{Field: field, Message: fmt.Sprintf("statement at index %d is empty; remove it or write the SQL statement", i)}
		}

		statement, err := ParseStatement(text, allowed)
		if err != nil {
			return nil, &FieldError{Field: field, Message: fmt.Sprintf("statement at index %d: %v", i, err), Err: err}
		}
		used = append(used, statement.Placeholders()...)
	}
	return used, nil
}
