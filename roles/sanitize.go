package roles

import "strings"

// sanitizePart turns free text into a piece of a PostgreSQL role name: ASCII
// letters are lowercased, ASCII digits kept, and every other rune (invalid
// bytes and multibyte characters included) becomes '_'. Runs of '_' are
// collapsed and leading and trailing '_' trimmed.
func sanitizePart(text string) string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteByte('_')
		}
	}
	return collapseUnderscores(b.String())
}

// collapseUnderscores replaces runs of '_' with one and trims '_' from both ends.
func collapseUnderscores(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && (b.Len() == 0 || i+1 == len(s) || s[i+1] == '_') {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// truncatePart shortens a sanitized part to at most n bytes without leaving
// a trailing '_'.
func truncatePart(part string, n int) string {
	if len(part) <= n {
		return part
	}
	return strings.TrimRight(part[:max(n, 0)], "_")
}
