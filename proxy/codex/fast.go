package codex

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The delta events make up almost every event of a stream. decodeFast
// decodes them without reflection; anything unusual falls back to
// encoding/json, so it only has to be right, never complete.
var fastTypes = [...]string{
	"response.output_text.delta",
	"response.reasoning_summary_text.delta",
	"response.function_call_arguments.delta",
	"response.reasoning_text.delta",
	"response.refusal.delta",
	"response.custom_tool_call_input.delta",
}

// decodeFast fills ev from data when data is a delta event whose fields it
// understands, and reports whether it did.
func decodeFast(data []byte, ev *Event) bool {
	p := scanner{b: data}
	if !p.expect('{') {
		return false
	}
	var f fastFields
	prevItem := ev.ItemID
	seen := false
	for {
		p.ws()
		if p.peek() == '}' {
			p.i++
			break
		}
		if seen && !p.expect(',') {
			return false
		}
		seen = true
		p.ws()
		key, esc, ok := p.str()
		if !ok || esc || !p.expect(':') {
			return false
		}
		p.ws()
		if !exactKey(key) || !f.field(&p, key) {
			return false // encoding/json matches keys case-insensitively
		}
	}
	typ, delta, deltaEscaped := f.typ, f.delta, f.deltaEscaped
	p.ws()
	if p.i != len(p.b) || delta == nil {
		return false
	}
	known := ""
	for _, t := range fastTypes {
		if string(typ) == t {
			known = t
			break
		}
	}
	if known == "" {
		return false
	}
	itemID := prevItem // consecutive deltas name the same item: no new string
	if string(f.itemID) != prevItem {
		itemID = string(f.itemID)
	}
	*ev = Event{Type: known, OutputIndex: f.out, SummaryIndex: f.sum, ContentIndex: f.content, SequenceNumber: int64(f.seq), ItemID: itemID}
	if !deltaEscaped {
		if !utf8.Valid(delta) {
			return false // encoding/json replaces invalid bytes
		}
		ev.Delta = string(delta)
		return true
	}
	// Rare: let encoding/json handle the escapes of the quoted string.
	return json.Unmarshal(quote(delta), &ev.Delta) == nil
}

var fastKeys = [...]string{"type", "delta", "output_index", "summary_index", "content_index", "sequence_number", "item_id"}

// exactKey reports false for a key that differs from one of fastKeys only
// in case, which encoding/json would treat as that field.
func exactKey(key []byte) bool {
	for _, k := range fastKeys {
		if bytes.EqualFold(key, []byte(k)) && string(key) != k {
			return false
		}
	}
	return true
}

// quote wraps raw string contents (still escaped) in quotes.
func quote(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	return append(q, '"')
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) expect(c byte) bool {
	p.ws()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string and returns its raw contents and whether it holds
// escapes.
func (p *scanner) str() (raw []byte, escaped, ok bool) {
	if p.peek() != '"' {
		return nil, false, false
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
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

// int reads a small non-negative integer.
func (p *scanner) int() (int, bool) {
	n, digits := 0, 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		if digits > 9 {
			return 0, false
		}
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
		digits++
	}
	if digits == 0 || (digits > 1 && p.b[p.i-digits] == '0') {
		return 0, false
	}
	switch p.peek() {
	case '.', 'e', 'E':
		return 0, false
	}
	return n, true
}

// skip passes over any JSON value.
func (p *scanner) skip() bool {
	p.ws()
	switch c := p.peek(); {
	case c == '"':
		start := p.i
		_, esc, ok := p.str()
		return ok && (!esc || json.Valid(p.b[start:p.i]))
	case c == '{' || c == '[':
		start := p.i
		depth := 0
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case '"':
				if _, _, ok := p.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return json.Valid(p.b[start:p.i])
				}
			}
			p.i++
		}
		return false
	default:
		start := p.i
		for p.i < len(p.b) {
			switch p.b[p.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return p.i > start && json.Valid(p.b[start:p.i])
			}
			p.i++
		}
		return false
	}
}

// fastFields are the fields decodeFast reads.
type fastFields struct {
	typ, delta, itemID     []byte
	deltaEscaped           bool
	out, sum, content, seq int
}

// field reads the value of key; false when the fast path cannot.
func (f *fastFields) field(p *scanner, key []byte) bool {
	var esc, ok bool
	switch string(key) {
	case "type":
		f.typ, esc, ok = p.str()
		return ok && !esc
	case "delta":
		f.delta, f.deltaEscaped, ok = p.str()
		return ok
	case "output_index":
		f.out, ok = p.int()
	case "summary_index":
		f.sum, ok = p.int()
	case "content_index":
		f.content, ok = p.int()
	case "sequence_number":
		f.seq, ok = p.int()
	case "item_id":
		f.itemID, esc, ok = p.str()
		return ok && !esc && utf8.Valid(f.itemID)
	default:
		return p.skip()
	}
	return ok
}
