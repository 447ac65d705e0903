package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
)

var testCreds = auth.Credentials{AccessToken: "tok-123", AccountID: "acct-1"}

// stepHandler writes one SSE event per value received on steps and ends the
// body when steps is closed. It reports the request it saw on reqs.
func stepHandler(steps <-chan string, reqs chan<- *http.Request) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if reqs != nil {
			reqs <- r
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Codex-Primary-Used-Percent", "12.5")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for s := range steps {
			fmt.Fprintf(w, "event: %s\ndata: {\"type\":%q}\n\n", s, s)
			w.(http.Flusher).Flush()
		}
	}
}

func TestStreamingTLSH2(t *testing.T) {
	for _, id := range []Identity{IdentityCodex, IdentityChrome} {
		t.Run(string(id), func(t *testing.T) {
			steps := make(chan string)
			srv, pool := newH2Server(t, stepHandler(steps, nil))
			c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool, Identity: id})
			runSteps(t, c, steps, "HTTP/2.0")
		})
	}
}

func TestStreamingPlainHTTP(t *testing.T) {
	for _, id := range []Identity{IdentityCodex, IdentityChrome} {
		t.Run(string(id), func(t *testing.T) {
			steps := make(chan string)
			srv := httptest.NewServer(stepHandler(steps, nil))
			t.Cleanup(srv.Close)
			c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", Identity: id})
			runSteps(t, c, steps, "HTTP/1.1")
		})
	}
}

func runSteps(t *testing.T, c *Client, steps chan string, wantProto string) {
	t.Helper()
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, SessionID: "sess-1", Body: []byte(`{"model":"x"}`)})
	if err != nil {
		t.Fatalf("Responses: %v", err)
	}
	defer s.Close()
	if s.StatusCode != 200 || s.Proto != wantProto {
		t.Fatalf("status %d proto %q, want 200 %q", s.StatusCode, s.Proto, wantProto)
	}
	if got := s.Header.Get("X-Codex-Primary-Used-Percent"); got != "12.5" {
		t.Fatalf("header = %q", got)
	}
	// The server writes each event only when the test hands it over, after
	// the previous one was read: every Next proves incremental delivery.
	for _, name := range []string{"response.created", "response.output_text.delta", "response.completed"} {
		sent := make(chan struct{})
		go func() { steps <- name; close(sent) }()
		ev, err := s.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recv(t, sent, "server step")
		if ev.Name != name || string(ev.Data) != fmt.Sprintf(`{"type":%q}`, name) {
			t.Fatalf("event = %q %q", ev.Name, ev.Data)
		}
	}
	close(steps)
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("Next at end = %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // idempotent
	if _, err := s.Next(); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Next after Close = %v", err)
	}
}

