package upstream

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	fhttp "github.com/bogdanfinn/fhttp"
	tls_client "github.com/bogdanfinn/tls-client"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

// Defaults and limits.
const (
	DefaultBaseURL       = "https://chatgpt.com/backend-api"
	DefaultOriginator    = codexcli.Originator
	DefaultHeaderTimeout = 60 * time.Second
	DefaultIdleTimeout   = 300 * time.Second
	DefaultDialTimeout   = 15 * time.Second // TCP and TLS

	proxyBackstop     = 1800 // seconds; see docs/protocol.md §7 (CONNECT with timeout 0)
	maxIdlePerHost    = 256  // idle HTTP/1.1 connections kept per host
	maxErrorBody      = 1 << 20
	maxDoBody         = 4 << 20
	maxModelsBody     = 4 << 20
	errBodyReadPrefix = "read body"
)

// ErrStreamClosed is returned by Stream.Next after Close.
var ErrStreamClosed = errors.New("sse stream closed")

// Config configures a Client.
type Config struct {
	BaseURL    string   // e.g. "https://chatgpt.com/backend-api" (no trailing slash); http:// works (tests)
	Proxy      string   // "" or an http://, https://, socks5:// or socks5h:// URL (user:pass allowed)
	Identity   Identity // identity for the Codex routes; "" means IdentityCodex
	Version    string   // Codex client version; default codexcli.Version
	Originator string   // default codexcli.Originator ("codex_exec")
	UserAgent  string   // override; default derived like the Codex CLI (Chrome's UA for IdentityChrome)
	PlainBody  bool     // send /responses bodies uncompressed (the CLI zstd-compresses them; codex identity only)
	// InstallationID is the CLI's installation id (a UUID kept on disk) for
	// the turn metadata; empty means a random one for this process.
	InstallationID string
	Timing         Timing         // HeaderTimeout default 60s, IdleTimeout default 300s
	RootCAs        *x509.CertPool // tests only; nil means the system roots
	Logger         *slog.Logger
}

// String names the route for errors and logs.
func (r Route) String() string {
	switch r {
	case RouteCodex:
		return "codex"
	case RouteWeb:
		return "web"
	case RouteAuth:
		return "auth"
	}
	return fmt.Sprintf("route(%d)", int(r))
}

// Client sends requests upstream with one reusable tls-client HttpClient per
// identity. It is safe for concurrent use.
type Client struct {
	cfg       Config
	base      string
	origin    string // scheme://host of BaseURL, for the Chrome identity
	log       *slog.Logger
	codexUA   string // the Codex CLI identity (Codex routes)
	loginUA   string // `codex login`'s identity (RouteAuth)
	installID string
	chromeUA  string // Chrome on the web routes
	routeUA   string // Chrome on the Codex routes (IdentityChrome)

	codexHC  tls_client.HttpClient // rustls-like; Codex routes (IdentityCodex) and RouteAuth
	chromeHC tls_client.HttpClient // Chrome 156; RouteWeb and Codex routes (IdentityChrome)
	jar      *cookieStore          // the Chrome client's cookies

	zenc *encoders
}

