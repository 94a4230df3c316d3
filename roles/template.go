package roles

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Quoter quotes values for the target database. The postgres package
// implements it with the driver's own quoting.
type Quoter interface {
	// QuoteIdentifier returns s as a quoted identifier: "..." with every " doubled.
	QuoteIdentifier(s string) string

	// QuoteLiteral returns s as a string constant: '...' with every ' doubled,
	// or E'...' with backslashes doubled too when s contains a backslash.
	QuoteLiteral(s string) string
}

// Statement is a parsed statement template: literal SQL and placeholders,
// each placeholder with the quoting context it sits in.
//
// Rendering quotes each value for its context, so no value can end the
// token it is placed in. In code, {{password}} and {{expiration}} become
// string constants and every other placeholder a quoted identifier. Inside
// "...", '...' or E'...' the value is escaped for those quotes. Inside a
// dollar-quoted string the body is parsed again as code.
//
// Backslashes are rejected in plain '...' strings, in the template and in
// values placed there, because PostgreSQL reads a backslash there as an
// escape when standard_conforming_strings is off. Without them, every token
// ends at the same place whatever that setting is.
//
// NOTE: a value inside a string that a DO block then runs with EXECUTE is
// escaped for the string only. Such templates should pass the value through
// quote_ident, quote_literal or format('%I').
type Statement struct {
	segments     []segment
	placeholders []string
}

// quoteContext is the quoting around a placeholder in a statement.
type quoteContext int

const (
	contextCode             quoteContext = iota // outside quotes
	contextString                               // inside '...'
	contextEscapeString                         // inside E'...'
	contextQuotedIdentifier                     // inside "..."
)

type segmentKind int

const (
	segmentText        segmentKind = iota // SQL copied as is
	segmentPlaceholder                    // a placeholder, replaced by its quoted value
	segmentDollar                         // a dollar-quoted string whose body has placeholders
)

// segment is one piece of a parsed statement.
type segment struct {
	kind        segmentKind
	text        string       // segmentText: the SQL; segmentDollar: the $tag$ delimiter
	placeholder string       // segmentPlaceholder: the name as written
	context     quoteContext // segmentPlaceholder: where it sits
	body        *Statement   // segmentDollar: the body, parsed as code
}

// ParseStatement parses one SQL statement template. It rejects placeholders
// that are not in allowed (the username alias is accepted wherever name
// is), a "{{" that does not form a placeholder, placeholders inside
// comments or Unicode-escape quotes, and unterminated quotes, comments or
// dollar-quoted strings. The statement is never split on ';'.
func ParseStatement(text string, allowed []string) (*Statement, error) {
	return parseStatement(text, newPlaceholderSet(allowed))
}

