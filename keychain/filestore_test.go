package keychain

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cfg", "app", "secrets.json")
	f := NewFileStore(path)
	ctx := context.Background()
	if got, want := f.Where(), "file:"+path; got != want {
		t.Fatalf("Where = %q, want %q", got, want)
	}

	if _, err := f.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before any Set: %v, want ErrNotFound", err)
	}
	if err := f.Delete(ctx, "tok"); err != nil {
		t.Fatalf("Delete with no file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Get or Delete created the file: %v", err)
	}

	big := token(5000, "f")
	mustSet(t, f, "tok", big)
	mustSet(t, f, "api-key", "sk-local-1")
	mustGet(t, f, "tok", big)
	mustGet(t, f, "api-key", "sk-local-1")

	// A second FileStore on the same path sees the data: it is on disk.
	mustGet(t, NewFileStore(path), "tok", big)

	if err := f.Delete(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted: %v", err)
	}
	mustGet(t, f, "api-key", "sk-local-1")

	// The file is a plain JSON object of strings.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || len(m) != 1 || m["api-key"] != "sk-local-1" {
		t.Fatalf("file content is not the expected JSON map (err %v, %d keys)", err, len(m))
	}
}

func TestFileStoreAtomicReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	f := NewFileStore(path)
	mustSet(t, f, "a", "1")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Keep a handle on the old file: an atomic replace gives the path a new
	// file and leaves the old one untouched.
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	mustSet(t, f, "b", "2")
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && os.SameFile(before, after) {
		t.Error("Set rewrote the file in place instead of renaming a new one over it")
	}
	var m map[string]string
	if err := json.NewDecoder(old).Decode(&m); err != nil || len(m) != 1 {
		t.Errorf("old file was modified (err %v, %d keys)", err, len(m))
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only secrets.json", names)
	}
}

func TestFileStoreCorruptFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(path, []byte(`{"tok": "sk-abc`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := NewFileStore(path)
	_, err := f.Get(context.Background(), "tok")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get: %v, want ErrCorrupt", err)
	}
	if strings.Contains(err.Error(), "sk-abc") {
		t.Error("error message quotes the file's content")
	}
	// Set refuses to overwrite a file it cannot parse.
	if err := f.Set(context.Background(), "tok", "v"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Set: %v, want ErrCorrupt", err)
	}
}

func TestFileStoreInvalidKey(t *testing.T) {
	t.Parallel()
	f := NewFileStore(filepath.Join(t.TempDir(), "s.json"))
	if err := f.Set(context.Background(), "Bad Key", "v"); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Set: %v, want ErrInvalidKey", err)
	}
}
