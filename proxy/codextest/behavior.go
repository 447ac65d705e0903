package codextest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Behavior answers one accepted POST /codex/responses request. The server
// has already set the common headers (x-codex-*, x-models-etag,
// x-request-id, openai-model) when Respond is called.
type Behavior interface {
	Respond(w http.ResponseWriter, r *http.Request, req *ResponsesRequest)
}

// BehaviorFunc adapts a function to Behavior.
type BehaviorFunc func(w http.ResponseWriter, r *http.Request, req *ResponsesRequest)

// Respond calls f.
func (f BehaviorFunc) Respond(w http.ResponseWriter, r *http.Request, req *ResponsesRequest) {
	f(w, r, req)
}

// ReplyBehavior is a successful stream; build it with Reply and refine it
// with its With methods (which modify and return the receiver).
type ReplyBehavior struct {
	items   []Item
	usage   *TokenUsage
	fill    bool
	model   string
	headers http.Header
}

// Reply is a successful stream producing items in order: response.created,
// response.in_progress, every item's full event sequence (deltas split in
// several chunks), then response.completed with usage and, like the real
// backend, an empty output.
func Reply(items ...Item) *ReplyBehavior {
	return &ReplyBehavior{items: append([]Item(nil), items...), headers: http.Header{}}
}

// WithUsage sets the usage of response.completed (otherwise estimated; see
// Stream.EstimatedUsage).
func (b *ReplyBehavior) WithUsage(u TokenUsage) *ReplyBehavior { b.usage = &u; return b }

// WithCompletedOutput fills response.completed's output with the done
// items, as the public API does.
func (b *ReplyBehavior) WithCompletedOutput() *ReplyBehavior { b.fill = true; return b }

// WithModel reports slug as the serving model (envelope and openai-model
// header), as when the backend reroutes a request.
func (b *ReplyBehavior) WithModel(slug string) *ReplyBehavior { b.model = slug; return b }

// WithHeader adds a response header.
func (b *ReplyBehavior) WithHeader(key, value string) *ReplyBehavior {
	b.headers.Add(key, value)
	return b
}

// Respond implements Behavior.
func (b *ReplyBehavior) Respond(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
	for k, vs := range b.headers {
		w.Header()[k] = append([]string(nil), vs...)
	}
	st := NewStream(w, req)
	if b.model != "" {
		st.SetModel(b.model)
	}
	if st.Begin() != nil {
		return
	}
	for _, it := range b.items {
		if st.Item(it) != nil {
			return
		}
	}
	u := st.EstimatedUsage()
	if b.usage != nil {
		u = *b.usage
	}
	_ = st.Completed(u, b.fill)
}

// Fail is a 200 stream whose first real event is response.failed with
// error {code, message}, after response.created and response.in_progress.
func Fail(code, message string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		st := NewStream(w, req)
		if st.Begin() != nil {
			return
		}
		_ = st.Failed(code, message)
	})
}

// ErrorEvent is a 200 stream whose first event is a top-level
// {"type":"error","code":…,"message":…,"param":null} event, and nothing
// else.
func ErrorEvent(code, message string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		_ = NewStream(w, req).Error(code, message)
	})
}

// FailAfterText streams the start of a message with text, then
// response.failed mid-stream (no .done events for the message).
func FailAfterText(text, code, message string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		st := NewStream(w, req)
		if st.Begin() != nil || st.PartialText(text) != nil {
			return
		}
		_ = st.Failed(code, message)
	})
}

// Cut streams created, in_progress and (if afterText is not empty) the
// start of a message with afterText, then ends the body cleanly without
// response.completed: the client sees EOF ("stream closed before
// response.completed").
func Cut(afterText string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		st := NewStream(w, req)
		if st.Begin() != nil {
			return
		}
		if afterText != "" {
			_ = st.PartialText(afterText)
		}
	})
}

// CutAbruptly is Cut, but the connection is aborted instead of ending the
// body (HTTP/1.1: the chunked body is truncated, the client sees an
// unexpected EOF; HTTP/2: the stream is reset).
func CutAbruptly(afterText string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *ResponsesRequest) {
		Cut(afterText).Respond(w, r, req)
		panic(http.ErrAbortHandler)
	})
}

// Incomplete streams a complete message with text, then response.incomplete
// with incomplete_details.reason (e.g. "max_output_tokens",
// "content_filter").
func Incomplete(reason, text string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		st := NewStream(w, req)
		if st.Begin() != nil {
			return
		}
		if text != "" && st.Item(Text(text)) != nil {
			return
		}
		_ = st.Incomplete(reason, st.EstimatedUsage())
	})
}

// Stall streams created, in_progress and (if after is not empty) the start
// of a message with after, then sends nothing until the client disconnects
// or the server closes. A client disconnect is counted in
// Server.Disconnects and signalled on Server.Disconnected.
func Stall(after string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *ResponsesRequest) {
		st := NewStream(w, req)
		_ = st.Begin()
		if after != "" {
			_ = st.PartialText(after)
		}
		select {
		case <-r.Context().Done():
			if req.srv != nil {
				req.srv.noteDisconnect()
			}
		case <-req.closing():
		}
	})
}

