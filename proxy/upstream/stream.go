package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	fhttp "github.com/bogdanfinn/fhttp"
)

const (
	sseBufferSize = 16 << 10 // longer lines spill into sseReader.long
	maxPooledData = 64 << 10 // larger event buffers are not kept for reuse
	maxSSELine    = 16 << 20 // one line, and the joined data of one event
	maxNameCache  = 16
)

// Stream is a 2xx response of /codex/responses, read one SSE event at a
// time. Next is not safe for concurrent use; Close may be called from any
// goroutine.
type Stream struct {
	StatusCode int
	Header     http.Header // response headers (Content-Encoding removed when fhttp decoded the body)
	Proto      string      // "HTTP/2.0" or "HTTP/1.1"

	readMu sync.Mutex // held by Next; Close releases the buffers only when free
	p      sseReader
	body   io.Closer
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   *idleWatch
	closed atomic.Bool
	once   sync.Once
	// detach stops the caller's cancellation from reaching the stream; it
	// reports false when it already did (nil: nothing to stop).
	detach func() bool
}

func newStream(resp *fhttp.Response, h http.Header, ctx context.Context, cancel context.CancelCauseFunc, idle *idleWatch) *Stream {
	s := &Stream{
		StatusCode: resp.StatusCode,
		Header:     h,
		Proto:      resp.Proto,
		body:       resp.Body,
		ctx:        ctx,
		cancel:     cancel,
		idle:       idle,
	}
	s.p.init(idle.reader(resp.Body))
	return s
}

// Next returns the next SSE event. It returns io.EOF at the clean end of the
// body, an error wrapping ErrIdleTimeout when no bytes arrived for
// Timing.IdleTimeout, the caller's context error when it was cancelled, and
// ErrStreamTooLarge for a line or event above 16 MiB. Event.Data is only
// valid until the next call.
func (s *Stream) Next() (Event, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if s.closed.Load() {
		s.p.release()
		return Event{}, ErrStreamClosed
	}
	ev, err := s.p.next()
	if err == nil {
		return ev, nil
	}
	s.idle.stop()
	s.p.release()
	switch {
	case err == io.EOF && context.Cause(s.ctx) == nil:
		return Event{}, io.EOF
	case s.closed.Load():
		return Event{}, ErrStreamClosed
	case errors.Is(err, ErrStreamTooLarge):
		return Event{}, err
	}
	if cause := context.Cause(s.ctx); cause != nil {
		return Event{}, fmt.Errorf("read sse: %w", cause)
	}
	return Event{}, fmt.Errorf("read sse: %w", err)
}

// Pending reports whether a complete event is already buffered, so that
// the next call to Next returns without waiting for the network. A relay
// uses it to flush its client once per burst of events instead of once
// per event.
func (s *Stream) Pending() bool {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	return s.p.pending()
}

// Finish ends a stream whose response is complete. It first reads the
// little that follows the last event (the end of the chunked body, or
// HTTP/2's end of stream), bounded in size and time, so that an HTTP/1.1
// connection goes back to the pool: closing a body before its end closes
// the connection, and the next request would dial a new one. The caller
// going away meanwhile no longer cuts that read short, unless it already
// had. Then it closes the stream.
func (s *Stream) Finish() error {
	if (s.detach == nil || s.detach()) && s.readMu.TryLock() {
		if !s.closed.Load() && s.p.sseBuffers != nil {
			t := time.AfterFunc(finishWait, func() { s.cancel(ErrStreamClosed) })
			_, _ = io.CopyN(io.Discard, s.p.br, finishLimit)
			t.Stop()
		}
		s.readMu.Unlock()
	}
	return s.Close()
}

// The bounds of Finish's read.
const (
	finishLimit = 64 << 10
	finishWait  = 100 * time.Millisecond
)

// Close closes the body and cancels the request. It is idempotent.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.idle.stop()
		s.cancel(ErrStreamClosed)
		_ = s.body.Close()
		// The buffers go back to the pool now unless Next is running; then
		// Next returns them when it sees the stream closed.
		if s.readMu.TryLock() {
			s.p.release()
			s.readMu.Unlock()
		}
	})
	return nil
}

// sseReader parses text/event-stream framing: "event:" and "data:" fields,
// multi-line data joined with "\n", ":" comments, LF or CRLF line ends, and
// a final event that lacks its blank line. "id:" and "retry:" are ignored.
// In steady state it allocates nothing per event.
type sseReader struct {
	*sseBuffers
	name    string
	sawData bool
	started bool
	// known is, when not 0, the length of the buffered bytes that pending
	// found to end with the next event's blank line.
	known int
}

// sseBuffers are the buffers of one sseReader; they are pooled so that a
// stream costs no allocation of its own and a burst of streams leaves no
// garbage behind.
type sseBuffers struct {
	br    *bufio.Reader
	long  []byte // a line that did not fit the bufio buffer
	data  []byte
	names []string // interned event names
}

var ssePool = sync.Pool{New: func() any {
	return &sseBuffers{br: bufio.NewReaderSize(nil, sseBufferSize), data: make([]byte, 0, 4096)}
}}

func (p *sseReader) init(r io.Reader) {
	p.sseBuffers = ssePool.Get().(*sseBuffers)
	p.br.Reset(r)
}

