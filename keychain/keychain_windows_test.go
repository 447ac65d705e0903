package keychain

import (
	"errors"
	"strings"
	"testing"
)

func TestFitsEntryWindows(t *testing.T) {
	t.Parallel()
	if err := fitsEntry(DefaultService, "session-token", strings.Repeat("x", 2560)); err != nil {
		t.Fatalf("2560 bytes: %v", err)
	}
	if err := fitsEntry(DefaultService, "session-token", strings.Repeat("x", 2561)); !errors.Is(err, errTooLarge) {
		t.Fatalf("2561 bytes: %v, want errTooLarge", err)
	}
}
