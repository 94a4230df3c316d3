package roles

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Placeholders of a username template.
const (
	usernameRole        = "role"
	usernameDisplayName = "display_name"
	usernameRandom      = "random"
	usernameUnixTime    = "unix_time"
)

const (
	// maxUsernameBytes is PostgreSQL's limit on a role name (NAMEDATALEN - 1).
	maxUsernameBytes = 63

	// randomLength characters from 36 symbols give about 62 bits.
	randomLength   = 12
	randomAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

	// unixTimeDigits is the length of a Unix time in seconds until 2286.
	unixTimeDigits = 10
)

// UsernameTemplate is a parsed username template: literal text and the
// placeholders {{role}}, {{display_name}}, {{random}} and {{unix_time}}.
type UsernameTemplate struct {
	parts []usernamePart
}

// usernamePart is literal text (placeholder "") or one placeholder.
type usernamePart struct {
	literal     string
	placeholder string
}

// ParseUsernameTemplate parses a username template. The template must use
// {{random}} exactly once and leave room for it within 63 bytes. Its literal
// text must be ASCII letters, digits or '_', and letters are lowercased.
func ParseUsernameTemplate(text string) (*UsernameTemplate, error) {
	t := &UsernameTemplate{}
	for rest := text; rest != ""; {
		n, err := t.parseNext(rest)
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}

	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// parseNext parses the literal text or placeholder at the start of text and
// returns how many bytes it used.
func (t *UsernameTemplate) parseNext(text string) (int, error) {
	if !strings.HasPrefix(text, "{{") {
		n := strings.Index(text, "{{")
		if n < 0 {
			n = len(text)
		}
		literal, err := usernameLiteral(text[:n])
		t.parts = append(t.parts, usernamePart{literal: literal})
		return n, err
	}

	name, length, ok := matchPlaceholder(text)
	if !ok {
		return 0, invalidPlaceholderError(text)
	}
	switch name {
	case usernameRole, usernameDisplayName, usernameRandom, usernameUnixTime:
		t.parts = append(t.parts, usernamePart{placeholder: name})
		return length, nil
	}
	return 0, fmt.Errorf("unknown placeholder %q; use {{role}}, {{display_name}}, {{random}} or {{unix_time}}", "{{"+name+"}}")
}

// usernameLiteral lowercases literal template text and checks its characters.
func usernameLiteral(text string) (string, error) {
	lower := make([]byte, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			r, _ := utf8.DecodeRuneInString(text[i:])
			return "", fmt.Errorf("literal text %q contains %q; use only letters, digits and '_' outside placeholders", text, r)
		}
		lower[i] = c
	}
	return string(lower), nil
}

// check requires one {{random}} and room for it next to the literal text.
func (t *UsernameTemplate) check() error {
	randoms, fixed := 0, 0
	for _, part := range t.parts {
		fixed += len(part.literal)
		switch part.placeholder {
		case usernameRandom:
			randoms++
			fixed += randomLength
		case usernameUnixTime:
			fixed += unixTimeDigits
		}
	}

	if randoms == 0 {
		return errors.New("missing {{random}}; add it so every username is unique")
	}
	if randoms > 1 {
		return fmt.Errorf("uses {{random}} %d times; use it once", randoms)
	}
	if fixed > maxUsernameBytes {
		return fmt.Errorf("literal text, {{random}} and {{unix_time}} need %d bytes, but a username is at most %d bytes; shorten the literal text", fixed, maxUsernameBytes)
	}
	return nil
}

// Generate returns a username for one account, made of [a-z0-9_] and at most
// 63 bytes long. Role and display name are sanitized, and runs of '_' are
// collapsed. When the name is too long, the longer of role and display name
// is shortened first. The 12 random characters and the Unix time digits are
// never cut. A nil random reads from crypto/rand.Reader.
func (t *UsernameTemplate) Generate(role, displayName string, now time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	randomPart, err := randomString(random, randomLength)
	if err != nil {
		return "", err
	}

	values := map[string]string{
		usernameRole:        t.usedOrEmpty(usernameRole, sanitizePart(role)),
		usernameDisplayName: t.usedOrEmpty(usernameDisplayName, sanitizePart(displayName)),
		usernameRandom:      randomPart,
		usernameUnixTime:    strconv.FormatInt(max(now.Unix(), 0), 10),
	}
	return t.fit(values)
}

// fit assembles the username, shortening the longer of role and display
// name until it fits.
func (t *UsernameTemplate) fit(values map[string]string) (string, error) {
	for {
		name := t.assemble(values)
		excess := len(name) - maxUsernameBytes
		if excess <= 0 {
			return name, nil
		}

		longer, shorter := usernameRole, usernameDisplayName
		if len(values[shorter]) > len(values[longer]) {
			longer, shorter = shorter, longer
		}
		if values[longer] == "" {
			return "", fmt.Errorf("the username is %d bytes long even without role and display name; shorten the template's literal text to fit %d bytes", len(name), maxUsernameBytes)
		}

		// Cut down to the shorter part's length first, so both end up similar.
		cut := max(min(excess, len(values[longer])-len(values[shorter])), 1)
		values[longer] = truncatePart(values[longer], len(values[longer])-cut)
	}
}

// assemble joins the parts and collapses the '_' runs that empty parts leave.
func (t *UsernameTemplate) assemble(values map[string]string) string {
	var b strings.Builder
	for _, part := range t.parts {
		if part.placeholder == "" {
			b.WriteString(part.literal)
		} else {
			b.WriteString(values[part.placeholder])
		}
	}
	return collapseUnderscores(b.String())
}

// usedOrEmpty returns value when the template uses the placeholder, so an
// unused part is never shortened in place of a used one.
func (t *UsernameTemplate) usedOrEmpty(placeholder, value string) string {
	for _, part := range t.parts {
		if part.placeholder == placeholder {
			return value
		}
	}
	return ""
}

// randomString draws n characters from randomAlphabet. Bytes at or above
// 252, the largest multiple of 36, are dropped so that every character is
// equally likely.
func randomString(random io.Reader, n int) (string, error) {
	const (
		limit    = 256 - 256%len(randomAlphabet)
		maxReads = 64
	)

	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for reads := 0; len(out) < n; reads++ {
		if reads == maxReads {
			return "", errors.New("random source returned too few usable bytes for {{random}}; use crypto/rand.Reader")
		}
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("read random bytes for {{random}}: %w", err)
		}

		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, randomAlphabet[int(b)%len(randomAlphabet)])
			}
		}
	}
	return string(out), nil
}
