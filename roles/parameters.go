package roles

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1), so a
// longer parameter value could name a different object than the one listed.
const (
	maxParameterNameLength  = 63
	maxParameterValueLength = 63
)

// validateParameters checks parameter names and their allowed values, in
// name order so the first problem reported is always the same.
func (r *Role) validateParameters() error {
	for _, name := range sortedKeys(r.Parameters) {
		if message := parameterNameProblem(name); message != "" {
			return &FieldError{Field: "parameters", Message: message}
		}
		if message := parameterValuesProblem(name, r.Parameters[name]); message != "" {
			return &FieldError{Field: "parameters", Message: message}
		}
	}
	return nil
}

// parameterNameProblem describes what is wrong with a parameter name, or
// returns "".
func parameterNameProblem(name string) string {
	if !isValidParameterName(name) {
		return fmt.Sprintf("parameter name %q is invalid; use 1 to 63 lowercase letters, digits or '_', starting with a letter", name)
	}
	if isBuiltinPlaceholder(name) {
		return fmt.Sprintf("parameter name %q is reserved for a built-in placeholder; choose another name", name)
	}
	return ""
}

func isValidParameterName(name string) bool {
	if name == "" || len(name) > maxParameterNameLength || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parameterValuesProblem describes what is wrong with a parameter's allowed
// values, or returns "".
func parameterValuesProblem(name string, values []string) string {
	if len(values) == 0 {
		return fmt.Sprintf("parameter %q has no allowed values; list at least one", name)
	}

	for i, value := range values {
		if message := parameterValueProblem(value); message != "" {
			return fmt.Sprintf("parameter %q: value at index %d %s", name, i, message)
		}
		if slices.Contains(values[:i], value) {
			return fmt.Sprintf("parameter %q: value %q is listed twice; remove one", name, value)
		}
	}
	return ""
}

// parameterValueProblem completes "value at index N ..." for a bad value, or
// returns "".
func parameterValueProblem(value string) string {
	switch {
	case value == "":
		return "is empty; remove it or write the value"
	case !utf8.ValidString(value):
		return "is not valid UTF-8; write it in UTF-8"
	case len(value) > maxParameterValueLength:
		return fmt.Sprintf("%q is %d bytes long; use at most %d bytes", value, len(value), maxParameterValueLength)
	case strings.IndexFunc(value, unicode.IsControl) >= 0:
		return fmt.Sprintf("%q contains a control character; remove it", value)
	}
	return ""
}

// ResolveParameters checks a request's parameters against the role's
// declarations and returns a copy of them. Every declared parameter must be
// given, with one of its allowed values, and no other parameter may be. The
// error is a *FieldError with Parameter set, naming the first bad parameter.
func (r *Role) ResolveParameters(given map[string]string) (map[string]string, error) {
	for _, name := range sortedKeys(given) {
		if _, declared := r.Parameters[name]; !declared {
			return nil, r.undeclaredParameterError(name)
		}
	}

	resolved := make(map[string]string, len(r.Parameters))
	for _, name := range sortedKeys(r.Parameters) {
		allowed := r.Parameters[name]
		value, ok := given[name]
		if !ok {
			return nil, &FieldError{Field: name, Parameter: true, Message: "missing; set it to one of " + quoteList(allowed)}
		}
		if !slices.Contains(allowed, value) {
			return nil, &FieldError{Field: name, Parameter: true, Message: fmt.Sprintf("%q is not allowed; use one of %s", value, quoteList(allowed))}
		}
		resolved[name] = value
	}
	return resolved, nil
}

func (r *Role) undeclaredParameterError(name string) error {
	if len(r.Parameters) == 0 {
		return &FieldError{Field: name, Parameter: true, Message: fmt.Sprintf("role %q takes no parameters; remove it", r.Name)}
	}
	return &FieldError{Field: name, Parameter: true, Message: fmt.Sprintf("role %q does not declare it; use one of %s", r.Name, quoteList(sortedKeys(r.Parameters)))}
}

// quoteList formats values as "a", "b" so that SQL in a value shows harmlessly.
func quoteList(values []string) string {
	quoted := make([]string, len(values))
	for i, value := range values {
		quoted[i] = fmt.Sprintf("%q", value)
	}
	return strings.Join(quoted, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
