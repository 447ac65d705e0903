package upstream

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// flushWriter is an encoder whose Flush ends a compressed block.
type flushWriter interface {
	io.WriteCloser
	Flush() error
}

// TestCompressedStreamDecoded checks that zstd and gzip SSE answers are
// decoded event by event: the server sends the second event only after
// the client has read the first.
func TestCompressedStreamDecoded(t *testing.T) {
	for _, enc := range []string{"zstd", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			next := make(chan struct{})
			srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept-Encoding") != "zstd,gzip" {
					t.Errorf("accept-encoding %q", r.Header.Get("Accept-Encoding"))
				}
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Set("Content-Encoding", enc)
				var zw flushWriter
				if enc == "zstd" {
					e, _ := zstd.NewWriter(w)
					zw = e
				} else {
					zw = gzip.NewWriter(w)
				}
				io.WriteString(zw, "event: a\ndata: {\"n\":1}\n\n")
				zw.Flush()
				w.(http.Flusher).Flush()
				select {
				case <-next:
				case <-r.Context().Done():
					return
				}
				io.WriteString(zw, "event: b\ndata: {\"n\":2}\n\n")
				zw.Close()
			}))
			c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
			s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Encoding kept after decoding: %q", s.Header.Get("Content-Encoding"))
			}
			ev, err := s.Next()
			if err != nil || ev.Name != "a" || string(ev.Data) != `{"n":1}` {
				t.Fatalf("first event %q %q %v", ev.Name, ev.Data, err)
			}
			close(next)
			ev, err = s.Next()
			if err != nil || ev.Name != "b" || string(ev.Data) != `{"n":2}` {
				t.Fatalf("second event %q %q %v", ev.Name, ev.Data, err)
			}
			if _, err := s.Next(); err != io.EOF {
				t.Fatalf("end = %v, want io.EOF", err)
			}
		})
	}
}

func TestCompressedModelsAndUsageDecoded(t *testing.T) {
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "zstd")
		e, _ := zstd.NewWriter(w)
		io.WriteString(e, `{"path":"`+r.URL.Path+`"}`)
		e.Close()
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool})
	b, h, err := c.Models(context.Background(), testCreds)
	if err != nil || string(b) != `{"path":"/backend-api/codex/models"}` || h.Get("Content-Encoding") != "" {
		t.Fatalf("Models = %q %v %v", b, h, err)
	}
	b, _, err = c.Usage(context.Background(), testCreds)
	if err != nil || string(b) != `{"path":"/backend-api/wham/usage"}` {
		t.Fatalf("Usage = %q %v", b, err)
	}
}

func TestCorruptCompressedBody(t *testing.T) {
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "zstd")
		io.WriteString(w, "this is not zstd")
	}))
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
	if _, _, err := c.Models(context.Background(), testCreds); err == nil {
		t.Fatal("a corrupt zstd body was accepted")
	}
}