func parseStatement(text string, allowed placeholderSet) (*Statement, error) {
	tokens, err := lex(text)
	if err != nil {
		return nil, err
	}

	s := &Statement{}
	for _, tok := range tokens {
		if err := s.addToken(tok, allowed); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// addToken appends the segments of one lexed token.
func (s *Statement) addToken(tok token, allowed placeholderSet) error {
	switch tok.kind {
	case tokenCode:
		return s.addQuoted(tok, contextCode, allowed)
	case tokenString:
		return s.addQuoted(tok, contextString, allowed)
	case tokenEscapeString:
		return s.addQuoted(tok, contextEscapeString, allowed)
	case tokenQuotedIdentifier:
		return s.addQuoted(tok, contextQuotedIdentifier, allowed)
	case tokenDollarString:
		return s.addDollar(tok, allowed)
	}

	if i := strings.Index(tok.body, "{{"); i >= 0 {
		return fmt.Errorf("%q inside a %s is not allowed; %s", placeholderSnippet(tok.body[i:]), kindName(tok.kind), noPlaceholderReason(tok.kind))
	}
	s.addText(tok.text())
	return nil
}

// noPlaceholderReason returns why a token kind takes no placeholders and what to do instead.
func noPlaceholderReason(kind tokenKind) string {
	if kind == tokenLineComment || kind == tokenBlockComment {
		return "move the placeholder out of the comment, because a value could end the comment early"
	}
	return `use a plain '...' string or "..." identifier, because a backslash in a value would start a Unicode escape`
}

// shorten cuts text to 40 bytes for error messages.
func shorten(text string) string {
	const maxShown = 40
	if len(text) <= maxShown {
		return text
	}
	return strings.ToValidUTF8(text[:maxShown], "") + "..."
}

// addQuoted appends a code token or a quoted token, splitting its body at
// placeholders.
func (s *Statement) addQuoted(tok token, context quoteContext, allowed placeholderSet) error {
	if context == contextString && strings.Contains(tok.body, `\`) {
		return fmt.Errorf(`string %q contains a backslash, which PostgreSQL reads as an escape when standard_conforming_strings is off; write it as E'...' with \\ for each backslash`, shorten(tok.text()))
	}
	s.addText(tok.open)

	literalStart := 0
	body := tok.body
	for i := 0; i < len(body); i++ {
		if context == contextEscapeString && body[i] == '\\' {
			i++ // an escaped '{' cannot start a placeholder
			continue
		}
		if !strings.HasPrefix(body[i:], "{{") {
			continue
		}

		name, length, ok := matchPlaceholder(body[i:])
		if !ok {
			return invalidPlaceholderError(body[i:])
		}
		if !allowed.contains(name) {
			return unknownPlaceholderError(name, allowed)
		}

		s.addText(body[literalStart:i])
		s.addPlaceholder(name, context)
		i += length - 1
		literalStart = i + 1
	}

	s.addText(body[literalStart:])
	s.addText(tok.close)
	return nil
}

// addDollar appends a dollar-quoted string. A body with placeholders is
// parsed again as code, because it is usually a PL/pgSQL block.
func (s *Statement) addDollar(tok token, allowed placeholderSet) error {
	if !strings.Contains(tok.body, "{{") {
		s.addText(tok.text())
		return nil
	}

	body, err := parseStatement(tok.body, allowed)
	if err != nil {
		return fmt.Errorf("in dollar-quoted string %s: %w", tok.open, err)
	}

	s.segments = append(s.segments, segment{kind: segmentDollar, text: tok.open, body: body})
	for _, name := range body.placeholders {
		s.notePlaceholder(name)
	}
	return nil
}

func (s *Statement) addText(text string) {
	if text == "" {
		return
	}
	if n := len(s.segments); n > 0 && s.segments[n-1].kind == segmentText {
		s.segments[n-1].text += text
		return
	}
	s.segments = append(s.segments, segment{kind: segmentText, text: text})
}

func (s *Statement) addPlaceholder(name string, context quoteContext) {
	s.segments = append(s.segments, segment{kind: segmentPlaceholder, placeholder: name, context: context})
	s.notePlaceholder(name)
}

func (s *Statement) notePlaceholder(name string) {
	name = canonicalPlaceholder(name)
	if !slices.Contains(s.placeholders, name) {
		s.placeholders = append(s.placeholders, name)
	}
}

// Placeholders returns the names of the placeholders the statement uses, in
// order of first use, with the username alias reported as name.
func (s *Statement) Placeholders() []string {
	return slices.Clone(s.placeholders)
}

// Render returns the statement with every placeholder replaced by its value,
// quoted for where it sits. A value that is missing, not valid UTF-8 or
// contains a NUL byte is an error; errors never contain a value.
func (s *Statement) Render(values map[string]string, q Quoter) (string, error) {
	if q == nil {
		return "", errors.New("render statement: no quoter given")
	}

	var b strings.Builder
	for _, seg := range s.segments {
		if err := seg.renderTo(&b, values, q); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func (seg segment) renderTo(b *strings.Builder, values map[string]string, q Quoter) error {
	switch seg.kind {
	case segmentText:
		b.WriteString(seg.text)
		return nil
	case segmentPlaceholder:
		value, err := seg.renderPlaceholder(values, q)
		b.WriteString(value)
		return err
	case segmentDollar:
		body, err := seg.renderDollarBody(values, q)
		b.WriteString(seg.text + body + seg.text)
		return err
	}
	return fmt.Errorf("render statement: unknown segment kind %d; this is a bug", seg.kind)
}

// renderPlaceholder returns the placeholder's value quoted for its context.
func (seg segment) renderPlaceholder(values map[string]string, q Quoter) (string, error) {
	value, ok := lookupValue(values, seg.placeholder)
	if !ok {
		return "", fmt.Errorf("missing value for placeholder {{%s}}", seg.placeholder)
	}
	if !utf8.ValidString(value) {
		return "", fmt.Errorf("value for placeholder {{%s}} is not valid UTF-8", seg.placeholder)
	}
	if strings.ContainsRune(value, 0) {
		return "", fmt.Errorf("value for placeholder {{%s}} contains a NUL byte", seg.placeholder)
	}

	switch seg.context {
	case contextCode:
		if isLiteralPlaceholder(canonicalPlaceholder(seg.placeholder)) {
			return q.QuoteLiteral(value), nil
		}
		return q.QuoteIdentifier(value), nil
	case contextQuotedIdentifier:
		return strings.ReplaceAll(value, `"`, `""`), nil
	case contextString:
		if strings.Contains(value, `\`) {
			return "", fmt.Errorf(`value for placeholder {{%s}} contains a backslash, which a '...' string reads differently when standard_conforming_strings is off; write the placeholder without quotes or inside E'...'`, seg.placeholder)
		}
		return strings.ReplaceAll(value, `'`, `''`), nil
	case contextEscapeString:
		return strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `'`, `''`), nil
	}
	return "", fmt.Errorf("render placeholder {{%s}}: unknown context %d; this is a bug", seg.placeholder, seg.context)
}

// renderDollarBody renders the body of a dollar-quoted string and checks
// that PostgreSQL will end the string at the closing delimiter, not earlier
// at a copy of it that a value brought in.
func (seg segment) renderDollarBody(values map[string]string, q Quoter) (string, error) {
	body, err := seg.body.Render(values, q)
	if err != nil {
		return "", err
	}

	delimiter := seg.text
	if strings.Index(body+delimiter, delimiter) != len(body) {
		return "", fmt.Errorf("a value placed in the dollar-quoted string %s contains %s, which would end the string early; use a tag that no value contains, such as $zsp_body$", delimiter, delimiter)
	}
	return body, nil
}

// lookupValue returns the value for a placeholder, accepting either key for
// name and its username alias.
func lookupValue(values map[string]string, name string) (string, bool) {
	if value, ok := values[name]; ok {
		return value, true
	}

	switch name {
	case PlaceholderName:
		value, ok := values[PlaceholderUsername]
		return value, ok
	case PlaceholderUsername:
		value, ok := values[PlaceholderName]
		return value, ok
	}
	return "", false
}

// RenderStatements parses each template with the keys of values as the
// allowed placeholders and renders it.
func RenderStatements(texts []string, values map[string]string, q Quoter) ([]string, error) {
	allowed := slices.Collect(maps.Keys(values))

	rendered := make([]string, 0, len(texts))
	for i, text := range texts {
		statement, err := ParseStatement(text, allowed)
		if err != nil {
			return nil, fmt.Errorf("parse statement at index %d: %w", i, err)
		}

		sql, err := statement.Render(values, q)
		if err != nil {
			return nil, fmt.Errorf("render statement at index %d: %w", i, err)
		}
		rendered = append(rendered, sql)
	}
	return rendered, nil
}
