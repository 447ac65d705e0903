package relay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// Failure is an upstream failure translated into an API error, with what
// the caller needs to decide on a retry.
type Failure struct {
	Err        *apierr.Error
	Retryable  bool          // worth re-sending before any byte reached the client
	RetryAfter time.Duration // suggested delay, 0 for the default backoff
	// LimitedUntil and Plan are set for usage_limit_reached.
	LimitedUntil time.Time
	Plan         string
}

func (f *Failure) Error() string { return f.Err.Error() }

var tryAgain = regexp.MustCompile(`(?i)try again in\s*([0-9.]+)\s*(ms|s|seconds?)`)

// StreamFailure maps the code of a response.failed or error event.
func StreamFailure(b *codex.ErrorBody, now time.Time) *Failure {
	code, msg := b.Code, b.Message
	if code == "" {
		code = b.Type
	}
	if msg == "" {
		msg = "ChatGPT reported an error (" + code + ")"
	}
	f := &Failure{}
	switch code {
	case "usage_limit_reached":
		return usageLimit(b, nil, now)
	case "usage_not_included":
		f.Err = apierr.Errorf(http.StatusForbidden, "permission_error", "%s", "Codex is not included in this ChatGPT plan. To use it, upgrade to Plus: https://chatgpt.com/explore/plus").WithCode(code)
	case "context_length_exceeded", "context_too_large":
		f.Err = apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "%s", "the conversation is too long for the model's context window: "+msg).WithCode("context_length_exceeded") // the relay names the dialect's field
	case "insufficient_quota":
		f.Err = apierr.Errorf(http.StatusTooManyRequests, "insufficient_quota", "%s", msg).WithCode(code)
	case "invalid_prompt":
		f.Err = apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "%s", msg).WithCode(code)
	case "server_is_overloaded", "slow_down":
		f.Err = apierr.Errorf(http.StatusServiceUnavailable, "server_error", "%s", "the selected model is at capacity; try again later or use a different model ("+msg+")").WithCode(code)
	case "rate_limit_exceeded":
		f.Err = apierr.Errorf(http.StatusTooManyRequests, "rate_limit_error", "%s", msg).WithCode(code)
		f.Retryable = true
		if m := tryAgain.FindStringSubmatch(msg); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			if m[2] == "ms" {
				f.RetryAfter = time.Duration(v * float64(time.Millisecond))
			} else {
				f.RetryAfter = time.Duration(v * float64(time.Second))
			}
			setRetryAfter(f.Err, f.RetryAfter)
		}
	case "invalid_encrypted_content", "invalid_request_error", "invalid_value", "unsupported_value", "unsupported_parameter":
		f.Err = apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "%s", msg).WithCode(code)
		if b.Param != nil {
			f.Err.Param = b.Param
		}
	default:
		f.Err = apierr.Errorf(http.StatusBadGateway, "upstream_error", "%s", "ChatGPT failed to answer: "+msg).WithCode(code)
		f.Retryable = true
	}
	return f
}

// HTTPFailure maps a non-2xx upstream answer.
func HTTPFailure(status int, header http.Header, body []byte, now time.Time) *Failure {
	msg, eb := upstreamMessage(body)
	f := &Failure{}
	switch {
	case status == http.StatusTooManyRequests && eb != nil && (eb.Type == "usage_limit_reached" || eb.Code == "usage_limit_reached"):
		return usageLimit(eb, header, now)
	case status == http.StatusTooManyRequests && eb != nil && (eb.Type == "usage_not_included" || eb.Code == "usage_not_included"):
		return StreamFailure(&codex.ErrorBody{Code: "usage_not_included", Message: msg}, now)
	case status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusUnprocessableEntity:
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		f.Err = apierr.Errorf(status, "invalid_request_error", "%s", msg)
		if eb != nil {
			if eb.Code != "" {
				f.Err.WithCode(eb.Code)
			}
			if eb.Param != nil {
				f.Err.Param = eb.Param
			}
		}
		if strings.Contains(msg, "model is not supported") || strings.Contains(msg, "requires a newer version") {
			f.Err.WithParam("model").WithCode("model_not_found")
		}
	default:
		return otherHTTPFailure(status, header, body, msg, eb, now)
	}
	return f
}