// release returns the buffers to the pool; the reader is unusable after.
// It is idempotent.
func (p *sseReader) release() {
	b := p.sseBuffers
	if b == nil {
		return
	}
	p.sseBuffers = nil
	b.br.Reset(nil)
	if cap(b.data) > maxPooledData {
		b.data = make([]byte, 0, 4096)
	}
	b.data = b.data[:0]
	b.long = nil
	ssePool.Put(b)
}

func (p *sseReader) next() (Event, error) {
	if p.sseBuffers == nil {
		return Event{}, ErrStreamClosed
	}
	if ev, ok := p.nextBuffered(); ok {
		return ev, nil
	}
	for {
		line, err := p.readLine()
		if err != nil {
			if err == io.EOF && p.sawData {
				return p.dispatch(), nil
			}
			return Event{}, err
		}
		if !p.started {
			p.started = true
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if len(line) == 0 {
			if p.sawData {
				return p.dispatch(), nil
			}
			p.name = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := splitField(line)
		switch string(field) {
		case "data":
			if p.sawData {
				p.data = append(p.data, '\n')
			}
			if len(p.data)+len(value) > maxSSELine {
				return Event{}, ErrStreamTooLarge
			}
			p.data = append(p.data, value...)
			p.sawData = true
		case "event":
			p.name = p.intern(value)
		}
	}
}

// nextBuffered returns the next event without reading, when all of it is
// buffered in the form the backend writes: LF line ends, at most one data
// line, and no blank line before it. Its Data is then a slice of the
// buffer (valid until the next read, as Event.Data must be), not a copy.
// Anything else is left to next's line-by-line reading.
func (p *sseReader) nextBuffered() (Event, bool) {
	known := p.known
	p.known = 0
	n := p.br.Buffered()
	if n == 0 || !p.started || p.sawData || p.name != "" {
		return Event{}, false
	}
	b, _ := p.br.Peek(n)
	end := known
	if end == 0 {
		end = blankLine(b)
	}
	if end < 2 || b[end-2] != '\n' || b[end-1] != '\n' {
		return Event{}, false // not all of it yet, or CRLF
	}
	var name string
	var data []byte
	sawData := false
	for rest := b[:end-1]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if len(line) == 0 || line[len(line)-1] == '\r' {
			return Event{}, false // a blank line first, or CRLF
		}
		if line[0] == ':' {
			continue
		}
		field, value := splitField(line)
		switch string(field) {
		case "data":
			if sawData {
				return Event{}, false // lines to join
			}
			data, sawData = value, true
		case "event":
			name = p.intern(value)
		}
	}
	if !sawData {
		return Event{}, false
	}
	_, _ = p.br.Discard(end)
	return Event{Name: name, Data: data[:len(data):len(data)]}, true
}

// splitField splits a line into its field name and value: the value
// after the first colon, without one leading space; no colon, no value.
func splitField(line []byte) (field, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	value = line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return line[:i], value
}

// pending reports whether the buffer holds the end of an event (a blank
// line) after a data line, so that next returns it without reading.
// A block of comments only (a keep-alive) is not an event: next would
// pass it and wait for the network, and the relay, told an event is
// pending, would hold its client's frames meanwhile. Where the block
// ends, nextBuffered need not look for again.
func (p *sseReader) pending() bool {
	if p.sseBuffers == nil {
		return false
	}
	n := p.br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := p.br.Peek(n)
	p.known = blankLine(b)
	if p.known == 0 {
		return false
	}
	block := b[:p.known]
	return p.sawData || bytes.HasPrefix(block, []byte("data")) || bytes.Contains(block, []byte("\ndata"))
}

// blankLine returns the index just past the first blank line in b (the
// end of "\n\n" or "\n\r\n"), or 0 when there is none. It looks for both
// in one pass, stopping at the first: a relay asks after every event, with
// up to the whole buffer unread, and the next event's end is near its
// start.
func blankLine(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
}

// dispatch returns the pending event and resets the state; the returned
// Data aliases p.data until the next call.
func (p *sseReader) dispatch() Event {
	ev := Event{Name: p.name, Data: p.data}
	p.data = p.data[:0]
	p.name = ""
	p.sawData = false
	return ev
}

// intern returns a string equal to b, reusing a previous one when possible.
func (p *sseReader) intern(b []byte) string {
	for _, n := range p.names {
		if string(b) == n {
			return n
		}
	}
	s := string(b)
	if len(p.names) < maxNameCache {
		p.names = append(p.names, s)
	}
	return s
}

// readLine returns the next line without its line ending. A last line that
// lacks one is returned before io.EOF.
func (p *sseReader) readLine() ([]byte, error) {
	b, err := p.br.ReadSlice('\n')
	switch {
	case err == nil:
		return trimEOL(b), nil
	case err == bufio.ErrBufferFull:
		p.long = append(p.long[:0], b...)
		for {
			b, err = p.br.ReadSlice('\n')
			if len(p.long)+len(b) > maxSSELine+2 {
				return nil, ErrStreamTooLarge
			}
			p.long = append(p.long, b...)
			switch {
			case err == nil:
				return trimEOL(p.long), nil
			case err == bufio.ErrBufferFull:
				continue
			case err == io.EOF:
				return trimEOL(p.long), nil
			default:
				return nil, err
			}
		}
	case err == io.EOF && len(b) > 0:
		return trimEOL(b), nil
	default:
		return nil, err
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
