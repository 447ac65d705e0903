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
// length codes), at sizes across the class.
func zsmallInputs(r *rand.Rand) [][]byte {
	words := strings.Fields("the model input type message role user content text tools function call id session thread turn 019a metadata <b> & \" \\ é 漢")
	var out [][]byte
	for _, n := range []int{zsmallMin, zsmallMin + 1, 300, 1621, 4095, 4096, 4097, smallBody - 1} {
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
	return out
}

func TestSmallFramesDecode(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	r := rand.New(rand.NewPCG(1, 2))
	inputs := zsmallInputs(r)
	for range 300 {
		n := zsmallMin + r.IntN(smallBody-zsmallMin)
		in := zsmallInputs(r)[r.IntN(5)*0+r.IntN(40)%40]
		if len(in) > n {
			in = in[:n]
		}
		inputs = append(inputs, in)
	}
	for i, in := range inputs {
		if len(in) < zsmallMin {
			continue
		}
		frame := compressSmall([]byte("prefix"), in)
		if !bytes.HasPrefix(frame, []byte("prefix")) {
			t.Fatalf("input %d: dst's bytes were overwritten", i)
		}
		out, err := dec.DecodeAll(frame[len("prefix"):], nil)
		if err != nil {
			t.Fatalf("input %d (%d bytes): %v", i, len(in), err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("input %d (%d bytes) came back different", i, len(in))
		}
	}
}

// TestSmallFramesDecodeWithLibzstd decodes the small encoder's frames with
// the reference implementation (the zstd command, libzstd), the decoder
// family a backend is most likely to use: klauspost's decoder agreeing is
// not enough.
func TestSmallFramesDecodeWithLibzstd(t *testing.T) {
	zstdCmd, err := exec.LookPath("zstd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the zstd command is missing (.ci/run installs it)")
		}
		t.Skip("no zstd command")
	}
	r := rand.New(rand.NewPCG(3, 4))
	inputs := zsmallInputs(r)
	for range 60 {
		in := inputs[r.IntN(len(inputs))]
		n := zsmallMin + r.IntN(len(in)-zsmallMin+1)
		inputs = append(inputs, in[:n])
	}
	dir := t.TempDir()
	for i, in := range inputs {
		if len(in) < zsmallMin || len(in) >= smallBody {
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("in%03d.zst", i))
		if err := os.WriteFile(name, compressSmall(nil, in), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zstdCmd, "-q", "-d", "-c", name).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("input %d (%d bytes): zstd -d: %v %s", i, len(in), err, stderr)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("input %d (%d bytes) came back different from zstd -d", i, len(in))
		}
	}
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