// otherHTTPFailure maps the statuses HTTPFailure does not: 413, 401, 403,
// a transient 429, overload and 5xx.
func otherHTTPFailure(status int, header http.Header, body []byte, msg string, eb *codex.ErrorBody, now time.Time) *Failure {
	f := &Failure{}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		f.Err = apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "the request is too large for ChatGPT: %s", msg).WithCode("context_too_large")
	case status == http.StatusUnauthorized:
		f.Err = apierr.Errorf(http.StatusUnauthorized, "authentication_error", "ChatGPT rejected the credentials (%s); sign in again", msg).WithCode("chatgpt_unauthorized")
	case status == http.StatusForbidden:
		if looksLikeHTML(header, body) {
			f.Err = apierr.Errorf(http.StatusForbidden, "permission_error", "%s", "ChatGPT's edge (Cloudflare) blocked the request. This usually depends on the network: try again later, from another network, or through CHATGPT_PROXY").WithCode("blocked_by_cloudflare")
		} else {
			f.Err = apierr.Errorf(http.StatusForbidden, "permission_error", "ChatGPT refused the request: %s", msg).WithCode("forbidden")
		}
	case status == http.StatusTooManyRequests:
		// A transient rate limit: retried like the same error in a stream
		// when the wait is short.
		f = StreamFailure(&codex.ErrorBody{Code: "rate_limit_exceeded", Message: msg}, now)
		if ra := header.Get("Retry-After"); ra != "" && f.RetryAfter == 0 {
			if secs, err := strconv.Atoi(ra); err == nil {
				f.RetryAfter = time.Duration(secs) * time.Second
				setRetryAfter(f.Err, f.RetryAfter)
			}
		}
	case status == http.StatusServiceUnavailable && eb != nil && (eb.Code == "server_is_overloaded" || eb.Code == "slow_down"):
		return StreamFailure(eb, now)
	case status >= 500:
		f.Err = apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT answered %d: %s", status, msg).WithCode("upstream_error")
		f.Retryable = true
	default:
		f.Err = apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT answered %d: %s", status, msg).WithCode("upstream_error")
	}
	return f
}

func usageLimit(eb *codex.ErrorBody, header http.Header, now time.Time) *Failure {
	var until time.Time
	switch {
	case eb.ResetsAt > 0:
		until = time.Unix(eb.ResetsAt, 0)
	case eb.ResetsInSeconds > 0:
		until = now.Add(time.Duration(eb.ResetsInSeconds) * time.Second)
	}
	plan := eb.PlanType
	if plan == "" && header != nil {
		plan = header.Get("x-codex-plan-type")
	}
	msg := "You've hit your ChatGPT usage limit"
	if plan != "" {
		msg += " (" + plan + " plan)"
	}
	if !until.IsZero() {
		msg += ". It resets " + ResetWords(until, now)
	}
	msg += "."
	f := &Failure{Err: apierr.Errorf(http.StatusTooManyRequests, "usage_limit_reached", "%s", msg).WithCode("usage_limit_reached"), LimitedUntil: until, Plan: plan}
	f.Err.PlanType = plan
	if !until.IsZero() {
		f.Err.ResetsAt, f.Err.ResetsInSeconds = until.Unix(), max(int64(until.Sub(now)/time.Second), 0)
	}
	setRetryAfter(f.Err, until.Sub(now))
	// Retrying cannot help until the reset; the OpenAI SDKs honour this
	// header (without it, some sleep for the whole Retry-After).
	f.Err.Header.Set("X-Should-Retry", "false")
	return f
}

