package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// checkUTF8 refuses request bodies that are not valid UTF-8, whether as
// raw bytes or as a lone surrogate escape (\ud800) in a JSON string, with a
// 400 in the route's error shape. Go's JSON decoder would replace either
// with U+FFFD and the request would go upstream changed. A byte order mark
// before the JSON (what Windows editors and PowerShell write into the
// files people send with curl -d @file) is dropped rather than refused. The
// body is read once and handed on as a buffer.
func (s *Server) checkUTF8(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodPost || req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			var he *echo.HTTPError
			if errors.As(err, &mbe) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
				return echo.ErrStatusRequestEntityTooLarge
			}
			return apierr.InvalidRequest("", "could not read the request body: %v", err).WithCode("invalid_body")
		}
		bom := 0
		if bytes.HasPrefix(body, []byte("\ufeff")) {
			body, bom = body[3:], 3
		}
		if i := invalidUTF8(body); i >= 0 {
			return apierr.InvalidRequest("", "the request body is not valid UTF-8 (at byte %d): send text as UTF-8, with surrogate pairs escaped in pairs", bom+i).WithCode("invalid_utf8")
		}
		req.Body = newReadBody(body)
		return next(c)
	}
}

// readBody is a request body read into memory; the dialects decode it
// from Bytes without copying it again.
type readBody struct {
	*bytes.Reader
	b []byte
}

func newReadBody(b []byte) *readBody { return &readBody{Reader: bytes.NewReader(b), b: b} }

func (r *readBody) Close() error { return nil }

// Bytes hands the whole body over: the body forgets it (reads from then
// on find it empty), so that an agent's request of hundreds of kilobytes
// is not held for as long as its answer streams.
func (r *readBody) Bytes() []byte {
	b := r.b
	r.b = nil
	r.Reader = bytes.NewReader(nil)
	return b
}

// invalidUTF8 returns the offset of the first invalid UTF-8 sequence or
// lone surrogate escape in a JSON text, or -1.
func invalidUTF8(b []byte) int {
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return i
			}
			i += n
		}
	}
	for i := 0; i < len(b); i++ {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return -1
		}
		i += j
		if i+1 >= len(b) || b[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: skip it
			continue
		}
		r, ok := hex4(b[i+2:])
		switch {
		case !ok:
			return -1 // not valid JSON; the decoder will say so
		case r >= 0xD800 && r <= 0xDBFF:
			if len(b) >= i+12 && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b[i+8:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return i
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		}
		i += 5
	}
	return -1
}

// hex4 parses four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
