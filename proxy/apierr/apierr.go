// Package apierr is the API error every dialect answers with: an HTTP
// status, an error type and code, and a message. The OpenAI dialects write
// it as {"error":{…}}; the Anthropic dialect maps it to its own shape.
package apierr

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is an API error with its HTTP status. Header holds extra
// response headers such as Retry-After.
type Error struct {
	Status  int         `json:"-"`
	Message string      `json:"message"`
	Type    string      `json:"type"`
	Param   *string     `json:"param"`
	Code    *string     `json:"code"`
	Header  http.Header `json:"-"`
	// PlanType, ResetsAt (epoch seconds) and ResetsInSeconds are set on a
	// usage_limit_reached error, as the backend sends them: the Codex CLI
	// reads them to say when to try again.
	PlanType        string `json:"plan_type,omitempty"`
	ResetsAt        int64  `json:"resets_at,omitempty"`
	ResetsInSeconds int64  `json:"resets_in_seconds,omitempty"`
	// Cause is what the error was made from, when a dialect may word it
	// in its own API's way (a dialect.Mismatch); never sent as it is.
	Cause error `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Unwrap returns Cause.
func (e *Error) Unwrap() error { return e.Cause }

// Body returns the JSON body {"error":{…}}.
func (e *Error) Body() []byte {
	b, _ := json.Marshal(struct {
		Error *Error `json:"error"`
	}{e})
	return b
}

// WithParam sets Param and returns e.
func (e *Error) WithParam(p string) *Error {
	if p != "" {
		e.Param = &p
	}
	return e
}

// WithCode sets Code and returns e.
func (e *Error) WithCode(c string) *Error {
	if c != "" {
		e.Code = &c
	}
	return e
}

// Errorf builds an Error.
func Errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// InvalidRequest is a 400 invalid_request_error about param.
func InvalidRequest(param, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "invalid_request_error", format, args...).WithParam(param)
}
