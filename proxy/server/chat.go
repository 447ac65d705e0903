package server

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/openai"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/translate"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// keepAlive is how often an idle committed stream gets an SSE comment.
var keepAlive = 15 * time.Second

// errClosedEarly is a stream that ended without response.completed.
var errClosedEarly = errors.New("stream closed before response.completed")

func (s *Server) chat(c echo.Context) (err error) {
	failed := false
	defer func() {
		s.Status.CountRequest(clientName(c.Request()), failed || err != nil)
	}()
	req := new(openai.ChatRequest)
	dec := json.NewDecoder(c.Request().Body)
	if derr := dec.Decode(req); derr != nil {
		if errors.Is(derr, io.EOF) {
			return openai.InvalidRequest("", "the request body is empty; send a JSON chat completion request").WithCode("invalid_json")
		}
		var mbe *http.MaxBytesError
		var he *echo.HTTPError
		if errors.As(derr, &mbe) || (errors.As(derr, &he) && he.Code == http.StatusRequestEntityTooLarge) {
			return echo.ErrStatusRequestEntityTooLarge
		}
		var ute *json.UnmarshalTypeError
		if errors.As(derr, &ute) {
			return openai.InvalidRequest(ute.Field, "invalid type for '%s': expected %s", ute.Field, ute.Type.String()).WithCode("invalid_type")
		}
		return openai.InvalidRequest("", "the request body is not valid JSON: %v", derr).WithCode("invalid_json")
	}
	if req.Model == "" {
		return openai.InvalidRequest("model", "you must provide a model parameter").WithCode("missing_required_parameter")
	}
	res, rerr := s.Catalog.Resolve(req.Model)
	if errors.Is(rerr, catalog.ErrUnknownModel) {
		return openai.Errorf(http.StatusNotFound, "invalid_request_error", "The model '%s' does not exist or is not available to this ChatGPT account.", req.Model).WithParam("model").WithCode("model_not_found")
	}
	plan, terr := translate.Chat(req, res, translate.Options{
		ReasoningSummary: s.cfg.ReasoningSumm,
		DefaultEffort:    s.cfg.DefaultEffort,
		Verbosity:        s.cfg.Verbosity,
		RejectEffort:     s.cfg.EffortMismatch == "reject",
	})
	if terr != nil {
		return terr
	}
	if plan.EffortClamped != "" {
		c.Response().Header().Set("X-Reasoning-Effort", plan.EffortClamped)
	}
	if sid := c.Request().Header.Get("X-Session-Id"); sid != "" && req.PromptCacheKey == "" {
		plan.SessionID, plan.Body.PromptCacheKey = sid, sid
	}
	body, merr := json.Marshal(&plan.Body)
	if merr != nil {
		return merr
	}
	out := &chatRun{s: s, c: c, plan: plan, body: body}
	defer func() {
		if out.sse != nil {
			out.sse.stop()
		}
	}()
	if e := out.run(); e != nil {
		return e
	}
	failed = out.failedInBand
	return nil
}

// chatRun is one chat request's trip upstream, with its retries.
type chatRun struct {
	s    *Server
	c    echo.Context
	plan *translate.Plan
	body []byte

	committed    bool
	failedInBand bool
	sse          *sseWriter
}

func (r *chatRun) opts() translate.StreamOptions {
	return translate.StreamOptions{
		Reasoning:      translate.ReasoningMode(r.s.cfg.ReasoningMode),
		DropCommentary: r.s.cfg.DropCommentary,
		Now:            r.s.Now,
	}
}

