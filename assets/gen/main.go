//go:build ignore

// Command gen draws the application's icons and writes them into the assets
// directory. Run it from the repository root with
//
//	go run assets/gen/main.go
//
// It writes, for each tray state (ok, warning, error):
//   - tray-<state>.png: a 64 px colour icon for Linux panels;
//   - tray-<state>-template.png and tray-<state>-template@2x.png: 22 and
//     44 px black-and-alpha template icons for the macOS menu bar;
//   - tray-<state>.ico: a multi-size icon (16, 20, 24, 32, 48, 256) for the
//     Windows notification area;
//
// and the application icon for installers: app-256.png, app-512.png,
// app.ico and app.icns.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// shape reports whether the point (x, y), in the unit square with y down,
// lies inside the shape.
type shape func(x, y float64) bool

// layer paints a shape with a colour; an erase layer clears it instead.
type layer struct {
	in    shape
	paint func(x, y float64) color.NRGBA
	erase bool
}

func solid(c color.NRGBA) func(x, y float64) color.NRGBA {
	return func(float64, float64) color.NRGBA { return c }
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func triangle(ax, ay, bx, by, cx, cy float64) shape {
	sign := func(px, py, qx, qy, rx, ry float64) float64 { return (px-rx)*(qy-ry) - (qx-rx)*(py-ry) }
	return func(x, y float64) bool {
		d1 := sign(x, y, ax, ay, bx, by)
		d2 := sign(x, y, bx, by, cx, cy)
		d3 := sign(x, y, cx, cy, ax, ay)
		neg := d1 < 0 || d2 < 0 || d3 < 0
		pos := d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

// segment is a thick line from a to b with round caps.
func segment(ax, ay, bx, by, w float64) shape {
	return func(x, y float64) bool {
		dx, dy := bx-ax, by-ay
		t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		px, py := ax+t*dx-x, ay+t*dy-y
		return px*px+py*py <= w*w/4
	}
}

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

// transform maps a shape drawn in the unit square into the box at (ox, oy)
// with side k.
func transform(s shape, ox, oy, k float64) shape {
	return func(x, y float64) bool { return s((x-ox)/k, (y-oy)/k) }
}

// bubble is a speech bubble with a tail at the bottom left.
func bubble() shape {
	return union(
		roundRect(0.08, 0.12, 0.92, 0.72, 0.2),
		triangle(0.22, 0.6, 0.46, 0.68, 0.16, 0.92),
	)
}

// dots are the three dots inside the bubble.
func dots() shape {
	return union(circle(0.3, 0.42, 0.075), circle(0.5, 0.42, 0.075), circle(0.7, 0.42, 0.075))
}

// Badge geometry: a circle at the top right of the tray icon.
const badgeX, badgeY, badgeR = 0.76, 0.27, 0.24

func badgeMark(state string) shape {
	switch state {
	case "warning":
		return union(segment(badgeX, badgeY-0.13, badgeX, badgeY+0.03, 0.085), circle(badgeX, badgeY+0.12, 0.045))
	case "error":
		d := 0.085
		return union(segment(badgeX-d, badgeY-d, badgeX+d, badgeY+d, 0.075), segment(badgeX-d, badgeY+d, badgeX+d, badgeY-d, 0.075))
	}
	return nil
}

var (
	white  = color.NRGBA{255, 255, 255, 255}
	black  = color.NRGBA{0, 0, 0, 255}
	green  = color.NRGBA{0x10, 0xA3, 0x7F, 255}
	amber  = color.NRGBA{0xE8, 0x9B, 0x00, 255}
	red    = color.NRGBA{0xD4, 0x2A, 0x2A, 255}
	shadow = color.NRGBA{0x10, 0x20, 0x1C, 255}
)

func stateColor(state string) color.NRGBA {
	switch state {
	case "warning":
		return amber
	case "error":
		return red
	}
	return green
}

// trayLayers is the colour tray icon: the bubble in the state's colour with
// white dots; warning and error add a badge so the state does not depend on
// colour alone.
func trayLayers(state string) []layer {
	c := stateColor(state)
	b := transform(bubble(), 0.02, 0.08, 0.96)
	d := transform(dots(), 0.02, 0.08, 0.96)
	ls := []layer{
		{in: transform(bubble(), -0.01, 0.05, 1.02), paint: solid(shadow)},
		{in: b, paint: solid(c)},
		{in: d, paint: solid(white)},
	}
	if m := badgeMark(state); m != nil {
		ls = append(ls,
			layer{in: circle(badgeX, badgeY, badgeR+0.06), erase: true},
			layer{in: circle(badgeX, badgeY, badgeR), paint: solid(c)},
			layer{in: m, paint: solid(white)},
		)
	}
	return ls
}

// templateLayers is the macOS template icon: black and alpha only.
func templateLayers(state string) []layer {
	ls := []layer{
		{in: transform(bubble(), 0.02, 0.08, 0.96), paint: solid(black)},
		{in: transform(dots(), 0.02, 0.08, 0.96), erase: true},
	}
	if m := badgeMark(state); m != nil {
		ls = append(ls,
			layer{in: circle(badgeX, badgeY, badgeR+0.07), erase: true},
			layer{in: circle(badgeX, badgeY, badgeR), paint: solid(black)},
			layer{in: m, erase: true},
		)
	}
	return ls
}

// appLayers is the application icon: a green rounded square with a white
// bubble, with some margin as macOS icons expect.
func appLayers() []layer {
	top, bottom := color.NRGBA{0x1E, 0xC2, 0x8B, 255}, color.NRGBA{0x0A, 0x7A, 0x5E, 255}
	grad := func(_, y float64) color.NRGBA {
		t := math.Max(0, math.Min(1, (y-0.08)/0.84))
		mix := func(a, b uint8) uint8 { return uint8(float64(a)*(1-t) + float64(b)*t + 0.5) }
		return color.NRGBA{mix(top.R, bottom.R), mix(top.G, bottom.G), mix(top.B, bottom.B), 255}
	}
	return []layer{
		{in: roundRect(0.08, 0.08, 0.92, 0.92, 0.2), paint: grad},
		{in: transform(bubble(), 0.22, 0.24, 0.56), paint: solid(white)},
		{in: transform(dots(), 0.22, 0.24, 0.56), paint: grad},
	}
}

// render rasterises the layers at size px with 4x4 supersampling.
func render(size int, layers []layer) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64 // premultiplied sums
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if !l.in(x, y) {
							continue
						}
						if l.erase {
							cr, cg, cb, ca = 0, 0, 0, 0
							continue
						}
						c := l.paint(x, y)
						al := float64(c.A) / 255
						cr = float64(c.R)/255*al + cr*(1-al)
						cg = float64(c.G)/255*al + cg*(1-al)
						cb = float64(c.B)/255*al + cb*(1-al)
						ca = al + ca*(1-al)
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			r, g, b, a = r/n, g/n, b/n, a/n
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a * 255)),
				G: uint8(math.Round(g / a * 255)),
				B: uint8(math.Round(b / a * 255)),
				A: uint8(math.Round(a * 255)),
			})
		}
	}
	return img
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatalf("encoding png: %v", err)
	}
	return buf.Bytes()
}

