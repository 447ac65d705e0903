package jsonscan

import (
	"bytes"
	"encoding/json"
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
