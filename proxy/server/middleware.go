package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/anthropic"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// hostGuard refuses requests whose Host header names anything but the bound
// address, loopback names or configured extra hosts. This stops DNS
// rebinding: a web page at evil.example resolving to 127.0.0.1 still sends
// "Host: evil.example". /healthz is no exception: such a page must not
// learn that the app is running.
func (s *Server) hostGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		host := c.Request().Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.Trim(host, "[]"))
		if !s.allowedHosts[host] {
			return apierr.Errorf(http.StatusForbidden, "invalid_request_error", "Host %q is not allowed. Use http://127.0.0.1:%d or http://localhost:%d, or add the name to CHATGPT_ALLOWED_HOSTS.", host, s.port(), s.port()).WithCode("host_not_allowed")
		}
		return next(c)
	}
}

// originGuard refuses browser requests from foreign origins and answers
// CORS preflights for the configured ones.
func (s *Server) originGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin := c.Request().Header.Get("Origin")
		if origin == "" {
			return next(c)
		}
		if !s.originAllowed(origin) {
			return apierr.Errorf(http.StatusForbidden, "invalid_request_error", "Browser requests from origin %q are refused. Add it to CHATGPT_ALLOWED_ORIGINS to allow it.", origin).WithCode("origin_not_allowed")
		}
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if c.Request().Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, X-Api-Key, X-Session-Id, Anthropic-Version, Anthropic-Beta, Anthropic-Dangerous-Direct-Browser-Access, OpenAI-Organization, OpenAI-Project, X-Stainless-Arch, X-Stainless-Lang, X-Stainless-OS, X-Stainless-Package-Version, X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Retry-Count, X-Stainless-Timeout")
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

func (s *Server) originAllowed(origin string) bool {
	o := strings.TrimRight(strings.ToLower(origin), "/")
	for _, a := range s.cfg.AllowedOrigin {
		if a == "*" || strings.TrimRight(strings.ToLower(a), "/") == o {
			return true
		}
	}
	own := []string{"http://127.0.0.1:", "http://localhost:", "http://[::1]:"}
	for _, p := range own {
		if o == p+itoa(s.port()) {
			return true
		}
	}
	return false
}

// requireKey checks the local API key in constant time. Keys come in
// "Authorization: Bearer KEY" or "X-Api-Key: KEY".
func (s *Server) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.keyHash) == 0 {
			return next(c)
		}
		key := ""
		if a := c.Request().Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			key = strings.TrimSpace(a[7:])
		}
		if key == "" {
			key = strings.TrimSpace(c.Request().Header.Get("X-Api-Key"))
		}
		if key == "" {
			how := "'Authorization: Bearer KEY'"
			if anthropic.Wants(c.Request()) {
				how = "'x-api-key: KEY' (or 'Authorization: Bearer KEY')" // Anthropic's clients
			}
			return apierr.Errorf(http.StatusUnauthorized, "invalid_request_error", "You didn't provide an API key. Send it as %s. The key is in the tray menu (Copy API key) or printed by 'chatgpt-to-api api-key'.", how).WithCode("invalid_api_key")
		}
		sum := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(sum[:], s.keyHash) != 1 {
			return apierr.Errorf(http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided. The key is in the tray menu (Copy API key) or printed by 'chatgpt-to-api api-key'.").WithCode("invalid_api_key")
		}
		return next(c)
	}
}

// logRequests logs one line per request, never headers or bodies. A
// request refused with a 4xx names its reason (the message the client got,
// clipped): a client that only says "400" leaves its user nothing else to
// go by. A 5xx has a warning line of its own (errorHandler). A client that
// left before its answer began is logged with 499 (the status nginx
// logs for it), one that left while it streamed with the reason "client
// closed the stream": neither got what the status would otherwise say.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		var reason string
		if err == nil && c.Get(clientGoneKey) != nil {
			if !c.Response().Committed {
				status, reason = statusClientClosed, "the client closed the request before the answer began"
			} else {
				reason = "the client closed the stream before its end"
			}
		}
		if err != nil {
			e := s.apiError(err, c)
			if status = writtenStatus(e, c); status < 500 {
				reason = e.Message
				if anthropic.Wants(c.Request()) {
					reason = anthropic.ErrorMessage(e)
				}
				reason = clip(reason, maxLoggedReason)
			}
		}
		attrs := [...]any{"method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
			"ms", time.Since(start).Milliseconds(), "client", clientName(c.Request()), "error", reason}
		n := len(attrs)
		if reason == "" {
			n -= 2
		}
		s.log.Info("request", attrs[:n]...)
		return err
	}
}

// statusClientClosed is the status logged for a client that went away
// before its answer began.
const statusClientClosed = 499

// clientGoneKey marks, in the echo context, a request whose client went
// away before its answer ended (see answered).
const clientGoneKey = "chatgpt-to-api.client-gone"

// answered passes on a dialect handler's error, except for a client that
// went away (relay.ErrClientGone): nothing can be written to it, and the
// request log says so.
func answered(c echo.Context, err error) error {
	if errors.Is(err, relay.ErrClientGone) {
		c.Set(clientGoneKey, true)
		return nil
	}
	return err
}

// maxLoggedReason is the longest refusal message the request log keeps.
const maxLoggedReason = 300

// clip returns s cut to at most n bytes, on a rune boundary, with "…"
// when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// clientName names a client for the per-client counters: the first
// product token of its User-Agent, without the version.
func clientName(r *http.Request) string {
	ua := strings.TrimSpace(r.UserAgent())
	if ua == "" {
		return "unknown"
	}
	tok, _, _ := strings.Cut(ua, " ")
	name, ver, ok := strings.Cut(tok, "/")
	if ok && name != "" && (ver == "" || (ver[0] >= '0' && ver[0] <= '9') || ver[0] == 'v') {
		tok = name
	}
	// "OpenAI/JS 5.1" and "OpenAI/Python 1.2" name the SDK in the second part.
	if strings.EqualFold(name, "openai") && ok && ver != "" && !(ver[0] >= '0' && ver[0] <= '9') {
		tok = name + "/" + ver
	}
	if len(tok) > 40 {
		tok = tok[:40]
	}
	return tok
}
