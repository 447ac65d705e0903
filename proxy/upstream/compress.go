package upstream

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// smallBody is the body size from which klauspost's encoder compresses a
// body (with entropy-coded literals: bodies the size of an agent's, tools,
// instructions and history of tens of kilobytes); smaller bodies, most
// requests, go to the small encoder (zsmall.go).
const smallBody = 8 << 10

// The Codex CLI compresses with libzstd's streaming interface
// (zstd::stream::encode_all at the default level), which writes a frame
// header without the content size and with a 2 MiB window: a descriptor
// byte 0x00 (no single segment, no checksum, no dictionary) and a window
// descriptor 0x58. Every frame the app sends starts with the same header,
// and no match reaches further back than that window.
const cliWindow = 2 << 20

// cliFrameHeader is the magic number and frame header of the CLI's frames.
var cliFrameHeader = [...]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58}

// encoders compresses the bodies from smallBody up with zstd, as the Codex
// CLI does. It keeps one encoder per core and hands out the one used last
// (its tables are then likely still in the cache). A request waits when
// every encoder is busy.
//
// The encoders write no content checksum (the CLI's encoder, zstd's
// defaults, writes none) and use klauspost's fastest level: the bytes
// differ from the CLI's at any level (it is another implementation); the
// frame header is the CLI's (cliFrameHeader).
type encoders struct {
	mu   sync.Mutex
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
	e.cond = sync.NewCond(&e.mu)
	opts := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedFastest),
		// Matches reach back at most as far as the CLI's window.
		zstd.WithWindowSize(cliWindow)}
	for range max(n, 1) {
		// An encoder allocates its tables on first use: the ones a
		// request never needs cost little.
		enc, err := zstd.NewWriter(nil, opts...)
		if err != nil {
			return nil, err
		}
		e.free = append(e.free, enc)
	}
	return e, nil
}

// EncodeAll appends the zstd frame of src to dst.
func (e *encoders) EncodeAll(src, dst []byte) []byte {
	if len(src) < smallBody {
		return compressSmall(dst, src)
	}
	e.mu.Lock()
	for len(e.free) == 0 {
		e.cond.Wait()
	}
	enc := e.free[len(e.free)-1]
	e.free = e.free[:len(e.free)-1]
	e.mu.Unlock()
	start := len(dst)
	dst = enc.EncodeAll(src, dst)
	e.mu.Lock()
	e.free = append(e.free, enc)
	e.mu.Unlock()
	e.cond.Signal()
	return withCLIHeader(dst, start)
}

// withCLIHeader replaces the frame header klauspost wrote at dst[start:]
// (it records the content size and may declare a single segment) with the
// CLI's. The blocks stay valid: none is larger than 128 KiB, and no match
// reaches further back than cliWindow.
func withCLIHeader(dst []byte, start int) []byte {
	n, err := frameHeaderLen(dst[start:])
	if err != nil {
		panic(fmt.Sprintf("upstream: klauspost's zstd frame: %v", err)) // its own output
	}
	// Never shorter than the CLI's: a header without a single segment has
	// a window descriptor, one with a single segment a content size. (An
	// empty body would have none; EncodeAll sends those, like every body
	// under smallBody, to the small encoder.)
	if n < len(cliFrameHeader) {
		panic(fmt.Sprintf("upstream: a zstd frame header of %d bytes", n))
	}
	rest := len(dst) - start - n
	copy(dst[start:], cliFrameHeader[:])
	copy(dst[start+len(cliFrameHeader):], dst[start+n:])
	return dst[:start+len(cliFrameHeader)+rest]
}

// frameHeaderLen returns the length of a zstd frame's magic number and
// header (RFC 8878 3.1.1.1).
func frameHeaderLen(f []byte) (int, error) {
	if len(f) < 5 || f[0] != 0x28 || f[1] != 0xb5 || f[2] != 0x2f || f[3] != 0xfd {
		return 0, fmt.Errorf("no zstd frame")
	}
	fhd := f[4]
	n := 5
	single := fhd&0x20 != 0
	if !single {
		n++ // window descriptor
	}
	n += [4]int{0, 1, 2, 4}[fhd&0x03] // dictionary id
	fcs := [4]int{0, 2, 4, 8}[fhd>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	n += fcs
	if n > len(f) {
		return 0, fmt.Errorf("a frame header of %d bytes in %d", n, len(f))
	}
	return n, nil
}
