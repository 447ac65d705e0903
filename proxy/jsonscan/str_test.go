package jsonscan

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// refStr is Str a byte at a time, the plain definition.
func refStr(b []byte, i int) (raw []byte, escaped, ok bool, end int) {
	if i >= len(b) || b[i] != '"' {
		return nil, false, false, i
	}
	i++
	start := i
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return b[start:i], escaped, true, i + 1
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			return nil, false, false, i
		default:
			i++
		}
	}
	return nil, false, false, i
}

// checkStr holds Str to refStr on b from at: the raw slice (a sub-slice
// of b), the escaped flag, success and where the scanner stops.
func checkStr(t *testing.T, b []byte, at int) {
	t.Helper()
	// Exact capacity, so that any read past len(b) would panic.
	b = bytes.Clone(b)[:len(b):len(b)]
	p := Scanner{b: b, i: at}
	raw, esc, ok := p.Str()
	wr, we, wo, wend := refStr(b, at)
	if ok != wo || esc != we || !bytes.Equal(raw, wr) || (ok && p.i != wend) {
		t.Fatalf("%q at %d: Str = %q %v %v end %d; ref %q %v %v end %d", b, at, raw, esc, ok, p.i, wr, we, wo, wend)
	}
	if ok && &raw[:1][0] != &wr[:1][0] && len(raw) > 0 {
		t.Fatalf("%q: raw not a sub-slice of the input", b)
	}
}

var strAlphabet = []byte{'a', 'z', ' ', '"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xe2, 0xff, 'u', '0', 'n', '/'}

// TestStrWindowEdges: Str jumps to the first special byte of each eight,
// so one or two special bytes are placed at every position 0..24 of a
// string of length 0..24 among plain bytes of every kind, and a
// backslash-quote pair across every window edge.
func TestStrWindowEdges(t *testing.T) {
	specials := []byte{'"', '\\', 0x00, 0x0a, 0x1f}
	plains := []byte{'a', 0x20, 0x7f, 0x80, 0xff, 0xa2, 0xdc}
	for L := 0; L <= 24; L++ {
		for _, pl := range plains {
			base := bytes.Repeat([]byte{pl}, L)
			for i := 0; i <= L; i++ {
				for _, s1 := range specials {
					for j := i; j <= L; j++ {
						for _, s2 := range specials {
							s := bytes.Clone(base)
							if i < L {
								s[i] = s1
							}
							if j < L {
								s[j] = s2
							}
							for _, close := range [][]byte{nil, []byte(`"`), []byte(`"abcdefgh`)} {
								b := append([]byte{'"'}, s...)
								b = append(b, close...)
								checkStr(t, b, 0)
							}
						}
					}
				}
			}
		}
	}
	// \" straddling the 8-byte window: the backslash at 7, 8, 15, 16...
	for L := 0; L <= 40; L++ {
		for k := 0; k < L; k++ {
			s := bytes.Repeat([]byte{'q'}, L)
			s[k] = '\\'
			if k+1 < L {
				s[k+1] = '"'
			}
			for _, close := range [][]byte{nil, []byte(`"`)} {
				checkStr(t, append(append([]byte{'"'}, s...), close...), 0)
			}
		}
	}
}

// TestStrRandom: random strings, dense and sparse in special bytes.
func TestStrRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300_000 {
		L := r.IntN(40)
		b := make([]byte, 1+L)
		b[0] = '"'
		density := r.IntN(10)
		for i := 1; i < len(b); i++ {
			if r.IntN(10) < density {
				b[i] = strAlphabet[r.IntN(len(strAlphabet))]
			} else {
				b[i] = byte(r.IntN(256))
			}
		}
		checkStr(t, b, 0)
	}
}

// FuzzStrReference holds Str to refStr on any bytes.
func FuzzStrReference(f *testing.F) {
	f.Add([]byte(`"abc"`), 0)
	f.Add([]byte(`"abcdefg\"hij"`), 0)
	f.Fuzz(func(t *testing.T, b []byte, at int) {
		if at < 0 || at > len(b) {
			at = 0
		}
		checkStr(t, b, at)
	})
}