// run sends the request, retrying transient failures while nothing has
// reached the client, and refreshing credentials once on a 401.
func (r *chatRun) run() error {
	s, ctx := r.s, r.c.Request().Context()
	creds, err := s.Auth.Credentials(ctx)
	if err != nil {
		e := authError(err)
		s.Status.SetError(err.Error(), e.Status)
		return e
	}
	if f := s.limits.check(s.Now()); f != nil {
		// Known to be over the usage limit: answer without asking again.
		return f.Err
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		stream, err := s.Upstream.Responses(ctx, upstream.Request{Creds: creds, SessionID: r.plan.SessionID, Body: r.body})
		var f *translate.Failure
		if err != nil {
			if ctx.Err() != nil && !s.stopping.Load() {
				return nil // the client went away; nothing to answer
			}
			var se *upstream.StatusError
			if errors.As(err, &se) {
				r.noteHeaders(se.Header)
				if se.StatusCode == http.StatusUnauthorized && !refreshed {
					refreshed = true
					s.log.Info("upstream answered 401; refreshing credentials", "token", auth.Fingerprint(creds.AccessToken))
					nc, rerr := s.Auth.Refresh(ctx, creds.AccessToken)
					if rerr != nil {
						e := authError(rerr)
						s.Status.SetError(rerr.Error(), e.Status)
						return e
					}
					creds = nc
					attempt--
					continue
				}
				f = translate.HTTPFailure(se.StatusCode, se.Header, se.Body, s.Now())
			} else {
				f = transportFailure(err)
			}
		} else {
			r.noteHeaders(stream.Header())
			f = r.pump(stream)
			stream.Close()
			if f == nil {
				s.limits.clear()
				s.Status.Update(func(st *status.Status) {
					st.LastError = nil
					st.Quota.LimitedUntil = time.Time{}
				})
				return nil
			}
		}
		if ctx.Err() != nil {
			if s.stopping.Load() {
				// The app is quitting: say so instead of ending silently.
				e := openai.Errorf(http.StatusServiceUnavailable, "server_error", "ChatGPT-to-API is shutting down; send the request again once it runs").WithCode("server_shutting_down")
				if r.committed {
					r.failedInBand = true
					r.sse.write(translate.ErrorChunk(nil, e))
					return nil
				}
				return e
			}
			return nil // the client went away; that is not an upstream problem
		}
		if !f.LimitedUntil.IsZero() {
			s.limits.record(f.Plan, f.LimitedUntil, s.Now())
			s.Status.SetLimitedUntil(f.LimitedUntil)
		}
		s.Status.SetError(f.Err.Message, f.Err.Status)
		if r.committed {
			// Output already reached the client: report in band and end.
			r.failedInBand = true
			s.log.Warn("stream failed after output started", "err", f.Err.Message)
			r.sse.write(translate.ErrorChunk(nil, f.Err))
			return nil
		}
		if f.Retryable && attempt < s.cfg.MaxRetries {
			d := backoff(attempt)
			if f.RetryAfter > 0 && f.RetryAfter < 10*time.Second {
				d = f.RetryAfter
			} else if f.RetryAfter >= 10*time.Second {
				return f.Err // too long to wait for on the client's behalf
			}
			s.log.Info("retrying upstream request", "attempt", attempt+1, "after", d, "reason", f.Err.Message)
			s.Sleep(ctx, d)
			continue
		}
		return f.Err
	}
}

// limitProbeEvery is how often a request is let through to the backend
// while a usage limit is known to hold, so an early reset is noticed.
var limitProbeEvery = 30 * time.Second

// usageLimits remembers a usage_limit_reached answer, so that clients that
// retry (most SDKs do on 429) do not send the same doomed request upstream
// again and again.
type usageLimits struct {
	mu        sync.Mutex
	plan      string
	until     time.Time
	lastProbe time.Time
}

// check returns the failure to answer locally, or nil when the request
// should go upstream (no known limit, or it is time to probe).
func (u *usageLimits) check(now time.Time) *translate.Failure {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.until.After(now) {
		return nil
	}
	if now.Sub(u.lastProbe) >= limitProbeEvery {
		u.lastProbe = now
		return nil
	}
	return translate.UsageLimit(u.plan, u.until, now)
}

func (u *usageLimits) record(plan string, until, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.plan, u.until, u.lastProbe = plan, until, now
}

func (u *usageLimits) clear() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.until = time.Time{}
}

// backoff is 200 ms × 2^attempt with ±10 % jitter, as the Codex CLI does.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << attempt
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

