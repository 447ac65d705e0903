package keychain

import (
	"errors"
	"strings"
	"testing"
)

func TestFitsEntryDarwin(t *testing.T) {
	t.Parallel()
	// The longest chunk name a valid key can produce, with a default chunk.
	user := chunkName(strings.Repeat("k", maxKeyLen), 1<<63, 999)
	if err := fitsEntry(DefaultService, user, strings.Repeat("x", DefaultChunkSize)); err != nil {
		t.Fatalf("default chunk does not fit: %v", err)
	}
	if err := fitsEntry(DefaultService, "session-token", strings.Repeat("x", 3100)); !errors.Is(err, errTooLarge) {
		t.Fatalf("3100-byte value: %v, want errTooLarge", err)
	}
}
