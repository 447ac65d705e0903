package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// capture is what the capture server saw on one connection.
type capture struct {
	conn        int
	hello       tls.ClientHelloInfo
	proto       string
	settings    []http2.Setting
	window      uint32
	hasPriority bool
	priority    http2.PriorityParam
	pseudo      []string
	headers     []string
	values      [][2]string // the request's regular headers, name and value, in wire order
	frames      []string    // frame types the client sent before the request's HEADERS
}

// captureServer accepts TLS connections on 127.0.0.1, records the
// ClientHello and, for h2, the client's SETTINGS, WINDOW_UPDATE and first
// HEADERS frame, then answers 200 with an empty body.
func captureServer(t *testing.T) (addr string, out <-chan capture, roots *x509.CertPool) {
	t.Helper()
	cert, roots := localhostCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan capture, 16)
	go func() {
		for n := 1; ; n++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveCapture(n, conn, cert, ch)
		}
	}()
	return ln.Addr().String(), ch, roots
}

func serveCapture(n int, conn net.Conn, cert tls.Certificate, ch chan<- capture) {
	defer conn.Close()
	c := capture{conn: n}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			c.hello = *h
			return nil, nil
		},
	}
	tc := tls.Server(conn, cfg)
	if err := tc.Handshake(); err != nil {
		ch <- c
		return
	}
	c.proto = tc.ConnectionState().NegotiatedProtocol
	if c.proto != "h2" {
		ch <- c
		return
	}
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(tc, preface); err != nil {
		ch <- c
		return
	}
	fr := http2.NewFramer(tc, tc)
	fr.ReadMetaHeaders = hpack.NewDecoder(65536, nil)
	reported := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if !reported {
				ch <- c // lets the test fail on the missing request
			}
			return
		}
		if sf, ok := f.(*http2.SettingsFrame); !reported && len(c.frames) < 8 && (!ok || !sf.IsAck()) {
			c.frames = append(c.frames, f.Header().Type.String())
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = f.ForeachSetting(func(s http2.Setting) error { c.settings = append(c.settings, s); return nil })
				_ = fr.WriteSettings()
				_ = fr.WriteSettingsAck()
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 && c.window == 0 {
				c.window = f.Increment
			}
		case *http2.MetaHeadersFrame:
			// Report each request with the connection's hello and settings,
			// and answer it, so a reused connection cannot stall a test.
			r := c
			r.settings = slices.Clone(c.settings)
			r.frames = slices.Clone(c.frames)
			r.hasPriority = f.HasPriority()
			r.priority = f.Priority
			for _, hf := range f.Fields {
				if hf.IsPseudo() {
					r.pseudo = append(r.pseudo, hf.Name)
				} else {
					r.headers = append(r.headers, hf.Name)
					r.values = append(r.values, [2]string{hf.Name, hf.Value})
				}
			}
			var buf strings.Builder
			enc := hpack.NewEncoder(&buf)
			_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: []byte(buf.String()), EndHeaders: true, EndStream: true})
			ch <- r
			reported = true
		}
	}
}

var recordACiphers = []uint16{4866, 4865, 4867, 49196, 49195, 52393, 49200, 49199, 52392, 255}
var recordAExtensions = []uint16{0, 5, 10, 11, 13, 16, 23, 35, 43, 45, 51}
var recordASigAlgs = []tls.SignatureScheme{1283, 1027, 1539, 2055, 2054, 2053, 2052, 1537, 1281, 1025, 2308, 2309, 2310}

func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

func sorted(v []uint16) []uint16 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s
}

func settingsString(ss []http2.Setting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%d:%d", s.ID, s.Val))
	}
	return strings.Join(parts, ";")
}

func pseudoString(p []string) string {
	var b []string
	for _, n := range p {
		b = append(b, n[1:2])
	}
	return strings.Join(b, ",")
}

