package keychain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os/exec"
)

// maxCommand is the longest command line go-keyring sends to
// "/usr/bin/security -i". Beyond it go-keyring returns ErrSetDataTooBig, but
// only after security has started, leaving it blocked on stdin; fitsEntry
// refuses such entries before go-keyring is called.
const maxCommand = 4096

// osUnavailable reports failures of the security tool (a locked keychain, a
// denied or cancelled prompt, a missing binary) as unavailability.
// go-keyring returns them as bare exec errors such as "exit status 36".
func osUnavailable(err error) bool {
	var exitErr *exec.ExitError
	var execErr *exec.Error
	return errors.As(err, &exitErr) || errors.As(err, &execErr)
}

// fitsEntry reports whether go-keyring's command line for this entry stays
// within the limit. It mirrors go-keyring's Set: the value is stored as
// "go-keyring-base64:" plus base64, and each argument may be single-quoted.
func fitsEntry(service, user, value string) error {
	const quotes = 3 * 2 // service, user and password may each be quoted
	n := len("add-generic-password -U -s ") + len(service) +
		len(" -a ") + len(user) +
		len(" -w ") + len("go-keyring-base64:") + base64.StdEncoding.EncodedLen(len(value)) +
		len("\n") + quotes
	if n > maxCommand {
		return fmt.Errorf("%w: %d-byte command, macOS allows %d", errTooLarge, n, maxCommand)
	}
	return nil
}
