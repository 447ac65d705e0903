// Package server is the OpenAI-compatible HTTP API: /v1/chat/completions,
// /v1/models and the admin routes, served by echo on a loopback address.
package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/anthropic"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/chat"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/responses"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// Upstream sends Codex requests.
type Upstream = relay.Upstream

// Stream is an open upstream SSE stream.
type Stream = relay.Stream

// Admin is what the admin API needs from the credentials manager.
type Admin interface {
	SetAccessToken(ctx context.Context, token string) error
	SetSessionToken(ctx context.Context, token string) error
	RefreshNow(ctx context.Context) error
}

// Options are the server's dependencies.
type Options struct {
	Config   *config.Config
	APIKey   string // "" serves without a key (only when the config allows it)
	Upstream Upstream
	Auth     auth.Source
	Catalog  *catalog.Catalog
	Status   *status.Recorder
	Admin    Admin // optional
	Logger   *slog.Logger
	Now      func() time.Time
	// Sleep waits between retries; tests may shorten it.
	Sleep func(ctx context.Context, d time.Duration)
	// OnUsageLimit is called after the backend reported a usage limit (the
	// core reads the quota again).
	OnUsageLimit func()
	// ShutdownGrace is how long requests in flight may take to finish when
	// the server stops (default 5 s).
	ShutdownGrace time.Duration
}

// Server is the HTTP API.
type Server struct {
	Options
	cfg          *config.Config
	log          *slog.Logger
	e            *echo.Echo
	keyHash      []byte
	allowedHosts map[string]bool
	boundPort    int
	reclaim      reclaimer
	procs        *procGovernor
	stopping     atomic.Bool
	relay        *relay.Relay
	chatHandler  *chat.Handler
	// Responses API (proxy/dialect/responses).
	responsesHandler *responses.Handler
	bodyLimit        int64
	// messagesHandler serves the Anthropic Messages API.
	messagesHandler *anthropic.Handler
}

