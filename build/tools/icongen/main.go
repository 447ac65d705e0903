// Command icongen writes the hicolor icon set for the Linux tarball from one
// large PNG, using only the standard library (golang.org/x/image is not in the
// module graph).
//
//	go run ./build/tools/icongen -src assets/app-512.png -out DIR -name chatgpt-to-api
//
// writes DIR/<N>x<N>/apps/<name>.png for every requested size no larger than
// the source. Downscaling uses an exact area average (a box filter with
// fractional pixel coverage) in premultiplied alpha, so edges stay clean.
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	src := flag.String("src", "", "source PNG (square)")
	out := flag.String("out", "", "output directory (the hicolor theme root)")
	name := flag.String("name", "", "icon name without extension")
	sizes := flag.String("sizes", "16,22,24,32,48,64,128,256,512", "comma-separated sizes")
	flag.Parse()
	if *src == "" || *out == "" || *name == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*src, *out, *name, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "icongen:", err)
		os.Exit(1)
	}
}

func run(srcPath, outDir, name, sizeList string) error {
	f, err := os.Open(srcPath)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() {
		return fmt.Errorf("%s: not square (%dx%d)", srcPath, b.Dx(), b.Dy())
	}
	wrote := 0
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad size %q", s)
		}
		if n > b.Dx() {
			continue // never upscale
		}
		dir := filepath.Join(outDir, fmt.Sprintf("%dx%d", n, n), "apps")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := writePNG(filepath.Join(dir, name+".png"), resize(img, n)); err != nil {
			return err
		}
		wrote++
	}
	if wrote == 0 {
		return errors.New("no size fits the source image")
	}
	return nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// resize scales a square image to n×n by area averaging.
func resize(src image.Image, n int) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	// Premultiplied source pixels as float64, 0..1.
	px := make([][4]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, a := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			px[y*w+x] = [4]float64{float64(r) / 0xffff, float64(g) / 0xffff, float64(bl) / 0xffff, float64(a) / 0xffff}
		}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	sx := float64(w) / float64(n)
	sy := float64(h) / float64(n)
	for dy := 0; dy < n; dy++ {
		y0, y1 := float64(dy)*sy, float64(dy+1)*sy
		for dx := 0; dx < n; dx++ {
			x0, x1 := float64(dx)*sx, float64(dx+1)*sx
			var acc [4]float64
			var area float64
			for y := int(y0); y < h && float64(y) < y1; y++ {
				cy := overlap(float64(y), y0, y1)
				for x := int(x0); x < w && float64(x) < x1; x++ {
					c := cy * overlap(float64(x), x0, x1)
					p := px[y*w+x]
					for i := range acc {
						acc[i] += p[i] * c
					}
					area += c
				}
			}
			dst.SetNRGBA(dx, dy, unpremultiply(acc, area))
		}
	}
	return dst
}

// overlap is the length of [p, p+1) ∩ [lo, hi).
func overlap(p, lo, hi float64) float64 {
	return max(0, min(p+1, hi)-max(p, lo))
}

func unpremultiply(acc [4]float64, area float64) color.NRGBA {
	if area == 0 {
		return color.NRGBA{}
	}
	a := acc[3] / area
	if a <= 0 {
		return color.NRGBA{}
	}
	to8 := func(v float64) uint8 {
		v = v*255 + 0.5
		if v < 0 {
			return 0
		}
		if v > 255 {
			return 255
		}
		return uint8(v)
	}
	return color.NRGBA{
		R: to8(acc[0] / area / a),
		G: to8(acc[1] / area / a),
		B: to8(acc[2] / area / a),
		A: to8(a),
	}
}
