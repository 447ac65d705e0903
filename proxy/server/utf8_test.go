package server

import (
	"io"
	"testing"
)

// TestReadBodyHandsOver checks that Bytes hands the body over: the bytes
// once, then an empty body, so that the server does not hold a large
// request for as long as its answer streams.
func TestReadBodyHandsOver(t *testing.T) {
	b := []byte(`{"model":"gpt-5.4"}`)
	body := newReadBody(b)
	got := body.Bytes()
	if string(got) != string(b) {
		t.Fatalf("Bytes = %q", got)
	}
	if again := body.Bytes(); again != nil {
		t.Errorf("Bytes again = %q, want nil", again)
	}
	if rest, err := io.ReadAll(body); err != nil || len(rest) != 0 {
		t.Errorf("read after Bytes: %q, %v", rest, err)
	}
}
