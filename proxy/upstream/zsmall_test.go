package upstream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zsmallInputs are bodies of every kind the small encoder must get right:
// JSON like the requests', text that never repeats (a raw block), runs
// (overlapping matches), long matches and long literal runs (the large
// length codes), at sizes across the class, the tiny ones too.
func zsmallInputs(r *rand.Rand) [][]byte {
	words := strings.Fields("the model input type message role user content text tools function call id session thread turn 019a metadata <b> & \" \\ é 漢")
	var out [][]byte
	for _, n := range []int{1, 3, 4, 5, 255, 256, 257, 300, 1621, 4095, 4096, 4097, smallBody - 1} {
		json := make([]byte, 0, n)
		for len(json) < n {
			json = fmt.Appendf(json, `{"%s":"%s-%d"},`, words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000))
		}
		noise := make([]byte, n)
		for i := range noise {
			noise[i] = byte(r.Uint32())
		}
		zeros := make([]byte, n)
		mixed := append([]byte(nil), noise[:n/2]...)
		mixed = append(mixed, bytes.Repeat([]byte("abcdefgh"), n/16+1)...)
		block := append(noise[:n/3:n/3], noise[:n/3]...) // one long match
		block = append(block, noise[:n-len(block)]...)
		out = append(out, json[:n], noise, zeros, mixed[:n], block[:n])
	}
	// Cuts of them at random lengths.
	for range 300 {
		in := out[r.IntN(len(out))]
		out = append(out, in[:1+r.IntN(len(in))])
	}
	return out
}

// TestSmallFrames checks every frame's header (the Codex CLI's) and that
// klauspost's decoder gives the body back; dst's bytes are kept.
func TestSmallFrames(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for i, in := range zsmallInputs(rand.New(rand.NewPCG(1, 2))) {
		frame := compressSmall([]byte("prefix"), in)
		if !bytes.HasPrefix(frame, []byte("prefix")) {
			t.Fatalf("input %d: dst's bytes were overwritten", i)
		}
		frame = frame[len("prefix"):]
		if !bytes.HasPrefix(frame, cliFrameHeader[:]) {
			t.Fatalf("input %d: frame header % x, want the CLI's % x", i, frame[:6], cliFrameHeader)
		}
		out, err := dec.DecodeAll(frame, nil)
		if err != nil {
			t.Fatalf("input %d (%d bytes): %v", i, len(in), err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("input %d (%d bytes) came back different", i, len(in))
		}
	}
}

// TestFramesDecodeWithLibzstd decodes the app's frames, small and large
// (klauspost's blocks behind the CLI's header, up to a body larger than the
// window), with the reference implementation (the zstd command, libzstd),
// the decoder family a backend is most likely to use.
func TestFramesDecodeWithLibzstd(t *testing.T) {
	zstdCmd, err := exec.LookPath("zstd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the zstd command is missing (.ci/run installs it)")
		}
		t.Skip("no zstd command")
	}
	r := rand.New(rand.NewPCG(3, 4))
	inputs := zsmallInputs(r)
	prose := proseOf(r, 3*cliWindow)
	for _, n := range []int{smallBody, smallBody + 1, 100 << 10, cliWindow + 5000, 3 * cliWindow} {
		inputs = append(inputs, prose[:n])
	}
	e, err := newEncoders(1)
	if err != nil {
		t.Fatal(err)
	}
	// All frames in one file: zstd -d writes their bodies one after the
	// other.
	var frames, want []byte
	for _, in := range inputs {
		start := len(frames)
		frames = e.EncodeAll(in, frames)
		if !bytes.HasPrefix(frames[start:], cliFrameHeader[:]) {
			t.Fatalf("a %d-byte body: frame header % x, want the CLI's", len(in), frames[start:start+6])
		}
		want = append(want, in...)
	}
	name := filepath.Join(t.TempDir(), "frames.zst")
	if err := os.WriteFile(name, frames, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zstdCmd, "-q", "-d", "-c", name).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("zstd -d: %v %s", err, stderr)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("zstd -d gave %d bytes back, want %d (or different ones)", len(out), len(want))
	}
}

// proseOf returns n bytes of words and numbers: text that compresses
// like a request's, with matches near and far.
func proseOf(r *rand.Rand, n int) []byte {
	words := strings.Fields("alpha beta gamma delta echo foxtrot golf hotel india juliet kilo lima")
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = fmt.Appendf(b, "%s%d ", words[r.IntN(len(words))], r.IntN(100000))
	}
	return b[:n]
}

// BenchmarkSmallBody compresses a small request body with the small
// encoder and with klauspost's (as EncodeAll did before). Hot, they are
// about as fast; the small encoder's gain is in place, where a request
// finds the caches and branch predictors cold (30 against 12 µs on
// average in the relay benchmark's app process; docs/benchmarks.md).
func BenchmarkSmallBody(b *testing.B) {
	body := zsmallInputs(rand.New(rand.NewPCG(5, 6)))[15] // 1,621 bytes of JSON
	kp, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithNoEntropyCompression(true))
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []struct {
		name string
		fn   func(dst, src []byte) []byte
	}{{"zsmall", compressSmall}, {"klauspost", func(dst, src []byte) []byte { return kp.EncodeAll(src, dst) }}} {
		b.Run("enc="+enc.name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			for i := 0; i < b.N; i++ {
				dst = enc.fn(dst[:0], body)
			}
			b.ReportMetric(float64(len(dst)), "frame-bytes")
		})
	}
}
