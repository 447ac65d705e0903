// Package keychain stores the app's secrets: the ChatGPT session token, OAuth
// token bundles and the local API key.
//
// The rest of the app talks to the small Secrets interface. Three types
// implement it:
//
//   - Store keeps secrets in the OS keychain (macOS Keychain, Windows
//     Credential Manager, the Secret Service on Linux) through
//     github.com/zalando/go-keyring. Every call has a deadline, and values
//     larger than one keychain entry allows are split into chunks behind a
//     manifest, so a crash in the middle of a write never loses the previous
//     value.
//   - FileStore keeps secrets in one owner-only JSON file. It exists only for
//     people who explicitly opt in, for example on a Linux box without a
//     Secret Service.
//   - Memory keeps secrets in process memory, for env-only runs and tests.
//
// Callers never import go-keyring: errors are reported as ErrNotFound,
// ErrUnavailable, ErrTimeout and ErrCorrupt, to be checked with errors.Is.
// No function in this package logs or prints a secret value, and no error
// message contains one.
package keychain

import (
	"context"
	"errors"
	"fmt"
)

// DefaultService is the keychain service name the app stores its secrets
// under.
const DefaultService = "chatgpt-to-api"

var (
	// ErrNotFound means the key has no stored value.
	ErrNotFound = errors.New("secret not found")
	// ErrUnavailable means the secret store cannot be used right now: there is
	// no session bus or Secret Service, the keychain is locked, access was
	// denied or the platform is unsupported. The backend's reason is wrapped
	// alongside it.
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrTimeout means the keychain did not answer before the deadline, which
	// usually means it is waiting for an unlock prompt or is frozen.
	ErrTimeout = errors.New("keychain timed out")
	// ErrCorrupt means a stored value exists but cannot be reassembled: its
	// manifest is malformed, a chunk is missing or the checksum does not match.
	// It is deliberately not ErrNotFound, so a damaged entry is not mistaken
	// for a signed-out state.
	ErrCorrupt = errors.New("stored secret is corrupt")
	// ErrInvalidKey means the key does not follow the naming rules of
	// ValidateKey.
	ErrInvalidKey = errors.New("invalid secret key")
)

// Secrets is the small interface the rest of the app uses to read and write
// secrets. Store, FileStore and Memory implement it.
type Secrets interface {
	// Get returns the value stored under key, or an error that wraps
	// ErrNotFound if there is none.
	Get(ctx context.Context, key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(ctx context.Context, key, value string) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Where describes the storage for status output: "keychain",
	// "file:<path>" or "memory".
	Where() string
}

var (
	_ Secrets = (*Store)(nil)
	_ Secrets = (*FileStore)(nil)
	_ Secrets = (*Memory)(nil)
)

// maxKeyLen bounds key length so a chunk name stays far below every
// keychain's limit on account names.
const maxKeyLen = 64

// ValidateKey reports whether key may be used as a secret name. A key is 1 to
// 64 characters from [a-z0-9._-]. Keys ending in ".<digits>.<digits>" are
// rejected because Store names its chunks that way.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrInvalidKey, key, maxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: %q may contain only a-z, 0-9, '.', '_' and '-'", ErrInvalidKey, key)
		}
	}
	if looksLikeChunk(key) {
		return fmt.Errorf("%w: %q ends like a chunk name (.<number>.<number>)", ErrInvalidKey, key)
	}
	return nil
}

// looksLikeChunk reports whether key ends in ".<digits>.<digits>".
func looksLikeChunk(key string) bool {
	rest := key
	for range 2 {
		i := len(rest)
		for i > 0 && rest[i-1] >= '0' && rest[i-1] <= '9' {
			i--
		}
		if i == len(rest) || i == 0 || rest[i-1] != '.' {
			return false
		}
		rest = rest[:i-1]
	}
	return true
}
