package jsonscan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// checkUnquote compares UnquoteString with encoding/json on raw: when it
// decodes, encoding/json must decode the same string.
func checkUnquote(t *testing.T, raw []byte) {
	s, ok := UnquoteString(raw)
	var want string
	err := json.Unmarshal(raw, &want)
	if ok && (err != nil || s != want) {
		t.Fatalf("%q: UnquoteString %q, encoding/json %q (%v)", raw, s, want, err)
	}
	if t2 := bytes.TrimSpace(raw); !ok && err == nil && utf8.Valid(raw) && len(t2) > 0 && t2[0] == '"' {
		t.Fatalf("%q: declined a string encoding/json decodes", raw)
	}
}

func TestUnquoteString(t *testing.T) {
	for _, raw := range []string{`""`, `"plain"`, ` "ws" `, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u4e16"`, `"\ud83d\ude42"`,
		`"\ud800"`, `"\udc00x"`, `"bad \x"`, `"unterminated`, `"ctl ` + "\x01" + `"`, `"a" "b"`, `null`, `1`, `"é 🙂"`, "\"\xff\"", `"\u12"`} {
		checkUnquote(t, []byte(raw))
	}
	if s, ok := UnquoteString([]byte(`"a\nb"`)); !ok || s != "a\nb" {
		t.Errorf("got %q %v", s, ok)
	}
}

func FuzzUnquoteString(f *testing.F) {
	for _, s := range []string{`"x"`, `"\u00e9"`, `"\ud83d\ude42"`, `"a\\b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkUnquote(t, raw) })
}

// plain8 reports whether none of the eight bytes of b is special (see
// special8).
func plain8(b []byte) bool { return special8(b) == 0 }

// plainNaive is plain8's definition, a byte at a time.
func plainNaive(b []byte) bool { return firstSpecialNaive(b) == len(b) }

// firstSpecialNaive is the index of special8's first byte, a byte at a
// time (len(b) for none).
func firstSpecialNaive(b []byte) int {
	for i, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(b)
}

// checkSpecial8 holds special8 to its definition on b: which bytes are
// special, and so the first of them.
func checkSpecial8(t *testing.T, b []byte) {
	t.Helper()
	m := special8(b)
	for i, c := range b {
		want := c < 0x20 || c == '"' || c == '\\'
		if got := m>>(8*i+7)&1 == 1; got != want {
			t.Fatalf("% x: byte %d special %v, want %v", b, i, got, want)
		}
	}
	if first := firstSpecialNaive(b); m != 0 && bits.TrailingZeros64(m)>>3 != first {
		t.Fatalf("% x: first special byte %d, want %d", b, bits.TrailingZeros64(m)>>3, first)
	}
}

// TestPlain8 checks every byte value at every position among plain bytes
// and among bytes of 0x80 and above (whose borrows could hide a byte), and
// random windows.
func TestPlain8(t *testing.T) {
	for _, fill := range []byte{'a', 0x80, 0xff, 0x20, 0x21} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				if got, want := plain8(b), plainNaive(b); got != want {
					t.Fatalf("% x: plain8 %v, want %v", b, got, want)
				}
				checkSpecial8(t, b)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		var b [8]byte
		for i := range b {
			// Mostly the bytes around the edges: 0x00-0x21, '"', '\\', 0x7f-0x81.
			b[i] = []byte{0x00, 0x1f, 0x20, 0x21, '"', '\\', 0x7f, 0x80, 0x81, 0xa2, 0xdc, 'x'}[rng.IntN(12)]
		}
		if got, want := plain8(b[:]), plainNaive(b[:]); got != want {
			t.Fatalf("% x: plain8 %v, want %v", b, got, want)
		}
		checkSpecial8(t, b[:])
	}
}

// TestFieldsSixtyFourKeys: a table takes up to 64 keys, and a key read
// twice declines wherever it is in the table.
func TestFieldsSixtyFourKeys(t *testing.T) {
	type wide struct{ got [64]int64 }
	defs := make([]Field[wide], 64)
	for i := range defs {
		defs[i] = Key(fmt.Sprintf("k%d", i), func(p *Scanner, v *wide) bool { return p.Int64(&v.got[i]) })
	}
	f := NewFields(defs...)
	var v wide
	if !f.Decode([]byte(`{"k0":1,"k40":2,"k63":3}`), &v) || v.got[0] != 1 || v.got[40] != 2 || v.got[63] != 3 {
		t.Fatalf("read %v", v.got)
	}
	for _, twice := range []string{`{"k63":1,"k63":2}`, `{"k40":1,"k0":1,"k40":2}`} {
		if f.Decode([]byte(twice), &v) {
			t.Errorf("%s: a key read twice was not declined", twice)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("65 keys: no panic")
		}
	}()
	NewFields(append(defs, Key("k64", func(*Scanner, *wide) bool { return true }))...)
}