// oneRequest makes one /responses request and then closes the idle
// connection, so that the next request opens a new one.
func oneRequest(t *testing.T, c *Client) {
	t.Helper()
	s, err := c.Responses(context.Background(), Request{Creds: testCreds, SessionID: "sid", Body: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatalf("Responses: %v", err)
	}
	// Reading to the end makes the connection idle before Close.
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	s.Close()
	c.CloseIdleConnections()
}

func TestCodexFingerprint(t *testing.T) {
	addr, caps, roots := captureServer(t)
	_, port, _ := net.SplitHostPort(addr)
	var orders [][]uint16
	conns := map[int]bool{}
	for i := 0; i < 3; i++ {
		// A fresh Client per request guarantees a fresh connection.
		oneRequest(t, newClient(t, Config{BaseURL: "https://localhost:" + port + "/backend-api", RootCAs: roots}))
		cp := recv(t, caps, "capture")
		if conns[cp.conn] {
			t.Fatal("connection reused")
		}
		conns[cp.conn] = true
		h := cp.hello
		if !reflect.DeepEqual(h.CipherSuites, recordACiphers) {
			t.Fatalf("ciphers %v, want record A %v", h.CipherSuites, recordACiphers)
		}
		if got := sorted(h.Extensions); !reflect.DeepEqual(got, recordAExtensions) {
			t.Fatalf("extensions %v, want record A's set %v (no GREASE, no PSK)", h.Extensions, recordAExtensions)
		}
		if !reflect.DeepEqual(h.SupportedProtos, []string{"h2", "http/1.1"}) ||
			!reflect.DeepEqual(h.SupportedCurves, []tls.CurveID{4588, 29, 23, 24}) ||
			!reflect.DeepEqual(h.SignatureSchemes, recordASigAlgs) ||
			!reflect.DeepEqual(h.SupportedVersions, []uint16{772, 771}) ||
			!reflect.DeepEqual(h.SupportedPoints, []uint8{0}) ||
			h.ServerName != "localhost" {
			t.Fatalf("hello differs from record A: %+v", h)
		}
		if cp.proto != "h2" {
			t.Fatalf("negotiated %q", cp.proto)
		}
		if got := settingsString(cp.settings); got != "2:0;4:2097152;5:16384;6:16384" {
			t.Fatalf("SETTINGS %s", got)
		}
		if cp.window != 5177345 || cp.hasPriority || pseudoString(cp.pseudo) != "m,s,a,p" {
			t.Fatalf("h2: window %d priority %v pseudo %v", cp.window, cp.hasPriority, cp.pseudo)
		}
		want := []string{"version", "x-codex-beta-features", "x-codex-window-id", "x-codex-turn-metadata", "x-client-request-id", "session-id", "thread-id",
			"accept", "content-encoding", "content-type", "authorization", "chatgpt-account-id", "originator", "user-agent", "accept-encoding", "content-length"}
		if !reflect.DeepEqual(cp.headers, want) {
			t.Fatalf("h2 header order\n got %v\nwant %v", cp.headers, want)
		}
		orders = append(orders, h.Extensions)
	}
	if reflect.DeepEqual(orders[0], orders[1]) && reflect.DeepEqual(orders[1], orders[2]) {
		t.Fatalf("extension order never changed: %v", orders[0])
	}
}

func TestChromeFingerprint(t *testing.T) {
	addr, caps, roots := captureServer(t)
	_, port, _ := net.SplitHostPort(addr)
	c := newClient(t, Config{BaseURL: "https://localhost:" + port + "/backend-api", RootCAs: roots, Identity: IdentityChrome})
	chromeCiphers := []uint16{4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53}
	var resumed bool
	conns := map[int]bool{}
	for attempt := 0; len(conns) < 2; attempt++ {
		if attempt == 10 {
			t.Fatal("the client kept reusing its connection; resumption untested")
		}
		oneRequest(t, c)
		cp := recv(t, caps, "capture")
		if conns[cp.conn] {
			continue // CloseIdleConnections raced with the stream's cleanup
		}
		conns[cp.conn] = true
		h := cp.hello
		if len(h.CipherSuites) != 16 || !isGREASE(h.CipherSuites[0]) || !reflect.DeepEqual(h.CipherSuites[1:], chromeCiphers) {
			t.Fatalf("ciphers %v", h.CipherSuites)
		}
		if !reflect.DeepEqual(h.SupportedProtos, []string{"h2", "http/1.1"}) {
			t.Fatalf("ALPN %v", h.SupportedProtos)
		}
		grease := 0
		for _, e := range h.Extensions {
			if isGREASE(e) {
				grease++
			}
		}
		for _, want := range []uint16{17613, 65037, 27, 0xca34, 18, 65281} {
			if !slices.Contains(h.Extensions, want) {
				t.Fatalf("extension %d missing from %v", want, h.Extensions)
			}
		}
		if grease != 2 || !isGREASE(h.Extensions[0]) {
			t.Fatalf("GREASE extensions %v", h.Extensions)
		}
		if slices.Contains(h.Extensions, 41) {
			resumed = true
		}
		if got := settingsString(cp.settings); got != "1:65536;2:0;4:6291456;6:262144" {
			t.Fatalf("SETTINGS %s", got)
		}
		if cp.window != 15663105 || !cp.hasPriority || cp.priority != (http2.PriorityParam{Exclusive: true, StreamDep: 0, Weight: 219}) ||
			pseudoString(cp.pseudo) != "m,a,s,p" {
			t.Fatalf("h2: window %d priority %v %+v pseudo %v", cp.window, cp.hasPriority, cp.priority, cp.pseudo)
		}
		want := []string{"content-length", "sec-ch-ua-platform", "user-agent", "sec-ch-ua", "content-type",
			"authorization", "chatgpt-account-id", "originator", "version", "openai-beta", "session_id",
			"sec-ch-ua-mobile", "accept", "origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest",
			"referer", "accept-encoding", "accept-language", "priority"}
		if !reflect.DeepEqual(cp.headers, want) {
			t.Fatalf("h2 header order\n got %v\nwant %v", cp.headers, want)
		}
	}
	if !resumed {
		t.Fatal("the second Chrome connection did not offer a PSK (Chrome resumes)")
	}
}

// rawH1 accepts one plain HTTP/1.1 request per connection, sends its header
// names in wire order (lowercased) on out and answers with a tiny SSE body.
func rawH1(t *testing.T) (string, <-chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan []string, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				if _, err := br.ReadString('\n'); err != nil {
					return
				}
				var names []string
				length := 0
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					if line == "" {
						break
					}
					k, v, _ := strings.Cut(line, ":")
					names = append(names, strings.ToLower(k))
					if strings.EqualFold(k, "content-length") {
						length, _ = strconv.Atoi(strings.TrimSpace(v))
					}
				}
				_, _ = io.CopyN(io.Discard, br, int64(length))
				out <- names
				body := "data: ok\n\n"
				fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), out
}

