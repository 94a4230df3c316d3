package roles

import "fmt"

// FieldError is an invalid value in one field of a task role or in one
// request parameter.
type FieldError struct {
	// Field is the role field's API name (such as "default_ttl"), or the
	// parameter's name when Parameter is true.
	Field string

	// Message explains the problem and the fix, without the field name.
	Message string

	// Parameter reports that Field names a request parameter, not a role field.
	Parameter bool

	// Err is the underlying error, if any, for errors.Is and errors.As.
	Err error
}

// Error returns the message prefixed with the quoted field name.
func (e *FieldError) Error() string {
	if e.Parameter {
		return fmt.Sprintf("invalid parameter %q: %s", e.Field, e.Message)
	}
	return fmt.Sprintf("invalid %q: %s", e.Field, e.Message)
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error {
	return e.Err
}
