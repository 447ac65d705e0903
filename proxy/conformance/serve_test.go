package conformance

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// TestServe keeps a harness running for poking at it by hand:
//
//	CONFORMANCE_SERVE=60s go test -run TestServe -v ./proxy/conformance/
//
// then, in another shell, BASE_URL=… API_KEY=sk-local-test-key node
// proxy/conformance/node/run.mjs <client> <scenario>. The fake answers with
// its default responder (no scripted behaviours).
func TestServe(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("CONFORMANCE_SERVE"))
	if err != nil || d <= 0 {
		t.Skip("set CONFORMANCE_SERVE=<duration> to serve a harness by hand")
	}
	h := proxytest.New(t, nil)
	fmt.Printf("BASE_URL=%s API_KEY=%s\n", h.BaseURL, proxytest.APIKey)
	time.Sleep(d)
}