func TestHTTP1HeaderOrder(t *testing.T) {
	base, names := rawH1(t)
	tests := []struct {
		id   Identity
		want []string
	}{
		{IdentityCodex, []string{"version", "x-codex-beta-features", "x-codex-window-id", "x-codex-turn-metadata", "x-client-request-id", "session-id",
			"thread-id", "x-codex-turn-state", "accept", "content-encoding", "content-type", "authorization", "chatgpt-account-id", "originator",
			"user-agent", "accept-encoding", "host", "content-length"}},
		{IdentityChrome, []string{"host", "content-length", "sec-ch-ua-platform", "user-agent", "sec-ch-ua", "content-type",
			"authorization", "chatgpt-account-id", "originator", "version", "openai-beta", "session_id", "x-codex-turn-state",
			"sec-ch-ua-mobile", "accept", "origin", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer",
			"accept-encoding", "accept-language", "priority"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.id), func(t *testing.T) {
			c := newClient(t, Config{BaseURL: base + "/backend-api", Identity: tc.id})
			s, err := c.Responses(context.Background(), Request{Creds: testCreds, SessionID: "sid", TurnState: "ts", Body: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := s.Next()
			s.Close()
			if err != nil || string(ev.Data) != "ok" {
				t.Fatalf("Next = %q %v", ev.Data, err)
			}
			if got := recv(t, names, "request"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("wire order\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	t.Run("web GET", func(t *testing.T) {
		c := newClient(t, Config{BaseURL: base + "/backend-api"})
		res, err := c.Do(context.Background(), RouteWeb, "GET", base+"/api/auth/session",
			[][2]string{{"Cookie", "__Secure-next-auth.session-token=abc"}, {"Accept", "application/json"}}, nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("Do = %v %v", res, err)
		}
		want := []string{"host", "sec-ch-ua-platform", "user-agent", "sec-ch-ua", "sec-ch-ua-mobile", "accept",
			"sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer", "accept-encoding", "accept-language", "cookie", "priority"}
		if got := recv(t, names, "request"); !reflect.DeepEqual(got, want) {
			t.Fatalf("wire order\n got %v\nwant %v", got, want)
		}
	})
	t.Run("codex models", func(t *testing.T) {
		c := newClient(t, Config{BaseURL: base + "/backend-api"})
		if _, _, err := c.Models(context.Background(), testCreds); err != nil {
			t.Fatal(err)
		}
		want := []string{"version", "authorization", "chatgpt-account-id", "originator", "user-agent", "accept", "accept-encoding", "host"}
		if got := recv(t, names, "request"); !reflect.DeepEqual(got, want) {
			t.Fatalf("wire order\n got %v\nwant %v", got, want)
		}
	})
}
