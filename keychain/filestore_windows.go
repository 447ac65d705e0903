package keychain

import "io/fs"

const isWindows = true

// checkPrivate accepts every file on Windows: mode bits do not describe access
// there, and the file relies on the ACL inherited from its directory (see
// FileStore).
func checkPrivate(path string, fi fs.FileInfo) error { return nil }

// syncDir is a no-op: Windows cannot open a directory for syncing.
func syncDir(dir string) {}