// New builds a Client. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	bu, err := url.Parse(cfg.BaseURL)
	if err != nil || (bu.Scheme != "http" && bu.Scheme != "https") || bu.Host == "" {
		return nil, fmt.Errorf("upstream: bad base url %q", cfg.BaseURL)
	}
	switch cfg.Identity {
	case "":
		cfg.Identity = IdentityCodex
	case IdentityCodex, IdentityChrome:
	default:
		return nil, fmt.Errorf("upstream: unknown identity %q", cfg.Identity)
	}
	if cfg.Version == "" {
		cfg.Version = codexcli.Version
	}
	if cfg.Originator == "" {
		cfg.Originator = DefaultOriginator
	}
	if cfg.Timing.HeaderTimeout <= 0 {
		cfg.Timing.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.Timing.IdleTimeout <= 0 {
		cfg.Timing.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Timing.DialTimeout <= 0 {
		cfg.Timing.DialTimeout = DefaultDialTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:       cfg,
		base:      cfg.BaseURL,
		origin:    bu.Scheme + "://" + bu.Host,
		log:       cfg.Logger.With("component", "upstream"),
		codexUA:   codexUserAgent(cfg.Originator, cfg.Version),
		loginUA:   codexBootstrapUserAgent(codexcli.LoginOriginator, cfg.Version),
		chromeUA:  chromeUserAgent(),
		installID: cfg.InstallationID,
	}
	if c.installID == "" {
		c.installID = newUUIDv4()
	}
	c.routeUA = c.chromeUA
	if cfg.UserAgent != "" {
		// The override applies to the identity of the Codex routes; the web
		// routes keep the real Chrome UA that matches their handshake.
		if cfg.Identity == IdentityChrome {
			c.routeUA = cfg.UserAgent
		} else {
			c.codexUA = cfg.UserAgent
		}
	}

	common, err := transportOptions(cfg)
	if err != nil {
		return nil, err
	}

	codexOpts := append(common[:len(common):len(common)],
		tls_client.WithClientProfile(codexProfile),
		tls_client.WithTransportOptions(&tls_client.TransportOptions{
			RootCAs: cfg.RootCAs,
			// fhttp neither adds accept-encoding nor decodes bodies; the
			// header is set in the CLI's place and decodeBody decodes.
			DisableCompression: true,
			// fhttp keeps 2 idle HTTP/1.1 connections per host by default,
			// so a burst of concurrent requests to an HTTP/1.1 upstream
			// dialled (and later closed) a connection for nearly every
			// request. The CLI's HTTP stack keeps idle connections without
			// a per-host cap; a generous cap does the same here.
			MaxIdleConnsPerHost: maxIdlePerHost,
		}),
	)
	if c.codexHC, err = tls_client.NewHttpClient(tls_client.NewNoopLogger(), codexOpts...); err != nil {
		return nil, fmt.Errorf("upstream: codex client: %w", err)
	}

	c.jar = newCookieStore()
	chromeOpts := append(common[:len(common):len(common)],
		tls_client.WithClientProfile(chromeProfile),
		tls_client.WithCookieJar(c.jar),
		tls_client.WithTransportOptions(&tls_client.TransportOptions{RootCAs: cfg.RootCAs, MaxIdleConnsPerHost: maxIdlePerHost}),
	)
	if c.chromeHC, err = tls_client.NewHttpClient(tls_client.NewNoopLogger(), chromeOpts...); err != nil {
		return nil, fmt.Errorf("upstream: chrome client: %w", err)
	}

	if !cfg.PlainBody {
		if c.zenc, err = processEncoders(); err != nil {
			return nil, fmt.Errorf("upstream: zstd: %w", err)
		}
	}
	return c, nil
}

// transportOptions returns the options both identities share: redirects
// off, randomized extension order, and the timeout/dial/proxy settings of
// docs/protocol.md §7.
func transportOptions(cfg Config) ([]tls_client.HttpClientOption, error) {
	opts := []tls_client.HttpClientOption{
		tls_client.WithRandomTLSExtensionOrder(),
		tls_client.WithNotFollowRedirects(),
		tls_client.WithDisableHttp3(),
	}
	if cfg.Proxy == "" {
		d := &net.Dialer{Timeout: cfg.Timing.DialTimeout, KeepAlive: 15 * time.Second}
		return append(opts, tls_client.WithTimeoutSeconds(0), tls_client.WithDialContext(boundedDial(d, cfg.Timing.DialTimeout))), nil
	}
	pu, err := url.Parse(cfg.Proxy)
	if err != nil || pu.Host == "" {
		return nil, errors.New("upstream: bad proxy url")
	}
	switch pu.Scheme {
	case "http", "https":
		// With timeout 0 tls-client sets a CONNECT deadline of "now"; a
		// large backstop keeps CONNECT working (and caps a stream at 30 min).
		opts = append(opts, tls_client.WithTimeoutSeconds(proxyBackstop))
	case "socks5", "socks5h":
		opts = append(opts, tls_client.WithTimeoutSeconds(0))
	default:
		return nil, fmt.Errorf("upstream: unsupported proxy scheme %q", pu.Scheme)
	}
	return append(opts, tls_client.WithProxyUrl(cfg.Proxy)), nil
}

// ClearCookies forgets the cookies the Chrome identity collected (the
// credentials code calls it on sign-out).
func (c *Client) ClearCookies() { c.jar.clear() }

// CloseIdleConnections closes the connections no request uses, of every
// underlying client.
func (c *Client) CloseIdleConnections() {
	c.codexHC.CloseIdleConnections()
	c.chromeHC.CloseIdleConnections()
}

// codexRouteClient returns the HttpClient of the Codex routes.
func (c *Client) codexRouteClient() tls_client.HttpClient {
	if c.cfg.Identity == IdentityChrome {
		return c.chromeHC
	}
	return c.codexHC
}

// Responses POSTs r.Body to {BaseURL}/codex/responses. On 2xx it returns a
// *Stream that the caller must Close; on other statuses a *StatusError.
func (c *Client) Responses(ctx context.Context, r Request) (*Stream, error) {
	u := c.base + "/codex/responses"
	body := r.Body
	compressed := false
	hb := headerBuilder{kv: make([][2]string, 0, 24)} // the CLI's headers, and room for the client's
	if c.cfg.Identity == IdentityChrome {
		c.chromeResponsesHeaders(&hb, r)
	} else {
		t := c.newTurn(r.SessionID, r.Model, r.Effort, time.Now())
		if !r.OwnMetadata {
			body = c.withClientMetadata(body, t)
		}
		if c.zenc != nil {
			body = c.zenc.EncodeAll(body, make([]byte, 0, len(body)/2+64))
			compressed = true
		}
		c.codexResponsesHeaders(&hb, r, t, compressed)
	}
	if c.log.Enabled(ctx, slog.LevelDebug) { // the token's fingerprint is a hash: only when logged
		c.log.Debug("responses request", "identity", string(c.cfg.Identity),
			"token", auth.Fingerprint(r.Creds.AccessToken), "bytes", len(body), "zstd", compressed)
	}

	// The stream follows the caller's cancellation until Stream.Finish, so
	// that a complete response still reads its last bytes (and keeps its
	// connection) when the caller has just gone.
	sctx, release := context.WithCancelCause(context.WithoutCancel(ctx))
	follow := context.AfterFunc(ctx, func() { release(context.Cause(ctx)) })
	if ctx.Err() != nil {
		// Cancelled already (a client gone during a retry's backoff, say):
		// AfterFunc would tell sctx only after roundTrip may have sent the
		// request, spending quota for nobody.
		follow()
		release(nil)
		return nil, fmt.Errorf("post responses: %w", context.Cause(ctx))
	}
	resp, rctx, cancel, err := c.roundTrip(sctx, c.codexRouteClient(), http.MethodPost, u, hb.header(), body)
	if err != nil {
		follow()
		release(nil)
		return nil, fmt.Errorf("post responses: %w", err)
	}
	end := func(cause error) {
		cancel(cause)
		follow()
		release(cause)
	}
	h := responseHeader(resp)
	idle := newIdleWatch(c.cfg.Timing.IdleTimeout, cancel)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(idle.reader(resp.Body), maxErrorBody))
		idle.stop()
		_ = resp.Body.Close()
		end(nil)
		c.log.Debug("responses status", "status", resp.StatusCode)
		return nil, &StatusError{StatusCode: resp.StatusCode, Header: h, Body: b, URL: u}
	}
	s := newStream(resp, h, rctx, end, idle)
	s.detach = follow
	return s, nil
}

