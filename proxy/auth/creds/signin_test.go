package creds

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// liveness bounds how long a broken test waits; nothing asserts speed.
const liveness = 30 * time.Second

// urlRecorder is a browser that is never looked at: it only remembers the
// addresses it was asked to open.
type urlRecorder struct {
	mu   sync.Mutex
	urls []string
	got  chan string
}

func newURLRecorder() *urlRecorder { return &urlRecorder{got: make(chan string, 8)} }

func (r *urlRecorder) open(u string) error {
	r.mu.Lock()
	r.urls = append(r.urls, u)
	r.mu.Unlock()
	r.got <- u
	return nil
}

func (r *urlRecorder) next(t *testing.T) string {
	t.Helper()
	select {
	case u := <-r.got:
		return u
	case <-time.After(liveness):
		t.Fatal("the browser was never asked to open the sign-in page")
		return ""
	}
}

// callbackPort returns the port of the redirect URI in an authorize URL.
func callbackPort(t *testing.T, authorize string) int {
	t.Helper()
	au, err := url.Parse(authorize)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := url.Parse(au.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(cb.Port())
	return p
}

// assertPortFree fails when the port cannot be bound again.
func assertPortFree(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("the callback port %d is still held: %v", port, err)
	}
	ln.Close()
}

// signInAsync runs SignInWith in a goroutine and returns its result channel.
func signInAsync(ctx context.Context, m *Manager, open func(string) error) chan error {
	done := make(chan error, 1)
	go func() { done <- m.SignInWith(ctx, open) }()
	return done
}

func result(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(liveness):
		t.Fatal("the sign-in never ended")
		return nil
	}
}

func TestSignInCancelFreesThePort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	m := e.manager(t)
	b := newURLRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := signInAsync(ctx, m, b.open)
	port := callbackPort(t, b.next(t))
	if !m.SigningIn() {
		t.Error("SigningIn is false while the sign-in waits")
	}
	cancel()
	err := result(t, done)
	if !errors.Is(err, auth.ErrSignInCancelled) {
		t.Fatalf("err = %v, want ErrSignInCancelled", err)
	}
	assertPortFree(t, port)
	if m.SigningIn() {
		t.Error("SigningIn is still true after the sign-in ended")
	}
	if err := m.ReopenSignIn(); err == nil {
		t.Error("ReopenSignIn worked with no sign-in waiting")
	}
}

func TestSignInTimesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, map[string]string{"CHATGPT_SIGNIN_TIMEOUT": "300ms"})
	m := e.manager(t)
	b := newURLRecorder()
	done := signInAsync(context.Background(), m, b.open)
	port := callbackPort(t, b.next(t))
	err := result(t, done)
	if !errors.Is(err, auth.ErrSignInTimedOut) {
		t.Fatalf("err = %v, want ErrSignInTimedOut", err)
	}
	assertPortFree(t, port)
	if a := e.rec.Snapshot().Auth; a.State == status.AuthSignedIn {
		t.Errorf("signed in after a timeout: %+v", a)
	}
}

func TestReopenSignInOpensTheSamePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{Email: "ann@example.com"}, nil)
	m := e.manager(t)
	// The first browser is closed without signing in; the page opened
	// again through ReopenSignIn completes the sign-in.
	b := newURLRecorder()
	var again followOpener
	calls := 0
	var mu sync.Mutex
	done := signInAsync(context.Background(), m, func(u string) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			return b.open(u)
		}
		return again.open(u)
	})
	b.next(t)
	if err := m.ReopenSignIn(); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done); err != nil {
		t.Fatal(err)
	}
	if code, page := again.wait(t); code != 200 || !strings.Contains(page, "You can close this tab") {
		t.Fatalf("reopened page: %d", code)
	}
	if a := e.rec.Snapshot().Auth; a.State != status.AuthSignedIn || a.Email != "ann@example.com" {
		t.Fatalf("status = %+v", a)
	}
}

func TestNewSignInReplacesPendingOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	m := e.manager(t)
	b := newURLRecorder()
	first := signInAsync(context.Background(), m, b.open)
	port := callbackPort(t, b.next(t))
	var browser followOpener
	if err := m.SignInWith(context.Background(), browser.open); err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	if err := result(t, first); !errors.Is(err, auth.ErrSignInReplaced) {
		t.Fatalf("first sign-in ended with %v, want ErrSignInReplaced", err)
	}
	assertPortFree(t, port)

	// A credential set another way also replaces a pending sign-in.
	pending := signInAsync(context.Background(), m, b.open)
	b.next(t)
	if err := m.SetSessionToken(context.Background(), e.fake.NewSessionToken(100)); err != nil {
		t.Fatal(err)
	}
	if err := result(t, pending); !errors.Is(err, auth.ErrSignInReplaced) {
		t.Fatalf("sign-in pending during SetSessionToken ended with %v", err)
	}
}

