// Command pack writes a reproducible .zip or .tar.gz of a directory: entries
// sorted by name, one fixed modification time (SOURCE_DATE_EPOCH, or
// 2000-01-01 when unset), owner root, and modes 0755 for directories and
// executables and 0644 for everything else.
//
//	go run ./build/tools/pack -C STAGEDIR [-prefix TOPDIR/] OUT.zip|OUT.tar.gz
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type file struct {
	name string // slash-separated, relative, directories end in "/"
	path string
	mode fs.FileMode
}

func main() {
	dir := flag.String("C", "", "directory whose contents are archived")
	prefix := flag.String("prefix", "", "path prefix for every entry, e.g. name-1.0/")
	flag.Parse()
	if *dir == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pack -C DIR [-prefix P/] OUT.zip|OUT.tar.gz")
		os.Exit(2)
	}
	if err := run(*dir, *prefix, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func run(dir, prefix, out string) error {
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		mtime = time.Unix(n, 0).UTC()
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var files []file
	if prefix != "" {
		files = append(files, file{name: prefix, mode: fs.ModeDir | 0o755})
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := prefix + filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			files = append(files, file{name: name + "/", mode: fs.ModeDir | 0o755})
		case info.Mode().IsRegular():
			mode := fs.FileMode(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			files = append(files, file{name: name, path: p, mode: mode})
		default:
			return fmt.Errorf("%s: not a regular file or directory", p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })

	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(out, ".zip"):
		err = writeZip(f, files, mtime)
	case strings.HasSuffix(out, ".tar.gz"), strings.HasSuffix(out, ".tgz"):
		err = writeTarGz(f, files, mtime)
	default:
		err = errors.New("output must end in .zip or .tar.gz")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

func writeZip(w io.Writer, files []file, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(f.mode)
		if f.mode.IsDir() {
			h.Method = zip.Store
		}
		dst, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if !f.mode.IsDir() {
			if err := copyFile(dst, f.path); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

func writeTarGz(w io.Writer, files []file, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: int64(f.mode.Perm()), ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if f.mode.IsDir() {
			h.Typeflag = tar.TypeDir
		} else {
			st, err := os.Stat(f.path)
			if err != nil {
				return err
			}
			h.Typeflag = tar.TypeReg
			h.Size = st.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !f.mode.IsDir() {
			if err := copyFile(tw, f.path); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
