package relay

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// fakeStream answers with a fixed list of events; its Finish waits until
// released, as a stream whose end is slow to come.
type fakeStream struct {
	events   []string
	release  chan struct{}
	finished atomic.Bool
	closed   atomic.Bool
}

func (s *fakeStream) Next() (upstream.Event, error) {
	if len(s.events) == 0 {
		return upstream.Event{}, io.EOF
	}
	ev := s.events[0]
	s.events = s.events[1:]
	return upstream.Event{Data: []byte(ev)}, nil
}
func (s *fakeStream) Close() error        { s.closed.Store(true); return nil }
func (s *fakeStream) Header() http.Header { return http.Header{} }
func (s *fakeStream) Finish() error {
	<-s.release
	s.finished.Store(true)
	return nil
}

type fakeUpstream struct{ stream *fakeStream }

func (u fakeUpstream) Responses(context.Context, upstream.Request) (Stream, error) {
	return u.stream, nil
}

// textAggregator collects the text of a non-streamed answer.
type textAggregator struct{ text string }

func (a *textAggregator) Feed(ev *codex.Event) (Signal, error) {
	switch ev.Type {
	case codex.EventTextDelta:
		a.text += ev.Delta
		return SigOutput, nil
	case codex.EventCompleted:
		return SigDone, nil
	}
	return SigNone, nil
}
func (a *textAggregator) Result() any { return map[string]string{"text": a.text} }

// TestAnswerNotHeldByFinish checks that a client gets its whole answer
// (streamed or not) while the relay still waits for the end of the
// upstream stream, and that a completed stream is finished, not closed.
func TestAnswerNotHeldByFinish(t *testing.T) {
	events := []string{
		`{"type":"response.created","response":{"id":"r"}}`,
		`{"type":"response.output_text.delta","delta":"hello"}`,
		`{"type":"response.completed","response":{"id":"r","status":"completed"}}`,
	}
	for _, streamed := range []bool{false, true} {
		st := &fakeStream{events: append([]string(nil), events...), release: make(chan struct{})}
		r := &Relay{Upstream: fakeUpstream{st}, Auth: auth.NewStatic("tok", "acct"), Status: status.NewRecorder(time.Now),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Sleep: func(context.Context, time.Duration) {}}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			turn := &Turn{Request: &codex.Request{Model: "gpt-5.4"}}
			if streamed {
				turn.Encoder = textEncoder{}
			} else {
				turn.Aggregator = &textAggregator{}
			}
			if err := r.Serve(w, req, turn); err != nil {
				t.Errorf("Serve: %v", err)
			}
		}))
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatalf("streamed=%v: %v", streamed, err)
		}
		want := `{"text":"hello"}`
		if streamed {
			want = "data: hello\n\n"
		}
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != want {
			t.Fatalf("streamed=%v: got %q (%v) while the upstream stream is still open, want %q", streamed, buf, err, want)
		}
		close(st.release)
		rest, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if strings.TrimSpace(string(rest)) != "" || !st.finished.Load() || st.closed.Load() {
			t.Errorf("streamed=%v: rest %q, finished %v, closed %v; want the stream finished, not closed", streamed, rest, st.finished.Load(), st.closed.Load())
		}
	}
}

// textEncoder streams the text deltas as SSE data lines.
type textEncoder struct{}

func (textEncoder) Feed(dst []byte, ev *codex.Event) ([]byte, Signal, error) {
	switch ev.Type {
	case codex.EventTextDelta:
		return append(append(append(dst, "data: "...), ev.Delta...), "\n\n"...), SigOutput, nil
	case codex.EventCompleted:
		return dst, SigDone, nil
	}
	return dst, SigNone, nil
}
func (textEncoder) Fail(dst []byte, _ *apierr.Error) []byte { return dst }

// bodyUpstream is fakeUpstream that keeps a weak pointer to the request
// body it was given.
type bodyUpstream struct {
	stream *fakeStream
	body   *weak.Pointer[byte]
}

func (u bodyUpstream) Responses(_ context.Context, req upstream.Request) (Stream, error) {
	*u.body = weak.Make(&req.Body[0])
	return u.stream, nil
}

// TestBodyReleasedOnceAnswering checks that the upstream body, kept for a
// retry, is let go once the backend answers (a request is never sent
// again then): an agent's body of hundreds of kilobytes is not held for
// as long as its answer streams.
func TestBodyReleasedOnceAnswering(t *testing.T) {
	st := &fakeStream{events: []string{
		`{"type":"response.created","response":{"id":"r"}}`,
		`{"type":"response.output_text.delta","delta":"hello"}`,
		`{"type":"response.completed","response":{"id":"r","status":"completed"}}`,
	}, release: make(chan struct{})}
	var body weak.Pointer[byte]
	r := &Relay{Upstream: bodyUpstream{st, &body}, Auth: auth.NewStatic("tok", "acct"), Status: status.NewRecorder(time.Now),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Sleep: func(context.Context, time.Duration) {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		turn := &Turn{Request: &codex.Request{Model: "gpt-5.4", Instructions: strings.Repeat("long instructions ", 1<<14)}, Encoder: textEncoder{}}
		if err := r.Serve(w, req, turn); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}))
	defer srv.Close()
	defer close(st.release)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, len("data: hello\n\n"))
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	// The relay now waits in Finish, its answer out.
	for i := 0; i < 3 && body.Value() != nil; i++ {
		runtime.GC()
	}
	if body.Value() != nil {
		t.Error("the request body is still held while the answer is out")
	}
}

