package roles

import (
	"fmt"
	"strings"
)

// tokenKind classifies a piece of a statement the way PostgreSQL's scanner
// does, as far as it matters for where a quoted token ends.
type tokenKind int

const (
	tokenCode              tokenKind = iota // anything outside quotes and comments
	tokenString                             // '...', also B'', X'' and N'', which end the same way
	tokenEscapeString                       // E'...', where a backslash escapes the next byte
	tokenUnicodeString                      // U&'...'
	tokenQuotedIdentifier                   // "..."
	tokenUnicodeIdentifier                  // U&"..."
	tokenDollarString                       // $tag$...$tag$
	tokenLineComment                        // -- up to the end of the line
	tokenBlockComment                       // /* ... */, which may nest
)

// token is one lexed piece of a statement: open + body + close is its text.
type token struct {
	kind  tokenKind
	open  string
	body  string
	close string
}

func (t token) text() string {
	return t.open + t.body + t.close
}

// lexer splits a statement into tokens. It follows the rules of PostgreSQL's
// scanner (src/backend/parser/scan.l) that decide where a string,
// identifier, dollar-quoted string or comment ends, with
// standard_conforming_strings on, and treats everything else as code. It
// never splits on ';'. Its tricky cases were checked against PostgreSQL 15.
type lexer struct {
	src       string
	pos       int
	codeStart int
	tokens    []token

	// continueAt is the offset of a quote that continues the previous string
	// constant, or -1. PostgreSQL joins 'a'<newline>'b' into one constant of
	// the first part's kind, so E'a'<newline>'b' is an escape string in both
	// parts.
	continueAt   int
	continueKind tokenKind
}

// lex splits src into tokens, or reports an unterminated quote or comment.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, continueAt: -1}
	for l.pos < len(l.src) {
		if err := l.step(); err != nil {
			return nil, err
		}
	}

	l.flushCode(len(l.src))
	return l.tokens, nil
}

// step consumes the token or code character at l.pos.
func (l *lexer) step() error {
	rest := l.src[l.pos:]
	c := rest[0]

	switch {
	case strings.HasPrefix(rest, "--"):
		l.lineComment()
		return nil
	case strings.HasPrefix(rest, "/*"):
		return l.blockComment()
	case c == '\'':
		kind := tokenString
		if l.pos == l.continueAt {
			kind = l.continueKind
		}
		return l.quoted(kind, l.pos, l.pos)
	case c == '"':
		return l.quoted(tokenQuotedIdentifier, l.pos, l.pos)
	case c == '$':
		return l.dollar()
	case isIdentifierStart(c):
		return l.identifier()
	case isDigit(c):
		l.number()
		return nil
	}

	l.pos++
	return nil
}

// flushCode emits the code between the last token and end, if any.
func (l *lexer) flushCode(end int) {
	if end > l.codeStart {
		l.tokens = append(l.tokens, token{kind: tokenCode, body: l.src[l.codeStart:end]})
	}
	l.codeStart = end
}

// emit appends a non-code token that starts at start and ends before end.
func (l *lexer) emit(start, end int, t token) {
	l.flushCode(start)
	l.tokens = append(l.tokens, t)
	l.pos = end
	l.codeStart = end
}

// identifier consumes an identifier or keyword. A lone E or U& right before
// a quote is the prefix of an escape string or a Unicode string instead.
func (l *lexer) identifier() error {
	start := l.pos
	end := start + 1
	for end < len(l.src) && isIdentifierPart(l.src[end]) {
		end++
	}

	word := l.src[start:end]
	rest := l.src[end:]
	switch {
	case (word == "e" || word == "E") && strings.HasPrefix(rest, "'"):
		return l.quoted(tokenEscapeString, start, end)
	case (word == "u" || word == "U") && strings.HasPrefix(rest, "&'"):
		return l.quoted(tokenUnicodeString, start, end+1)
	case (word == "u" || word == "U") && strings.HasPrefix(rest, `&"`):
		return l.quoted(tokenUnicodeIdentifier, start, end+1)
	}

	l.pos = end
	return nil
}

// number consumes a numeric constant's digits, decimal point and exponent.
// Letters right after it start a new token, so 1E'x' is 1 followed by an
// escape string, as older PostgreSQL versions read it (15 rejects it).
func (l *lexer) number() {
	i := skipDigits(l.src, l.pos)
	if i < len(l.src) && l.src[i] == '.' && !strings.HasPrefix(l.src[i:], "..") {
		i = skipDigits(l.src, i+1)
	}

	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			i = skipDigits(l.src, j)
		}
	}

	l.pos = i
}

// quoted consumes a quoted string or identifier whose prefix starts at start
// and whose opening quote is at quotePos.
func (l *lexer) quoted(kind tokenKind, start, quotePos int) error {
	quote := l.src[quotePos]
	end, ok := findClosingQuote(l.src, quotePos+1, quote, kind == tokenEscapeString)
	if !ok {
		return fmt.Errorf("unterminated %s starting at byte %d; close it with %c", kindName(kind), start, quote)
	}

	l.emit(start, end+1, token{
		kind:  kind,
		open:  l.src[start : quotePos+1],
		body:  l.src[quotePos+1 : end],
		close: string(quote),
	})

	if quote == '\'' {
		l.markContinuation(kind)
	} else {
		l.continueAt = -1
	}
	return nil
}

