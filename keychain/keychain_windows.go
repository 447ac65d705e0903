package keychain

import (
	"errors"
	"fmt"
	"syscall"
)

// maxBlob is CRED_MAX_CREDENTIAL_BLOB_SIZE: the Windows Credential Manager
// stores at most 2560 bytes per credential, and go-keyring stores the value as
// raw UTF-8 bytes.
const maxBlob = 2560

// osUnavailable reports Win32 errors from the Credential Manager (for example
// ERROR_NO_SUCH_LOGON_SESSION in a service session) as unavailability.
func osUnavailable(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno)
}

// fitsEntry reports whether one entry fits in a Windows credential.
func fitsEntry(service, user, value string) error {
	if len(value) > maxBlob {
		return fmt.Errorf("%w: %d bytes, Windows allows %d", errTooLarge, len(value), maxBlob)
	}
	return nil
}
