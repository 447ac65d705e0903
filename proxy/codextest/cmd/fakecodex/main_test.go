package main

import (
	"bytes"
	"log"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

// TestRequestLog: every answered request is printed once, with the status
// it got, also after the fake forgot the older ones.
func TestRequestLog(t *testing.T) {
	s := codextest.New(codextest.WithKeep(2))
	s.Start()
	defer s.Close()
	var out bytes.Buffer
	log.SetOutput(&out)
	log.SetFlags(0)
	defer log.SetOutput(os.Stderr)
	get := func(n int) {
		for range n {
			resp, err := http.Get(s.BaseURL() + "/codex/models?client_version=0.171.0")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	var l requestLog
	get(3)
	l.print(s)
	l.print(s)
	get(5) // more than the fake keeps between two prints
	l.print(s)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, line := range lines {
		if !strings.HasPrefix(line, "GET /backend-api/codex/models ") || strings.HasSuffix(line, " 0") {
			t.Errorf("line %q", line)
		}
	}
	// The first three, then the two to four the fake still kept.
	if n := len(lines); n < 3+2 || n > 3+4 {
		t.Errorf("%d lines, want 5 to 7:\n%s", n, out.String())
	}
	if len(l.printed) > 4 {
		t.Errorf("%d requests still remembered as printed", len(l.printed))
	}
}