// freeTCPPort returns a port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestSignInElsewhereTakesThePort(t *testing.T) {
	t.Parallel()
	port := freeTCPPort(t)
	e := newEnv(t, codextest.AuthOptions{}, map[string]string{"CHATGPT_CALLBACK_PORT": strconv.Itoa(port)})
	// Two managers stand for two processes (the tray and `login`).
	tray := NewManager(Options{Config: e.cfg, Secrets: e.secrets, HTTP: NetHTTP{}, Status: e.rec, Now: e.clock.Now, Log: quietLog()})
	cli := NewManager(Options{Config: e.cfg, Secrets: keychain.NewMemory(), HTTP: NetHTTP{}, Now: e.clock.Now, Log: quietLog()})
	b := newURLRecorder()
	pending := signInAsync(context.Background(), tray, b.open)
	if got := callbackPort(t, b.next(t)); got != port {
		t.Fatalf("callback on port %d, want CHATGPT_CALLBACK_PORT %d", got, port)
	}
	var browser followOpener
	if err := cli.SignInWith(context.Background(), browser.open); err != nil {
		t.Fatalf("the second process's sign-in: %v", err)
	}
	if err := result(t, pending); !errors.Is(err, auth.ErrSignInReplaced) {
		t.Fatalf("the first process's sign-in ended with %v, want ErrSignInReplaced", err)
	}
	assertPortFree(t, port)
}

// sharedStore is one store seen by several managers, as the OS keychain is
// by several processes; it reports itself as the keychain so Run watches it.
type sharedStore struct{ *keychain.Memory }

func (sharedStore) Where() string { return "keychain" }

func TestStoreChangesElsewhereAreAdopted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{Email: "ann@example.com", Plan: "plus"}, nil)
	store := sharedStore{keychain.NewMemory()}
	server := NewManager(Options{Config: e.cfg, Secrets: store, HTTP: NetHTTP{}, Status: e.rec, Now: e.clock.Now, Log: quietLog(), CallbackPort: -1, WatchInterval: 20 * time.Millisecond})
	cli := func() *Manager {
		return NewManager(Options{Config: e.cfg, Secrets: store, HTTP: NetHTTP{}, Now: e.clock.Now, Log: quietLog(), CallbackPort: -1})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan struct{})
	go func() { server.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }()

	waitState := func(want status.AuthState) status.Status {
		t.Helper()
		deadline := time.Now().Add(liveness)
		for {
			s := e.rec.Snapshot()
			if s.Auth.State == want {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("state %q never became %q", s.Auth.State, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitState(status.AuthSignedOut)

	// A session token set by another process is picked up.
	if err := cli().SetSessionToken(ctx, e.fake.NewSessionToken(200)); err != nil {
		t.Fatal(err)
	}
	s := waitState(status.AuthSignedIn)
	if s.Auth.Email != "ann@example.com" {
		t.Errorf("status = %+v", s.Auth)
	}
	c, err := server.Credentials(ctx)
	if err != nil || !e.fake.ValidAccessToken(c.AccessToken) {
		t.Fatalf("credentials after a sign-in elsewhere: %v", err)
	}
	e.rec.SetQuota(e.rec.Account(), status.Quota{Plan: "plus", Limits: []status.Limit{{ID: "codex", Primary: &status.Window{UsedPercent: 12}}}})
	e.rec.SetError("the backend hiccuped", 502)

	// A sign-out elsewhere stops the credential at once and drops the
	// account's quota and last error.
	if err := cli().Logout(ctx); err != nil {
		t.Fatal(err)
	}
	s = waitState(status.AuthSignedOut)
	if len(s.Quota.Limits) != 0 || s.LastError != nil {
		t.Errorf("after a sign-out elsewhere the quota (%v) or last error (%v) stayed", s.Quota.Limits, s.LastError)
	}
	if _, err := server.Credentials(ctx); auth.KindOf(err) != auth.KindSignedOut {
		t.Fatalf("credentials after a sign-out elsewhere: %v, want KindSignedOut", err)
	}

	// A browser sign-in pending here is replaced by a sign-in elsewhere,
	// and the stale "not signed in" error goes.
	e.rec.SetError("not signed in", 401)
	b := newURLRecorder()
	pending := signInAsync(ctx, server, b.open)
	port := callbackPort(t, b.next(t))
	var browser followOpener
	if err := cli().SignInWith(ctx, browser.open); err != nil {
		t.Fatal(err)
	}
	if err := result(t, pending); !errors.Is(err, auth.ErrSignInReplaced) {
		t.Fatalf("the pending sign-in ended with %v, want ErrSignInReplaced", err)
	}
	assertPortFree(t, port)
	s = waitState(status.AuthSignedIn)
	if s.LastError != nil {
		t.Errorf("the stale error stayed after a new sign-in: %+v", s.LastError)
	}
	if a := s.Auth; a.Source != "codex_oauth" {
		t.Errorf("status = %+v", a)
	}
}
