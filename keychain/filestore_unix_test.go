//go:build !windows

package keychain

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStorePermissions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "secrets.json")
	f := NewFileStore(path)
	mustSet(t, f, "tok", "v1")
	mustSet(t, f, "tok", "v2") // the replacement keeps the mode

	for p, want := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", p, got, want)
		}
	}
}

func TestFileStoreRefusesOpenFile(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		path := filepath.Join(t.TempDir(), "secrets.json")
		if err := os.WriteFile(path, []byte(`{"tok":"v"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		f := NewFileStore(path)
		ctx := context.Background()
		_, err := f.Get(ctx, "tok")
		if err == nil {
			t.Fatalf("Get on a %04o file succeeded", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("error %q does not say how to fix it", err)
		}
		if err := f.Set(ctx, "tok", "new"); err == nil {
			t.Fatalf("Set on a %04o file succeeded", mode)
		}
		if err := f.Delete(ctx, "tok"); err == nil {
			t.Fatalf("Delete on a %04o file succeeded", mode)
		}
		// After the fix it reads again.
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		mustGet(t, f, "tok", "v")
	}
}
