package upstream

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestEncodersConcurrent checks that more requests than encoders compress
// at once without mixing their bodies, and that the frames carry no
// content checksum (zstd's default, which the CLI keeps).
func TestEncodersConcurrent(t *testing.T) {
	e, err := newEncoders(2)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := bytes.Repeat([]byte(fmt.Sprintf(`{"n":%d,"text":"hello"}`, i)), 50+i)
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
