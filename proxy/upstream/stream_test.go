package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

type wantEvent struct{ name, data string }

func parseAll(r io.Reader) ([]wantEvent, error) {
	var p sseReader
	p.init(r)
	var out []wantEvent
	for {
		ev, err := p.next()
		if err != nil {
			return out, err
		}
		out = append(out, wantEvent{ev.Name, string(ev.Data)})
	}
}

func TestSSEParser(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []wantEvent
	}{
		{"basic", "event: a\ndata: {\"x\":1}\n\n", []wantEvent{{"a", `{"x":1}`}}},
		{"no event name", "data: hi\n\n", []wantEvent{{"", "hi"}}},
		{"crlf", "event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n", []wantEvent{{"a", "1"}, {"b", "2"}}},
		{"multi-line data", "data: a\ndata: b\ndata:\ndata: c\n\n", []wantEvent{{"", "a\nb\n\nc"}}},
		{"comments", ": keep-alive\n:\nevent: a\n: inside\ndata: 1\n\n", []wantEvent{{"a", "1"}}},
		{"final event without blank line", "event: a\ndata: 1\n\nevent: b\ndata: 2", []wantEvent{{"a", "1"}, {"b", "2"}}},
		{"final event with newline only", "data: 2\n", []wantEvent{{"", "2"}}},
		{"no space after colon", "event:a\ndata:1\n\n", []wantEvent{{"a", "1"}}},
		{"only one leading space stripped", "data:  two\n\n", []wantEvent{{"", " two"}}},
		{"colon in value", "data: {\"a\":\"b:c\"}\n\n", []wantEvent{{"", `{"a":"b:c"}`}}},
		{"event without data is dropped", "event: ping\n\ndata: x\n\n", []wantEvent{{"", "x"}}},
		{"empty data line dispatches", "data:\n\n", []wantEvent{{"", ""}}},
		{"id and retry ignored", "id: 7\nretry: 100\ndata: x\n\n", []wantEvent{{"", "x"}}},
		{"field without colon", "data\n\n", []wantEvent{{"", ""}}},
		{"unknown field", "foo: bar\ndata: x\n\n", []wantEvent{{"", "x"}}},
		{"bom", "\xef\xbb\xbfdata: x\n\n", []wantEvent{{"", "x"}}},
		{"blank lines between", "\n\n\ndata: x\n\n\n\ndata: y\n\n", []wantEvent{{"", "x"}, {"", "y"}}},
		{"done sentinel passes through", "data: [DONE]\n\n", []wantEvent{{"", "[DONE]"}}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Feed the bytes whole and one byte at a time.
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				got, err := parseAll(r)
				if err != io.EOF {
					t.Fatalf("err = %v, want io.EOF", err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Fatalf("event %d = %q, want %q", i, got[i], tc.want[i])
					}
				}
			}
		})
	}
}

func TestSSELongLines(t *testing.T) {
	big := strings.Repeat("x", 3*sseBufferSize+17)
	got, err := parseAll(strings.NewReader("event: big\ndata: " + big + "\r\n\r\ndata: after\n\n"))
	if err != io.EOF || len(got) != 2 || got[0].data != big || got[0].name != "big" || got[1].data != "after" {
		t.Fatalf("long line: %v, %d events", err, len(got))
	}
	// A long final line without a newline.
	got, err = parseAll(strings.NewReader("data: " + big))
	if err != io.EOF || len(got) != 1 || got[0].data != big {
		t.Fatalf("long final line: %v", err)
	}
}

func TestSSETooLarge(t *testing.T) {
	huge := io.MultiReader(strings.NewReader("data: "), io.LimitReader(repeatReader('x'), maxSSELine+10), strings.NewReader("\n\n"))
	if _, err := parseAll(huge); !errors.Is(err, ErrStreamTooLarge) {
		t.Fatalf("err = %v, want ErrStreamTooLarge", err)
	}
	// Many data lines whose sum is too large.
	line := "data: " + strings.Repeat("y", 1<<20) + "\n"
	many := io.MultiReader(io.LimitReader(repeatString(line), int64(len(line))*17), strings.NewReader("\n"))
	if _, err := parseAll(many); !errors.Is(err, ErrStreamTooLarge) {
		t.Fatalf("err = %v, want ErrStreamTooLarge", err)
	}
}

func TestSSEReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	got, err := parseAll(r)
	if !errors.Is(err, boom) || len(got) != 1 {
		t.Fatalf("got %q, %v", got, err)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// repeatString repeats s forever.
func repeatString(s string) io.Reader {
	return &cycle{data: []byte(s)}
}

type cycle struct {
	data []byte
	off  int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.data[c.off:])
		n += k
		c.off = (c.off + k) % len(c.data)
	}
	return n, nil
}

