package codex

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json does
// (invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped) but
// without HTML escaping.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	slow := 0 // the byte-wise loop runs up to here after a window that failed
	for i := 0; i < len(s); {
		// Eight plain bytes at a time: printable ASCII other than " and \.
		if i >= slow && i+8 <= len(s) {
			if plain8(s[i : i+8]) {
				i += 8
				continue
			}
			slow = i + 8
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain8 reports whether the 8 bytes of s are all printable ASCII other
// than '"' and '\\' (nothing to escape), testing them at once: a byte with
// its high bit set, a byte below 0x20, or a byte equal to '"' or '\\'
// (a zero byte after XOR) sets a high bit in the sum.
func plain8(s string) bool {
	_ = s[7]
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	q, b := x^('"'*ones), x^('\\'*ones)
	return (x|(x-0x20*ones)&^x|(q-ones)&^q|(b-ones)&^b)&highs == 0
}
