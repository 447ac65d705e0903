// Package relay is the request path every dialect shares: it takes one
// translated request (a Turn), gets credentials, sends the request to the
// backend, retries what failed before anything reached the client,
// refreshes credentials once on a 401, and hands each upstream event to the
// dialect's encoder, which writes the client's answer. It records the
// request's outcome once, at its end.
//
// A dialect (proxy/dialect/…) plugs in with an Encoder for streamed
// answers or an Aggregator for one JSON answer, and writes the errors this
// package returns in its own shape.
package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// Signal tells the relay what an upstream event meant.
type Signal int

// The signals.
const (
	// SigNone: bookkeeping only (created, in_progress, unknown events).
	SigNone Signal = iota
	// SigOutput: the model started producing output; from here on an
	// upstream failure can no longer become an HTTP error.
	SigOutput
	// SigDone: the response completed; the final frames were written.
	SigDone
)

// Encoder turns the upstream events of one request into the client's
// streamed answer. It is used by one goroutine.
type Encoder interface {
	// Feed appends the client frames for ev to dst. A failure the event
	// reports is returned as *Failure.
	Feed(dst []byte, ev *codex.Event) ([]byte, Signal, error)
	// Fail appends the frames that end a committed stream with e.
	Fail(dst []byte, e *apierr.Error) []byte
}

// Skimmer is implemented by an Encoder or Aggregator that relays some
// events as they came or only counts them: for the types Skims accepts it
// needs only the event's Type (and Raw), so the relay checks such events
// instead of decoding them (codex.DecodeEventSkimming).
type Skimmer interface {
	Skims(typ string) bool
}

// Opener is implemented by an Encoder whose stream must begin with a given
// frame (Anthropic's message_start). When the model answers for a long time
// with nothing the client sees (hidden reasoning), the relay commits the
// stream early and writes Open's frame instead of a bare keep-alive.
type Opener interface {
	Open(dst []byte) []byte
}

// Aggregator builds one non-streamed answer from the upstream events.
type Aggregator interface {
	// Feed consumes one event. A failure is returned as *Failure.
	Feed(ev *codex.Event) (Signal, error)
	// Result is the answer, written as JSON with status 200.
	Result() any
}

// Turn is one client request, translated for the backend.
type Turn struct {
	Request   *codex.Request
	SessionID string // session and thread id; set by the relay when it keeps Conversations
	// Hints are what the client said about its conversation (its cache
	// key, session header, user ids); the relay turns them and the
	// request's stable prefix into the conversation's id.
	Hints  affinity.Hints
	Client string // who asked, for the per-client counts
	// Exactly one of Encoder (streamed answer) and Aggregator is set.
	Encoder    Encoder
	Aggregator Aggregator
	// KeepAlive is written when a committed stream has been quiet for a
	// while; the default is an SSE comment.
	KeepAlive []byte
	// InputParam names the request field that holds the conversation in
	// the client's dialect ("input"), for errors about its length; the
	// default is "messages".
	InputParam string
}

// Upstream sends Codex requests.
type Upstream interface {
	Responses(ctx context.Context, r upstream.Request) (Stream, error)
}

// Stream is an open upstream SSE stream.
type Stream interface {
	Next() (upstream.Event, error)
	Close() error
	Header() http.Header
}

// pendingStream is a Stream that can tell whether its next event is
// already buffered (upstream.Stream can).
type pendingStream interface{ Pending() bool }

// morePending reports whether stream's next event is already buffered, so
// that the client need not be flushed yet.
func morePending(stream Stream) bool {
	p, ok := stream.(pendingStream)
	return ok && p.Pending()
}

// finisher is a Stream that can end a complete response without giving up
// its connection (upstream.Stream can).
type finisher interface{ Finish() error }

// finish ends a stream whose response completed.
func finish(stream Stream) {
	if f, ok := stream.(finisher); ok {
		_ = f.Finish()
		return
	}
	_ = stream.Close()
}

// ETagNoter is told the catalog etag of every upstream answer.
type ETagNoter interface{ NoteETag(etag string) }

