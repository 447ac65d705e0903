package codex

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x01\x1f\n\r\t\b\f", "ünïcødé 🎉", "\u2028\u2029", "bad\xffutf8", "<script>&"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q -> invalid JSON %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q round-trips to %q, want %q", s, back, wantBack)
		}
	}
}

// TestAppendStringRandom compares AppendString with encoding/json (HTML
// escaping off) on random strings of every byte class, at every offset
// of the 8-byte fast path.
func TestAppendStringRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	pieces := []string{"a", "Z", "0", " ", "~", "\x7f", "\"", "\\", "<", "&", "\n", "\x00", "\x1f", "\b", "\f", "\x20", "é", "\u2028", "🙂", "\xff", "\xc3", "/"}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			if rng.IntN(3) == 0 {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			} else {
				b.WriteString("abcdefgh"[:1+rng.IntN(8)])
			}
		}
		s := b.String()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(AppendString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want.String())
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("The Codex CLI's instructions are mostly plain ASCII prose, with `code` and\nnewlines. ", 500)
	buf := make([]byte, 0, 2*len(s))
	b.SetBytes(int64(len(s)))
	for i := 0; i < b.N; i++ {
		buf = AppendString(buf[:0], s)
	}
}
