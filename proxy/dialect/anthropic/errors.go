package anthropic

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
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
	}{typ, ErrorMessage(e)}, RequestID: requestID})
	return b
}

// ErrorMessage is e's message as Anthropic words it. A value of the wrong type
// is named by its dotted path, in the words Anthropic's validation uses
// ("messages.0.content: Input should be a valid string"), as the route's
// own checks name theirs; other messages are kept.
func ErrorMessage(e *apierr.Error) string {
	var m *dialect.Mismatch
	if !errors.As(e.Cause, &m) {
		return e.Message
	}
	path := dottedPath(m.Path)
	if path == "" {
		path = "request body"
	}
	var should string
	switch {
	case m.Want == "an integer" && m.OutOfRange:
		should = "a valid integer, got " + m.Got + ", which is out of range"
	case m.OutOfRange:
		should = "a finite number" // pydantic's words for 1e400
	case m.Want == "an integer" && fractional(m.Got):
		should = "a valid integer, got a number with a fractional part" // pydantic's words
	case m.Want == "an array":
		should = "a valid list"
	case m.Want == "an object":
		should = "a valid dictionary"
	default:
		should = "a valid " + strings.TrimPrefix(strings.TrimPrefix(m.Want, "a "), "an ")
	}
	return path + ": Input should be " + should
}

// fractional reports whether the number num has a fractional part.
func fractional(num string) bool {
	f, err := strconv.ParseFloat(num, 64)
	return err == nil && f != math.Trunc(f)
}

// dottedPath writes an OpenAI-style path ("messages[0].content[1].text")
// the way Anthropic's errors do ("messages.0.content.1.text").
func dottedPath(p string) string {
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	return strings.TrimPrefix(p, ".")
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
