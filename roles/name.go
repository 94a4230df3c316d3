package roles

import "fmt"

// maxNameLength is the longest role or connection name, in bytes.
const maxNameLength = 128

// ValidateName checks a role or connection name: 1 to 128 ASCII letters,
// digits, '_', '.' or '-', starting with a letter or digit. The error is a
// *FieldError for field.
func ValidateName(field, name string) error {
	const allowedForm = "use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit"

	if name == "" {
		return &FieldError{Field: field, Message: "missing; " + allowedForm}
	}
	if !isValidName(name) {
		return &FieldError{Field: field, Message: fmt.Sprintf("%q is not a valid name; %s", name, allowedForm)}
	}
	return nil
}

func isValidName(name string) bool {
	if len(name) > maxNameLength || !isASCIIAlphanumeric(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isASCIIAlphanumeric(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isASCIIAlphanumeric(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
