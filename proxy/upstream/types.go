// Package upstream talks to ChatGPT's backend through bogdanfinn/tls-client,
// so that each route presents one consistent client identity (TLS
// ClientHello, HTTP/2 settings and header order): the Codex CLI's for the
// Codex routes by default, Chrome's for the web routes.
package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
)

// Identity names a client identity: TLS fingerprint, HTTP/2 settings and
// header set and order, all consistent with each other.
type Identity string

// The identities.
const (
	// IdentityCodex looks like the Codex CLI with a custom CA (rustls, h2).
	IdentityCodex Identity = "codex"
	// IdentityChrome looks like Chrome 152-156 (chatgpt.com's Codex web pages
	// for the Codex routes; a browser tab for the web routes).
	IdentityChrome Identity = "chrome"
)

// Errors a stream can end with.
var (
	ErrIdleTimeout    = errors.New("idle timeout waiting for SSE")
	ErrHeaderTimeout  = errors.New("timeout waiting for response headers")
	ErrStreamTooLarge = errors.New("sse event too large")
)

// Request is one call to {base}/codex/responses.
type Request struct {
	Creds     auth.Credentials
	SessionID string // the thread id (= prompt_cache_key): session-id, thread-id, x-client-request-id, x-codex-window-id
	TurnState string // x-codex-turn-state to echo, if any
	Model     string // the body's model: turn metadata and x-codex-routing-hint
	Effort    string // the body's reasoning effort, for the turn metadata ("" when none)
	Lite      bool   // the body has the Responses-Lite shape: send the lite and routing-hint headers
	Body      []byte // the JSON body, ready to send; client_metadata is appended unless OwnMetadata
	// OwnMetadata says that Body has the client's own client_metadata: the
	// CLI's is not appended (the body is not searched for it: an agent's
	// body is hundreds of kilobytes).
	OwnMetadata bool
}

// Event is one SSE event. Data is only valid until the next call to Next.
type Event struct {
	Name string // the "event:" field, if any
	Data []byte // the joined "data:" lines
}

// StatusError is a non-2xx answer from the backend. Body is capped.
type StatusError struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	URL        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("upstream answered %d", e.StatusCode)
}

// Timing holds the watchdog settings of a request.
type Timing struct {
	HeaderTimeout time.Duration // until response headers (default 60s)
	IdleTimeout   time.Duration // between SSE events (default 300s)
	// DialTimeout bounds opening a connection, TCP and TLS (default 15s).
	DialTimeout time.Duration
}

// Route selects the identity of a non-streaming request made with Client.Do.
type Route int

// The routes.
const (
	// RouteCodex is {base}/codex/*: the configured Codex identity.
	RouteCodex Route = iota
	// RouteWeb is chatgpt.com's web pages such as /api/auth/session: always
	// Chrome's identity with browser headers.
	RouteWeb
	// RouteAuth is the OAuth issuer (auth.openai.com): the Codex CLI's identity.
	RouteAuth
)

// Response is a whole, small response read by Client.Do. Header keeps every
// Set-Cookie value.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}
