package relay

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// defaultKeepAlive is the SSE comment sent on a quiet stream.
var defaultKeepAlive = []byte(": keep-alive\n\n")

// sseWriter serialises writes to a committed stream and sends a keep-alive
// frame when the stream has been quiet for a while. The keep-alive is a
// timer, not a goroutine, so an open stream costs little while it waits.
type sseWriter struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	rc        *http.ResponseController
	buf       []byte // frames the relay holds for the rest of a burst; not under mu
	keepAlive []byte
	last      time.Time
	broken    bool
	done      bool
	timer     *time.Timer
}

func newSSEWriter(w http.ResponseWriter, keepAlive []byte) *sseWriter {
	if keepAlive == nil {
		keepAlive = defaultKeepAlive
	}
	s := &sseWriter{w: w, rc: http.NewResponseController(w), keepAlive: keepAlive, last: time.Now()}
	_ = s.rc.SetWriteDeadline(time.Time{})
	// No flush here: the first frame follows at once and goes out with
	// the headers in one write.
	s.timer = time.AfterFunc(KeepAliveInterval, s.ping)
	return s
}

// ping sends the keep-alive frame when the stream has been quiet for
// KeepAliveInterval, and re-arms the timer for the next quiet period.
func (s *sseWriter) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.broken {
		return
	}
	if quiet := time.Since(s.last); quiet < KeepAliveInterval {
		s.timer.Reset(KeepAliveInterval - quiet)
		return
	}
	s.writeLocked(s.keepAlive)
	s.timer.Reset(KeepAliveInterval)
}

// write writes b and flushes; false when the client is gone.
func (s *sseWriter) write(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(b)
}

// writeLocked is write with mu held.
func (s *sseWriter) writeLocked(b []byte) bool {
	if s.broken {
		return false
	}
	if len(b) == 0 {
		return true
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

func (s *sseWriter) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	s.timer.Stop()
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":{"message":"could not encode the answer","type":"server_error"}}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
