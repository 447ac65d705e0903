package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestResizeKeepsFlatColourAndTransparency(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 100; x++ {
			if x < 50 {
				src.SetNRGBA(x, y, color.NRGBA{R: 200, G: 40, B: 10, A: 255})
			} // right half stays transparent
		}
	}
	got := resize(src, 10)
	if b := got.Bounds(); b.Dx() != 10 || b.Dy() != 10 {
		t.Fatalf("size %v", b)
	}
	if c := got.NRGBAAt(2, 5); c != (color.NRGBA{R: 200, G: 40, B: 10, A: 255}) {
		t.Errorf("opaque side = %v", c)
	}
	if c := got.NRGBAAt(8, 5); c.A != 0 {
		t.Errorf("transparent side = %v", c)
	}
}

func TestResizeAveragesAcrossFractionalPixels(t *testing.T) {
	// 3 px -> 2 px: each output pixel covers 1.5 source pixels.
	src := image.NewNRGBA(image.Rect(0, 0, 3, 3))
	for y := 0; y < 3; y++ {
		src.SetNRGBA(0, y, color.NRGBA{A: 255})
		src.SetNRGBA(1, y, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
		src.SetNRGBA(2, y, color.NRGBA{A: 255})
	}
	got := resize(src, 2)
	for x := 0; x < 2; x++ {
		c := got.NRGBAAt(x, 0)
		if c.R < 84 || c.R > 86 || c.A != 255 { // (0*1 + 255*0.5)/1.5 = 85
			t.Errorf("pixel %d = %v, want grey 85", x, c)
		}
	}
}

func TestRunWritesHicolorTreeWithoutUpscaling(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.png")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewNRGBA(image.Rect(0, 0, 64, 64))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "hicolor")
	if err := run(src, out, "app", "16,64,128"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"16x16/apps/app.png", "64x64/apps/app.png"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "128x128")); err == nil {
		t.Error("128x128 was upscaled from a 64 px source")
	}
}