// Models GETs {BaseURL}/codex/models?client_version=<Version>. Non-2xx
// answers are returned as a *StatusError.
func (c *Client) Models(ctx context.Context, creds auth.Credentials) ([]byte, http.Header, error) {
	u := c.base + "/codex/models?client_version=" + url.QueryEscape(c.cfg.Version)
	var hb headerBuilder
	if c.cfg.Identity == IdentityChrome {
		c.chromeFetchHeaders(&hb, http.MethodGet, false)
		hb.set("accept", "application/json")
		hb.set("authorization", bearer(creds.AccessToken))
		hb.set("chatgpt-account-id", creds.AccountID)
		hb.set("originator", c.cfg.Originator)
		hb.set("version", c.cfg.Version)
		hb.set("cookie", c.jar.header(c.base, ""))
	} else {
		// The CLI's wire order for GET /codex/models.
		hb.add("version", c.cfg.Version)
		hb.add("authorization", bearer(creds.AccessToken))
		hb.add("chatgpt-account-id", creds.AccountID)
		hb.add("originator", c.cfg.Originator)
		hb.add("user-agent", c.codexUA)
		hb.add("accept", "*/*")
		hb.add("accept-encoding", codexcli.AcceptEncoding)
		hb.add("host", "")
	}
	res, err := c.do(ctx, c.codexRouteClient(), http.MethodGet, u, hb.header(), nil, maxModelsBody)
	if err != nil {
		return nil, nil, fmt.Errorf("get models: %w", err)
	}
	return bodyOrStatus(res, u)
}

