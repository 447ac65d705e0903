// Package jsonscan reads JSON into the app's structs without reflection,
// for the hot paths: every upstream event and every client request.
//
// A reader built from it only has to be right, never complete: it reports
// false for anything it does not handle exactly as encoding/json would
// (keys that differ from a field's name only in case, repeated keys, type
// mismatches, floats in integer fields, invalid UTF-8, nesting deeper than
// it follows), and its caller then decodes the same bytes with
// encoding/json, for its result or its error. The fuzz tests of its users
// hold each reader to that.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Scanner reads JSON from a byte slice.
type Scanner struct {
	b []byte
	i int
	// Prev is a string value its user expects to read again (the previous
	// event's item id): SharedString uses it instead of a new string.
	Prev string
}

// Reset makes p read b from its start.
func (p *Scanner) Reset(b []byte) { *p = Scanner{b: b} }

// Pos is the offset of the next byte to read.
func (p *Scanner) Pos() int { return p.i }

// Since returns the bytes read since offset start, without the white space
// after them.
func (p *Scanner) Since(start int) []byte { return bytes.TrimRight(p.b[start:p.i], " \t\r\n") }

// AtEnd skips white space and reports whether all of the input was read.
func (p *Scanner) AtEnd() bool {
	p.WS()
	return p.i == len(p.b)
}

// Peek returns the next byte, or 0 at the end.
func (p *Scanner) Peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// WS skips white space.
func (p *Scanner) WS() {
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return // most calls: compact JSON has none
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Expect skips white space and reads c.
func (p *Scanner) Expect(c byte) bool {
	p.WS()
	if p.Peek() != c {
		return false
	}
	p.i++
	return true
}

// Str reads a string and returns its raw contents and whether it holds
// escapes. Its escapes are not checked (Skip and the string readers do).
func (p *Scanner) Str() (raw []byte, escaped, ok bool) {
	if p.Peek() != '"' {
		return nil, false, false
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		// Eight bytes at a time: past them when none is a quote, a
		// backslash or a control byte, else straight to the first that is
		// (a key ends within its first eight bytes: looking at each of
		// them again eight at a time cost more than the whole scan).
		if p.i+8 <= len(p.b) {
			m := special8(p.b[p.i : p.i+8])
			if m == 0 {
				p.i += 8
				continue
			}
			p.i += bits.TrailingZeros64(m) >> 3
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			raw = p.b[start:p.i]
			p.i++
			return raw, escaped, true
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return nil, false, false
		default:
			p.i++
		}
	}
	return nil, false, false
}

// special8 returns the top bit of each of the eight bytes of b that is a
// quote, a backslash or a control byte (bytes of 0x80 and above are
// plain here): 0 when there is none, and the first one's index is its
// trailing zero bits ÷ 8. Each test works on the low seven bits of every
// byte, whose sums never carry into the next byte, so it is exact for
// every byte (TestPlain8).
func special8(b []byte) uint64 {
	const hi, low7 = 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	v := binary.LittleEndian.Uint64(b)
	zero := func(x uint64) uint64 { return ^((x&low7 + low7) | x) & hi } // the zero bytes of x
	ctl := ^((v&low7 + 0x6060606060606060) | v) & hi                     // the bytes below 0x20
	return zero(v^0x2222222222222222) | zero(v^0x5c5c5c5c5c5c5c5c) | ctl
}

// Object reads an object, calling field for each key with the scanner at
// its value; field reads or skips the value and reports success.
func (p *Scanner) Object(field func(key []byte) bool) bool {
	if !p.Expect('{') {
		return false
	}
	for first := true; ; first = false {
		key, more, ok := p.nextKey(first)
		if !ok || !more {
			return ok
		}
		if !field(key) {
			return false
		}
	}
}

// FirstKey reads the start of an object and its first key, leaving the
// scanner at its value, and reports whether that key is name (written
// without escapes).
func (p *Scanner) FirstKey(name string) bool {
	if !p.Expect('{') {
		return false
	}
	key, more, ok := p.nextKey(true)
	return ok && more && string(key) == name
}

// nextKey reads the next key of an object and its colon, leaving the
// scanner at the value; more is false at the object's end (which it
// reads, with the white space after it).
func (p *Scanner) nextKey(first bool) (key []byte, more, ok bool) {
	p.WS()
	if p.Peek() == '}' {
		p.i++
		p.WS()
		return nil, false, true
	}
	if !first && !p.Expect(',') {
		return nil, false, false
	}
	p.WS()
	key, esc, ok := p.Str()
	if !ok || esc || !p.Expect(':') {
		return nil, false, false
	}
	p.WS()
	return key, true, true
}

// Array reads an array, calling elem for each element with the scanner at
// it.
func (p *Scanner) Array(elem func() bool) bool {
	if !p.Expect('[') {
		return false
	}
	for first := true; ; first = false {
		p.WS()
		if p.Peek() == ']' {
			p.i++
			p.WS()
			return true
		}
		if !first && !p.Expect(',') {
			return false
		}
		p.WS()
		if !elem() {
			return false
		}
		p.WS()
	}
}

// Null reads a null literal if one is next.
func (p *Scanner) Null() bool {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) && p.delimited(p.i+4) {
		p.i += 4
		return true
	}
	return false
}

