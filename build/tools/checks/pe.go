package main

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Resource type IDs (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

func cmdPE(args []string) error {
	fs := flag.NewFlagSet("pe", flag.ContinueOnError)
	arch := fs.String("arch", "amd64", "expected architecture: amd64 or arm64")
	product := fs.String("product", "ChatGPT-to-API", "expected ProductName and FileDescription")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one file")
	}
	path := fs.Arg(0)
	f, err := pe.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	wantMachine := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[*arch]
	if wantMachine == 0 {
		return fmt.Errorf("unknown arch %q", *arch)
	}
	if f.Machine != wantMachine {
		return fmt.Errorf("%s: machine %#x, want %#x (%s)", path, f.Machine, wantMachine, *arch)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || oh.Magic != 0x20b {
		return fmt.Errorf("%s: not PE32+ (no 64-bit optional header)", path)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		return fmt.Errorf("%s: subsystem %d, want %d (IMAGE_SUBSYSTEM_WINDOWS_GUI)", path, oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}

	res, err := readResources(f, oh)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, t := range []struct {
		id   uint32
		name string
	}{{rtIcon, "RT_ICON"}, {rtGroupIcon, "RT_GROUP_ICON"}, {rtManifest, "RT_MANIFEST"}, {rtVersion, "RT_VERSION"}} {
		if len(res[t.id]) == 0 {
			return fmt.Errorf("%s: no %s resource", path, t.name)
		}
	}

	manifest := string(res[rtManifest][0])
	for _, want := range []string{"permonitorv2", `level="asinvoker"`} {
		if !strings.Contains(strings.ToLower(manifest), want) {
			return fmt.Errorf("%s: manifest lacks %s:\n%s", path, want, manifest)
		}
	}

	ver := res[rtVersion][0]
	for _, key := range []string{"ProductName", "FileDescription"} {
		if !bytes.Contains(ver, utf16le(key+"\x00"+padFor(key)+*product+"\x00")) &&
			!bytes.Contains(ver, utf16le(key+"\x00"+*product+"\x00")) {
			return fmt.Errorf("%s: version info has no %s %q", path, key, *product)
		}
	}
	fileVer, productVer, err := fixedVersions(ver)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fileVer == "0.0.0.0" || productVer == "0.0.0.0" {
		return fmt.Errorf("%s: file version %s, product version %s: Windows shows 0.0.0.0 as no version", path, fileVer, productVer)
	}
	fmt.Printf("ok %s: PE32+ %s GUI subsystem; %d icon(s), %d icon group(s), manifest (PerMonitorV2, asInvoker), version info (%s, file %s, product %s)\n",
		path, *arch, len(res[rtIcon]), len(res[rtGroupIcon]), *product, fileVer, productVer)
	return nil
}

// fixedVersions returns the file and product versions of the
// VS_FIXEDFILEINFO in a version resource, as "a.b.c.d".
func fixedVersions(ver []byte) (file, product string, err error) {
	sig := []byte{0xBD, 0x04, 0xEF, 0xFE}
	i := bytes.Index(ver, sig)
	if i < 0 || len(ver) < i+24 {
		return "", "", errors.New("version info has no VS_FIXEDFILEINFO")
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(ver[i+off:]) }
	format := func(ms, ls uint32) string {
		return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
	}
	return format(u32(8), u32(12)), format(u32(16), u32(20)), nil
}

// padFor returns the NUL padding that aligns a String value after its key in
// a VS_VERSIONINFO String structure: the key starts at offset 6 and the value
// on the next 32-bit boundary.
func padFor(key string) string {
	end := 6 + 2*(len(key)+1) // header + key with its terminator
	if end%4 != 0 {
		return "\x00"
	}
	return ""
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// readResources walks the three-level resource directory (type, name,
// language) and returns the data of every leaf, keyed by numeric type ID.
func readResources(f *pe.File, oh *pe.OptionalHeader64) (map[uint32][][]byte, error) {
	if oh.NumberOfRvaAndSizes <= pe.IMAGE_DIRECTORY_ENTRY_RESOURCE {
		return nil, errors.New("no resource data directory")
	}
	dd := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	if dd.VirtualAddress == 0 || dd.Size == 0 {
		return nil, errors.New("empty resource data directory")
	}
	var sec *pe.Section
	for _, s := range f.Sections {
		if dd.VirtualAddress >= s.VirtualAddress && dd.VirtualAddress < s.VirtualAddress+max(s.VirtualSize, s.Size) {
			sec = s
			break
		}
	}
	if sec == nil {
		return nil, fmt.Errorf("no section holds resource RVA %#x", dd.VirtualAddress)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	base := dd.VirtualAddress - sec.VirtualAddress // offset of the root directory in data
	if int(base) >= len(data) {
		return nil, errors.New("resource directory outside its section")
	}
	root := data[base:]

	out := map[uint32][][]byte{}
	u32 := func(off uint32) (uint32, error) {
		if int(off)+4 > len(root) {
			return 0, fmt.Errorf("resource offset %#x out of range", off)
		}
		return binary.LittleEndian.Uint32(root[off:]), nil
	}
	// entries returns (id-or-name, offset) pairs of the directory at off.
	type entry struct{ id, off uint32 }
	entries := func(off uint32) ([]entry, error) {
		if int(off)+16 > len(root) {
			return nil, fmt.Errorf("resource directory %#x out of range", off)
		}
		n := uint32(binary.LittleEndian.Uint16(root[off+12:])) + uint32(binary.LittleEndian.Uint16(root[off+14:]))
		es := make([]entry, 0, n)
		for i := uint32(0); i < n; i++ {
			id, err := u32(off + 16 + 8*i)
			if err != nil {
				return nil, err
			}
			o, err := u32(off + 16 + 8*i + 4)
			if err != nil {
				return nil, err
			}
			es = append(es, entry{id, o})
		}
		return es, nil
	}
	const subdir = 0x80000000
	var walk func(off uint32, depth int, typ uint32) error
	walk = func(off uint32, depth int, typ uint32) error {
		if depth > 3 {
			return errors.New("resource directory too deep")
		}
		es, err := entries(off)
		if err != nil {
			return err
		}
		for _, e := range es {
			t := typ
			if depth == 0 {
				t = e.id // named types (high bit set) never match the IDs we look for
			}
			if e.off&subdir != 0 {
				if err := walk(e.off&^subdir, depth+1, t); err != nil {
					return err
				}
				continue
			}
			// IMAGE_RESOURCE_DATA_ENTRY: RVA, size, code page, reserved.
			rva, err := u32(e.off)
			if err != nil {
				return err
			}
			size, err := u32(e.off + 4)
			if err != nil {
				return err
			}
			start := int64(rva) - int64(sec.VirtualAddress)
			if start < 0 || start+int64(size) > int64(len(data)) {
				return fmt.Errorf("resource data at RVA %#x (+%d) outside .rsrc", rva, size)
			}
			out[t] = append(out[t], data[start:start+int64(size)])
		}
		return nil
	}
	if err := walk(0, 0, 0); err != nil {
		return nil, err
	}
	return out, nil
}