// burstStream is fakeStream whose events are all buffered (Pending) and
// which then breaks off.
type burstStream struct{ fakeStream }

func (s *burstStream) Pending() bool { return true }
func (s *burstStream) Next() (upstream.Event, error) {
	if len(s.events) == 0 {
		return upstream.Event{}, io.ErrUnexpectedEOF
	}
	return s.fakeStream.Next()
}

type burstUpstream struct{ stream *burstStream }

func (u burstUpstream) Responses(context.Context, upstream.Request) (Stream, error) {
	return u.stream, nil
}

// failingEncoder is textEncoder that ends a failed stream with a frame.
type failingEncoder struct{ textEncoder }

func (failingEncoder) Fail(dst []byte, e *apierr.Error) []byte {
	return append(dst, "data: failed\n\n"...)
}

// recordingWriter records each write and flush of a response.
type recordingWriter struct {
	mu      sync.Mutex
	header  http.Header
	writes  []string
	flushes int
}

func (w *recordingWriter) Header() http.Header { return w.header }
func (w *recordingWriter) WriteHeader(int)     {}
func (w *recordingWriter) Flush()              { w.mu.Lock(); w.flushes++; w.mu.Unlock() }
func (w *recordingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(b))
	return len(b), nil
}

// written returns what was written so far, joined.
func (w *recordingWriter) written() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.writes, "")
}

// TestBurstInOneWrite checks that the frames of events that arrived
// together go to the client in one write and one flush, and that frames
// held for the rest of a burst that broke off go out before the failure.
func TestBurstInOneWrite(t *testing.T) {
	st := &burstStream{fakeStream{events: []string{
		`{"type":"response.created","response":{"id":"r"}}`,
		`{"type":"response.output_text.delta","delta":"a"}`,
		`{"type":"response.output_text.delta","delta":"b"}`,
		`{"type":"response.output_text.delta","delta":"c"}`,
	}}}
	r := &Relay{Upstream: burstUpstream{st}, Auth: auth.NewStatic("tok", "acct"), Status: status.NewRecorder(time.Now),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Sleep: func(context.Context, time.Duration) {}}
	w := &recordingWriter{header: http.Header{}}
	req := httptest.NewRequest(http.MethodPost, "/v1/responses", nil)
	if err := r.Serve(w, req, &Turn{Request: &codex.Request{Model: "gpt-5.4"}, Encoder: failingEncoder{}}); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	want := []string{"data: a\n\n", "data: b\n\ndata: c\n\ndata: failed\n\n"}
	if strings.Join(w.writes, "|") != strings.Join(want, "|") || w.flushes != len(want) {
		t.Errorf("writes %q with %d flushes, want %q with one flush each", w.writes, w.flushes, want)
	}
}

// stallStream says an event is buffered while it has events, the last of
// which does not decode, and then waits for release.
type stallStream struct {
	burstStream
	release chan struct{}
}

func (s *stallStream) Pending() bool { return len(s.events) > 0 }
func (s *stallStream) Next() (upstream.Event, error) {
	if len(s.events) == 0 {
		<-s.release
		return upstream.Event{}, io.ErrUnexpectedEOF
	}
	return s.fakeStream.Next()
}

type stallUpstream struct{ stream *stallStream }

func (u stallUpstream) Responses(context.Context, upstream.Request) (Stream, error) {
	return u.stream, nil
}

// TestHeldFramesNotKeptPastASkippedEvent checks that frames held for the
// rest of a burst go out when the event they waited for does not decode
// and nothing else is buffered: they must not wait for the network.
func TestHeldFramesNotKeptPastASkippedEvent(t *testing.T) {
	st := &stallStream{burstStream{fakeStream{events: []string{
		`{"type":"response.created","response":{"id":"r"}}`,
		`{"type":"response.output_text.delta","delta":"a"}`,
		`{"type":"response.output_text.delta","delta":"b"}`,
		`{garbled`,
	}}}, make(chan struct{})}
	r := &Relay{Upstream: stallUpstream{st}, Auth: auth.NewStatic("tok", "acct"), Status: status.NewRecorder(time.Now),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Sleep: func(context.Context, time.Duration) {}}
	w := &recordingWriter{header: http.Header{}}
	done := make(chan error, 1)
	go func() {
		done <- r.Serve(w, httptest.NewRequest(http.MethodPost, "/v1/responses", nil), &Turn{Request: &codex.Request{Model: "gpt-5.4"}, Encoder: failingEncoder{}})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.written(), "data: b\n\n") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := w.written()
	close(st.release)
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(got, "data: a\n\ndata: b\n\n") {
		t.Errorf("while the relay waited for the network the client had %q, want both deltas", got)
	}
}