// bodyOrStatus returns a 2xx answer's body and headers, or a *StatusError
// with the body capped.
func bodyOrStatus(res *Response, u string) ([]byte, http.Header, error) {
	if res.StatusCode < 200 || res.StatusCode > 299 {
		b := res.Body
		if len(b) > maxErrorBody {
			b = b[:maxErrorBody]
		}
		return nil, res.Header, &StatusError{StatusCode: res.StatusCode, Header: res.Header, Body: b, URL: u}
	}
	return res.Body, res.Header, nil
}

// Usage GETs {BaseURL}/wham/usage, the quota the Codex CLI (0.154 and
// later) shows in /status, with the CLI's headers for that call (no
// originator or version; TUI record #8 of the 0.171 capture). Non-2xx
// answers are returned as a *StatusError.
func (c *Client) Usage(ctx context.Context, creds auth.Credentials) ([]byte, http.Header, error) {
	u := c.base + "/wham/usage"
	var hb headerBuilder
	if c.cfg.Identity == IdentityChrome {
		c.chromeFetchHeaders(&hb, http.MethodGet, false)
		hb.set("authorization", bearer(creds.AccessToken))
		hb.set("chatgpt-account-id", creds.AccountID)
		hb.set("cookie", c.jar.header(c.base, ""))
	} else {
		hb.add("user-agent", c.codexUA)
		hb.add("authorization", bearer(creds.AccessToken))
		hb.add("chatgpt-account-id", creds.AccountID)
		hb.add("x-openai-codex-luna-reserve", "1")
		hb.add("accept", "*/*")
		hb.add("accept-encoding", codexcli.AcceptEncoding)
		hb.add("host", "")
	}
	res, err := c.do(ctx, c.codexRouteClient(), http.MethodGet, u, hb.header(), nil, maxDoBody)
	if err != nil {
		return nil, nil, fmt.Errorf("get usage: %w", err)
	}
	return bodyOrStatus(res, u)
}