// delimited reports whether a literal ending at i is followed by the end
// of a value.
func (p *Scanner) delimited(i int) bool {
	if i >= len(p.b) {
		return true
	}
	switch p.b[i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Skip passes over any JSON value, checking its syntax as encoding/json
// would (which refuses a whole document with one bad value anywhere).
func (p *Scanner) Skip() bool {
	return p.skipDepth(0)
}

// maxDepth bounds the nesting Skip follows; deeper values are declined.
const maxDepth = 200

func (p *Scanner) skipDepth(depth int) bool {
	p.WS()
	if depth > maxDepth {
		return false
	}
	switch c := p.Peek(); {
	case c == '"':
		return p.skipString()
	case c == '{':
		return p.Object(func([]byte) bool { return p.skipDepth(depth + 1) })
	case c == '[':
		return p.Array(func() bool { return p.skipDepth(depth + 1) })
	case c == '-' || ('0' <= c && c <= '9'):
		return p.skipNumber()
	}
	for _, lit := range [...]string{"null", "true", "false"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) && p.delimited(p.i+len(lit)) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

// skipString passes over a string, checking its escapes.
func (p *Scanner) skipString() bool {
	raw, esc, ok := p.Str()
	if !ok || !esc {
		return ok
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if _, ok := hex4(raw[i+2:]); !ok {
				return false
			}
			i += 5
		default:
			return false
		}
	}
	return true
}

// skipNumber passes over a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *Scanner) skipNumber() bool {
	if p.Peek() == '-' {
		p.i++
	}
	switch c := p.Peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.Peek() == '.' {
		p.i++
		if p.digits() == 0 {
			return false
		}
	}
	if c := p.Peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.Peek(); c == '+' || c == '-' {
			p.i++
		}
		if p.digits() == 0 {
			return false
		}
	}
	return p.delimited(p.i)
}

func (p *Scanner) digits() int {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// Raw reads any value and stores a copy of its bytes, as json.RawMessage
// does (null included).
func (p *Scanner) Raw(dst *json.RawMessage) bool {
	start := p.i
	if !p.Skip() {
		return false
	}
	*dst = append((*dst)[:0], p.Since(start)...)
	return true
}

// RawArray reads an array whose elements are kept as raw JSON, or null.
func (p *Scanner) RawArray(dst *[]json.RawMessage) bool {
	// encoding/json keeps a null element as null; rare, so declined.
	return Slice(p, dst, func(p *Scanner, v *json.RawMessage) bool { return !p.Null() && p.Raw(v) })
}

// String reads a string (null leaves dst alone).
func (p *Scanner) String(dst *string) bool {
	if p.Null() {
		return true
	}
	raw, esc, ok := p.Str()
	if !ok {
		return false
	}
	if !esc {
		if !utf8.Valid(raw) {
			return false // encoding/json replaces invalid bytes
		}
		*dst = string(raw)
		return true
	}
	s, ok := unescape(raw)
	*dst = s
	return ok
}

// InternString reads a string, using one of common instead of a new
// string when it is one of them.
func (p *Scanner) InternString(dst *string, common []string) bool {
	if p.Null() {
		return true
	}
	raw, esc, ok := p.Str()
	if !ok || esc {
		if ok {
			s, good := unescape(raw)
			*dst = s
			return good
		}
		return false
	}
	for _, c := range common {
		if string(raw) == c {
			*dst = c
			return true
		}
	}
	if !utf8.Valid(raw) {
		return false
	}
	*dst = string(raw)
	return true
}

// SharedString reads a string, using p.Prev when it is the same (null
// leaves dst alone).
func (p *Scanner) SharedString(dst *string) bool {
	if p.Null() {
		return true
	}
	raw, esc, ok := p.Str()
	if !ok || esc || !utf8.Valid(raw) {
		return false
	}
	if string(raw) == p.Prev {
		*dst = p.Prev
	} else {
		*dst = string(raw)
	}
	return true
}

// StringPtr reads a string into a new pointer, or null.
func (p *Scanner) StringPtr(dst **string) bool { return pointer(p, dst, p.String) }

// Strings reads an array of strings, or null.
func (p *Scanner) Strings(dst *[]string) bool {
	// A null element (encoding/json's "") is declined.
	return Slice(p, dst, func(p *Scanner, v *string) bool { return !p.Null() && p.String(v) })
}

// StringMap reads an object of strings into a new map, or null.
func (p *Scanner) StringMap(dst *map[string]string) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	m := map[string]string{}
	ok := p.Object(func(key []byte) bool {
		if !utf8.Valid(key) {
			return false
		}
		if _, dup := m[string(key)]; dup {
			return false
		}
		var s string
		if p.Null() || !p.String(&s) {
			return false
		}
		m[string(key)] = s
		return true
	})
	*dst = m
	return ok
}

