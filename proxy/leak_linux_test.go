package proxy_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// sockets counts this process's open sockets: the test's client
// connections, the app's on both sides, and the fake's.
func sockets(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// TestNoLeaks runs streams that finish, fail, are cut by the backend and
// are aborted by the client, and checks that goroutines and open
// connections (client side and upstream side) return to their baseline.
func TestNoLeaks(t *testing.T) {
	h := proxytest.New(t, nil)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	send := func(ctx context.Context, stream bool, abort bool) {
		body := `{"model":"gpt-5.5","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `,"messages":[{"role":"user","content":"hi"}]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", h.BaseURL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+proxytest.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if abort {
			buf := make([]byte, 1)
			_, _ = resp.Body.Read(buf) // the first byte, then go away
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	scenarios := []struct {
		name  string
		queue func() codextest.Behavior
		abort bool
	}{
		{"finish", func() codextest.Behavior { return codextest.Reply(codextest.Text("done")) }, false},
		{"fail", func() codextest.Behavior { return codextest.Fail("server_error", "boom") }, false},
		{"cut", func() codextest.Behavior { return codextest.Cut("partial") }, false},
		{"cut_before_output", func() codextest.Behavior { return codextest.CutAbruptly("") }, false},
		{"client_abort", func() codextest.Behavior { return codextest.Stall("partial") }, true},
	}
	round := func() {
		for _, sc := range scenarios {
			for _, stream := range []bool{true, false} {
				if sc.abort && !stream {
					continue
				}
				// Failures before output are retried: queue enough.
				h.Fake.Enqueue(codextest.Repeat(sc.queue(), 4)...)
				ctx, cancel := context.WithCancel(context.Background())
				send(ctx, stream, sc.abort)
				cancel()
				h.Fake.Reset()
			}
		}
		tr.CloseIdleConnections()
	}
	round() // warm up: pools, the catalog, timers
	settle := func() (int, int) {
		runtime.GC()
		return runtime.NumGoroutine(), sockets(t)
	}
	time.Sleep(200 * time.Millisecond)
	g0, s0 := settle()
	for i := 0; i < 3; i++ {
		round()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, s := settle()
		if g <= g0 && s <= s0 {
			t.Logf("goroutines %d (baseline %d), sockets %d (baseline %d)", g, g0, s, s0)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (baseline %d), sockets %d (baseline %d)\n%s", g, g0, s, s0, buf[:n])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