// BenchmarkStreamNext measures one SSE event per op through a Stream (idle
// watchdog included) reading an in-memory body.
func BenchmarkStreamNext(b *testing.B) {
	ev := "event: response.output_text.delta\n" +
		`data: {"type":"response.output_text.delta","sequence_number":42,"item_id":"msg_0123456789abcdef","output_index":0,"content_index":0,"delta":"Hello, world! This is a token."}` +
		"\n\n"
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	idle := newIdleWatch(DefaultIdleTimeout, cancel)
	s := &Stream{ctx: ctx, cancel: cancel, idle: idle, body: io.NopCloser(nil)}
	s.p.init(idle.reader(&cycle{data: []byte(ev)}))
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e, err := s.Next()
		if err != nil || len(e.Data) == 0 {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = s.Close()
	if !bytes.Contains([]byte(ev), []byte("delta")) {
		b.Fatal("unreachable")
	}
}

// TestStreamPending checks that Pending tells a buffered complete event
// from a partial one, so that the relay flushes before it would block.
func TestStreamPending(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	idle := newIdleWatch(DefaultIdleTimeout, cancel)
	s := &Stream{ctx: ctx, cancel: cancel, idle: idle, body: pr}
	s.p.init(idle.reader(pr))
	go func() {
		// Two events and the start of a third arrive in one read.
		_, _ = pw.Write([]byte("data: 1\n\ndata: 2\n\ndata: 3"))
	}()
	if ev, err := s.Next(); err != nil || string(ev.Data) != "1" {
		t.Fatalf("first event %q, %v", ev.Data, err)
	}
	if !s.Pending() {
		t.Fatal("Pending is false with the second event buffered")
	}
	if ev, err := s.Next(); err != nil || string(ev.Data) != "2" {
		t.Fatalf("second event %q, %v", ev.Data, err)
	}
	if s.Pending() {
		t.Fatal("Pending is true with only part of an event buffered")
	}
	go func() { _, _ = pw.Write([]byte("\n\n")) }()
	if ev, err := s.Next(); err != nil || string(ev.Data) != "3" {
		t.Fatalf("third event %q, %v", ev.Data, err)
	}
	_ = s.Close()
	if s.Pending() {
		t.Fatal("Pending is true after Close")
	}
	if _, err := s.Next(); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
}

// TestStreamCloseDuringNext closes a stream while Next waits for data: the
// pooled buffers must not be handed to another stream while in use.
func TestStreamCloseDuringNext(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	idle := newIdleWatch(DefaultIdleTimeout, cancel)
	s := &Stream{ctx: ctx, cancel: cancel, idle: idle, body: pr}
	s.p.init(idle.reader(pr))
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	_ = s.Close()
	if err := <-done; err == nil {
		t.Fatal("Next returned an event after Close")
	}
	if s.p.sseBuffers != nil {
		t.Fatal("the buffers were not returned after Close and Next ended")
	}
}

// TestFinishKeepsConnection checks that a completed stream ended with
// Finish leaves its HTTP/1.1 connection for the next request: the server
// ends the chunked body only after its last event (as net/http servers
// do), and closing the body before that end would close the connection.
// It also checks that a Finish on a stream that never ends returns
// within its bound.
func TestFinishKeepsConnection(t *testing.T) {
	var conns atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n")
		w.(http.Flusher).Flush()
		if r.Header.Get("Session-Id") == "hang" {
			<-release // the stream stays open after its last event
			return
		}
		time.Sleep(5 * time.Millisecond) // the body's end comes a little later
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", PlainBody: true})
	for i := 0; i < 5; i++ {
		s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{"model":"x"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := s.Next(); err != nil || ev.Name != "response.completed" {
			t.Fatalf("Next = %q, %v", ev.Name, err)
		}
		if err := s.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 finished streams used %d connections, want 1", n)
	}

	// A stream that stays open after its last event: Finish gives up
	// within its bound.
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, SessionID: "hang", Body: []byte(`{"model":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < finishWait/2 || d > 5*finishWait {
		t.Errorf("Finish on an endless stream took %v, want about %v", d, finishWait)
	}
}

// TestCancelledContextSendsNothing checks that a request whose context is
// already cancelled (a client gone during a retry's backoff) never reaches
// the backend, even with a warm connection in the pool.
func TestCancelledContextSendsNothing(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"type\":\"response.completed\"}\n\n")
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", PlainBody: true})
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{"model":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.Next()
	_ = s.Finish() // a warm connection in the pool
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 50; i++ {
		if _, err := c.Responses(ctx, Request{Creds: testCreds, Body: []byte(`{"model":"x"}`)}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Responses with a cancelled context = %v, want context.Canceled", err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the backend got %d requests, want only the first", n)
	}
}

// TestBlankLine holds blankLine to the first of the two searches it
// stands for, on every short string of the bytes that matter.
func TestBlankLine(t *testing.T) {
	alphabet := []byte{'\n', '\r', 'x'}
	var b []byte
	var walk func(n int)
	walk = func(n int) {
		want := 0
		if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			want = i + 2
		}
		if i := bytes.Index(b, []byte("\n\r\n")); i >= 0 && (want == 0 || i+3 < want) {
			want = i + 3
		}
		if got := blankLine(b); got != want {
			t.Fatalf("blankLine(%q) = %v, want %v", b, got, want)
		}
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			b = append(b, c)
			walk(n - 1)
			b = b[:len(b)-1]
		}
	}
	walk(7)
}

// chunky reads its input in chunks of 1 to 64 bytes, their sizes taken
// in turn from sizes (one byte each when it is empty).
type chunky struct {
	b     []byte
	sizes []byte
	i     int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])%64 + 1
		c.i++
	}
	n = min(n, len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

// parseAllPending is parseAll asking pending before and after each event,
// as the relay does.
func parseAllPending(r io.Reader) ([]wantEvent, error) {
	var p sseReader
	p.init(r)
	var out []wantEvent
	for {
		p.pending()
		ev, err := p.next()
		if err != nil {
			return out, err
		}
		out = append(out, wantEvent{ev.Name, string(ev.Data)})
		p.pending()
	}
}

// FuzzSSEParser checks that reading events as they arrive in chunks, and
// asking whether one is pending in between (where most are taken from
// the buffer at once, at the place pending found), gives what reading
// them a byte at a time gives (each read line by line).
func FuzzSSEParser(f *testing.F) {
	for _, s := range []string{"event: a\ndata: {\"x\":1}\n\nevent: b\ndata: 2\n\n", "data: a\ndata: b\n\n: c\ndata: d\n\n",
		"event: a\r\ndata: 1\r\n\r\ndata: 2\n\n", "\n\ndata: x\n\nevent: e\n\ndata\n\nid: 1\ndata:y\n\n", "\xef\xbb\xbfdata: x\n\ndata: z"} {
		f.Add([]byte(s), []byte{3, 7})
		f.Add([]byte(s), []byte{63})
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		got, err1 := parseAllPending(&chunky{b: in, sizes: sizes})
		want, err2 := parseAll(iotest.OneByteReader(bytes.NewReader(in)))
		if !errors.Is(err1, io.EOF) || !errors.Is(err2, io.EOF) || len(got) != len(want) {
			t.Fatalf("%q: chunked %q (%v), byte by byte %q (%v)", in, got, err1, want, err2)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: event %d %q, want %q", in, i, got[i], want[i])
			}
		}
	})
}

// TestEventDataCapped checks that an event's Data, a slice of the read
// buffer, cannot be appended to over the next event.
func TestEventDataCapped(t *testing.T) {
	var p sseReader
	p.init(bytes.NewReader([]byte("data: first\n\ndata: second\n\ndata: third\n\n")))
	if _, err := p.next(); err != nil { // the first is read line by line
		t.Fatal(err)
	}
	ev, err := p.next()
	if err != nil {
		t.Fatal(err)
	}
	_ = append(ev.Data, "XXXXXXXXXX"...)
	ev, err = p.next()
	if err != nil || string(ev.Data) != "third" {
		t.Errorf("after appending to the previous Data, the next event is %q (%v), want %q", ev.Data, err, "third")
	}
}

// TestPendingNotForComments checks that a buffered block of comments only
// (a keep-alive) is not taken for a pending event: next would pass it and
// wait for the network.
func TestPendingNotForComments(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"data: a\n\n: keep-alive\n\n", false},
		{"data: a\n\nevent: x\n\n", false},
		{"data: a\n\n: c\ndata: b\n\n", true},
		{"data: a\n\nevent: x\ndata: b\n\n", true},
		{"data: a\n\ndata: b", false},
	} {
		var p sseReader
		p.init(strings.NewReader(c.in))
		if _, err := p.next(); err != nil {
			t.Fatal(err)
		}
		if got := p.pending(); got != c.want {
			t.Errorf("%q: pending %v after the first event, want %v", c.in, got, c.want)
		}
	}
}
