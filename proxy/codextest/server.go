package codextest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Server is a fake of ChatGPT's Codex backend. Create it with New or
// NewServer; it is safe for concurrent use.
type Server struct {
	conns atomic.Int64 // connections accepted
	// URL is the root of the server, e.g. "http://127.0.0.1:41234". It is
	// set by Start and StartTLS.
	URL string

	ts   *httptest.Server
	mux  *http.ServeMux
	addr string

	closing   chan struct{}
	closeOnce sync.Once
	discCh    chan struct{}

	mu          sync.Mutex
	requests    []Recorded // the last keep ones when keep > 0
	dropped     int        // requests forgotten before requests[0]
	keep        int
	cacheKeys   []string // cache's keys in the order they came, when keep > 0
	queue       []Behavior
	responder   Behavior
	models      []Model
	etag        string
	etagSet     bool
	tokenValid  func(string) bool
	accountOK   func(string) bool
	rate        RateLimits
	clock       func() time.Time
	ids         uint64
	cache       map[string][][]byte // prompt_cache_key → earlier prompts (see Stream.EstimatedUsage)
	disconnects int
	eventDelay  time.Duration
}

// Option configures a Server created by New or NewServer.
type Option func(*Server)

// WithModels replaces the default catalog (DefaultModels) with models. The
// catalog decides which slugs /codex/responses accepts, their efforts,
// verbosity support and version gates.
func WithModels(models ...Model) Option {
	return func(s *Server) { s.models = cloneModels(models) }
}

// WithModelsETag sets the initial ETag of the catalog, also sent as
// x-models-etag on every /codex/responses answer.
func WithModelsETag(etag string) Option {
	return func(s *Server) { s.etag, s.etagSet = etag, true }
}

// WithResponder replaces the default responder, which answers every
// accepted /codex/responses request when the queue is empty.
func WithResponder(b Behavior) Option {
	return func(s *Server) { s.responder = b }
}

// WithRateLimits sets the x-codex-* rate-limit state reported in headers.
func WithRateLimits(r RateLimits) Option {
	return func(s *Server) { s.rate = r }
}

// WithClock sets the clock used for created_at, reset-at headers and
// usage-limit bodies. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.clock = now }
}

// WithAddr sets the listen address (default "127.0.0.1:0").
func WithAddr(addr string) Option {
	return func(s *Server) { s.addr = addr }
}

// WithEventDelay makes every stream pause for d between SSE events, which
// makes streaming visible when testing by hand. Tests should leave it at 0.
func WithEventDelay(d time.Duration) Option {
	return func(s *Server) { s.eventDelay = d }
}

// WithKeep makes the server remember only its last n requests (up to 2n
// between two clean-ups; for Requests and its friends) and the prompts of
// its last n cache keys, so that a fake that runs for long (the fakecodex
// command) does not grow without end. Tests, by default, keep everything.
func WithKeep(n int) Option {
	return func(s *Server) { s.keep = n }
}

// New returns a Server that is not started yet; call Start or StartTLS.
func New(opts ...Option) *Server {
	s := &Server{
		mux:     http.NewServeMux(),
		addr:    "127.0.0.1:0",
		closing: make(chan struct{}),
		discCh:  make(chan struct{}, 1024),
		models:  DefaultModels(),
		rate:    DefaultRateLimits(),
		clock:   time.Now,
		cache:   map[string][][]byte{},
	}
	s.responder = BehaviorFunc(DefaultResponder)
	for _, o := range opts {
		o(s)
	}
	if !s.etagSet {
		s.etag = catalogETag(s.models)
	}
	s.mux.HandleFunc("/backend-api/codex/", s.serveCodex)
	s.mux.HandleFunc("/backend-api/wham/usage", s.serveUsage)
	s.ts = httptest.NewUnstartedServer(s.mux)
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	return s
}

// Connections returns how many connections the server accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// NewServer returns a started plain-HTTP Server that is closed when the
// test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewTLSServer returns a started TLS Server (HTTP/2 enabled) that is closed
// when the test ends.
func NewTLSServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) listen() {
	if s.addr == "" || s.addr == "127.0.0.1:0" {
		return
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		panic(fmt.Sprintf("codextest: listen on %s: %v", s.addr, err))
	}
	_ = s.ts.Listener.Close()
	s.ts.Listener = l
}

// Start starts plain HTTP/1.1 on 127.0.0.1 (or the WithAddr address).
func (s *Server) Start() {
	s.listen()
	s.ts.Start()
	s.URL = s.ts.URL
}

