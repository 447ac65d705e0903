package upstream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// connectProxy is a tiny HTTP CONNECT proxy on loopback. It reports each
// CONNECT target and Proxy-Authorization header it sees.
func connectProxy(t *testing.T) (string, <-chan [2]string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	seen := make(chan [2]string, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					io.WriteString(conn, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
					return
				}
				seen <- [2]string{req.Host, req.Header.Get("Proxy-Authorization")}
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer up.Close()
				io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
				done := make(chan struct{}, 2)
				go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
				go func() { io.Copy(conn, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return "http://user:pa%20ss@" + ln.Addr().String(), seen
}

func TestHTTPConnectProxy(t *testing.T) {
	for _, id := range []Identity{IdentityCodex, IdentityChrome} {
		t.Run(string(id), func(t *testing.T) {
			steps := make(chan string)
			srv, pool := newH2Server(t, stepHandler(steps, nil))
			proxyURL, seen := connectProxy(t)
			c := newClient(t, Config{BaseURL: srv.URL + "/backend-api", RootCAs: pool, Proxy: proxyURL, Identity: id})
			go func() { steps <- "response.completed"; close(steps) }()
			s, err := c.Responses(context.Background(), Request{Creds: testCreds, Body: []byte(`{}`)})
			if err != nil {
				t.Fatalf("Responses through proxy: %v", err)
			}
			defer s.Close()
			ev, err := s.Next()
			if err != nil || ev.Name != "response.completed" || s.Proto != "HTTP/2.0" {
				t.Fatalf("Next = %q %v (%s)", ev.Name, err, s.Proto)
			}
			got := recv(t, seen, "CONNECT")
			if got[0] != srv.Listener.Addr().String() {
				t.Fatalf("CONNECT %q, want %q", got[0], srv.Listener.Addr().String())
			}
			if got[1] != "Basic dXNlcjpwYSBzcw==" { // user:pa ss
				t.Fatalf("Proxy-Authorization %q", got[1])
			}
		})
	}
}
