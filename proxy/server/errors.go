package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/anthropic"
)

// errorHandler renders every error in OpenAI's shape, or in Anthropic's
// for the Messages routes and requests that carry anthropic-version.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := s.apiError(err, c)
	if st := writtenStatus(e, c); st >= 500 {
		s.log.Warn("request failed", "path", c.Path(), "status", st, "err", e.Message)
	}
	writeError(c, e)
}

// writtenStatus is the status writeError answers e with: the Messages API
// maps some statuses to Anthropic's (a 502 is its 500 api_error).
func writtenStatus(e *apierr.Error, c echo.Context) int {
	if anthropic.Wants(c.Request()) {
		st, _ := anthropic.Shape(e)
		return st
	}
	return e.Status
}

// tooLarge is the 413 for a body over the limit, which it names.
func (s *Server) tooLarge() *apierr.Error {
	return apierr.Errorf(http.StatusRequestEntityTooLarge, "invalid_request_error",
		"The request body is too large: the limit is %s (after decompression; CHATGPT_BODY_LIMIT sets it).", sizeWords(s.bodyLimit)).WithCode("request_too_large")
}

// sizeWords writes n bytes in the largest binary unit that divides it.
func sizeWords(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// apiError is err as the client's API error: as it is when it is one
// (but a body over the limit, from wherever it was found, gets the 413
// that names the limit), else in the words of the echo error or the
// internal error it is.
func (s *Server) apiError(err error, c echo.Context) *apierr.Error {
	var oe *apierr.Error
	if errors.As(err, &oe) {
		if oe.Status == http.StatusRequestEntityTooLarge {
			return s.tooLarge()
		}
		return oe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := fmt.Sprint(he.Message)
		switch he.Code {
		case http.StatusNotFound:
			return apierr.Errorf(http.StatusNotFound, "invalid_request_error", "Unknown request URL: %s %s. The API serves /v1/chat/completions, /v1/responses (and GET or DELETE /v1/responses/{id}), /v1/messages, /v1/messages/count_tokens, /v1/models and /v1/models/{id}.", c.Request().Method, c.Request().URL.Path).WithCode("unknown_url")
		case http.StatusMethodNotAllowed:
			return apierr.Errorf(http.StatusMethodNotAllowed, "invalid_request_error", "Method %s is not allowed for %s.", c.Request().Method, c.Request().URL.Path).WithCode("method_not_allowed")
		case http.StatusRequestEntityTooLarge:
			return s.tooLarge()
		case http.StatusUnauthorized:
			return apierr.Errorf(http.StatusUnauthorized, "invalid_request_error", "%s", msg).WithCode("invalid_api_key")
		}
		typ := "invalid_request_error"
		if he.Code >= 500 {
			typ = "server_error"
		}
		return apierr.Errorf(he.Code, typ, "%s", msg)
	}
	slog.Default().Debug("internal error", "err", err)
	return apierr.Errorf(http.StatusInternalServerError, "server_error", "internal error: %v", err)
}

func writeError(c echo.Context, e *apierr.Error) {
	if noRetry(e.Status) && e.Header.Get("X-Should-Retry") == "" {
		// The same request cannot succeed by being sent again: tell the
		// SDKs (OpenAI's, Anthropic's and Claude Code honour this) not to
		// retry, instead of retrying for minutes with backoff.
		if e.Header == nil {
			e.Header = http.Header{}
		}
		e.Header.Set("X-Should-Retry", "false")
	}
	if anthropic.Wants(c.Request()) {
		anthropic.WriteError(c.Response(), c.Request(), e, "")
		return
	}
	h := c.Response().Header()
	for k, vs := range e.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(e.Status)
		return
	}
	_ = c.JSONBlob(e.Status, e.Body())
}

// noRetry reports statuses that sending the same request again cannot
// change: bad input, a wrong or missing key, refusals, unknown routes and
// oversized bodies.
func noRetry(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity:
		return true
	}
	return false
}
