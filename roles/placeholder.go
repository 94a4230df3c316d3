package roles

import (
	"fmt"
	"slices"
	"strings"
)

// Built-in placeholder names of the statement templates.
const (
	PlaceholderName       = "name"       // the account's username
	PlaceholderUsername   = "username"   // alias of PlaceholderName
	PlaceholderGroup      = "group"      // the task's NOLOGIN group role
	PlaceholderPassword   = "password"   // the account's password, rendered as a literal
	PlaceholderExpiration = "expiration" // the VALID UNTIL timestamp, rendered as a literal
)

// builtinOrder returns the canonical built-in placeholders in the order
// error messages list them.
func builtinOrder() []string {
	return []string{PlaceholderName, PlaceholderPassword, PlaceholderExpiration, PlaceholderGroup}
}

// isBuiltinPlaceholder reports whether name is reserved for a built-in placeholder.
func isBuiltinPlaceholder(name string) bool {
	return name == PlaceholderUsername || slices.Contains(builtinOrder(), name)
}

// isLiteralPlaceholder reports whether the placeholder's value is rendered
// as a string literal; every other placeholder is an identifier.
func isLiteralPlaceholder(name string) bool {
	return name == PlaceholderPassword || name == PlaceholderExpiration
}

// canonicalPlaceholder maps the username alias to name.
func canonicalPlaceholder(name string) string {
	if name == PlaceholderUsername {
		return PlaceholderName
	}
	return name
}

// placeholderSet is a set of canonical placeholder names.
type placeholderSet map[string]bool

func newPlaceholderSet(names []string) placeholderSet {
	set := make(placeholderSet, len(names))
	for _, name := range names {
		set[canonicalPlaceholder(name)] = true
	}
	return set
}

func (s placeholderSet) contains(name string) bool {
	return s[canonicalPlaceholder(name)]
}

// list returns the names as {{name}} forms: built-ins first, then the rest sorted.
func (s placeholderSet) list() string {
	var builtins, others []string
	for _, name := range builtinOrder() {
		if s[name] {
			builtins = append(builtins, "{{"+name+"}}")
		}
	}
	for name := range s {
		if !slices.Contains(builtinOrder(), name) {
			others = append(others, "{{"+name+"}}")
		}
	}
	slices.Sort(others)
	return strings.Join(append(builtins, others...), ", ")
}

// unknownPlaceholderError names a placeholder that the template may not use.
func unknownPlaceholderError(name string, allowed placeholderSet) error {
	written := fmt.Sprintf("%q", "{{"+name+"}}")
	if len(allowed) == 0 {
		return fmt.Errorf("unknown placeholder %s; this statement takes no placeholders", written)
	}
	return fmt.Errorf("unknown placeholder %s; use one of %s", written, allowed.list())
}

// matchPlaceholder reads a placeholder at the start of text, which begins
// with "{{". It accepts spaces around the name, as in {{ name }}, and
// returns the name and the placeholder's length in bytes.
func matchPlaceholder(text string) (name string, length int, ok bool) {
	i := skipBlanks(text, 2)

	start := i
	for i < len(text) && isPlaceholderNameByte(text[i]) {
		i++
	}
	name = text[start:i]

	i = skipBlanks(text, i)
	if name == "" || !strings.HasPrefix(text[i:], "}}") {
		return "", 0, false
	}
	return name, i + 2, true
}

// invalidPlaceholderError reports a "{{" that does not start a placeholder.
func invalidPlaceholderError(text string) error {
	return fmt.Errorf("invalid placeholder %q; write placeholders as {{name}}", placeholderSnippet(text))
}

// placeholderSnippet returns the start of text, which begins with "{{", up
// to the next "}}" or 24 bytes, for error messages.
func placeholderSnippet(text string) string {
	const maxSnippet = 24
	if end := strings.Index(text, "}}"); end >= 0 && end+2 <= maxSnippet {
		return text[:end+2]
	}
	if len(text) <= maxSnippet {
		return text
	}
	return strings.ToValidUTF8(text[:maxSnippet], "") + "..."
}

func isPlaceholderNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}
