package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// TestRequestLogNamesRefusals: the request line of a refused request says
// why (clipped), in both dialects; a successful one and a 5xx (which has
// a warning of its own) carry no reason.
func TestRequestLogNamesRefusals(t *testing.T) {
	long := strings.Repeat("é", 400) // cut on a rune boundary
	cases := []struct {
		name, path string
		err        error
		want       string // in the line; "" for no error attribute
	}{
		{"chat 400", "/v1/chat/completions", apierr.InvalidRequest("messages", "'messages' must be an array"), `error="'messages' must be an array"`},
		{"messages 400", "/v1/messages", apierr.InvalidRequest("max_tokens", "max_tokens: Field required"), `error="max_tokens: Field required"`},
		{"messages type error", "/v1/messages", &apierr.Error{Status: 400, Message: "Invalid type for 'stream'", Cause: &dialect.Mismatch{Path: "stream", Want: "a boolean", Got: "a string"}}, `error="stream: Input should be a valid boolean"`},
		{"unknown model", "/v1/responses", apierr.Errorf(http.StatusNotFound, "invalid_request_error", "The model 'gpt-foo' does not exist"), `error="The model 'gpt-foo' does not exist"`},
		{"long", "/v1/chat/completions", apierr.InvalidRequest("x", "%s", long), "é…"},
		{"too large", "/v1/chat/completions", dialect.ErrTooLarge, "the limit is 4 KiB"},
		{"upstream 502", "/v1/chat/completions", apierr.Errorf(http.StatusBadGateway, "upstream_error", "secret-free failure"), ""},
		{"ok", "/v1/chat/completions", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil)), bodyLimit: 4 << 10}
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, tc.path, nil), httptest.NewRecorder())
			_ = s.logRequests(func(c echo.Context) error {
				if tc.err == nil {
					return c.NoContent(http.StatusOK)
				}
				return tc.err
			})(c)
			line := buf.String()
			if tc.want == "" {
				if strings.Contains(line, " error=") {
					t.Fatalf("line carries a reason: %s", line)
				}
				return
			}
			if !strings.Contains(line, tc.want) || !strings.Contains(line, " error=") {
				t.Fatalf("line %q lacks %q", line, tc.want)
			}
			if tc.name == "long" {
				if n := len(line); n > maxLoggedReason+200 {
					t.Fatalf("line of %d bytes: the reason was not clipped", n)
				}
				if !strings.Contains(line, "é…") {
					t.Fatalf("not cut on a rune boundary: %q", line[len(line)-40:])
				}
			}
		})
	}
}

// TestRequestLogClientGone: a client that left before its answer began is
// logged with 499, not the 200 nobody received; one that left mid-stream
// keeps its status with the reason. A client that closes right after a
// complete answer (its context cancelled before the log line) is not
// taken for one that left.
func TestRequestLogClientGone(t *testing.T) {
	for _, committed := range []bool{false, true} {
		var buf bytes.Buffer
		s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil))}
		ctx, cancel := context.WithCancel(context.Background())
		c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil).WithContext(ctx), httptest.NewRecorder())
		_ = s.logRequests(func(c echo.Context) error {
			if committed {
				c.Response().WriteHeader(http.StatusOK)
			}
			cancel() // the client goes away
			return answered(c, relay.ErrClientGone)
		})(c)
		line := buf.String()
		want := "status=499"
		if committed {
			want = `status=200`
		}
		if !strings.Contains(line, want) || !strings.Contains(line, "error=\"the client closed") {
			t.Errorf("committed=%v: %s", committed, line)
		}
	}
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil).WithContext(ctx), httptest.NewRecorder())
	_ = s.logRequests(func(c echo.Context) error {
		c.Response().WriteHeader(http.StatusOK)
		cancel() // closed after the whole answer
		return answered(c, nil)
	})(c)
	if line := buf.String(); !strings.Contains(line, "status=200") || strings.Contains(line, " error=") {
		t.Errorf("complete answer: %s", line)
	}
}
