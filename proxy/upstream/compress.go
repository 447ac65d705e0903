package upstream

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// encoders compresses request bodies with zstd, as the Codex CLI does. It
// keeps one encoder per core and hands out the one used last: an encoder's
// hash table (256 KiB) is then likely still in the cache, which for the
// small bodies of most requests costs more than the compression itself. A
// request waits when every encoder is busy.
//
// The encoders write no content checksum (the CLI's encoder, zstd's
// defaults, writes none) and use klauspost's fastest level: the bytes differ
// from the CLI's at any level (it is another implementation), and the
// fastest level's smaller table keeps small bodies cheap.
type encoders struct {
	mu   sync.Mutex
	free []*zstd.Encoder // most recently used last
	cond *sync.Cond
}

func newEncoders(n int) (*encoders, error) {
	e := &encoders{}
	e.cond = sync.NewCond(&e.mu)
	for i := 0; i < max(n, 1); i++ {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true),
			zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return nil, err
		}
		e.free = append(e.free, enc)
	}
	return e, nil
}

// EncodeAll appends the zstd frame of src to dst.
func (e *encoders) EncodeAll(src, dst []byte) []byte {
	e.mu.Lock()
	for len(e.free) == 0 {
		e.cond.Wait()
	}
	enc := e.free[len(e.free)-1]
	e.free = e.free[:len(e.free)-1]
	e.mu.Unlock()
	dst = enc.EncodeAll(src, dst)
	e.mu.Lock()
	e.free = append(e.free, enc)
	e.mu.Unlock()
	e.cond.Signal()
	return dst
}