// LiteModels tells which models take the Responses-Lite shape (the
// catalog's use_responses_lite).
type LiteModels interface{ UsesResponsesLite(slug string) bool }

// Relay is the shared request path. Its fields are set once, before use.
type Relay struct {
	Upstream Upstream
	Auth     auth.Source
	Status   *status.Recorder
	Catalog  ETagNoter
	// Lite picks the Responses-Lite shape per model; nil sends every
	// request in the classic shape.
	Lite       LiteModels
	Log        *slog.Logger
	Now        func() time.Time
	Sleep      func(ctx context.Context, d time.Duration)
	MaxRetries int
	// FirstByteTimeout bounds the time until the client gets the first
	// byte of its answer or an error, or the backend starts producing
	// output (reasoning included), across retries. 0 means no bound beyond
	// the upstream client's own timeouts; once output started, the
	// upstream idle timeout guards the stream.
	FirstByteTimeout time.Duration
	// Stopping reports that the app is shutting down (requests cancelled
	// for that reason get a "shutting down" answer).
	Stopping func() bool
	// OnUsageLimit is called after the backend reported a usage limit, so
	// that the quota is read again (nil: nothing happens).
	OnUsageLimit func()

	probe limitProbe
	// Conversations gives every conversation one UUIDv7, used as its
	// prompt_cache_key and session and thread ids, so each turn reaches
	// the backend's prompt cache; nil keeps the Turn's own SessionID.
	Conversations *affinity.Map
}

// KeepAliveInterval is how often an idle committed stream gets a
// keep-alive frame.
var KeepAliveInterval = 15 * time.Second

// ErrFirstByteTimeout is the cause of a request cancelled because the
// client got nothing within Relay.FirstByteTimeout.
var ErrFirstByteTimeout = errors.New("no answer within the first-byte timeout")

// errClosedEarly is a stream that ended without response.completed.
var errClosedEarly = errors.New("stream closed before response.completed")

// ErrClientGone ends a request whose client went away: nothing more can be
// written to it, whether its answer had begun or not.
var ErrClientGone = apierr.Errorf(499, "client_closed", "the client closed the request")

// Serve sends t upstream and answers on w. It returns ErrClientGone when
// the client went away (the caller writes nothing then), another error
// only when nothing was written to w yet (the caller writes it in its
// dialect's shape: an *apierr.Error), or nil.
func (r *Relay) Serve(w http.ResponseWriter, req *http.Request, t *Turn) error {
	if r.Conversations != nil {
		var prefix affinity.Prefix
		if t.Hints.NeedsPrefix() {
			prefix = dialect.StablePrefix(t.Request)
		}
		sid := r.Conversations.Key(t.Hints, prefix)
		t.SessionID, t.Request.PromptCacheKey = sid, sid
	}
	run := &run{r: r, w: w, ctx: req.Context(), path: req.URL.Path, t: t, out: status.Outcome{Client: t.Client}}
	if s, ok := t.Encoder.(Skimmer); ok {
		run.skim = s.Skims
	} else if s, ok := t.Aggregator.(Skimmer); ok {
		run.skim = s.Skims
	}
	err := run.serve()
	if run.sse != nil {
		run.sse.stop()
	}
	var ae *apierr.Error
	if err != nil && errors.As(err, &ae) && ae.Status != 499 {
		run.out.Failed = true
	}
	r.Status.Record(run.out)
	return err
}

// run is one request's trip upstream, with its retries.
type run struct {
	r    *Relay
	w    http.ResponseWriter
	ctx  context.Context
	path string // the client's route, for the log
	t    *Turn
	out  status.Outcome

	// mu orders the quiet-answer timer (openQuiet) against the events of
	// pump; committed, sse and the encoder change only under it while a
	// stream is read.
	mu        sync.Mutex
	committed bool
	finished  bool
	quiet     *time.Timer
	sse       *sseWriter
	// produced is set once the backend produced output: from then on the
	// request has spent quota and is never sent again.
	produced bool
	// body is the upstream request body, kept for a retry until the
	// backend produced output. An agent's body is hundreds of kilobytes:
	// this copy is not held for as long as the answer streams (the
	// translated request and the HTTP client's compressed copy are).
	body []byte
	// firstByte ends the time the client may wait for its first byte.
	deadline  time.Time
	firstByte *time.Timer
	// activeLimit is the x-codex-active-limit of the last upstream answer:
	// the limit family a usage limit belongs to.
	activeLimit string
	// skim is the dialect's Skimmer's Skims, or nil.
	skim func(typ string) bool
}