// findClosingQuote returns the offset of the quote that ends a quoted token
// whose body starts at from. A doubled quote stands for one quote character.
func findClosingQuote(src string, from int, quote byte, backslashEscapes bool) (int, bool) {
	for i := from; i < len(src); i++ {
		switch {
		case backslashEscapes && src[i] == '\\':
			i++ // the escaped byte cannot end the string
		case src[i] == quote && i+1 < len(src) && src[i+1] == quote:
			i++
		case src[i] == quote:
			return i, true
		}
	}
	return 0, false
}

// markContinuation looks past the string constant that just ended for
// PostgreSQL's continuation form: spaces, a newline, then any whitespace and
// -- comments that end in a newline, then a quote. Vertical tab counts as
// space too. Where PostgreSQL finds no continuation, a value escaped for an
// escape string still ends inside the plain string it is in.
func (l *lexer) markContinuation(kind tokenKind) {
	l.continueAt = -1

	i := l.pos
	for i < len(l.src) && isHorizontalSpace(l.src[i]) {
		i++
	}
	if i == len(l.src) || !isNewline(l.src[i]) {
		return
	}

	for i < len(l.src) {
		switch {
		case isSpace(l.src[i]):
			i++
		case strings.HasPrefix(l.src[i:], "--"):
			end := strings.IndexAny(l.src[i:], "\r\n")
			if end < 0 {
				return
			}
			i += end
		default:
			if l.src[i] == '\'' {
				l.continueAt = i
				l.continueKind = kind
			}
			return
		}
	}
}

// dollar consumes a dollar-quoted string, a positional parameter such as
// $1, or a lone '$'.
func (l *lexer) dollar() error {
	start := l.pos
	i := start + 1

	if i < len(l.src) && isDigit(l.src[i]) {
		l.pos = skipDigits(l.src, i)
		return nil
	}

	if i < len(l.src) && isIdentifierStart(l.src[i]) {
		for i < len(l.src) && isDollarTagPart(l.src[i]) {
			i++
		}
	}
	if i >= len(l.src) || l.src[i] != '$' {
		// PostgreSQL returns the '$' alone and scans what follows afresh.
		l.pos = start + 1
		return nil
	}

	delimiter := l.src[start : i+1]
	bodyStart := i + 1
	bodyLength := strings.Index(l.src[bodyStart:], delimiter)
	if bodyLength < 0 {
		return fmt.Errorf("unterminated dollar-quoted string starting at byte %d; close it with %s", start, delimiter)
	}

	bodyEnd := bodyStart + bodyLength
	l.emit(start, bodyEnd+len(delimiter), token{
		kind:  tokenDollarString,
		open:  delimiter,
		body:  l.src[bodyStart:bodyEnd],
		close: delimiter,
	})
	l.continueAt = -1
	return nil
}

// lineComment consumes a -- comment up to, not including, the line break.
func (l *lexer) lineComment() {
	start := l.pos
	end := len(l.src)
	if n := strings.IndexAny(l.src[start:], "\r\n"); n >= 0 {
		end = start + n
	}

	l.emit(start, end, token{kind: tokenLineComment, open: "--", body: l.src[start+2 : end]})
}

// blockComment consumes a /* */ comment, counting nested comments.
func (l *lexer) blockComment() error {
	start := l.pos
	depth := 0

	for i := start; i+1 < len(l.src); {
		switch l.src[i : i+2] {
		case "/*":
			depth++
			i += 2
		case "*/":
			depth--
			i += 2
			if depth == 0 {
				l.emit(start, i, token{kind: tokenBlockComment, open: "/*", body: l.src[start+2 : i-2], close: "*/"})
				return nil
			}
		default:
			i++
		}
	}

	return fmt.Errorf("unterminated /* comment starting at byte %d; close it with */", start)
}

// kindName describes a token kind in error messages.
func kindName(kind tokenKind) string {
	switch kind {
	case tokenString:
		return "quoted string '...'"
	case tokenEscapeString:
		return "escape string E'...'"
	case tokenUnicodeString:
		return "Unicode string U&'...'"
	case tokenQuotedIdentifier:
		return `quoted identifier "..."`
	case tokenUnicodeIdentifier:
		return `Unicode identifier U&"..."`
	case tokenDollarString:
		return "dollar-quoted string"
	case tokenLineComment, tokenBlockComment:
		return "comment"
	}
	return "code"
}

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// isIdentifierStart matches PostgreSQL's ident_start, where every byte of a
// multibyte character counts as a letter.
func isIdentifierStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdentifierPart matches PostgreSQL's ident_cont, which allows '$'.
func isIdentifierPart(c byte) bool {
	return isIdentifierStart(c) || isDigit(c) || c == '$'
}

// isDollarTagPart matches PostgreSQL's dolq_cont, which excludes '$'.
func isDollarTagPart(c byte) bool {
	return isIdentifierStart(c) || isDigit(c)
}

func isHorizontalSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\f' || c == '\v'
}

func isNewline(c byte) bool {
	return c == '\n' || c == '\r'
}

func isSpace(c byte) bool {
	return isHorizontalSpace(c) || isNewline(c)
}
