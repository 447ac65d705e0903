package responses

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// The backend already speaks this dialect, so most events are relayed as
// they came. Only the top-level sequence_number changes (events the client
// must not see are dropped, so the numbering is redone); these helpers
// rewrite it by copying bytes instead of decoding and re-encoding events.

// member is one top-level key and value of a JSON object, as offsets into
// the object's bytes.
type member struct {
	keyStart, keyEnd int // the key without its quotes
	valStart, valEnd int
}

// members calls fn for each top-level member of the JSON object b and
// reports whether b was an object it could walk. fn returns false to stop.
func members(b []byte, fn func(m member) bool) bool {
	i := dialect.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		i = dialect.SkipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return true
		}
		if b[i] == ',' {
			i = dialect.SkipSpace(b, i+1)
		}
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, ok := dialect.StringEnd(b, i)
		if !ok {
			return false
		}
		m := member{keyStart: i + 1, keyEnd: end - 1}
		i = dialect.SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = dialect.SkipSpace(b, i+1)
		m.valStart = i
		if i, ok = skipValue(b, i); !ok {
			return false
		}
		m.valEnd = i
		if !fn(m) {
			return true
		}
	}
}

// field returns the raw value of the top-level key in object b, or nil.
func field(b []byte, key string) []byte {
	var v []byte
	members(b, func(m member) bool {
		if string(b[m.keyStart:m.keyEnd]) == key {
			v = b[m.valStart:m.valEnd]
			return false
		}
		return true
	})
	return v
}

// appendFrame appends the SSE frame of event raw, of type typ, with its
// sequence_number set to seq. Everything else is copied as it came. It
// returns false when raw is not an object, or typ holds a line end (it
// would end the frame's event line).
func appendFrame(dst []byte, typ string, raw []byte, seq int64) ([]byte, bool) {
	if strings.IndexByte(typ, '\n') >= 0 || strings.IndexByte(typ, '\r') >= 0 {
		return dst, false
	}
	var at member
	found := false
	ok := members(raw, func(m member) bool {
		if string(raw[m.keyStart:m.keyEnd]) == "sequence_number" {
			at, found = m, true
			return false
		}
		return true
	})
	if !ok {
		return dst, false
	}
	dst = appendFrameHead(dst, typ)
	body := len(dst)
	lo, hi := span(raw)
	if found {
		dst = append(dst, raw[lo:at.valStart]...)
		dst = strconv.AppendInt(dst, seq, 10)
		dst = append(dst, raw[at.valEnd:hi]...)
	} else {
		// Not sent by this backend; put it first.
		dst = append(dst, `{"sequence_number":`...)
		dst = strconv.AppendInt(dst, seq, 10)
		if i := dialect.SkipSpace(raw, lo+1); i < hi && raw[i] != '}' {
			dst = append(dst, ',')
		}
		dst = append(dst, raw[lo+1:hi]...)
	}
	if bytes.IndexByte(raw[lo:hi], '\n') >= 0 || bytes.IndexByte(raw[lo:hi], '\r') >= 0 {
		// White space between tokens that ends a line (the backend's data
		// spanned lines): one data line each, which the client joins again.
		dst = append(dst[:body], dataLines(dst[body:])...)
	}
	return append(dst, "\n\n"...), true
}

// dataLines returns b with each line end (LF, CRLF or CR) followed by
// "data: ", so that b spans SSE data lines.
func dataLines(b []byte) []byte {
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '\r':
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			fallthrough
		case '\n':
			out = append(out, "\ndata: "...)
		default:
			out = append(out, c)
		}
	}
	return out
}

// span returns the bounds of b without leading and trailing whitespace.
func span(b []byte) (lo, hi int) {
	lo, hi = dialect.SkipSpace(b, 0), len(b)
	for hi > lo && (b[hi-1] == ' ' || b[hi-1] == '\t' || b[hi-1] == '\n' || b[hi-1] == '\r') {
		hi--
	}
	return lo, hi
}

// appendFrameHead appends "event: typ\ndata: ".
func appendFrameHead(dst []byte, typ string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	return append(dst, "\ndata: "...)
}

// skipValue returns the index after the JSON value starting at b[i]. The
// input is JSON the relay already decoded, so this only finds the end.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return dialect.StringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := dialect.StringEnd(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, i > start
		}
		i++
	}
	return i, i > start
}

// elements calls fn for each element of the JSON array b, as it is (a
// slice of b), and reports whether b was an array it could walk. b must
// be JSON that was decoded before (the request body is, as a whole): this
// finds the elements' bounds and does not check them. fn returns false to
// stop.
func elements(b []byte, fn func(el []byte) bool) bool {
	i := dialect.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	if i = dialect.SkipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return true
	}
	for i < len(b) {
		end, ok := skipValue(b, i)
		if !ok {
			return false
		}
		if !fn(b[i:end]) {
			return true
		}
		if i = dialect.SkipSpace(b, end); i >= len(b) {
			return false
		}
		switch b[i] {
		case ']':
			return true
		case ',':
			i = dialect.SkipSpace(b, i+1)
		default:
			return false
		}
	}
	return false
}
