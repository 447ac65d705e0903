package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/anthropic"
)

// TestWrittenStatus: the status the request log names is the one the
// client gets, also where the Messages API maps it to Anthropic's.
func TestWrittenStatus(t *testing.T) {
	e := echo.New()
	for _, path := range []string{"/v1/chat/completions", "/v1/messages"} {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		rec := httptest.NewRecorder()
		c := e.NewContext(req, rec)
		ae := apierr.Errorf(http.StatusBadGateway, "upstream_error", "boom")
		got := writtenStatus(ae, c)
		writeError(c, ae)
		if got != rec.Code {
			t.Errorf("%s: logged status %d, written %d", path, got, rec.Code)
		}
		if want, _ := anthropic.Shape(ae); path == "/v1/messages" && got != want {
			t.Errorf("%s: status %d, want Anthropic's %d", path, got, want)
		}
	}
}