func TestRequestHeadersAndZstdBody(t *testing.T) {
	type seen struct {
		h    http.Header
		body []byte
		path string
	}
	got := make(chan seen, 1)
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), b, r.URL.Path}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {}\n\n")
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool, Version: "0.170.0", Originator: "codex_exec", InstallationID: "inst-1"})
	body := []byte(`{"model":"gpt-6.2-sol","input":"` + strings.Repeat("hello ", 50) + `"}`)
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, SessionID: "sid-9", TurnState: "ts-1", Model: "gpt-6.2-sol", Effort: "low", Lite: true, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	g := recv(t, got, "request")
	if g.path != "/backend-api/codex/responses" {
		t.Errorf("path %q", g.path)
	}
	want := map[string]string{
		"Authorization":                          "Bearer tok-123",
		"Chatgpt-Account-Id":                     "acct-1",
		"Originator":                             "codex_exec",
		"Version":                                "0.170.0",
		"Session-Id":                             "sid-9",
		"Thread-Id":                              "sid-9",
		"X-Client-Request-Id":                    "sid-9",
		"X-Codex-Window-Id":                      "sid-9:0",
		"X-Codex-Turn-State":                     "ts-1",
		"X-Codex-Beta-Features":                  "remote_compaction_v2",
		"X-Openai-Internal-Codex-Responses-Lite": "true",
		"X-Codex-Routing-Hint":                   "model=gpt-6.2-sol",
		"Accept":                                 "text/event-stream",
		"Accept-Encoding":                        "zstd,gzip",
		"Content-Type":                           "application/json",
		"Content-Encoding":                       "zstd",
	}
	for k, v := range want {
		if g.h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, g.h.Get(k), v)
		}
	}
	for _, gone := range []string{"Openai-Beta", "Session_id"} {
		if v := g.h.Values(gone); len(v) != 0 {
			t.Errorf("0.171 sends no %s, got %q", gone, v)
		}
	}
	if ua := g.h.Get("User-Agent"); !strings.HasPrefix(ua, "codex_exec/0.170.0 (") || !strings.HasSuffix(ua, " (codex_exec; 0.170.0)") {
		t.Errorf("user-agent %q", ua)
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(g.h.Get("X-Codex-Turn-Metadata")), &md); err != nil {
		t.Fatalf("turn metadata: %v", err)
	}
	if md["session_id"] != "sid-9" || md["thread_id"] != "sid-9" || md["window_id"] != "sid-9:0" || md["installation_id"] != "inst-1" ||
		md["model"] != "gpt-6.2-sol" || md["reasoning_effort"] != "low" || md["turn_id"] != md["root_turn_id"] || md["request_kind"] != "turn" {
		t.Errorf("turn metadata %v", md)
	}
	// A zstd frame (RFC 8878): magic, then the frame header descriptor,
	// whose bit 2 is the content checksum flag. zstd's defaults, which the
	// CLI uses, write no checksum.
	if len(g.body) < 5 || !bytes.Equal(g.body[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) || g.body[4]&0x04 != 0 {
		t.Errorf("zstd frame header % x: want the magic and no content checksum", g.body[:min(len(g.body), 6)])
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err := dec.DecodeAll(g.body, nil)
	if err != nil {
		t.Fatalf("zstd body: %v", err)
	}
	var sent struct {
		Model          string            `json:"model"`
		Input          string            `json:"input"`
		ClientMetadata map[string]string `json:"client_metadata"`
	}
	if err := json.Unmarshal(plain, &sent); err != nil || sent.Model != "gpt-6.2-sol" || !strings.HasPrefix(sent.Input, "hello hello") {
		t.Fatalf("body does not round-trip (%v): %.200s", err, plain)
	}
	cm := sent.ClientMetadata
	if len(cm) != 9 || cm["x-codex-turn-metadata"] != g.h.Get("X-Codex-Turn-Metadata") || cm["session_id"] != "sid-9" ||
		cm["thread_id"] != "sid-9" || cm["x-codex-window-id"] != "sid-9:0" || cm["x-codex-installation-id"] != "inst-1" ||
		cm["turn_id"] != md["turn_id"] || cm["guardian_credits_requested"] != "true" || cm["mcp_attribution"] != `{"status":"none"}` {
		t.Errorf("client_metadata %v", cm)
	}
}

func TestIdleTimeout(t *testing.T) {
	serverDone := make(chan struct{})
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: a\ndata: 1\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the client gives up
		close(serverDone)
	}))
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool, Timing: Timing{IdleTimeout: 200 * 1e6}})
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(); err != nil || string(ev.Data) != "1" {
		t.Fatalf("first event: %v %q", err, ev.Data)
	}
	_, err = s.Next()
	if !errors.Is(err, ErrIdleTimeout) {
		t.Fatalf("Next = %v, want ErrIdleTimeout", err)
	}
	recv(t, serverDone, "server to see the cancellation")
}

func TestHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool, Timing: Timing{HeaderTimeout: 200 * 1e6}})
	_, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if !errors.Is(err, ErrHeaderTimeout) {
		t.Fatalf("Responses = %v, want ErrHeaderTimeout", err)
	}
	if errors.Is(err, ErrIdleTimeout) {
		t.Fatal("wrong watchdog")
	}
}

func TestCallerCancelReachesServer(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			serverSawDone := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: first\n\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				close(serverSawDone)
			})
			var c *Client
			if plain {
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				c = newClient(t, Config{BaseURL: srv.URL})
			} else {
				srv, pool := newH2Server(t, h)
				c = newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := c.Responses(ctx, Request{Creds: testCreds, Body: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ev, err := s.Next(); err != nil || string(ev.Data) != "first" {
				t.Fatalf("first event: %v %q", err, ev.Data)
			}
			cancel()
			if _, err := s.Next(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Next after cancel = %v, want context.Canceled", err)
			}
			recv(t, serverSawDone, "server handler ctx.Done")
		})
	}
}

func TestCancelBeforeHeaders(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Responses(ctx, Request{Creds: testCreds, Body: []byte(`{}`)})
		errc <- err
	}()
	recv(t, entered, "handler")
	cancel()
	if err := recv(t, errc, "Responses to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Responses = %v, want context.Canceled", err)
	}
}

func TestStatusError(t *testing.T) {
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Codex-Primary-Used-Percent", "100")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"type":"usage_limit_reached"}}`)
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool})
	_, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StatusError", err)
	}
	if se.StatusCode != 429 || string(se.Body) != `{"error":{"type":"usage_limit_reached"}}` ||
		se.Header.Get("X-Codex-Primary-Used-Percent") != "100" || se.URL != srv.URL+"/backend-api/codex/responses" {
		t.Fatalf("StatusError = %+v", se)
	}
	if se.Error() == "" || strings.Contains(se.Error(), "tok-123") {
		t.Fatalf("Error() = %q", se.Error())
	}
}

func TestStatusErrorBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write(bytes.Repeat([]byte("x"), maxErrorBody+1000))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Config{BaseURL: srv.URL})
	_, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	var se *StatusError
	if !errors.As(err, &se) || len(se.Body) != maxErrorBody {
		t.Fatalf("err = %v (body %d)", err, len(se.Body))
	}
}

func TestGzipDecodedHeadersStripped(t *testing.T) {
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Encoding", "gzip")
		zw := newGzip(w)
		io.WriteString(zw, "data: zipped\n\n")
		zw.Close()
	}))
	// Chrome asks for compression; fhttp decodes it transparently.
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool, Identity: IdentityChrome})
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ce := s.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("Content-Encoding left in header: %q", ce)
	}
	ev, err := s.Next()
	if err != nil || string(ev.Data) != "zipped" {
		t.Fatalf("Next = %q, %v", ev.Data, err)
	}
}

