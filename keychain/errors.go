package keychain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zalando/go-keyring"
)

// errTooLarge means one keychain entry would exceed the OS limit.
var errTooLarge = errors.New("entry too large for the OS keychain")

// unavailableHints are fragments of backend errors that mean the keychain
// cannot be reached or used, whatever the operation.
var unavailableHints = []string{
	"dbus",                      // no session bus; dbus-launch missing
	"d-bus",                     // other D-Bus failures
	"secret service",            // Secret Service errors
	"org.freedesktop",           // "The name org.freedesktop.secrets was not provided by any .service files"
	"unlock",                    // "failed to unlock correct collection ..."
	"collection",                // a missing or locked collection
	"prompt",                    // a dismissed unlock prompt
	"no such file",              // a dead bus socket
	"connection refused",        // a bus that stopped listening
	"executable file not found", // a missing helper binary
	"unsupported platform",      // go-keyring's fallback provider
	"not allowed",               // macOS "User interaction is not allowed"
}

// mapError translates a go-keyring error into the package's errors.
// ErrNotFound maps to ErrNotFound. Errors that mean the keychain cannot be
// used map to ErrUnavailable, wrapping the cause. Anything else is returned
// unchanged.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%w: %w", errTooLarge, err)
	case errors.Is(err, keyring.ErrUnsupportedPlatform), isUnavailable(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func isUnavailable(err error) bool {
	if osUnavailable(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, h := range unavailableHints {
		if strings.Contains(msg, h) {
			return true
		}
	}
	return false
}
