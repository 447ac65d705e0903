package upstream

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stallingListener accepts connections as usual until stall is set; from
// then on it takes each new connection from the kernel and holds it
// without a word, like a middlebox that swallows the TLS handshake.
type stallingListener struct {
	net.Listener
	stall atomic.Bool
	mu    sync.Mutex
	held  []net.Conn
}

func (l *stallingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.stall.Load() {
			return c, err
		}
		l.mu.Lock()
		l.held = append(l.held, c)
		l.mu.Unlock()
	}
}

func (l *stallingListener) Close() error {
	l.mu.Lock()
	for _, c := range l.held {
		_ = c.Close()
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

// TestStalledRedialIsBounded: once the backend closed the HTTP/2
// connection, the next request makes tls-client open another one without
// the request's context (so that no cancellation reaches it); a handshake
// that never completes must end within DialTimeout, not hold the request
// (and every request after it) for good.
func TestStalledRedialIsBounded(t *testing.T) {
	srv := httptest.NewUnstartedServer(stepHandler(closedSteps(), nil))
	srv.EnableHTTP2 = true
	ln := &stallingListener{Listener: srv.Listener}
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := certPool(srv)
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool, Timing: Timing{DialTimeout: 300 * time.Millisecond}})

	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Proto != "HTTP/2.0" {
		t.Fatalf("first request went over %s, want HTTP/2", s.Proto)
	}
	_ = s.Finish()

	ln.stall.Store(true)
	srv.CloseClientConnections()
	errc := make(chan error, 1)
	start := time.Now()
	go func() {
		// The client may first try the connection it still believes
		// open; what counts is that it ends in time.
		var err error
		for range 3 {
			var s *Stream
			if s, err = c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)}); err == nil {
				_ = s.Close()
				err = errors.New("answered over a connection that should not exist")
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("request after the stalled re-dial = %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the stalled re-dial ended after %v, want about 300ms", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request hangs in a re-dial whose handshake never completes")
	}
}

// closedSteps is a closed channel: stepHandler answers with headers only.
func closedSteps() chan string {
	ch := make(chan string)
	close(ch)
	return ch
}

// certPool trusts srv's certificate.
func certPool(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

// TestRedialedConnectionOutlivesDialTimeout: the bound of a re-dial ends
// with its handshake; a stream over the new connection may stay quiet for
// longer than DialTimeout.
func TestRedialedConnectionOutlivesDialTimeout(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if requests.Add(1) > 1 {
			time.Sleep(700 * time.Millisecond) // quiet for longer than the dial bound
		}
		_, _ = io.WriteString(w, "event: e\ndata: {\"type\":\"e\"}\n\n")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: certPool(srv), Timing: Timing{DialTimeout: 300 * time.Millisecond}})
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Finish()

	srv.CloseClientConnections()
	for attempt := 0; ; attempt++ {
		s, err = c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
		if err == nil || attempt == 2 {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || string(ev.Data) != `{"type":"e"}` {
		t.Fatalf("event after a quiet spell over the re-dialled connection: %q, %v", ev.Data, err)
	}
}
