// Package applog puts the application's log in the OS's usual place, in a
// file that rotates by size, so that a build without a console (Windows
// -H windowsgui, a double-clicked macOS app) can still be diagnosed.
package applog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/pkg/browser"
)

// FileName is the log file's name inside the log folder.
const FileName = "chatgpt-to-api.log"

// The defaults for rotation.
const (
	DefaultMaxSize = 5 << 20 // bytes per file
	DefaultKeep    = 3       // rotated files kept: .1 to .3
)

// Dir returns the OS's usual log folder for the application:
// ~/Library/Logs/ChatGPT-to-API on macOS, and
// os.UserCacheDir()/chatgpt-to-api/logs elsewhere (%LocalAppData% on
// Windows, $XDG_CACHE_HOME or ~/.cache on Linux). It does not create it.
func Dir() (string, error) { return dir() }

// File is a log file that rotates when it would grow past MaxSize:
// name.log becomes name.log.1, name.log.1 becomes name.log.2 and so on,
// keeping Keep old files. It is safe for concurrent use.
type File struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	size    int64
	maxSize int64
	keep    int
}

var _ io.WriteCloser = (*File)(nil)

// Open creates dir (mode 0700) and opens FileName in it for appending,
// rotating at DefaultMaxSize and keeping DefaultKeep old files.
func Open(dir string) (*File, error) {
	return OpenSize(dir, DefaultMaxSize, DefaultKeep)
}

// OpenSize is Open with a maximum size in bytes and a number of old files
// to keep.
func OpenSize(dir string, maxSize int64, keep int) (*File, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if keep < 1 {
		keep = 1
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the log folder: %w", err)
	}
	l := &File{path: filepath.Join(dir, FileName), maxSize: maxSize, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the current log file's path.
func (l *File) Path() string { return l.path }

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("reading the log file's size: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its
// maximum size. A single write larger than the maximum still goes into one
// file.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate shifts the old files up by one and starts a new file. It must be
// called with l.mu held.
func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("closing the log file: %w", err)
	}
	l.f = nil
	old := func(i int) string { return l.path + "." + strconv.Itoa(i) }
	_ = os.Remove(old(l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		if err := os.Rename(old(i), old(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotating the log files: %w", err)
		}
	}
	if err := os.Rename(l.path, old(1)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotating the log file: %w", err)
	}
	return l.open()
}

// Close closes the file. Writes after Close fail.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// OpenFolder opens dir in the file manager. It blocks until the opener
// exits, so call it from a goroutine (the tray does).
var OpenFolder = func(dir string) error {
	if err := browser.OpenFile(dir); err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	return nil
}
