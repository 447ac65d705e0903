package relay

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// defaultKeepAlive is the SSE comment sent on a quiet stream.
var defaultKeepAlive = []byte(": keep-alive\n\n")

// sseWriter serialises writes to a committed stream and sends a keep-alive
// frame when the stream has been quiet for a while.
type sseWriter struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	rc        *http.ResponseController
	buf       []byte
	keepAlive []byte
	last      time.Time
	broken    bool
	done      chan struct{}
	once      sync.Once
}

func newSSEWriter(w http.ResponseWriter, keepAlive []byte) *sseWriter {
	if keepAlive == nil {
		keepAlive = defaultKeepAlive
	}
	s := &sseWriter{w: w, rc: http.NewResponseController(w), keepAlive: keepAlive, last: time.Now(), done: make(chan struct{})}
	_ = s.rc.SetWriteDeadline(time.Time{})
	_ = s.rc.Flush()
	go s.pinger()
	return s
}

func (s *sseWriter) pinger() {
	t := time.NewTicker(KeepAliveInterval / 3)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.mu.Lock()
			if !s.broken && time.Since(s.last) >= KeepAliveInterval {
				s.writeLocked(s.keepAlive)
			}
			s.mu.Unlock()
		}
	}
}

// write sends b and flushes; false when the client is gone.
func (s *sseWriter) write(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(b)
}

func (s *sseWriter) writeLocked(b []byte) bool {
	if s.broken {
		return false
	}
	if _, err := s.w.Write(b); err != nil {
		s.broken = true
		return false
	}
	if err := s.rc.Flush(); err != nil {
		s.broken = true
		return false
	}
	s.last = time.Now()
	return true
}

func (s *sseWriter) stop() { s.once.Do(func() { close(s.done) }) }

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":{"message":"could not encode the answer","type":"server_error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