// New builds the server. It does not listen yet.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Upstream == nil || o.Auth == nil || o.Catalog == nil || o.Status == nil {
		return nil, errors.New("server: missing dependency")
	}
	if o.APIKey == "" && !o.Config.NoAPIKey {
		return nil, errors.New("server: an API key is required (set CHATGPT_API_KEY, or CHATGPT_NO_API_KEY=true on loopback)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	s := &Server{Options: o, cfg: o.Config, log: o.Logger, boundPort: o.Config.Port}
	if u, ok := o.Upstream.(interface{ CloseIdleConnections() }); ok {
		s.reclaim.trim = u.CloseIdleConnections
	}
	if o.Config.AdaptiveProcs {
		s.procs = newProcGovernor()
	}
	if o.APIKey != "" {
		sum := sha256.Sum256([]byte(o.APIKey))
		s.keyHash = sum[:]
	}
	s.allowedHosts = map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true}
	if h := strings.ToLower(o.Config.Host); h != "" && h != "0.0.0.0" && h != "::" {
		s.allowedHosts[h] = true
	}
	for _, h := range o.Config.AllowedHosts {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		s.allowedHosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	s.relay = &relay.Relay{
		Upstream: o.Upstream, Auth: o.Auth, Status: o.Status, Catalog: o.Catalog,
		Log: o.Logger, Now: o.Now, Sleep: o.Sleep, MaxRetries: o.Config.MaxRetries, FirstByteTimeout: o.Config.FirstByte,
		Stopping: s.stopping.Load, OnUsageLimit: o.OnUsageLimit,
		// One bounded map of conversations for every dialect.
		Conversations: affinity.New(affinity.DefaultSize),
	}
	if o.Config.ResponsesLite {
		s.relay.Lite = o.Catalog
	}
	opts := dialect.Options{
		ReasoningSummary: o.Config.ReasoningSumm,
		DefaultEffort:    o.Config.DefaultEffort,
		Verbosity:        o.Config.Verbosity,
		RejectEffort:     o.Config.EffortMismatch == "reject",
	}
	s.chatHandler = &chat.Handler{Relay: s.relay, Catalog: o.Catalog, Options: opts, Response: chat.StreamOptions{
		Reasoning:      chat.ReasoningMode(o.Config.ReasoningMode),
		DropCommentary: o.Config.DropCommentary,
		Now:            o.Now,
	}}
	var err error
	if s.bodyLimit, err = config.ParseSize(o.Config.BodyLimit); err != nil {
		return nil, fmt.Errorf("server: CHATGPT_BODY_LIMIT: %w", err)
	}
	memory, err := config.ParseSize(o.Config.ResponsesMemory)
	if err != nil {
		memory = 64 << 20
	}
	s.responsesHandler = &responses.Handler{Relay: s.relay, Catalog: o.Catalog, Options: opts, Now: o.Now,
		Store: responses.NewStore(o.Config.ResponsesKeep, memory, responses.DefaultMaxCount, o.Now)}
	spec := o.Config.ClaudeModels
	if spec == "" {
		spec = anthropic.DefaultModelMap
	}
	models, err := anthropic.ParseModelMap(spec)
	if err != nil {
		return nil, fmt.Errorf("server: CHATGPT_CLAUDE_MODELS: %w", err)
	}
	s.messagesHandler = &anthropic.Handler{Relay: s.relay, Catalog: o.Catalog, Models: models, Options: opts, Now: o.Now}
	s.e = s.routes()
	return s, nil
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.errorHandler
	e.Pre(s.hostGuard)
	e.Pre(s.trackIdle)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(s.logRequests, s.originGuard)
	// The limit in bytes as config.ParseSize reads it (binary units), the
	// same for plain bodies as for decompressed ones (echo's own parsing
	// of "50M" is decimal).
	e.Use(middleware.BodyLimit(strconv.FormatInt(s.bodyLimit, 10) + "B"))
	// The key is checked before a body is decompressed or scanned, so a
	// client without it cannot make the server do that work.
	authed := []echo.MiddlewareFunc{s.requireKey, s.decompress, s.checkUTF8}

	e.Match([]string{http.MethodGet, http.MethodHead}, "/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok", "app": config.AppName})
	})
	v1 := e.Group("/v1", authed...)
	v1.GET("/models", s.listModels)
	v1.GET("/models/:id", s.getModel)
	v1.POST("/chat/completions", s.chat)
	v1.Match([]string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}, "/chat/completions", methodNotAllowed)
	v1.POST("/responses", s.responses)
	v1.GET("/responses/:id", s.getResponse)
	v1.DELETE("/responses/:id", s.deleteResponse)
	v1.GET("/responses/:id/input_items", s.responseInputItems)
	v1.POST("/responses/:id/cancel", s.cancelResponse)
	// The Codex CLI's WebSocket attempt is answered before the key check.
	e.GET("/v1/responses", responsesUpgrade)
	// Anthropic Messages (Claude Code adds ?beta=true, which changes nothing).
	v1.POST("/messages", s.messages)
	v1.POST("/messages/count_tokens", s.countTokens)
	v1.Match([]string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}, "/messages", methodNotAllowed)
	v1.Match([]string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}, "/messages/count_tokens", methodNotAllowed)
	v1.Match([]string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, "/models", methodNotAllowed)
	v1.Match([]string{http.MethodPut, http.MethodPatch, http.MethodDelete}, "/responses", methodNotAllowed)
	// Some clients omit /v1.
	e.POST("/chat/completions", s.chat, authed...)
	e.POST("/responses", s.responses, authed...)
	e.GET("/models", s.listModels, authed...)

	adm := e.Group("/admin", s.requireAdminKey, s.decompress, s.checkUTF8)
	adm.GET("/status", s.adminStatus)
	adm.POST("/token", s.adminToken)
	adm.POST("/refresh", s.adminRefresh)
	return e
}

// Handler returns the HTTP handler (for tests).
func (s *Server) Handler() http.Handler { return s.e }

// methodNotAllowed answers a known path called with the wrong method.
func methodNotAllowed(echo.Context) error { return echo.ErrMethodNotAllowed }

func (s *Server) port() int { return s.boundPort }

// Serve serves on ln until ctx is done, then stops: open streams are
// cancelled (their clients get an error event) and Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.boundPort = a.Port
	}
	appCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The scheduler follows the load while the server runs (one CPU to
	// begin with: nothing is in flight yet), and gets its CPUs back once
	// it stopped.
	procsCtx, stopProcs := context.WithCancel(context.Background())
	procsDone := make(chan struct{})
	go func() { defer close(procsDone); s.procs.run(procsCtx) }()
	defer func() { stopProcs(); <-procsDone }()
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // bodies only; streams are unaffected
		WriteTimeout:      0,               // must stay 0: a write deadline kills SSE streams
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return appCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()
	select {
	case err := <-errCh:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	// Stop accepting, give requests in flight a grace period to finish,
	// then cancel the rest: they get a "shutting down" answer (an error
	// chunk in streams), never a silent end.
	s.log.Info("shutting down", "grace", s.grace())
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	t := time.NewTimer(s.grace())
	defer t.Stop()
	select {
	case <-shut:
	case <-t.C:
		s.stopping.Store(true)
		cancel()
		select {
		case <-shut:
		case <-time.After(3 * time.Second):
			_ = srv.Close()
			<-shut
		}
	}
	<-errCh
	s.reclaim.stop()
	return nil
}

// grace is how long requests in flight may take to finish at shutdown.
func (s *Server) grace() time.Duration {
	if s.ShutdownGrace > 0 {
		return s.ShutdownGrace
	}
	return 5 * time.Second
}

func itoa(n int) string { return strconv.Itoa(n) }