// StartTLS starts TLS with HTTP/2 enabled, using a self-signed certificate
// valid for 127.0.0.1; see Certificate and CertPool.
func (s *Server) StartTLS() {
	s.listen()
	s.ts.EnableHTTP2 = true
	s.ts.StartTLS()
	s.URL = s.ts.URL
}

// Close releases stalled streams, then shuts the server down and waits for
// outstanding requests.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.Close()
	})
}

// Certificate returns the TLS certificate of a server started with
// StartTLS, or nil.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// CertPool returns a pool that trusts Certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	if c := s.Certificate(); c != nil {
		p.AddCert(c)
	}
	return p
}

// CertPEM returns Certificate PEM-encoded, or nil.
func (s *Server) CertPEM() []byte {
	c := s.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Client returns an *http.Client configured for the server (trusting its
// certificate when TLS is on).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// BaseURL returns s.URL + "/backend-api", the value CHATGPT_BASE_URL should
// point at.
func (s *Server) BaseURL() string { return s.URL + "/backend-api" }

// Handle registers h on the server's mux. The fake itself owns the
// "/backend-api/codex/" subtree and "/backend-api/wham/usage"; more specific
// patterns registered here take precedence.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// HandleFunc is Handle for a function.
func (s *Server) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.mux.HandleFunc(pattern, h)
}

// RequireTokens makes /codex/* answer 401 {"detail":"Unauthorized"} to
// Bearer tokens for which valid returns false. By default any non-empty
// token is accepted. A nil valid restores the default.
func (s *Server) RequireTokens(valid func(token string) bool) {
	s.mu.Lock()
	s.tokenValid = valid
	s.mu.Unlock()
}

// RequireAccountID makes /codex/* answer 401 to ChatGPT-Account-ID values
// for which valid returns false. By default any non-empty value is
// accepted. A nil valid restores the default.
func (s *Server) RequireAccountID(valid func(accountID string) bool) {
	s.mu.Lock()
	s.accountOK = valid
	s.mu.Unlock()
}

// SetModelsETag changes the catalog ETag and the x-models-etag header.
func (s *Server) SetModelsETag(etag string) {
	s.mu.Lock()
	s.etag = etag
	s.mu.Unlock()
}

// ModelsETag returns the current catalog ETag.
func (s *Server) ModelsETag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.etag
}

// SetModels replaces the catalog. The ETag is left alone; call
// SetModelsETag too if clients should notice.
func (s *Server) SetModels(models ...Model) {
	s.mu.Lock()
	s.models = cloneModels(models)
	s.mu.Unlock()
}

// Models returns a copy of the catalog.
func (s *Server) Models() []Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneModels(s.models)
}

// SetRateLimits changes the rate-limit state reported in x-codex-* headers.
func (s *Server) SetRateLimits(r RateLimits) {
	s.mu.Lock()
	s.rate = r
	s.mu.Unlock()
}

// SetResponder replaces the responder used when the queue is empty; nil
// restores the default responder.
func (s *Server) SetResponder(b Behavior) {
	if b == nil {
		b = BehaviorFunc(DefaultResponder)
	}
	s.mu.Lock()
	s.responder = b
	s.mu.Unlock()
}

// Enqueue appends one-shot behaviours. Each accepted /codex/responses
// request (one that passed authentication and validation) consumes the
// first queued behaviour; when the queue is empty the responder answers.
func (s *Server) Enqueue(b ...Behavior) {
	s.mu.Lock()
	s.queue = append(s.queue, b...)
	s.mu.Unlock()
}

// Pending returns how many queued behaviours are left.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Requests returns a copy of every /codex/* request received, in order.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// RequestsSince returns the requests received after the first n, as
// Requests does, without copying the others (a long-running fake logs
// its new requests this way). With WithKeep, those forgotten already are
// left out: Recorded.Index tells which ones came.
func (s *Server) RequestsSince(n int) []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = max(n-s.dropped, 0)
	if n >= len(s.requests) {
		return nil
	}
	out := make([]Recorded, 0, len(s.requests)-n)
	for _, r := range s.requests[n:] {
		out = append(out, r.clone())
	}
	return out
}

// LastRequest returns the last /codex/* request received, or the zero
// Recorded if there was none.
func (s *Server) LastRequest() Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Recorded{}
	}
	return s.requests[len(s.requests)-1].clone()
}

