package bench_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/server"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// BenchmarkHandler is the app's own work for one request, without a
// network or an HTTP client: the server's handler (middleware, decoding,
// translating, encoding the upstream body, reading the upstream events and
// writing the client's) in front of an upstream in memory that answers
// with the benchmark responder's pre-rendered events (4 text deltas). What
// it leaves out is compressing the body and tls-client's request path;
// the bytes and allocations per request include the benchmark's own
// request, header map and stream (about ten allocations).
func BenchmarkHandler(b *testing.B) {
	h := newMemoryCore(b) // one core: its idle reclaim runs once, at the end
	for _, rt := range routes {
		b.Run("route="+rt.name, func(b *testing.B) {
			body := []byte(rt.body(model, "deltas:4"))
			b.ReportAllocs()
			w := &tailWriter{end: []byte(rt.end)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1"+rt.path, bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				req.RemoteAddr = "127.0.0.1:40000"
				req.Header.Set("Authorization", "Bearer "+proxytest.APIKey)
				req.Header.Set("Content-Type", "application/json")
				w.reset()
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK || !w.ended {
					b.Fatalf("status %d: %.300s", w.code, w.tail)
				}
			}
		})
	}
}

// tailWriter is a ResponseWriter that keeps only the end of the body, so
// that the benchmark measures the app and not a growing buffer, and notes
// whether a write carried the end marker.
type tailWriter struct {
	h     http.Header
	code  int
	tail  []byte
	end   []byte
	ended bool
}

func (w *tailWriter) reset() {
	w.h = http.Header{}
	w.code = 0
	w.tail = w.tail[:0]
	w.ended = false
}

func (w *tailWriter) Header() http.Header { return w.h }

func (w *tailWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	n := len(p)
	w.ended = w.ended || bytes.Contains(p, w.end)
	const keep = 4 << 10
	if len(p) > keep {
		p = p[len(p)-keep:]
	}
	if len(w.tail)+len(p) > 2*keep {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-keep:]...)
	}
	w.tail = append(w.tail, p...)
	return n, nil
}

func (w *tailWriter) Flush() {}

// SetWriteDeadline is what the server's connections have.
func (w *tailWriter) SetWriteDeadline(time.Time) error { return nil }

// newMemoryCore is the app's core with memoryUpstream in place of the
// HTTP client.
func newMemoryCore(tb testing.TB) http.Handler {
	core, _ := proxytest.NewCore(tb, "http://127.0.0.1:1/backend-api", nil, memoryUpstream{})
	return core.Handler()
}

// memoryUpstream answers every request with the rendered events of a
// four-delta message.
type memoryUpstream struct{}

func (memoryUpstream) Responses(_ context.Context, r upstream.Request) (server.Stream, error) {
	return &memoryStream{events: parsedEvents(r.Model)}, nil
}

// parsedEvents are the rendered events of a four-delta message for model,
// parsed once.
func parsedEvents(model string) []upstream.Event {
	if v, ok := parsedCache.Load(model); ok {
		return v.([]upstream.Event)
	}
	var out []upstream.Event
	for _, e := range render(model, 4).events {
		name, rest, _ := bytes.Cut(bytes.TrimPrefix(e, []byte("event: ")), []byte("\n"))
		out = append(out, upstream.Event{Name: string(name), Data: bytes.TrimSuffix(bytes.TrimPrefix(rest, []byte("data: ")), []byte("\n\n"))})
	}
	v, _ := parsedCache.LoadOrStore(model, out)
	return v.([]upstream.Event)
}

var parsedCache sync.Map // model -> []upstream.Event

type memoryStream struct {
	events []upstream.Event
	i      int
}

func (s *memoryStream) Next() (upstream.Event, error) {
	if s.i == len(s.events) {
		return upstream.Event{}, io.EOF
	}
	s.i++
	return s.events[s.i-1], nil
}

func (s *memoryStream) Close() error        { return nil }
func (s *memoryStream) Header() http.Header { return nil }
