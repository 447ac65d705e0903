package upstream

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// smallBody is the body size under which literals are stored without
// entropy coding: building a Huffman table for a few hundred bytes of
// literals costs more time (about a third of compressing a small body)
// than the bytes it saves are worth. Bodies the size of an agent's
// (tools, instructions, history: tens of kilobytes) get the full
// treatment. Small bodies from zsmallMin up go to the small encoder
// (zsmall.go), the rest of them to klauspost's with raw literals.
const smallBody = 8 << 10

// encoders compresses request bodies with zstd, as the Codex CLI does. It
// keeps one encoder per core and body class (small, full) and hands out
// the one used last: an encoder's hash table (256 KiB) is then likely
// still in the cache, which for the small bodies of most requests costs
// more than the compression itself. A request waits when every encoder of
// its class is busy.
//
// The encoders write no content checksum (the CLI's encoder, zstd's
// defaults, writes none) and use klauspost's fastest level: the bytes differ
// from the CLI's at any level (it is another implementation), and the
// fastest level's smaller table keeps small bodies cheap.
type encoders struct {
	mu      sync.Mutex
	classes [2]encoderClass // small, full
}

// encoderClass is the encoders of one body class.
type encoderClass struct {
	free []*zstd.Encoder // most recently used last
	cond *sync.Cond
}

// processEncoders is the process's encoders, shared by every client.
// One per CPU of the machine, not per GOMAXPROCS, which the server lowers
// while the load is low.
var processEncoders = sync.OnceValues(func() (*encoders, error) { return newEncoders(runtime.NumCPU()) })

// CompressBody appends the zstd frame of body to dst exactly as the Codex
// identity compresses request bodies (the benchmarks compress their
// reference requests with it, so that the fake decodes the same frames
// whichever way a request came).
func CompressBody(dst, body []byte) ([]byte, error) {
	e, err := processEncoders()
	if err != nil {
		return nil, err
	}
	return e.EncodeAll(body, dst), nil
}

func newEncoders(n int) (*encoders, error) {
	e := &encoders{}
	for i := range e.classes {
		c := &e.classes[i]
		c.cond = sync.NewCond(&e.mu)
		opts := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true),
			zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithNoEntropyCompression(i == 0)}
		for j := 0; j < max(n, 1); j++ {
			// An encoder allocates its tables on first use: the ones a
			// request never needs cost little.
			enc, err := zstd.NewWriter(nil, opts...)
			if err != nil {
				return nil, err
			}
			c.free = append(c.free, enc)
		}
	}
	return e, nil
}

// EncodeAll appends the zstd frame of src to dst.
func (e *encoders) EncodeAll(src, dst []byte) []byte {
	if len(src) >= zsmallMin && len(src) < smallBody {
		return compressSmall(dst, src)
	}
	c := &e.classes[1]
	if len(src) < smallBody {
		c = &e.classes[0]
	}
	e.mu.Lock()
	for len(c.free) == 0 {
		c.cond.Wait()
	}
	enc := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	e.mu.Unlock()
	dst = enc.EncodeAll(src, dst)
	e.mu.Lock()
	c.free = append(c.free, enc)
	e.mu.Unlock()
	c.cond.Signal()
	return dst
}
