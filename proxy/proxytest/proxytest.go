// Package proxytest runs the real proxy core (tls-client upstream and all)
// in front of the fake Codex backend, for end-to-end tests of any client.
package proxytest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/server"
)

// APIKey is the local API key the harness requires.
const APIKey = "sk-local-test-key"

// Harness is a running proxy core in front of a fake Codex backend.
type Harness struct {
	Fake    *codextest.Server
	Core    *proxy.Core
	BaseURL string // http://127.0.0.1:port/v1
	Token   string // the ChatGPT access token the core sends upstream
}

// New starts a fake backend and the core pointed at it. env overrides
// configuration variables (CHATGPT_*). Both stop when the test ends.
func New(t testing.TB, env map[string]string, fakeOpts ...codextest.Option) *Harness {
	t.Helper()
	fake := codextest.NewServer(t, fakeOpts...)
	h := Start(t, fake.BaseURL(), env)
	h.Fake = fake
	return h
}

// Start runs the core in front of the backend at baseURL (a fake's
// BaseURL) and returns it, without a Fake. It stops when the test ends.
func Start(t testing.TB, baseURL string, env map[string]string) *Harness {
	t.Helper()
	core, token := NewCore(t, baseURL, env, nil)
	if err := core.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("core.Run: %v", err)
		}
	})
	return &Harness{Core: core, BaseURL: core.BaseURL(), Token: token}
}

// NewCore builds the core the harness runs (the configuration from env
// over the harness's, a static ChatGPT token, which it returns) without
// starting it; up, when not nil, replaces the HTTP client upstream.
func NewCore(t testing.TB, baseURL string, env map[string]string, up server.Upstream) (*proxy.Core, string) {
	t.Helper()
	vars := map[string]string{
		"CHATGPT_BASE_URL": baseURL,
		"CHATGPT_PORT":     "0",
		"CHATGPT_API_KEY":  APIKey,
		// The test binary runs other tests beside the app: its
		// scheduler stays as the test runner set it.
		"CHATGPT_ADAPTIVE_PROCS": "false",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.LoadFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	token := codextest.FakeJWT(map[string]any{
		"exp":                            time.Now().Add(time.Hour).Unix(),
		"https://api.openai.com/auth":    map[string]any{"chatgpt_account_id": "acct-123", "chatgpt_plan_type": "plus"},
		"https://api.openai.com/profile": map[string]any{"email": "ann@example.com"},
	})
	core, err := proxy.New(cfg, proxy.Options{
		Version:  "test",
		APIKey:   cfg.APIKey,
		Auth:     auth.NewStatic(token, ""),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Upstream: up,
	})
	if err != nil {
		t.Fatal(err)
	}
	return core, token
}

// LastResponses returns the last /codex/responses request the fake got.
func (h *Harness) LastResponses(t testing.TB) codextest.Recorded {
	t.Helper()
	reqs := h.Fake.ResponsesRequests()
	if len(reqs) == 0 {
		t.Fatal("the fake received no /responses request")
	}
	return reqs[len(reqs)-1]
}

// AssertNoRejections fails the test when the fake refused any request the
// proxy sent upstream (the proxy must only send what the backend accepts).
func (h *Harness) AssertNoRejections(t testing.TB) {
	t.Helper()
	for _, r := range h.Fake.Requests() {
		if r.Rejection != "" && r.Status != 401 {
			t.Errorf("the fake rejected %s %s: %s", r.Method, r.Path, r.Rejection)
		}
	}
}
