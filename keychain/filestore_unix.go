//go:build !windows

package keychain

import (
	"fmt"
	"io/fs"
	"os"
)

const isWindows = false

// checkPrivate refuses a secrets file that its group or others can access.
func checkPrivate(path string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secrets file %s has mode %04o and is accessible to other users; "+
			"run \"chmod 600 %s\" (and consider rotating the secrets it holds)", path, perm, path)
	}
	return nil
}

// syncDir flushes a directory entry after a rename, so the new file survives
// a power loss. Errors are ignored: the rename itself already succeeded.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