func TestModels(t *testing.T) {
	type seen struct {
		query string
		h     http.Header
	}
	got := make(chan seen, 2)
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.RawQuery, r.Header.Clone()}
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"detail":"no"}`)
			return
		}
		w.Header().Set("X-Models-Etag", `W/"abc"`)
		io.WriteString(w, `{"models":[]}`)
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool, Version: "0.169.0"})
	body, h, err := c.Models(context.Background(), testCreds)
	if err != nil || string(body) != `{"models":[]}` || h.Get("X-Models-Etag") != `W/"abc"` {
		t.Fatalf("Models = %q %v %v", body, h, err)
	}
	g := recv(t, got, "request")
	if g.query != "client_version=0.169.0" || g.h.Get("Version") != "0.169.0" || g.h.Get("Chatgpt-Account-Id") != "acct-1" {
		t.Fatalf("request = %+v", g)
	}
	_, _, err = c.Models(context.Background(), auth.Credentials{AccessToken: "bad"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 || string(se.Body) != `{"detail":"no"}` {
		t.Fatalf("err = %v", err)
	}
}

func TestDoWebCookies(t *testing.T) {
	type seen struct {
		cookie string
		h      http.Header
	}
	got := make(chan seen, 2)
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("Cookie"), r.Header.Clone()}
		http.SetCookie(w, &http.Cookie{Name: "__cf_bm", Value: "cf1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "__Secure-next-auth.session-token.0", Value: "rot0", Path: "/", Secure: true})
		http.SetCookie(w, &http.Cookie{Name: "__Secure-next-auth.session-token.1", Value: "rot1", Path: "/", Secure: true})
		io.WriteString(w, `{"accessToken":"x"}`)
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool})
	hdr := [][2]string{{"Cookie", "__Secure-next-auth.session-token=old"}, {"X-Test", "1"}}
	res, err := c.Do(context.Background(), RouteWeb, "GET", srv.URL+"/api/auth/session", hdr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || string(res.Body) != `{"accessToken":"x"}` || len(res.Header.Values("Set-Cookie")) != 3 {
		t.Fatalf("Do = %d %q %v", res.StatusCode, res.Body, res.Header)
	}
	g := recv(t, got, "first request")
	if g.cookie != "__Secure-next-auth.session-token=old" {
		t.Fatalf("first cookie = %q", g.cookie)
	}
	if !strings.HasPrefix(g.h.Get("User-Agent"), "Mozilla/5.0") || g.h.Get("Sec-Fetch-Mode") != "cors" || g.h.Get("X-Test") != "1" || g.h.Get("Originator") != "" {
		t.Fatalf("web headers = %v", g.h)
	}
	// The second request gets the stored Cloudflare cookie, but not the stored
	// session chunks: the caller's session cookie family wins.
	if _, err := c.Do(context.Background(), RouteWeb, "GET", srv.URL+"/api/auth/session", hdr, nil); err != nil {
		t.Fatal(err)
	}
	g = recv(t, got, "second request")
	if g.cookie != "__Secure-next-auth.session-token=old; __cf_bm=cf1" {
		t.Fatalf("second cookie = %q", g.cookie)
	}
}

func TestDoAuthRoute(t *testing.T) {
	type seen struct {
		h    http.Header
		body string
	}
	got := make(chan seen, 1)
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), string(b)}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
	}))
	c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool, Identity: IdentityChrome})
	res, err := c.Do(context.Background(), RouteAuth, "POST", srv.URL+"/oauth/token",
		[][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, []byte("grant_type=refresh_token"))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 400 || string(res.Body) != `{"error":"invalid_grant"}` {
		t.Fatalf("Do = %d %q", res.StatusCode, res.Body)
	}
	g := recv(t, got, "request")
	if g.body != "grant_type=refresh_token" || g.h.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		!strings.HasPrefix(g.h.Get("User-Agent"), "codex_cli_rs/") || g.h.Get("Sec-Fetch-Mode") != "" {
		t.Fatalf("auth request = %+v", g)
	}
}

func TestDoCancelReturnsPromptly(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	defer close(release)
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, RouteCodex, "GET", srv.URL+"/x", nil, nil)
		errc <- err
	}()
	recv(t, entered, "handler")
	cancel()
	if err := recv(t, errc, "Do to return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "ftp://x"},
		{Identity: "firefox"},
		{Proxy: "ftp://proxy:21"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func newGzip(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

func TestCloseUnblocksNext(t *testing.T) {
	serverSawDone := make(chan struct{})
	srv, pool := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(serverSawDone)
	}))
	c := newClient(t, Config{BaseURL: srv.URL, RootCAs: pool})
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := s.Next()
		errc <- err
	}()
	go s.Close()
	if err := recv(t, errc, "Next to return"); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Next = %v, want ErrStreamClosed", err)
	}
	recv(t, serverSawDone, "server handler ctx.Done")
}