// Do sends one small non-streaming request with the identity of route and
// returns the whole response, its body capped at 4 MiB. Caller headers
// replace identity defaults of the same name in place (an empty value drops
// the default); the others follow the identity's own headers in the given
// order (for RouteAuth they precede the client defaults, as reqwest sends
// them). Any status is returned as a Response; only transport failures are
// errors.
func (c *Client) Do(ctx context.Context, route Route, method, rawURL string, header [][2]string, body []byte) (*Response, error) {
	var hb headerBuilder
	var hc tls_client.HttpClient
	switch route {
	case RouteWeb:
		hc = c.chromeHC
		c.webHeaders(&hb, method, rawURL, len(body) > 0, header)
	case RouteAuth:
		hc = c.codexHC
		c.authHeaders(&hb, header, codexcli.LoginOriginator, c.loginUA)
	case RouteCodex:
		hc = c.codexRouteClient()
		if c.cfg.Identity == IdentityChrome {
			c.chromeFetchHeaders(&hb, method, len(body) > 0)
			hb.merge(header, true)
			hb.set("cookie", c.jar.header(rawURL, callerCookie(header)))
		} else {
			hb.add("version", c.cfg.Version)
			c.authHeaders(&hb, header, c.cfg.Originator, c.codexUA)
		}
	default:
		return nil, fmt.Errorf("upstream: unknown route %d", int(route))
	}
	res, err := c.do(ctx, hc, method, rawURL, hb.header(), body, maxDoBody)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", strings.ToLower(method), route, err)
	}
	return res, nil
}

// do performs one request and reads the whole (capped) body.
func (c *Client) do(ctx context.Context, hc tls_client.HttpClient, method, u string, h fhttp.Header, body []byte, limit int64) (*Response, error) {
	resp, rctx, cancel, err := c.roundTrip(ctx, hc, method, u, h, body)
	if err != nil {
		return nil, err
	}
	defer cancel(nil)
	idle := newIdleWatch(c.cfg.Timing.IdleTimeout, cancel)
	defer idle.stop()
	res := &Response{StatusCode: resp.StatusCode, Header: responseHeader(resp)}

	// Read in a goroutine too, so a cancelled ctx returns at once even if
	// the transport ignores it.
	type readResult struct {
		b   []byte
		err error
	}
	done := make(chan readResult, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(idle.reader(resp.Body), limit+1))
		_ = resp.Body.Close()
		done <- readResult{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			if cause := context.Cause(rctx); cause != nil {
				return nil, fmt.Errorf("%s: %w", errBodyReadPrefix, cause)
			}
			return nil, fmt.Errorf("%s: %w", errBodyReadPrefix, r.err)
		}
		if int64(len(r.b)) > limit {
			c.log.Warn("upstream response body truncated", "url", redactURL(u), "limit", limit)
			r.b = r.b[:limit]
		}
		res.Body = r.b
		return res, nil
	case <-rctx.Done():
		return nil, fmt.Errorf("%s: %w", errBodyReadPrefix, context.Cause(rctx))
	}
}

