package upstream

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"

	fhttp "github.com/bogdanfinn/fhttp"
	"github.com/klauspost/compress/zstd"
)

// decodeBody replaces a zstd or gzip encoded body (the Codex identity asks
// for them with accept-encoding: zstd,gzip and fhttp leaves them alone)
// with a decoding reader that streams: each SSE event is readable as soon
// as its compressed block arrives. The decoder starts on the first Read,
// so a body that is never read costs nothing.
func decodeBody(resp *fhttp.Response) {
	if resp.Uncompressed || resp.Body == nil {
		return
	}
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc != "zstd" && enc != "gzip" {
		return
	}
	resp.Body = &decodedBody{raw: resp.Body, enc: enc}
	resp.Uncompressed = true
	resp.ContentLength = -1
}

// decodedBody decodes raw lazily. Close closes raw, which makes a pending
// or later Read fail and free the decoder.
type decodedBody struct {
	raw io.ReadCloser
	enc string
	r   io.Reader
	zr  *zstd.Decoder
	err error
}

func (d *decodedBody) Read(p []byte) (int, error) {
	if d.r == nil && d.err == nil {
		d.open()
	}
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("decode %s body: %w", d.enc, err)
		}
		d.err = err
		d.release()
	}
	return n, err
}

// release frees the zstd decoder; only Read calls it, so the decoder is
// never used from two goroutines (Close may run on a watchdog's).
func (d *decodedBody) release() {
	if d.zr != nil {
		d.zr.Close()
		d.zr = nil
	}
}

func (d *decodedBody) open() {
	switch d.enc {
	case "zstd":
		zr, err := zstd.NewReader(d.raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			d.err = fmt.Errorf("decode zstd body: %w", err)
			return
		}
		d.zr, d.r = zr, zr
	case "gzip":
		gr, err := gzip.NewReader(d.raw)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			d.err = fmt.Errorf("decode gzip body: %w", err)
			return
		}
		gr.Multistream(false)
		d.r = gr
	}
}

func (d *decodedBody) Close() error { return d.raw.Close() }