// UsageLimit is HTTP 429 with the usage_limit_reached body of the real
// backend and x-codex-* headers showing the primary window 100% used and
// resetting in resetsIn.
func UsageLimit(plan string, resetsIn time.Duration) Behavior {
	return FamilyUsageLimit(plan, resetsIn, "codex")
}

// FamilyUsageLimit is UsageLimit for one limit family: x-codex-active-limit
// names family, and when family is one of the RateLimits' Families its
// primary window shows 100% used (the main window otherwise).
func FamilyUsageLimit(plan string, resetsIn time.Duration, family string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
		now := time.Now()
		rate := DefaultRateLimits()
		if s := req.srv; s != nil {
			now = s.now()
			s.mu.Lock()
			rate = s.rate
			s.mu.Unlock()
		}
		rate.PlanType = plan
		rate.ActiveLimit = family
		if i := rate.family(family); i >= 0 {
			rate.Families = slices.Clone(rate.Families)
			rate.Families[i].PrimaryUsedPercent = 100
			rate.Families[i].PrimaryResetAfter = resetsIn
		} else {
			rate.PrimaryUsedPercent = 100
			rate.PrimaryResetAfter = resetsIn
		}
		rate.writeHeaders(w.Header(), now)
		secs := int(resetsIn / time.Second)
		body, _ := json.Marshal(map[string]any{"error": map[string]any{
			"type":              "usage_limit_reached",
			"message":           "The usage limit has been reached",
			"plan_type":         plan,
			"resets_at":         now.Add(resetsIn).Unix(),
			"eligible_promo":    nil,
			"resets_in_seconds": secs,
		}})
		writeJSON(w, http.StatusTooManyRequests, body)
	})
}

// UsageNotIncluded is HTTP 429 with error type usage_not_included (the plan
// does not include Codex).
func UsageNotIncluded() Behavior {
	return Status(http.StatusTooManyRequests,
		`{"error":{"type":"usage_not_included","message":"To use Codex with your ChatGPT plan, upgrade to Plus: https://chatgpt.com/explore/plus."}}`)
}

// Status answers code with the raw body; Content-Type is application/json
// when body looks like JSON, text/html when it starts with "<", else
// text/plain.
func Status(code int, body string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, _ *ResponsesRequest) {
		writeRaw(w, code, body)
	})
}

func writeRaw(w http.ResponseWriter, code int, body string) {
	ct := "text/plain; charset=utf-8"
	switch t := strings.TrimSpace(body); {
	case strings.HasPrefix(t, "{") || strings.HasPrefix(t, "["):
		ct = "application/json"
	case strings.HasPrefix(t, "<"):
		ct = "text/html; charset=UTF-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// Unauthorized is HTTP 401 {"detail":"Unauthorized"} (an expired or
// revoked access token).
func Unauthorized() Behavior { return Status(http.StatusUnauthorized, `{"detail":"Unauthorized"}`) }

// Overloaded is HTTP 503 {"error":{"code":"server_is_overloaded",…}}.
func Overloaded() Behavior {
	return Status(http.StatusServiceUnavailable,
		`{"error":{"type":"server_error","code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later.","param":null}}`)
}

// CloudflarePage is the HTML body used by CloudflareBlock.
const CloudflarePage = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>` +
	`<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>` +
	`<div class="main-wrapper" role="main"><div class="main-content"><noscript>Enable JavaScript and cookies to continue</noscript>` +
	`</div></div><script>window._cf_chl_opt={cType:'managed'};</script></body></html>`

// CloudflareBlock is HTTP 403 with a Cloudflare challenge page: no x-codex-*
// headers, "server: cloudflare" and "cf-mitigated: challenge".
func CloudflareBlock() Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, _ *ResponsesRequest) {
		h := w.Header()
		for k := range h {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "x-codex-") || strings.HasPrefix(lk, "x-models-") || lk == "openai-model" {
				h.Del(k)
			}
		}
		h.Set("server", "cloudflare")
		h.Set("cf-mitigated", "challenge")
		writeRaw(w, http.StatusForbidden, CloudflarePage)
	})
}

// Sequence runs the behaviours in order within one request; it is meant
// for BehaviorFunc helpers that only set headers before a final one.
func Sequence(bs ...Behavior) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *ResponsesRequest) {
		for _, b := range bs {
			b.Respond(w, r, req)
		}
	})
}

// WithResponseHeader returns a Behavior that only sets a response header;
// combine it with Sequence.
func WithResponseHeader(key, value string) Behavior {
	return BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, _ *ResponsesRequest) {
		w.Header().Set(key, value)
	})
}

// Repeat returns n copies of b, for Enqueue(Repeat(b, n)...).
func Repeat(b Behavior, n int) []Behavior {
	out := make([]Behavior, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// RateLimitedStream is a 200 stream failing with rate_limit_exceeded and
// the "try again in Ns" hint the Codex CLI parses.
func RateLimitedStream(retryIn time.Duration) Behavior {
	return Fail("rate_limit_exceeded", fmt.Sprintf(
		"Rate limit reached for requests. Please try again in %.3fs. Visit https://platform.openai.com/account/rate-limits to learn more.",
		retryIn.Seconds()))
}