func transportFailure(err error) *translate.Failure {
	switch {
	case errors.Is(err, upstream.ErrHeaderTimeout):
		return &translate.Failure{Err: openai.Errorf(http.StatusGatewayTimeout, "upstream_error", "ChatGPT did not answer in time (%v)", err).WithCode("upstream_timeout"), Retryable: true}
	case errors.Is(err, upstream.ErrIdleTimeout):
		return &translate.Failure{Err: openai.Errorf(http.StatusGatewayTimeout, "upstream_error", "ChatGPT stopped sending data (%v)", err).WithCode("upstream_timeout"), Retryable: true}
	case errors.Is(err, upstream.ErrStreamTooLarge):
		return &translate.Failure{Err: openai.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT sent an event larger than this proxy accepts (%v)", err).WithCode("upstream_event_too_large")}
	case errors.Is(err, errClosedEarly):
		return &translate.Failure{Err: openai.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT closed the stream before the response completed").WithCode("stream_closed"), Retryable: true}
	}
	return &translate.Failure{Err: openai.Errorf(http.StatusBadGateway, "upstream_error", "could not reach ChatGPT: %v", err).WithCode("upstream_unreachable"), Retryable: true}
}

// noteHeaders records rate limits and catalog changes from any upstream answer.
func (r *chatRun) noteHeaders(h http.Header) {
	if h == nil {
		return
	}
	if q, ok := upstream.ParseQuota(h, r.s.Now()); ok {
		r.s.Status.SetQuota(q)
	}
	r.s.Catalog.NoteETag(h.Get("X-Models-Etag"))
}

// pendingStream is a Stream that can tell whether its next event is
// already buffered.
type pendingStream interface{ Pending() bool }

// morePending reports whether stream's next event is already buffered, so
// that the client need not be flushed yet.
func morePending(stream Stream) bool {
	p, ok := stream.(pendingStream)
	return ok && p.Pending()
}

// pump reads one upstream stream to its end. It returns nil on success.
func (r *chatRun) pump(stream Stream) *translate.Failure {
	if !r.plan.Stream {
		return r.aggregate(stream)
	}
	t := translate.NewTranslator(r.plan, r.opts())
	var held []byte // output held back until the model starts answering
	for {
		ev, err := stream.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errClosedEarly
			}
			if r.c.Request().Context().Err() != nil {
				return &translate.Failure{Err: openai.Errorf(499, "client_closed", "the client closed the request")}
			}
			return transportFailure(err)
		}
		var sig translate.Signal
		var ferr error
		if r.committed {
			buf := r.sse.buf[:0]
			buf, sig, ferr = t.Feed(buf, ev.Data)
			r.sse.buf = buf
			// Flush once per burst: while the next event is already
			// buffered, the output waits in the response's buffer.
			if !r.sse.send(buf, !morePending(stream)) {
				return &translate.Failure{Err: openai.Errorf(499, "client_closed", "the client closed the request")}
			}
		} else {
			held, sig, ferr = t.Feed(held, ev.Data)
		}
		if ferr != nil {
			var f *translate.Failure
			if errors.As(ferr, &f) {
				return f
			}
			return transportFailure(ferr)
		}
		// Commit (send 200) only once the client would see something: an
		// empty reasoning item, say, may still be followed by a failure
		// that deserves its own status or a retry.
		if !r.committed && (len(held) > 0 || sig == translate.SigDone) {
			r.commit()
			if len(held) > 0 && !r.sse.write(held) {
				return &translate.Failure{Err: openai.Errorf(499, "client_closed", "the client closed the request")}
			}
		}
		if sig == translate.SigDone {
			r.sse.write([]byte(translate.Done))
			r.sse.stop()
			return nil
		}
	}
}

// commit sends the 200 and SSE headers; from here on errors are in band.
func (r *chatRun) commit() {
	r.committed = true
	w := r.c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	r.sse = newSSEWriter(w)
}

func (r *chatRun) aggregate(stream Stream) *translate.Failure {
	a := translate.NewAggregator(r.plan, r.opts())
	for {
		ev, err := stream.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errClosedEarly
			}
			return transportFailure(err)
		}
		sig, ferr := a.Feed(ev.Data)
		if ferr != nil {
			var f *translate.Failure
			if errors.As(ferr, &f) {
				return f
			}
			return transportFailure(ferr)
		}
		if sig == translate.SigDone {
			_ = r.c.JSON(http.StatusOK, a.Completion())
			return nil
		}
	}
}

// sseWriter serialises writes to a committed stream and sends a keep-alive
// comment when the stream has been quiet for a while. The keep-alive is a
// timer, not a goroutine, so an open stream costs little while it waits.
type sseWriter struct {
	mu     sync.Mutex
	w      *echo.Response
	rc     *http.ResponseController
	buf    []byte
	last   time.Time
	broken bool
	dirty  bool // written but not flushed
	done   bool
	timer  *time.Timer
}

func newSSEWriter(w *echo.Response) *sseWriter {
	s := &sseWriter{w: w, rc: http.NewResponseController(w.Writer), last: time.Now()}
	_ = s.rc.SetWriteDeadline(time.Time{})
	_ = s.rc.Flush()
	s.timer = time.AfterFunc(keepAlive, s.ping)
	return s
}

// ping sends the keep-alive comment when the stream has been quiet for
// keepAlive, and re-arms the timer for the next quiet period.
func (s *sseWriter) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.broken {
		return
	}
	if quiet := time.Since(s.last); quiet < keepAlive {
		s.timer.Reset(keepAlive - quiet)
		return
	}
	s.writeLocked([]byte(": keep-alive\n\n"))
	s.timer.Reset(keepAlive)
}

// write sends b and flushes; false when the client is gone.
func (s *sseWriter) write(b []byte) bool { return s.send(b, true) }

// send writes b and, when flush is set, flushes everything written so far;
// false when the client is gone.
func (s *sseWriter) send(b []byte, flush bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return false
	}
	if len(b) > 0 {
		if _, err := s.w.Write(b); err != nil {
			s.broken = true
			return false
		}
		s.dirty = true
	}
	if flush && s.dirty {
		if err := s.rc.Flush(); err != nil {
			s.broken = true
			return false
		}
		s.dirty = false
		s.last = time.Now()
	}
	return true
}

func (s *sseWriter) writeLocked(b []byte) bool {
	if s.broken {
		return false
	}
	if _, err := s.w.Write(b); err != nil {
		s.broken = true
		return false
	}
	if err := s.rc.Flush(); err != nil {
		s.broken = true
		return false
	}
	s.dirty = false
	s.last = time.Now()
	return true
}

func (s *sseWriter) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	s.timer.Stop()
}
