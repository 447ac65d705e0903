//go:build !linux

package keychaintest

import "testing"

// Start skips the test: the real Secret Service runs on Linux only.
func Start(t testing.TB, setup int) *Session {
	t.Skip("a real Secret Service is only available on Linux")
	return nil
}
