package proxy_test

import (
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
)

// Errors that the same request cannot escape by being sent again carry
// X-Should-Retry: false, so SDKs and Claude Code stop at once instead of
// retrying for minutes; transient ones do not.
func TestNoRetryHeader(t *testing.T) {
	h := newHarness(t, nil)
	do := func(method, path, key, body string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, strings.TrimSuffix(h.BaseURL, "/v1")+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, c := range []struct {
		name   string
		resp   *http.Response
		status int
	}{
		{"wrong key, chat", do("POST", "/v1/chat/completions", "sk-wrong", `{}`), 401},
		{"wrong key, messages", do("POST", "/v1/messages", "sk-wrong", `{}`, "anthropic-version", "2023-06-01"), 401},
		{"missing key, responses", do("POST", "/v1/responses", "", `{}`), 401},
		{"bad input", do("POST", "/v1/chat/completions", testKey, `{"model":"gpt-5.5","messages":[]}`), 400},
		{"unknown route", do("GET", "/v1/nowhere", testKey, ``), 404},
	} {
		if c.resp.StatusCode != c.status || c.resp.Header.Get("X-Should-Retry") != "false" {
			t.Errorf("%s: %d, X-Should-Retry %q", c.name, c.resp.StatusCode, c.resp.Header.Get("X-Should-Retry"))
		}
	}
}

// A browser on an allowed origin may call every route: the preflight
// allows DELETE (stored responses) and the Anthropic SDK's headers.
func TestCORSPreflightCoversEveryDialect(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_ALLOWED_ORIGINS": "https://app.example.com"})
	req, _ := http.NewRequest("OPTIONS", h.BaseURL+"/responses/resp_1", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "DELETE")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	methods := resp.Header.Get("Access-Control-Allow-Methods")
	headers := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	if resp.StatusCode != 204 || !strings.Contains(methods, "DELETE") {
		t.Errorf("preflight %d, methods %q", resp.StatusCode, methods)
	}
	for _, want := range []string{"anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access", "x-api-key", "authorization"} {
		if !strings.Contains(headers, want) {
			t.Errorf("preflight does not allow %s: %q", want, headers)
		}
	}
}

// The API key is checked before a body is decompressed or scanned: a
// client without it gets 401 for a compressed bomb, not a 413 that would
// show the server inflated it.
func TestKeyCheckedBeforeDecompression(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_BODY_LIMIT": "64K"})
	var buf strings.Builder
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(make([]byte, 1<<20)) // 1 MiB of zeros: over the limit once inflated
	_ = zw.Close()
	for _, key := range []string{"", "sk-wrong", testKey} {
		req, _ := http.NewRequest("POST", h.BaseURL+"/chat/completions", strings.NewReader(buf.String()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 401
		if key == testKey {
			want = 413
		}
		if resp.StatusCode != want {
			t.Errorf("key %q: status %d, want %d", key, resp.StatusCode, want)
		}
	}
}
