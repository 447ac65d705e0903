package assets

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"os"
	"runtime"
	"testing"
)

var states = []State{StateOK, StateWarning, StateError}

func TestIconDecodes(t *testing.T) {
	for _, st := range states {
		t.Run(st.String(), func(t *testing.T) {
			b := Icon(st)
			if runtime.GOOS == "windows" {
				checkICO(t, b)
				return
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("Icon(%v) is not a PNG: %v", st, err)
			}
			if cfg.Width != 64 || cfg.Height != 64 {
				t.Errorf("Icon(%v) is %dx%d, want 64x64", st, cfg.Width, cfg.Height)
			}
		})
	}
}

func TestTemplateIconIsBlackAndAlpha(t *testing.T) {
	for _, st := range states {
		t.Run(st.String(), func(t *testing.T) {
			img, err := png.Decode(bytes.NewReader(TemplateIcon(st)))
			if err != nil {
				t.Fatalf("TemplateIcon(%v) is not a PNG: %v", st, err)
			}
			if b := img.Bounds(); b.Dx() != 44 || b.Dy() != 44 {
				t.Errorf("TemplateIcon(%v) is %dx%d, want 44x44", st, b.Dx(), b.Dy())
			}
			opaque := 0
			for y := 0; y < 44; y++ {
				for x := 0; x < 44; x++ {
					r, g, b, a := img.At(x, y).RGBA()
					if a == 0 {
						continue
					}
					opaque++
					if r != 0 || g != 0 || b != 0 {
						t.Fatalf("pixel (%d,%d) is not black: %d %d %d", x, y, r, g, b)
					}
				}
			}
			if opaque == 0 {
				t.Error("template icon is empty")
			}
		})
	}
}

func TestStatesDiffer(t *testing.T) {
	if bytes.Equal(Icon(StateOK), Icon(StateWarning)) || bytes.Equal(Icon(StateWarning), Icon(StateError)) {
		t.Error("state icons are identical")
	}
	if !bytes.Equal(Icon(State(42)), Icon(StateError)) {
		t.Error("an unknown state should give the error icon")
	}
}

// TestInstallerFiles checks the files installers pick up from this
// directory, and the Windows ICOs, whatever the OS the test runs on.
func TestInstallerFiles(t *testing.T) {
	for name, size := range map[string]int{"app-256.png": 256, "app-512.png": 512} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != size || cfg.Height != size {
			t.Errorf("%s: %dx%d, %v; want %dx%d PNG", name, cfg.Width, cfg.Height, err, size, size)
		}
	}
	for _, name := range []string{"app.ico", "tray-ok.ico", "tray-warning.ico", "tray-error.ico"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { checkICO(t, b) })
	}
	b, err := os.ReadFile("app.icns")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8 || string(b[:4]) != "icns" || int(binary.BigEndian.Uint32(b[4:8])) != len(b) {
		t.Fatal("app.icns: bad header")
	}
	var kinds []string
	for off := 8; off < len(b); {
		n := int(binary.BigEndian.Uint32(b[off+4 : off+8]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("app.icns: bad entry length %d at %d", n, off)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(b[off+8 : off+n])); err != nil {
			t.Errorf("app.icns %s: %v", b[off:off+4], err)
		}
		kinds = append(kinds, string(b[off:off+4]))
		off += n
	}
	if len(kinds) < 3 {
		t.Errorf("app.icns has entries %v", kinds)
	}
}

// checkICO parses an ICO directory and checks every entry: a PNG or a
// 32-bit DIB of the declared size.
func checkICO(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 6 || binary.LittleEndian.Uint16(b[0:]) != 0 || binary.LittleEndian.Uint16(b[2:]) != 1 {
		t.Fatal("not an ICO header")
	}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	if n < 4 {
		t.Fatalf("ICO has %d sizes, want several", n)
	}
	sizes := map[int]bool{}
	for i := 0; i < n; i++ {
		e := b[6+16*i : 6+16*(i+1)]
		w := int(e[0])
		if w == 0 {
			w = 256
		}
		size := int(binary.LittleEndian.Uint32(e[8:]))
		off := int(binary.LittleEndian.Uint32(e[12:]))
		if off+size > len(b) {
			t.Fatalf("entry %d runs past the end", i)
		}
		data := b[off : off+size]
		if bytes.HasPrefix(data, []byte("\x89PNG")) {
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil || cfg.Width != w {
				t.Errorf("entry %d: PNG %dx%d, %v; want width %d", i, cfg.Width, cfg.Height, err, w)
			}
		} else {
			if binary.LittleEndian.Uint32(data) != 40 || int(int32(binary.LittleEndian.Uint32(data[4:]))) != w ||
				binary.LittleEndian.Uint16(data[14:]) != 32 {
				t.Errorf("entry %d: not a 32-bit DIB of width %d", i, w)
			}
			if want := 40 + w*w*4 + ((w+31)/32)*4*w; len(data) != want {
				t.Errorf("entry %d: %d bytes, want %d", i, len(data), want)
			}
		}
		sizes[w] = true
	}
	for _, w := range []int{16, 24, 32, 48, 256} {
		if !sizes[w] {
			t.Errorf("ICO lacks the %d px size", w)
		}
	}
}
