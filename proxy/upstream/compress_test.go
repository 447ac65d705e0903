package upstream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestEncodersConcurrent checks that more requests than encoders compress
// at once without mixing their bodies, and that the frames carry no
// content checksum (zstd's default, which the CLI keeps).
func TestEncodersConcurrent(t *testing.T) {
	e, dec := encodersAndDecoder(t, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Small and large bodies: the small encoder and klauspost's.
			body := bytes.Repeat([]byte(fmt.Sprintf(`{"n":%d,"text":"hello"}`, i)), 50+i*40)
			for j := 0; j < 20; j++ {
				frame := e.EncodeAll(body, nil)
				if frame[4]&0x04 != 0 {
					errs <- fmt.Errorf("frame with a content checksum")
					return
				}
				got, err := dec.DecodeAll(frame, nil)
				if err != nil || !bytes.Equal(got, body) {
					errs <- fmt.Errorf("body %d does not round-trip: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSmallBodiesSkipLiteralEntropy checks the two encoders: a small
// body's literals are stored raw (the small encoder builds no Huffman
// table), a large one's are entropy-coded (klauspost's), and both decode.
func TestSmallBodiesSkipLiteralEntropy(t *testing.T) {
	e, dec := encodersAndDecoder(t, 1)
	// Words and numbers: literals a Huffman table would shrink.
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "beta", "gamma", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	for _, tc := range []struct {
		size int
		raw  bool
	}{{smallBody / 4, true}, {smallBody - 1, true}, {smallBody, false}, {4 * smallBody, false}} {
		var body []byte
		for len(body) < tc.size {
			body = append(body, fmt.Sprintf("%s%d ", words[r.IntN(len(words))], r.IntN(100000))...)
		}
		body = body[:tc.size]
		frame := e.EncodeAll(body, nil)
		if got, err := dec.DecodeAll(frame, nil); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: no round trip: %v", tc.size, err)
		}
		if raw := literalsRaw(t, frame); raw != tc.raw {
			t.Errorf("%d bytes: raw literals %v, want %v", tc.size, raw, tc.raw)
		}
	}
}

// literalsRaw reports whether the first compressed block of a zstd frame
// stores its literals raw (Literals_Block_Type 0, RFC 8878 3.1.1.3.1).
func literalsRaw(t *testing.T, frame []byte) bool {
	t.Helper()
	fhd := frame[4]
	pos := 5
	if fhd&0x20 == 0 { // no single segment: a window descriptor
		pos++
	}
	pos += [4]int{0, 1, 2, 4}[fhd&0x03] // dictionary id
	fcs := [4]int{0, 2, 4, 8}[fhd>>6]
	if fcs == 0 && fhd&0x20 != 0 {
		fcs = 1
	}
	pos += fcs
	for pos+3 <= len(frame) {
		h := int(frame[pos]) | int(frame[pos+1])<<8 | int(frame[pos+2])<<16
		typ, size := (h>>1)&3, h>>3
		pos += 3
		if typ == 2 { // compressed
			return frame[pos]&0x03 == 0
		}
		if typ == 1 {
			size = 1
		}
		pos += size
		if h&1 == 1 {
			break
		}
	}
	t.Fatal("no compressed block in the frame")
	return false
}

// encodersAndDecoder returns n encoders and a decoder.
func encodersAndDecoder(t *testing.T, n int) (*encoders, *zstd.Decoder) {
	t.Helper()
	e, err := newEncoders(n)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return e, dec
}
