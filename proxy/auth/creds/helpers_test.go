package creds

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// clock is a settable clock shared by the fake and the code under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one fake upstream (Codex backend, chatgpt.com session endpoint
// and OAuth issuer on one server) plus a clock.
type env struct {
	fake    *codextest.AuthServer
	backend *codextest.Server
	clock   *clock
	cfg     *config.Config
	secrets *keychain.Memory
	rec     *status.Recorder
}

func newEnv(t *testing.T, opts codextest.AuthOptions, vars map[string]string) *env {
	t.Helper()
	c := newClock()
	opts.Now = c.Now
	fake := codextest.NewAuthServer(opts)
	backend := codextest.NewServer(t, codextest.WithClock(c.Now))
	fake.Mount(backend)
	all := map[string]string{
		"CHATGPT_BASE_URL":     backend.BaseURL(),
		"CHATGPT_AUTH_URL":     backend.URL,
		"CHATGPT_SECRET_STORE": "env",
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.LoadFrom(func(k string) (string, bool) { v, ok := all[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, backend: backend, clock: c, cfg: cfg, secrets: keychain.NewMemory(), rec: status.NewRecorder(c.Now)}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) manager(t *testing.T) *Manager {
	t.Helper()
	return NewManager(Options{
		Config:       e.cfg,
		Secrets:      e.secrets,
		HTTP:         NetHTTP{},
		Status:       e.rec,
		CallbackPort: -1,
		Now:          e.clock.Now,
		Sleep:        func(context.Context, time.Duration) error { return nil },
		Log:          quietLog(),
	})
}

// followOpener is a fake browser: it follows the authorize redirect to the
// local callback and records the final page.
type followOpener struct {
	mu   sync.Mutex
	page string
	code int
}

func (f *followOpener) open(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f.mu.Lock()
	f.page, f.code = string(b), resp.StatusCode
	f.mu.Unlock()
	return nil
}

// wait returns the final page once the fake browser has read it; the
// sign-in may end before the browser is done reading.
func (f *followOpener) wait(t *testing.T) (int, string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		f.mu.Lock()
		code, page := f.code, f.page
		f.mu.Unlock()
		if code != 0 || time.Now().After(deadline) {
			return code, page
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// failingHTTP fails every request as a network error would.
type failingHTTP struct{}

func (failingHTTP) Do(ctx context.Context, route upstream.Route, method, url string, header [][2]string, body []byte) (*upstream.Response, error) {
	return nil, errors.New("dial tcp: connection refused")
}

// countingHTTP counts requests per route and forwards them.
type countingHTTP struct {
	next HTTP
	mu   sync.Mutex
	n    map[upstream.Route]int
}

func (c *countingHTTP) Do(ctx context.Context, route upstream.Route, method, url string, header [][2]string, body []byte) (*upstream.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[upstream.Route]int{}
	}
	c.n[route]++
	c.mu.Unlock()
	return c.next.Do(ctx, route, method, url, header, body)
}