// ResponsesRequests returns only the recorded POST /codex/responses requests.
func (s *Server) ResponsesRequests() []Recorded {
	var out []Recorded
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/codex/responses") {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets recorded requests, queued behaviours and disconnects.
func (s *Server) Reset() {
	s.mu.Lock()
	s.requests, s.dropped = nil, 0 // numbered from 0 again
	s.queue = nil
	s.disconnects = 0
	s.mu.Unlock()
}

// Disconnects returns how many stalled streams (see Stall) saw their client
// go away.
func (s *Server) Disconnects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnects
}

// Disconnected returns a channel that receives one value each time a
// stalled stream sees its client disconnect.
func (s *Server) Disconnected() <-chan struct{} { return s.discCh }

func (s *Server) noteDisconnect() {
	s.mu.Lock()
	s.disconnects++
	s.mu.Unlock()
	select {
	case s.discCh <- struct{}{}:
	default:
	}
}

// Recorded is one request received under /backend-api/codex/.
type Recorded struct {
	// Index is the request's number, from 0, in the order the requests
	// came.
	Index  int
	Method string
	Path   string
	Query  string
	Header http.Header
	// Body is the request body, decompressed if it was sent with
	// Content-Encoding: zstd.
	Body []byte
	// JSON is Body decoded, or nil if it is not a JSON object.
	JSON map[string]any
	// Status is the HTTP status the fake answered (0 while not yet decided).
	Status int
	// Rejection is the validation or authentication message when the fake
	// refused the request, or "" when it was accepted.
	Rejection string
}

func (r Recorded) clone() Recorded {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	if r.JSON != nil {
		var m map[string]any
		if json.Unmarshal(r.Body, &m) == nil {
			r.JSON = m
		}
	}
	return r
}

func (s *Server) record(r *http.Request, body []byte) int {
	rec := Recorded{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Header: r.Header.Clone(),
		Body:   body,
	}
	var m map[string]any
	if len(body) > 0 && json.Unmarshal(body, &m) == nil {
		rec.JSON = m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.Index = s.dropped + len(s.requests)
	if s.keep > 0 && len(s.requests) >= 2*s.keep {
		// Forget in batches: moving the kept ones for every request
		// would cost the fake more than answering it.
		n := len(s.requests) - s.keep + 1
		clear(s.requests[:n]) // let the forgotten bodies go
		s.requests = append(s.requests[:0], s.requests[n:]...)
		s.dropped += n
	}
	s.requests = append(s.requests, rec)
	return rec.Index
}

// at returns the kept request with index idx, or nil; s.mu is held.
func (s *Server) at(idx int) *Recorded {
	if i := idx - s.dropped; i >= 0 && i < len(s.requests) {
		return &s.requests[i]
	}
	return nil
}

func (s *Server) setStatus(idx, status int) {
	s.mu.Lock()
	if r := s.at(idx); r != nil && r.Status == 0 {
		r.Status = status
	}
	s.mu.Unlock()
}

func (s *Server) setRejection(idx int, msg string) {
	s.mu.Lock()
	if r := s.at(idx); r != nil {
		r.Rejection = msg
	}
	s.mu.Unlock()
}

// statusWriter records the status of the answer as soon as it is written.
type statusWriter struct {
	http.ResponseWriter
	s     *Server
	idx   int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.s.setStatus(w.idx, code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// nextID returns a deterministic id such as "resp_3f2a…".
func (s *Server) nextID(prefix string, n int) string {
	s.mu.Lock()
	s.ids++
	c := s.ids
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", prefix, c)))
	return prefix + hex.EncodeToString(sum[:])[:n]
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock()
}

// zstdDecoder returns the fake's one zstd decoder. DecodeAll may be used
// concurrently; one shared decoder keeps the fake's cost per compressed
// body small, as a backend's would be, instead of building a decoder (and
// its goroutines) per request.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
})

// readBody reads the request body, decoding Content-Encoding zstd.
func readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "zstd":
		d, err := zstdDecoder()
		if err != nil {
			return nil, fmt.Errorf("create zstd decoder: %w", err)
		}
		out, err := d.DecodeAll(raw, nil)
		if err != nil {
			return nil, fmt.Errorf("decode zstd body: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unsupported content-encoding %q", enc)
	}
}