// roundTrip sends the request under a header deadline and returns the
// response with its request context and cancel function, which the caller
// owns. A cancelled ctx returns promptly: the HTTP client honours it
// everywhere but in the HTTP/2 re-dial, which boundedDial bounds; through
// a proxy (tls-client's own dialer) the request waits in a goroutine of its
// own, so that the caller can leave while it hangs.
func (c *Client) roundTrip(ctx context.Context, hc tls_client.HttpClient, method, u string, h fhttp.Header, body []byte) (*fhttp.Response, context.Context, context.CancelCauseFunc, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := fhttp.NewRequestWithContext(rctx, method, u, rd)
	if err != nil {
		cancel(nil)
		return nil, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = h
	if len(body) > 0 {
		req.Body = inMemoryBody(body)
	}

	hdrTimer := time.AfterFunc(c.cfg.Timing.HeaderTimeout, func() { cancel(ErrHeaderTimeout) })
	var resp *fhttp.Response
	if c.cfg.Proxy == "" {
		// In this goroutine: handing the request to another and its
		// answer back woke a second thread twice per request.
		resp, err = hc.Do(req)
	} else if resp, err = doApart(rctx, hc, req); err == nil && resp == nil {
		hdrTimer.Stop()
		return nil, nil, nil, context.Cause(rctx)
	}
	hdrTimer.Stop()
	if err != nil {
		if cause := context.Cause(rctx); cause != nil {
			err = cause
		}
		cancel(nil)
		return nil, nil, nil, err
	}
	// fhttp's h2 transport does not reset a stream when its context
	// ends (cancelStream's didReset test is inverted), but closing the
	// body does: close it as soon as the request context is done, so
	// that every watchdog and caller cancellation reaches the server.
	decodeBody(resp)
	resp.Body = &onceCloser{ReadCloser: resp.Body}
	rb := resp.Body
	context.AfterFunc(rctx, func() { _ = rb.Close() })
	return resp, rctx, cancel, nil
}

// doApart sends req from a goroutine of its own and returns its answer, or
// nothing (nil, nil) as soon as rctx is done; an answer that comes after
// that is closed.
func doApart(rctx context.Context, hc tls_client.HttpClient, req *fhttp.Request) (*fhttp.Response, error) {
	type result struct {
		resp *fhttp.Response
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		resp, err := hc.Do(req)
		ch <- result{resp, err}
	}()
	select {
	case r := <-ch:
		return r.resp, r.err
	case <-rctx.Done():
		go func() {
			if r := <-ch; r.resp != nil {
				_ = r.resp.Body.Close()
			}
		}()
		return nil, nil
	}
}

// nopCloserType is the type io.NopCloser returns for a reader without
// WriteTo: the one fhttp recognizes as wrapping an in-memory body.
var nopCloserType = reflect.TypeOf(io.NopCloser(nil))

// inMemoryBody returns b as a request body that fhttp writes in one go
// with the headers. fhttp (a fork of an older net/http) tells an in-memory
// body by the type io.NopCloser returned before Go 1.20; the one it
// returns now for a *bytes.Reader is not recognized, so fhttp flushed the
// headers on their own first and the request took two writes (two
// segments, and a server woken twice). The body is built as the old type:
// io.nopCloser around a *bytes.Reader. This is HTTP/1.1's path (an
// upstream reached through a plain-HTTP proxy or base URL, the tests'
// fake); over HTTP/2 fhttp sends the HEADERS frame on its own in any case.
func inMemoryBody(b []byte) io.ReadCloser {
	v := reflect.New(nopCloserType).Elem()
	v.Field(0).Set(reflect.ValueOf(io.Reader(bytes.NewReader(b))))
	return v.Interface().(io.ReadCloser)
}

// responseHeader converts fhttp's header to net/http's and drops the
// encoding headers when fhttp decoded the body.
func responseHeader(resp *fhttp.Response) http.Header {
	h := http.Header(resp.Header)
	if h == nil {
		h = http.Header{}
	}
	if resp.Uncompressed {
		switch strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))) {
		case "gzip", "br", "deflate", "zstd":
			h.Del("Content-Encoding")
			h.Del("Content-Length")
		}
	}
	return h
}

func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// redactURL drops the query of a URL for logs.
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// idleWatch cancels a request when its body stays silent for too long.
type idleWatch struct {
	d time.Duration
	t *time.Timer
}

func newIdleWatch(d time.Duration, cancel context.CancelCauseFunc) *idleWatch {
	return &idleWatch{d: d, t: time.AfterFunc(d, func() { cancel(ErrIdleTimeout) })}
}

func (w *idleWatch) stop() { w.t.Stop() }

// reader wraps r so that every read that returns bytes re-arms the watchdog.
func (w *idleWatch) reader(r io.Reader) io.Reader { return &idleReader{r: r, w: w} }

type idleReader struct {
	r io.Reader
	w *idleWatch
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.t.Reset(r.w.d)
	}
	return n, err
}

// onceCloser makes Close idempotent and safe to call from two goroutines.
type onceCloser struct {
	io.ReadCloser
	once sync.Once
	err  error
}

func (c *onceCloser) Close() error {
	c.once.Do(func() { c.err = c.ReadCloser.Close() })
	return c.err
}
