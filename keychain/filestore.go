package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileStore keeps secrets in plain text in one JSON file (an object mapping
// keys to values). It is an explicit opt-in for systems without a usable
// keychain; anyone who can read the file can read the secrets.
//
// The directory is created with mode 0700 and the file with mode 0600. Every
// write goes to a temporary file in the same directory, which is synced and
// then renamed over the old file, so a crash leaves either the old or the new
// content, never a mix.
//
// On Unix, FileStore refuses to read or update a file that its group or
// others can access; the error says which chmod fixes it.
//
// On Windows, file modes do not express access: the file inherits the ACL of
// its directory. Under the default user profile (os.UserConfigDir, that is
// %AppData%) that grants access to the user, SYSTEM and Administrators only.
// FileStore does not set or check an ACL itself, so a path outside the
// profile is only as private as that folder's ACL.
//
// Calls on one FileStore are serialized; separate processes writing the same
// file may lose each other's updates (the last rename wins).
type FileStore struct {
	path string
	mu   sync.Mutex
}

// NewFileStore returns a FileStore backed by the file at path. Nothing is
// created until the first Set.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path}
}

// Where returns "file:" followed by the file's path.
func (f *FileStore) Where() string { return "file:" + f.path }

// Get returns the value stored under key.
func (f *FileStore) Get(ctx context.Context, key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return "", fmt.Errorf("get %s: %w", key, err)
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set stores value under key, rewriting the file atomically.
func (f *FileStore) Set(ctx context.Context, key, value string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	m[key] = value
	if err := f.save(m); err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return nil
}

// Delete removes key. Deleting a missing key, or using a file that does not
// exist, is not an error.
func (f *FileStore) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.load()
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if _, ok := m[key]; !ok {
		return nil
	}
	delete(m, key)
	if err := f.save(m); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// load reads the file. A missing file is an empty map.
func (f *FileStore) load() (map[string]string, error) {
	file, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return make(map[string]string), nil
	}
	if err != nil {
		return nil, fmt.Errorf("open secrets file: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat secrets file: %w", err)
	}
	if err := checkPrivate(f.path, fi); err != nil {
		return nil, err
	}
	m := make(map[string]string)
	if err := json.NewDecoder(file).Decode(&m); err != nil {
		// The decoder's message may quote file content; keep it out.
		return nil, fmt.Errorf("%w: secrets file %s is not a JSON object of strings", ErrCorrupt, f.path)
	}
	return m, nil
}

// save writes m to a temporary file next to the target and renames it into
// place.
func (f *FileStore) save(m map[string]string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode secrets: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create secrets dir: %w", err)
	}
	// CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && !isWindows {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := os.Rename(tmpName, f.path); err != nil {
		return fmt.Errorf("replace secrets file: %w", err)
	}
	ok = true
	syncDir(dir)
	return nil
}