// serveCodex dispatches everything under /backend-api/codex/.
func (s *Server) serveCodex(w http.ResponseWriter, r *http.Request) {
	body, bodyErr := readBody(r)
	idx := s.record(r, body)
	sw := &statusWriter{ResponseWriter: w, s: s, idx: idx}
	s.commonHeaders(sw, r)

	if bodyErr != nil {
		s.reject(sw, idx, http.StatusBadRequest, detail("Could not decode request body"), bodyErr.Error())
		return
	}
	if msg := s.checkAuth(r); msg != "" {
		s.reject(sw, idx, http.StatusUnauthorized, detail("Unauthorized"), msg)
		return
	}
	switch r.URL.Path {
	case "/backend-api/codex/responses":
		if r.Method != http.MethodPost {
			s.reject(sw, idx, http.StatusMethodNotAllowed, detail("Method Not Allowed"), "method not allowed")
			return
		}
		s.serveResponses(sw, r, idx, body)
	case "/backend-api/codex/models":
		if r.Method != http.MethodGet {
			s.reject(sw, idx, http.StatusMethodNotAllowed, detail("Method Not Allowed"), "method not allowed")
			return
		}
		s.serveModels(sw, r, idx)
	default:
		s.reject(sw, idx, http.StatusNotFound, detail("Not Found"), "not found")
	}
}

// checkAuth returns "" when the request carries acceptable credentials, or
// the reason it does not.
func (s *Server) checkAuth(r *http.Request) string {
	s.mu.Lock()
	tokenValid, accountOK := s.tokenValid, s.accountOK
	s.mu.Unlock()
	authz := strings.TrimSpace(r.Header.Get("Authorization"))
	if authz == "" {
		return "missing Authorization header"
	}
	scheme, token, ok := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "malformed Authorization header"
	}
	if tokenValid != nil && !tokenValid(token) {
		return "invalid access token"
	}
	account := strings.TrimSpace(r.Header.Get("ChatGPT-Account-ID"))
	if account == "" {
		return "missing ChatGPT-Account-ID header"
	}
	if accountOK != nil && !accountOK(account) {
		return "unknown ChatGPT-Account-ID"
	}
	return ""
}

// commonHeaders sets the headers the backend sends on every answer.
func (s *Server) commonHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	reqID := s.nextID("req_", 32)
	h.Set("x-request-id", reqID)
	h.Set("x-oai-request-id", reqID)
	h.Set("cf-ray", s.nextID("", 16)+"-FRA")
	h.Set("x-models-etag", s.ModelsETag())
	s.mu.Lock()
	rate := s.rate
	s.mu.Unlock()
	rate.writeHeaders(h, s.now())
	if ts := r.Header.Get("x-codex-turn-state"); ts != "" {
		h.Set("x-codex-turn-state", ts)
	} else {
		h.Set("x-codex-turn-state", s.nextID("ts_", 24))
	}
}

// reject answers with status and a JSON body and records msg as the
// rejection.
func (s *Server) reject(w http.ResponseWriter, idx, status int, body []byte, msg string) {
	s.setRejection(idx, msg)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// detail returns a gateway-style {"detail": msg} body.
func detail(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"detail": msg})
	return b
}

// openAIError returns an OpenAI-style error body; empty param or code
// become null.
func openAIError(message, param, code string) []byte {
	e := map[string]any{"message": message, "type": "invalid_request_error", "param": nil, "code": nil}
	if param != "" {
		e["param"] = param
	}
	if code != "" {
		e["code"] = code
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return b
}

// serveUsage fakes GET /backend-api/wham/usage from the rate-limit state.
// It is not recorded.
func (s *Server) serveUsage(w http.ResponseWriter, r *http.Request) {
	if s.checkAuth(r) != "" {
		writeJSON(w, http.StatusUnauthorized, detail("Unauthorized"))
		return
	}
	s.mu.Lock()
	rate := s.rate
	s.mu.Unlock()
	b, _ := json.Marshal(rate.usageBody(s.now()))
	writeJSON(w, http.StatusOK, b)
}

// serveResponses validates and answers POST /codex/responses.
func (s *Server) serveResponses(w http.ResponseWriter, r *http.Request, idx int, body []byte) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		s.reject(w, idx, http.StatusBadRequest, detail("Request body must be a JSON object"), "body is not a JSON object")
		return
	}
	s.mu.Lock()
	models := s.models
	s.mu.Unlock()
	req, verr := parseAndValidate(raw, r.Header, models)
	if verr != nil {
		s.reject(w, idx, verr.status, verr.body, verr.message)
		return
	}
	req.srv = s
	req.ctx = r.Context()
	req.Header = r.Header.Clone()
	req.BodySize = len(body)

	s.mu.Lock()
	b := s.responder
	if len(s.queue) > 0 {
		b = s.queue[0]
		s.queue = s.queue[1:]
	}
	s.mu.Unlock()
	w.Header().Set("openai-model", req.Model)
	b.Respond(w, r, req)
}