// Bool reads true or false (null leaves dst alone).
func (p *Scanner) Bool(dst *bool) bool {
	if p.Null() {
		return true
	}
	for _, v := range [...]bool{true, false} {
		lit := strconv.FormatBool(v)
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) && p.delimited(p.i+len(lit)) {
			p.i += len(lit)
			*dst = v
			return true
		}
	}
	return false
}

// BoolPtr reads true or false into a new pointer, or null.
func (p *Scanner) BoolPtr(dst **bool) bool { return pointer(p, dst, p.Bool) }

// Int64 reads an integer (null leaves dst alone). Fractions, exponents
// and numbers of more than 18 digits are declined.
func (p *Scanner) Int64(dst *int64) bool {
	if p.Null() {
		return true
	}
	neg := p.Peek() == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') || !p.delimited(p.i) {
		return false
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

// Int64Ptr reads an integer into a new pointer, or null.
func (p *Scanner) Int64Ptr(dst **int64) bool { return pointer(p, dst, p.Int64) }

// Int reads an integer into an int.
func (p *Scanner) Int(dst *int) bool {
	n := int64(*dst)
	if !p.Int64(&n) || int64(int(n)) != n {
		return false
	}
	*dst = int(n)
	return true
}

// IntPtr reads an integer into a new pointer, or null.
func (p *Scanner) IntPtr(dst **int) bool { return pointer(p, dst, p.Int) }

// Float64Ptr reads a number into a new pointer, or null; a number out of
// float64's range is declined (encoding/json refuses it).
func (p *Scanner) Float64Ptr(dst **float64) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	start := p.i
	if !p.skipNumber() {
		return false
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return false
	}
	*dst = &f
	return true
}

// pointer reads a value with read into a new T, or null into nil.
func pointer[T any](p *Scanner, dst **T, read func(*T) bool) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	v := new(T)
	*dst = v
	return read(v)
}

// UnquoteString decodes raw, a JSON string literal (surrounding white
// space allowed), as encoding/json would. ok is false when raw is not one
// exactly, or when it holds bytes that are not UTF-8 (which encoding/json
// replaces): the caller then falls back to encoding/json, for its result
// or its error.
func UnquoteString(raw []byte) (s string, ok bool) {
	p := Scanner{b: raw}
	p.WS()
	if p.Peek() != '"' || !p.String(&s) {
		return "", false
	}
	if !p.AtEnd() {
		return "", false
	}
	return s, true
}

// unescape decodes the contents of a JSON string with escapes as
// encoding/json does (a lone surrogate becomes U+FFFD). Invalid UTF-8 and
// invalid escapes report false.
func unescape(raw []byte) (string, bool) {
	if !utf8.Valid(raw) {
		return "", false
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		// Copy up to the next escape in one go.
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			out = append(out, raw[i:]...)
			break
		}
		out = append(out, raw[i:i+j]...)
		i += j
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw[min(i+2, len(raw)):]); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
