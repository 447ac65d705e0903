package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// StatusOverloaded is Anthropic's status for an overloaded API.
const StatusOverloaded = 529

// Shape maps an API error to Anthropic's status and error type:
// 400 invalid_request_error, 401 authentication_error, 403
// permission_error, 404 not_found_error, 413 request_too_large, 429
// rate_limit_error, 529 overloaded_error (the backend is at capacity), 504
// timeout_error, and 500 api_error for the other server errors.
func Shape(e *apierr.Error) (status int, typ string) {
	code := ""
	if e.Code != nil {
		code = *e.Code
	}
	switch {
	case code == "server_is_overloaded" || code == "slow_down":
		return StatusOverloaded, "overloaded_error"
	case e.Status == http.StatusBadRequest || e.Status == http.StatusMethodNotAllowed || e.Status == http.StatusUnprocessableEntity:
		return e.Status, "invalid_request_error"
	case e.Status == http.StatusUnauthorized:
		return e.Status, "authentication_error"
	case e.Status == http.StatusForbidden:
		return e.Status, "permission_error"
	case e.Status == http.StatusNotFound:
		return e.Status, "not_found_error"
	case e.Status == http.StatusRequestEntityTooLarge:
		return e.Status, "request_too_large"
	case e.Status == http.StatusTooManyRequests:
		return e.Status, "rate_limit_error"
	case e.Status == http.StatusGatewayTimeout:
		return e.Status, "timeout_error"
	case e.Status == StatusOverloaded:
		return e.Status, "overloaded_error"
	case e.Status >= 500:
		// Anthropic answers no 502 or 503: its clients know 500.
		return http.StatusInternalServerError, "api_error"
	case e.Status >= 400:
		return e.Status, "invalid_request_error"
	}
	return http.StatusInternalServerError, "api_error"
}

// ErrorBody is the JSON of e in Anthropic's shape:
// {"type":"error","error":{"type":…,"message":…},"request_id":…}.
func ErrorBody(e *apierr.Error, requestID string) []byte {
	_, typ := Shape(e)
	b, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
		RequestID string `json:"request_id,omitempty"`
	}{Type: "error", Error: struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{typ, e.Message}, RequestID: requestID})
	return b
}

// Wants reports whether a request should be answered in Anthropic's shape:
// the Messages routes, and any request that carries anthropic-version.
func Wants(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/v1/messages") || strings.HasPrefix(p, "/messages") || r.Header.Get("Anthropic-Version") != ""
}

// WriteError writes e in Anthropic's shape, with its extra headers.
func WriteError(w http.ResponseWriter, r *http.Request, e *apierr.Error, requestID string) {
	status, _ := Shape(e)
	h := w.Header()
	for k, vs := range e.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if requestID != "" {
		h.Set("Request-Id", requestID)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(ErrorBody(e, requestID))
	}
}