// markProduced records that the backend produced output: the request is
// not sent again, so its body goes, and the first-byte deadline stops.
func (x *run) markProduced() {
	x.produced = true
	x.body = nil
	x.answered()
}

// answered stops the first-byte deadline: the client got its first byte
// (or, for a non-streamed answer, the backend started answering).
func (x *run) answered() {
	if x.firstByte != nil {
		x.firstByte.Stop()
	}
}

func (x *run) serve() error {
	r, ctx := x.r, x.ctx
	// The sign-in generation before the credentials: a sign-out from here
	// on makes what this request learns about the account stale.
	x.out.Account = r.Status.Account()
	creds, err := r.Auth.Credentials(ctx)
	if err != nil {
		e := AuthError(err)
		x.out.Err = &status.ErrorInfo{Message: err.Error(), Status: e.Status}
		return e
	}
	if f := x.r.limitedLocally(x.t.Request.Model); f != nil {
		// Known to be over the usage limit: answer without asking again.
		return f.Err
	}
	_, _, x.out.Family = r.Status.UsageLimitFor(x.t.Request.Model)
	lite, err := x.chooseShape()
	if err != nil {
		return err
	}
	x.body, err = x.t.Request.MarshalJSON()
	if err != nil {
		return apierr.Errorf(http.StatusInternalServerError, "server_error", "could not encode the request: %v", err)
	}
	// One deadline for the first byte, across retries: each attempt's
	// context is cancelled when it passes before the client got anything.
	parent := ctx
	if r.FirstByteTimeout > 0 {
		x.deadline = time.Now().Add(r.FirstByteTimeout)
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		x.firstByte = time.AfterFunc(r.FirstByteTimeout, func() { cancel(ErrFirstByteTimeout) })
		defer x.firstByte.Stop()
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		stream, err := r.Upstream.Responses(ctx, upstream.Request{Creds: creds, SessionID: x.t.SessionID, Model: x.t.Request.Model, Effort: effortOf(x.t.Request), Lite: lite, Body: x.body, OwnMetadata: len(x.t.Request.ClientMetadata) > 0})
		var f *Failure
		if err != nil {
			if parent.Err() != nil && !r.stopping() {
				return ErrClientGone
			}
			var se *upstream.StatusError
			if errors.As(err, &se) {
				x.noteHeaders(se.Header)
				if se.StatusCode == http.StatusUnauthorized && !refreshed {
					refreshed = true
					r.Log.Info("upstream answered 401; refreshing credentials", "token", auth.Fingerprint(creds.AccessToken))
					nc, rerr := r.Auth.Refresh(ctx, creds.AccessToken)
					if rerr != nil {
						e := AuthError(rerr)
						x.out.Err = &status.ErrorInfo{Message: rerr.Error(), Status: e.Status}
						return e
					}
					creds = nc
					attempt--
					continue
				}
				f = HTTPFailure(se.StatusCode, se.Header, se.Body, r.Now())
			} else {
				f = transportFailure(err)
			}
		} else {
			// The headers' quota and catalog readings wait until the answer
			// is out: they are not needed before.
			f = x.pump(stream)
			x.noteHeaders(stream.Header())
			if f == nil {
				// The client has its whole answer before the stream's end
				// is read (finish waits for it, briefly).
				_ = http.NewResponseController(x.w).Flush()
				finish(stream)
			} else {
				stream.Close()
			}
			if f == nil {
				x.out.Succeeded = true
				return nil
			}
		}
		if parent.Err() != nil {
			if r.stopping() {
				// The app is quitting: say so instead of ending silently.
				e := apierr.Errorf(http.StatusServiceUnavailable, "server_error", "ChatGPT-to-API is shutting down; send the request again once it runs").WithCode("server_shutting_down")
				if x.committed {
					x.failInBand(e)
					return nil
				}
				return e
			}
			return ErrClientGone // not an upstream problem
		}
		if !f.LimitedUntil.IsZero() {
			x.noteUsageLimit(f)
		}
		if f.Err.Code != nil && *f.Err.Code == "context_length_exceeded" {
			// In the client's words, whichever way the backend said it.
			p := x.t.InputParam
			if p == "" {
				p = "messages"
			}
			f.Err.Param = &p
		}
		x.out.Err = &status.ErrorInfo{Message: f.Err.Message, Status: f.Err.Status}
		if x.committed {
			// Output already reached the client: report in band and end.
			r.Log.Warn("stream failed after output started", "path", x.path, "client", x.t.Client, "err", f.Err.Message)
			x.failInBand(f.Err)
			return nil
		}
		if f.Retryable && !x.produced && attempt < r.MaxRetries {
			if err := x.waitToRetry(ctx, parent, f, attempt); err != nil {
				return err
			}
			continue
		}
		return x.finalError(f, attempt)
	}
}

