package applog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestDir(t *testing.T) {
	if runtime.GOOS == "linux" {
		t.Setenv("XDG_CACHE_HOME", "/tmp/cachehome")
		d, err := Dir()
		if err != nil || d != "/tmp/cachehome/chatgpt-to-api/logs" {
			t.Fatalf("Dir() = %q, %v", d, err)
		}
		return
	}
	if d, err := Dir(); err != nil || !filepath.IsAbs(d) {
		t.Fatalf("Dir() = %q, %v", d, err)
	}
}

func TestRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	l, err := OpenSize(dir, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 39)
	line = append(line, '\n') // 40 bytes: two fit in a file, the third rotates
	for i := 0; i < 7; i++ {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		sizes[e.Name()] = info.Size()
	}
	want := map[string]int64{FileName: 40, FileName + ".1": 80, FileName + ".2": 80}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Fatalf("files = %v, want %v", sizes, want)
	}
	if runtime.GOOS != "windows" {
		info, _ := os.Stat(dir)
		if info.Mode().Perm() != 0o700 {
			t.Errorf("log folder mode = %v, want 0700", info.Mode().Perm())
		}
	}
	if _, err := l.Write(line); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestReopenAppends(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		l, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(l, "line %d\n", i)
		l.Close()
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(b) != "line 0\nline 1\n" {
		t.Fatalf("log = %q", b)
	}
}

func TestConcurrentWrites(t *testing.T) {
	l, err := OpenSize(t.TempDir(), 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				fmt.Fprintf(l, "goroutine %d line %d\n", g, i)
			}
		}()
	}
	wg.Wait()
}