// UsageLimit is the failure for a usage limit already known to last until
// until, answered without asking the backend again.
func UsageLimit(plan string, until, now time.Time) *Failure {
	return usageLimit(&codex.ErrorBody{PlanType: plan, ResetsAt: until.Unix()}, nil, now)
}

// ResetWords says when t is, relative to now: "at 14:05 (in 3 h 51 min)" or
// "on Mon 2 Jan at 09:00 (in 2 days)".
func ResetWords(t, now time.Time) string {
	lt := t.Local()
	d := t.Sub(now)
	var when string
	if lt.YearDay() == now.Local().YearDay() && lt.Year() == now.Local().Year() {
		when = "at " + lt.Format("15:04 MST")
	} else {
		when = "on " + lt.Format("Mon 2 Jan at 15:04 MST")
	}
	return when + " (in " + humanDuration(d) + ")"
}

func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	if d < 48*time.Hour {
		h := int(d.Hours())
		m := int(d.Minutes()) - h*60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func setRetryAfter(e *apierr.Error, d time.Duration) {
	if e.Header == nil {
		e.Header = http.Header{}
	}
	if d <= 0 {
		return
	}
	secs := int64((d + time.Second - 1) / time.Second)
	e.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
}

// upstreamMessage extracts a message from {"detail":…}, {"error":{…}},
// {"type":"error","error":{…}} or plain text.
func upstreamMessage(body []byte) (string, *codex.ErrorBody) {
	body = bytes.TrimSpace(body)
	var w struct {
		Detail  json.RawMessage `json:"detail"`
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Code    string          `json:"code"`
	}
	if len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &w) == nil {
		if len(w.Error) > 0 {
			var eb codex.ErrorBody
			if json.Unmarshal(w.Error, &eb) == nil && (eb.Message != "" || eb.Type != "" || eb.Code != "") {
				m := eb.Message
				if m == "" {
					m = eb.Type + eb.Code
				}
				return m, &eb
			}
			var s string
			if json.Unmarshal(w.Error, &s) == nil && s != "" {
				return s, &codex.ErrorBody{Code: s, Message: s}
			}
		}
		if len(w.Detail) > 0 {
			var s string
			if json.Unmarshal(w.Detail, &s) == nil {
				return s, &codex.ErrorBody{Message: s}
			}
			var d struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			}
			if json.Unmarshal(w.Detail, &d) == nil && d.Message != "" {
				return d.Message, &codex.ErrorBody{Message: d.Message, Code: d.Code}
			}
			return string(w.Detail), &codex.ErrorBody{Message: string(w.Detail)}
		}
		if w.Message != "" {
			return w.Message, &codex.ErrorBody{Message: w.Message, Code: w.Code}
		}
	}
	if len(body) == 0 {
		return "no details", nil
	}
	if bytes.HasPrefix(body, []byte("<")) {
		return "an HTML page", nil
	}
	s := string(body)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s, nil
}

func looksLikeHTML(h http.Header, body []byte) bool {
	return strings.Contains(h.Get("Content-Type"), "text/html") || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}

// EventFailure is the Failure of a response.failed or error event.
func EventFailure(ev *codex.Event, now time.Time) *Failure {
	return StreamFailure(ev.Err(), now)
}

// Incomplete maps a response.incomplete to the upstream reason a client can
// act on ("max_output_tokens" or "content_filter"), or to a Failure when
// the reason is not one a client can act on.
func Incomplete(r *codex.Response) (string, *Failure) {
	reason := ""
	if r != nil && r.IncompleteDetails != nil {
		reason = r.IncompleteDetails.Reason
	}
	switch reason {
	case "max_output_tokens", "max_tokens":
		return "max_output_tokens", nil
	case "content_filter":
		return "content_filter", nil
	}
	return "", &Failure{Err: apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT returned an incomplete response (reason: %s)", orUnknown(reason)).WithCode("incomplete_response"), Retryable: reason != "interrupted"}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