// dib encodes img as the BITMAPINFOHEADER + BGRA + AND mask entry that ICO
// files use for small sizes.
func dib(img *image.NRGBA) []byte {
	n := img.Bounds().Dx()
	var buf bytes.Buffer
	hdr := struct {
		Size                       uint32
		Width, Height              int32
		Planes, BitCount           uint16
		Compression, SizeImage     uint32
		XPels, YPels, Used, Import uint32
	}{Size: 40, Width: int32(n), Height: int32(2 * n), Planes: 1, BitCount: 32}
	binary.Write(&buf, binary.LittleEndian, hdr)
	for y := n - 1; y >= 0; y-- {
		for x := 0; x < n; x++ {
			c := img.NRGBAAt(x, y)
			buf.Write([]byte{c.B, c.G, c.R, c.A})
		}
	}
	stride := ((n + 31) / 32) * 4
	for y := n - 1; y >= 0; y-- {
		row := make([]byte, stride)
		for x := 0; x < n; x++ {
			if img.NRGBAAt(x, y).A == 0 {
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		buf.Write(row)
	}
	return buf.Bytes()
}

// encodeICO writes a multi-size ICO: DIB entries below 256 px, a PNG entry
// for 256 px.
func encodeICO(sizes []int, draw func(int) *image.NRGBA) []byte {
	var entries [][]byte
	for _, s := range sizes {
		img := draw(s)
		if s >= 256 {
			entries = append(entries, encodePNG(img))
		} else {
			entries = append(entries, dib(img))
		}
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, [3]uint16{0, 1, uint16(len(sizes))})
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		dim := uint8(s)
		if s >= 256 {
			dim = 0
		}
		buf.Write([]byte{dim, dim, 0, 0})
		binary.Write(&buf, binary.LittleEndian, [2]uint16{1, 32})
		binary.Write(&buf, binary.LittleEndian, [2]uint32{uint32(len(entries[i])), uint32(offset)})
		offset += len(entries[i])
	}
	for _, e := range entries {
		buf.Write(e)
	}
	return buf.Bytes()
}

// encodeICNS writes an Apple icon file with PNG entries.
func encodeICNS(draw func(int) *image.NRGBA) []byte {
	types := []struct {
		kind string
		size int
	}{{"ic07", 128}, {"ic08", 256}, {"ic09", 512}, {"ic10", 1024}}
	var body bytes.Buffer
	for _, t := range types {
		data := encodePNG(draw(t.size))
		body.WriteString(t.kind)
		binary.Write(&body, binary.BigEndian, uint32(8+len(data)))
		body.Write(data)
	}
	var buf bytes.Buffer
	buf.WriteString("icns")
	binary.Write(&buf, binary.BigEndian, uint32(8+body.Len()))
	buf.Write(body.Bytes())
	return buf.Bytes()
}

func main() {
	out := flag.String("out", "assets", "the directory to write into")
	flag.Parse()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatalf("writing %s: %v", name, err)
		}
		fmt.Printf("%-32s %7d bytes\n", name, len(data))
	}
	for _, st := range []string{"ok", "warning", "error"} {
		tray := func(n int) *image.NRGBA { return render(n, trayLayers(st)) }
		write("tray-"+st+".png", encodePNG(tray(64)))
		write("tray-"+st+"-template.png", encodePNG(render(22, templateLayers(st))))
		write("tray-"+st+"-template@2x.png", encodePNG(render(44, templateLayers(st))))
		write("tray-"+st+".ico", encodeICO([]int{16, 20, 24, 32, 48, 256}, tray))
	}
	app := func(n int) *image.NRGBA { return render(n, appLayers()) }
	write("app-256.png", encodePNG(app(256)))
	write("app-512.png", encodePNG(app(512)))
	write("app.ico", encodeICO([]int{16, 20, 24, 32, 48, 64, 256}, app))
	write("app.icns", encodeICNS(app))
}
