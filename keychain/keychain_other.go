//go:build !linux && !windows && !darwin

package keychain

// On other systems go-keyring uses the Secret Service (the BSDs) or reports
// ErrUnsupportedPlatform; mapError recognises both by their messages.
func osUnavailable(err error) bool { return false }

// fitsEntry accepts every entry; the Secret Service has no relevant limit.
func fitsEntry(service, user, value string) error { return nil }