// finalError is the error a request that failed with f at attempt is
// answered with. When the backend had started answering (hidden
// reasoning, a message's start) the quota is spent and the app does not
// send the request again; when the app already did, as many times as it
// may, more tries help no one. Either way the client's SDK, which would
// retry a 5xx by itself, is told not to.
func (x *run) finalError(f *Failure, attempt int) error {
	if x.produced || attempt > 0 {
		if f.Err.Header == nil {
			f.Err.Header = http.Header{}
		}
		f.Err.Header.Set("X-Should-Retry", "false")
	}
	return f.Err
}

// waitToRetry waits out the backoff before attempt+1 of a request that
// failed with f, or returns the error to answer with instead: the wait is
// too long, passes the first-byte deadline, or the client left meanwhile
// (then nothing is sent again).
func (x *run) waitToRetry(ctx, parent context.Context, f *Failure, attempt int) error {
	d := backoff(attempt)
	if f.RetryAfter > 0 && f.RetryAfter < 10*time.Second {
		d = f.RetryAfter
	} else if f.RetryAfter >= 10*time.Second {
		return f.Err // too long to wait for on the client's behalf
	}
	if !x.deadline.IsZero() && time.Now().Add(d).After(x.deadline) {
		return f.Err // no time left for another attempt
	}
	x.r.Log.Info("retrying upstream request", "attempt", attempt+1, "after", d, "reason", f.Err.Message)
	x.r.Sleep(ctx, d)
	if parent.Err() != nil && !x.r.stopping() {
		return ErrClientGone
	}
	return nil
}

// chooseShape sets the request's shape from the catalog, so that every
// dialect's body follows the Codex CLI per model, and the lite headers go
// with the lite body. A hosted tool cannot travel in the lite shape: the
// backend refuses it, so the client hears so before any quota is spent.
func (x *run) chooseShape() (bool, error) {
	req := x.t.Request
	req.Lite = x.r.Lite != nil && x.r.Lite.UsesResponsesLite(req.Model)
	if !req.Lite {
		return false, nil
	}
	if tool := req.LiteUnsupportedTool(); tool != "" {
		return false, apierr.InvalidRequest("tools",
			"model %s takes only function and custom tools (it uses the Responses-Lite protocol); remove the %s tool or choose another model",
			req.Model, tool).WithCode("unsupported_value")
	}
	return true, nil
}

// effortOf is the request's reasoning effort, for the turn metadata.
func effortOf(req *codex.Request) string {
	if req.Reasoning == nil {
		return ""
	}
	return req.Reasoning.Effort
}

func (r *Relay) stopping() bool { return r.Stopping != nil && r.Stopping() }

// failInBand ends a committed stream with e, after the frames held for
// the rest of a burst that did not come.
func (x *run) failInBand(e *apierr.Error) {
	x.out.Failed = true
	x.sse.buf = x.t.Encoder.Fail(x.sse.buf, e)
	x.writeHeld()
}

