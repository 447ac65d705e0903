// Package jsonscantest holds the readers of package jsonscan to
// encoding/json's results, for the fuzz tests of their users.
package jsonscantest

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// Check decodes data with f and, when f takes it, with encoding/json: both
// must give the same value. It reports whether f took data.
func Check[T any](t testing.TB, f *jsonscan.Fields[T], data []byte) bool {
	t.Helper()
	var fast T
	if !f.Decode(data, &fast) {
		return false
	}
	var slow T
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatalf("took what encoding/json refuses (%v): %q", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decoded differently from encoding/json:\n%q\nfast: %#v\nslow: %#v", data, fast, slow)
	}
	return true
}

// Fuzz runs Check on seeds and what the fuzzer makes of them, and fails
// when f declines one of usual, the requests real clients send, which it
// must take (else it would silently save nothing).
func Fuzz[T any](f *testing.F, fields *jsonscan.Fields[T], usual, odd []string) {
	for _, s := range usual {
		if !Check(f, fields, []byte(s)) {
			f.Fatalf("declined a usual request: %s", s)
		}
		f.Add([]byte(s))
	}
	for _, s := range odd {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { Check(t, fields, data) })
}
