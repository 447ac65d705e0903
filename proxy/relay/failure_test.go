package relay

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

func fixedNow() time.Time { return time.Unix(1764000000, 0) }

func TestHTTPFailure(t *testing.T) {
	now := fixedNow()
	cases := []struct {
		name   string
		status int
		body   string
		want   int
		code   string
		retry  bool
	}{
		{"detail_400", 400, `{"detail":"Unsupported parameter: top_p"}`, 400, "", false},
		{"retired_model", 400, `{"detail":"The 'gpt-5.2' model is not supported when using Codex with a ChatGPT account."}`, 400, "model_not_found", false},
		{"openai_400", 400, `{"error":{"message":"Unsupported value","type":"invalid_request_error","param":"reasoning.effort","code":"unsupported_value"}}`, 400, "unsupported_value", false},
		{"unauthorized", 401, `{"detail":"Unauthorized"}`, 401, "chatgpt_unauthorized", false},
		{"cloudflare", 403, `<!DOCTYPE html><title>Just a moment...</title>`, 403, "blocked_by_cloudflare", false},
		{"usage_limit", 429, `{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1764013872,"resets_in_seconds":13872}}`, 429, "usage_limit_reached", false},
		{"usage_not_included", 429, `{"error":{"type":"usage_not_included","message":"no"}}`, 403, "usage_not_included", false},
		{"rate_limited", 429, `{"error":{"code":"rate_limit_exceeded","message":"slow down"}}`, 429, "rate_limit_exceeded", true},
		{"overloaded", 503, `{"error":{"code":"server_is_overloaded","message":"busy"}}`, 503, "server_is_overloaded", false},
		{"server_500", 500, ``, 502, "upstream_error", true},
		{"too_large", 413, ``, 400, "context_too_large", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := HTTPFailure(c.status, map[string][]string{}, []byte(c.body), now)
			if f.Err.Status != c.want || f.Retryable != c.retry {
				t.Errorf("status=%d retry=%v, want %d %v (%s)", f.Err.Status, f.Retryable, c.want, c.retry, f.Err.Message)
			}
			got := ""
			if f.Err.Code != nil {
				got = *f.Err.Code
			}
			if got != c.code {
				t.Errorf("code = %q, want %q", got, c.code)
			}
		})
	}
	f := HTTPFailure(429, map[string][]string{}, []byte(cases[5].body), now)
	if f.Err.Header.Get("Retry-After") != "13872" || !f.LimitedUntil.Equal(time.Unix(1764013872, 0)) || !strings.Contains(f.Err.Message, "plus plan") {
		t.Errorf("usage limit: %q %v %q", f.Err.Header.Get("Retry-After"), f.LimitedUntil, f.Err.Message)
	}
}

// TestReadFailureWording: a stream that broke off while it was read is
// not reported as a backend out of reach; the other read failures keep
// their own words.
func TestReadFailureWording(t *testing.T) {
	code := func(f *Failure) string { return *f.Err.Code }
	if f := readFailure(fmt.Errorf("read sse: %w", io.ErrUnexpectedEOF)); code(f) != "stream_closed" || !strings.Contains(f.Err.Message, "broke off") || !f.Retryable {
		t.Errorf("cut mid-event: %s %q", code(f), f.Err.Message)
	}
	if f := readFailure(upstream.ErrIdleTimeout); code(f) != "upstream_timeout" {
		t.Errorf("idle timeout: %s", code(f))
	}
	if f := transportFailure(errors.New("dial tcp: connection refused")); code(f) != "upstream_unreachable" {
		t.Errorf("dial: %s", code(f))
	}
}