// noteUsageLimit records a usage limit for the family the backend named
// (x-codex-active-limit), else the family of the request's model, paces
// the probes of that family and asks for a fresh quota reading.
func (x *run) noteUsageLimit(f *Failure) {
	r := x.r
	family := x.activeLimit
	if family == "" {
		_, _, family = r.Status.UsageLimitFor(x.t.Request.Model)
	}
	x.out.LimitedUntil, x.out.Plan, x.out.LimitFamily = f.LimitedUntil, f.Plan, family
	r.probe.mark(family, r.Now())
	if r.OnUsageLimit != nil {
		r.OnUsageLimit()
	}
}

// noteHeaders records rate limits and catalog changes from any upstream answer.
func (x *run) noteHeaders(h http.Header) {
	if h == nil {
		return
	}
	x.activeLimit = upstream.FamilyID(h.Get("X-Codex-Active-Limit"))
	if q, ok := upstream.ParseQuota(h, x.r.Now()); ok {
		x.out.Quota = &q
	}
	if x.r.Catalog != nil {
		x.r.Catalog.NoteETag(h.Get("X-Models-Etag"))
	}
}

// pump reads one upstream stream to its end. It returns nil on success.
func (x *run) pump(stream Stream) *Failure {
	if x.t.Encoder == nil {
		return x.aggregate(stream)
	}
	x.mu.Lock()
	x.finished = false
	x.mu.Unlock()
	defer x.finish()
	var ev codex.Event
	var held []byte // output held back until the model starts answering
	for {
		if f := x.next(stream, &ev); f != nil {
			return f
		}
		// One event at a time under mu: the quiet-answer timer may commit
		// the stream between two events, never during one.
		x.mu.Lock()
		f, done := x.step(stream, &ev, &held)
		x.mu.Unlock()
		if f != nil || done {
			return f
		}
	}
}

// step feeds one event to the encoder and writes or holds its frames. It
// runs with mu held and reports a failure or the end of the answer.
func (x *run) step(stream Stream, ev *codex.Event, held *[]byte) (*Failure, bool) {
	enc := x.t.Encoder
	var sig Signal
	var ferr error
	if x.committed {
		// One write per burst: while the next event is already buffered,
		// the frames wait in x.sse.buf (up to burstFrames), then go out
		// in one write and one flush, each of which costs a call through
		// the HTTP stack and the client a wake-up.
		x.sse.buf, sig, ferr = enc.Feed(x.sse.buf, ev)
		if ferr != nil || sig == SigDone || len(x.sse.buf) >= burstFrames || !morePending(stream) {
			if !x.writeHeld() {
				return &Failure{Err: ErrClientGone}, false
			}
		}
	} else {
		*held, sig, ferr = enc.Feed(*held, ev)
	}
	if sig != SigNone && !x.produced {
		// The backend is answering (maybe reasoning, with nothing the
		// client sees yet): quota is being spent, so the request is
		// never sent again, and the first-byte deadline, meant for a
		// backend that does not answer, must not cut it off.
		x.markProduced()
	}
	if ferr != nil {
		return asFailure(ferr), false
	}
	// Commit (send 200) only once the client would see something: an
	// empty reasoning item, say, may still be followed by a failure
	// that deserves its own status.
	if !x.committed && (len(*held) > 0 || sig == SigDone) {
		x.answered()
		x.commit()
		ok := len(*held) == 0 || x.sse.write(*held)
		*held = nil // sent; the stream may stay open for minutes
		if !ok {
			return &Failure{Err: ErrClientGone}, false
		}
	}
	if sig == SigDone {
		x.sse.stop()
		return nil, true
	}
	if x.produced && !x.committed && x.quiet == nil {
		x.quiet = time.AfterFunc(x.quietWait(), x.openQuiet)
	}
	return nil, false
}

// writeHeld writes and flushes the frames held in x.sse.buf; false when
// the client is gone.
func (x *run) writeHeld() bool {
	buf := x.sse.buf
	ok := x.sse.write(buf)
	x.sse.buf = buf[:0]
	if cap(buf) > maxKeptFrames {
		x.sse.buf = nil // a large burst's buffer is not kept for the stream's life
	}
	return ok
}

// burstFrames is how many bytes of frames wait for the rest of a burst
// before they are written.
const burstFrames = 16 << 10

