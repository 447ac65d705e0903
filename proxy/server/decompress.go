package server

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// decompress decodes request bodies sent with Content-Encoding zstd, gzip
// or deflate (the Codex CLI compresses with zstd). The body limit applies
// to the decoded size too, so a small compressed bomb gets 413 instead of
// filling the memory; the decoders themselves stream and keep bounded
// windows.
func (s *Server) decompress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
		if enc == "" || enc == "identity" || r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		body, err := decoder(enc, r.Body)
		if err != nil {
			return err
		}
		defer body.Close()
		r.Body = http.MaxBytesReader(c.Response(), body, s.bodyLimit)
		r.Header.Del("Content-Encoding")
		r.Header.Del("Content-Length")
		r.ContentLength = -1
		return next(c)
	}
}

// decoder returns a reader of the decoded body.
func decoder(enc string, body io.ReadCloser) (io.ReadCloser, error) {
	switch enc {
	case "zstd":
		// A window above 8 MiB is refused: no encoder needs it for a JSON
		// body, and it bounds the decoder's memory.
		d, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, badEncoding(enc, err)
		}
		return d.IOReadCloser(), nil
	case "gzip", "x-gzip":
		d, err := gzip.NewReader(body)
		if err != nil {
			return nil, badEncoding(enc, err)
		}
		return d, nil
	case "deflate":
		// HTTP's deflate is zlib-wrapped; some clients send raw deflate.
		br := bufio.NewReader(body)
		if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			d, err := zlib.NewReader(br)
			if err != nil {
				return nil, badEncoding(enc, err)
			}
			return d, nil
		}
		return flate.NewReader(br), nil
	}
	return nil, apierr.Errorf(http.StatusUnsupportedMediaType, "invalid_request_error", "Content-Encoding %q is not supported; send the body plain or compressed with zstd, gzip or deflate.", enc).WithCode("unsupported_content_encoding")
}

func badEncoding(enc string, err error) error {
	return apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "the request body is not valid %s data: %v", enc, err).WithCode("invalid_content_encoding")
}