// maxKeptFrames is the largest frame buffer a stream keeps between events
// (a delta's frames take a few hundred bytes, a burst up to burstFrames and
// its last frame; the first burst of an agent's Responses stream, with its
// request echoed, a hundred kilobytes).
const maxKeptFrames = 32 << 10

// quietWait is how long an answer the client cannot see yet (hidden
// reasoning) may stay silent: until the first-byte deadline, or one
// keep-alive interval without one.
func (x *run) quietWait() time.Duration {
	if x.deadline.IsZero() {
		return KeepAliveInterval
	}
	return max(time.Until(x.deadline), 0)
}

// openQuiet commits a stream whose model is answering without anything
// the client sees yet, so that the client gets its first byte within the
// first-byte deadline and keep-alives after it, instead of silence for as
// long as the model reasons.
func (x *run) openQuiet() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.committed || x.finished {
		return
	}
	x.commit()
	frame := x.sse.keepAlive
	if o, ok := x.t.Encoder.(Opener); ok {
		frame = o.Open(nil)
	}
	x.sse.write(frame)
}

// finish ends the stream's use of the response writer by this run: the
// quiet-answer timer can no longer commit it.
func (x *run) finish() {
	x.mu.Lock()
	x.finished = true
	if x.quiet != nil {
		x.quiet.Stop()
		x.quiet = nil
	}
	x.mu.Unlock()
}

// next reads and decodes the next event. Frames that do not decode are
// skipped, as the Codex CLI does, except those the dialect skims
// (Skimmer): it relays them as they came.
func (x *run) next(stream Stream, ev *codex.Event) *Failure {
	for {
		e, err := stream.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errClosedEarly
			}
			if x.ctx.Err() != nil {
				return &Failure{Err: ErrClientGone}
			}
			return readFailure(err)
		}
		if x.decode(e.Data, ev) == nil {
			ev.Raw = e.Data
			if ev.Response != nil && ev.Response.Usage != nil {
				u := ev.Response.Usage
				x.out.InputTokens, x.out.CachedTokens = u.InputTokens, u.InputTokensDetails.CachedTokens
			}
			return nil
		}
		// Skipped: the event the frames held for the rest of a burst
		// waited for was none; they go now if the next read may wait.
		if f := x.writeHeldBefore(stream); f != nil {
			return f
		}
	}
}

// writeHeldBefore writes the frames held for the rest of a burst when no
// further event is buffered, so that they do not wait for the network.
func (x *run) writeHeldBefore(stream Stream) *Failure {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.committed && len(x.sse.buf) > 0 && !morePending(stream) && !x.writeHeld() {
		return &Failure{Err: ErrClientGone}
	}
	return nil
}

// decode decodes one event's data into ev, skimming what the dialect
// relays as it came.
func (x *run) decode(data []byte, ev *codex.Event) error {
	if x.skim != nil {
		return codex.DecodeEventSkimming(data, ev, x.skim)
	}
	return codex.DecodeEvent(data, ev)
}

func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return transportFailure(err)
}

// commit sends the 200 and SSE headers; from here on errors are in band.
func (x *run) commit() {
	x.committed = true
	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	x.w.WriteHeader(http.StatusOK)
	x.sse = newSSEWriter(x.w, x.t.KeepAlive)
}

func (x *run) aggregate(stream Stream) *Failure {
	a := x.t.Aggregator
	var ev codex.Event
	for {
		if f := x.next(stream, &ev); f != nil {
			return f
		}
		sig, err := a.Feed(&ev)
		if sig != SigNone && !x.produced {
			x.markProduced() // the answer is sent when complete; the idle timeout guards it
		}
		if err != nil {
			return asFailure(err)
		}
		if sig == SigDone {
			writeJSON(x.w, http.StatusOK, a.Result())
			return nil
		}
	}
}

// readFailure is the failure of reading an answer that had begun: not a
// backend out of reach, whatever the transport's error says.
func readFailure(err error) *Failure {
	if f := knownFailure(err); f != nil {
		return f
	}
	return &Failure{Err: apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT's stream broke off before the response completed (%v)", err).WithCode("stream_closed"), Retryable: true}
}

// transportFailure is the failure of a request that got no answer.
func transportFailure(err error) *Failure {
	if f := knownFailure(err); f != nil {
		return f
	}
	return &Failure{Err: apierr.Errorf(http.StatusBadGateway, "upstream_error", "could not reach ChatGPT: %v", err).WithCode("upstream_unreachable"), Retryable: true}
}

// knownFailure is the failure of the timeouts and stream errors err may
// be, or nil.
func knownFailure(err error) *Failure {
	switch {
	case errors.Is(err, ErrFirstByteTimeout):
		return &Failure{Err: apierr.Errorf(http.StatusGatewayTimeout, "upstream_error", "ChatGPT sent nothing within the first-byte timeout (CHATGPT_FIRST_BYTE_TIMEOUT)").WithCode("upstream_timeout")}
	case errors.Is(err, upstream.ErrHeaderTimeout):
		return &Failure{Err: apierr.Errorf(http.StatusGatewayTimeout, "upstream_error", "ChatGPT did not answer in time (%v)", err).WithCode("upstream_timeout"), Retryable: true}
	case errors.Is(err, upstream.ErrIdleTimeout):
		return &Failure{Err: apierr.Errorf(http.StatusGatewayTimeout, "upstream_error", "ChatGPT stopped sending data (%v)", err).WithCode("upstream_timeout"), Retryable: true}
	case errors.Is(err, upstream.ErrStreamTooLarge):
		return &Failure{Err: apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT sent an event larger than this proxy accepts (%v)", err).WithCode("upstream_event_too_large")}
	case errors.Is(err, errClosedEarly):
		return &Failure{Err: apierr.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT closed the stream before the response completed").WithCode("stream_closed"), Retryable: true}
	}
	return nil
}

// AuthError is the API error for a credentials failure.
func AuthError(err error) *apierr.Error {
	msg := err.Error()
	switch auth.KindOf(err) {
	case auth.KindSignedOut:
		return apierr.Errorf(http.StatusUnauthorized, "authentication_error", "%s", msg).WithCode("not_signed_in")
	case auth.KindSignInRequired:
		return apierr.Errorf(http.StatusUnauthorized, "authentication_error", "%s", msg).WithCode("sign_in_required")
	case auth.KindBlocked:
		return apierr.Errorf(http.StatusForbidden, "permission_error", "%s", msg).WithCode("blocked_by_cloudflare")
	}
	return apierr.Errorf(http.StatusServiceUnavailable, "server_error", "could not get ChatGPT credentials: %s", msg).WithCode("credentials_unavailable")
}

// limitProbeEvery is how often a request is let through to the backend
// while a usage limit is known to hold, so an early reset is noticed.
var limitProbeEvery = 30 * time.Second

// limitProbe paces, per limit family, the requests let through during a
// known usage limit. The limit itself lives in the status (one place for
// that fact).
type limitProbe struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (p *limitProbe) mark(family string, now time.Time) {
	p.mu.Lock()
	if p.last == nil {
		p.last = make(map[string]time.Time)
	}
	p.last[family] = now
	p.mu.Unlock()
}

// due reports whether it is time to let one request of family through,
// and if so counts it as the probe.
func (p *limitProbe) due(family string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.last[family]) >= limitProbeEvery {
		if p.last == nil {
			p.last = make(map[string]time.Time)
		}
		p.last[family] = now
		return true
	}
	return false
}

// limitedLocally returns the failure to answer a request for model without
// asking the backend, or nil when it should go upstream (no known limit
// for the model's family, or it is time to probe). Clients that retry on
// 429 (most SDKs do) would otherwise send the same doomed request again
// and again. Models of other limit families are not held back.
func (r *Relay) limitedLocally(model string) *Failure {
	now := r.Now()
	until, plan, family := r.Status.UsageLimitFor(model)
	if !until.After(now) || r.probe.due(family, now) {
		return nil
	}
	return UsageLimit(plan, until, now)
}

// backoff is 200 ms × 2^attempt with ±10 % jitter, as the Codex CLI does.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << attempt
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
