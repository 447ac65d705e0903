package creds

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// storeTokens puts a fresh OAuth sign-in of the fake into the store.
func (e *env) storeTokens(t *testing.T) Tokens {
	t.Helper()
	id, access, refresh := e.fake.IssueTokens()
	tk := Tokens{IDToken: id, AccessToken: access, RefreshToken: refresh, LastRefresh: e.clock.Now()}
	b, _ := json.Marshal(tk)
	if err := e.secrets.Set(context.Background(), KeyOAuth, string(b)); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSingleFlightOAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: time.Hour}, nil)
	e.storeTokens(t)
	m := e.manager(t)
	first, err := m.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Cross the refresh point (exp − margin) but not the expiry.
	e.clock.Add(50 * time.Minute)
	var wg sync.WaitGroup
	got := make([]string, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Go(func() {
			c, err := m.Credentials(context.Background())
			got[i], errs[i] = c.AccessToken, err
		})
	}
	wg.Wait()
	for i := range 50 {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i] != got[0] || got[i] == first.AccessToken || !e.fake.ValidAccessToken(got[i]) {
			t.Fatalf("caller %d got another or a stale token", i)
		}
	}
	if n := e.fake.Refreshes(); n != 1 {
		t.Fatalf("refreshes = %d, want exactly 1", n)
	}
}

func TestSingleFlightAcrossExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: 2 * time.Second}, nil)
	e.storeTokens(t)
	m := e.manager(t)
	if _, err := m.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(3 * time.Second) // expired
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]bool{}
	for range 50 {
		wg.Go(func() {
			c, err := m.Credentials(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			tokens[c.AccessToken] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(tokens) != 1 || e.fake.Refreshes() != 1 {
		t.Fatalf("%d distinct tokens, %d refreshes; want 1 and 1", len(tokens), e.fake.Refreshes())
	}
}

// serve simulates a long run of requests with short-lived tokens: each
// request asks for credentials and the backend checks them.
func serve(t *testing.T, e *env, m *Manager, requests int, step time.Duration) {
	t.Helper()
	ctx := context.Background()
	for i := range requests {
		e.clock.Add(step)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				c, err := m.Credentials(ctx)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				if !e.fake.ValidAccessToken(c.AccessToken) {
					t.Errorf("request %d: the backend would reject the token", i)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
}

func TestShortLivedOAuthTokensServeManyRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: 2 * time.Second}, nil)
	e.storeTokens(t)
	m := e.manager(t)
	serve(t, e, m, 400, 97*time.Millisecond) // about 39 s of fake time
	if n := e.fake.Refreshes(); n < 15 || n > 40 {
		t.Fatalf("refreshes = %d for ~20 token lifetimes", n)
	}
	// The newest refresh token is the stored one: a restart would work.
	v, _ := e.secrets.Get(context.Background(), KeyOAuth)
	var tk Tokens
	json.Unmarshal([]byte(v), &tk)
	if _, err := (&OAuth{Issuer: e.cfg.AuthURL, HTTP: NetHTTP{}}).Refresh(context.Background(), tk); err != nil {
		t.Fatalf("the stored refresh token is stale: %v", err)
	}
}

func TestShortLivedSessionTokensWithRotation(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		e := newEnv(t, codextest.AuthOptions{AccessLifetime: 2 * time.Second, RotateChunked: chunked}, nil)
		e.fake.SetSessionMode(codextest.SessionRotating)
		m := e.manager(t)
		tok := e.fake.NewSessionToken(5000)
		// Given chunked, as copied from a browser.
		in := SessionCookieName + ".0=" + tok[:3000] + "; " + SessionCookieName + ".1=" + tok[3000:]
		if err := m.SetSessionToken(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		serve(t, e, m, 200, 149*time.Millisecond)
		if e.fake.Exchanges() < 15 {
			t.Fatalf("exchanges = %d", e.fake.Exchanges())
		}
		// The stored cookie is the newest family, which the fake accepts
		// (every rotation invalidated the previous one).
		v, _ := e.secrets.Get(context.Background(), KeySessionToken)
		c, err := ParseSessionToken(v)
		if err != nil || !e.fake.ValidSession(c.Value()) || c.Chunked() != chunked {
			t.Fatalf("stored cookie is stale or has the wrong shape (chunked=%v): %v", chunked, err)
		}
		a := e.rec.Snapshot().Auth
		if a.State != status.AuthSignedIn || a.SessionExpires.IsZero() || a.Source != "session_token" {
			t.Fatalf("status = %+v", a)
		}
	}
}

func TestRefreshAfter401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	e.storeTokens(t)
	m := e.manager(t)
	ctx := context.Background()
	c1, _ := m.Credentials(ctx)
	// A 401 for an older token returns the current one without refreshing.
	c, err := m.Refresh(ctx, "some-older-token")
	if err != nil || c.AccessToken != c1.AccessToken || e.fake.Refreshes() != 0 {
		t.Fatalf("refresh for an old token: %v, refreshes %d", err, e.fake.Refreshes())
	}
	// Many concurrent 401s for the current token cause one refresh.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			c, err := m.Refresh(ctx, c1.AccessToken)
			if err != nil || c.AccessToken == c1.AccessToken {
				t.Errorf("refresh: %v", err)
			}
		})
	}
	wg.Wait()
	if e.fake.Refreshes() != 1 {
		t.Fatalf("refreshes = %d, want 1", e.fake.Refreshes())
	}
}

func TestPermanentRefreshFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: time.Hour}, nil)
	tk := e.storeTokens(t)
	m := e.manager(t)
	ctx := context.Background()
	if _, err := m.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	// Another program used the same refresh token.
	if _, err := (&OAuth{Issuer: e.cfg.AuthURL, HTTP: NetHTTP{}}).Refresh(ctx, tk); err != nil {
		t.Fatal(err)
	}
	// Near expiry the refresh fails for good, but the still-valid token
	// keeps working.
	e.clock.Add(50 * time.Minute)
	if c, err := m.Credentials(ctx); err != nil || c.AccessToken != tk.AccessToken {
		t.Fatalf("before expiry: %v", err)
	}
	a := e.rec.Snapshot().Auth
	if a.State != status.AuthNeedsSignIn || !strings.Contains(a.Message, "already used") {
		t.Fatalf("status = %+v", a)
	}
	e.clock.Add(11 * time.Minute)
	_, err := m.Credentials(ctx)
	if auth.KindOf(err) != auth.KindSignInRequired || !strings.Contains(err.Error(), "run `chatgpt-to-api login` or use the tray's Sign in") {
		t.Fatalf("after expiry: %v", err)
	}
	// No further refresh attempts with the dead token.
	before := e.fake.Refreshes()
	for range 5 {
		e.clock.Add(time.Minute)
		m.Credentials(ctx)
	}
	if e.fake.Refreshes() != before {
		t.Fatal("kept refreshing with a dead refresh token")
	}
	// Signing in again (here: another process stored new tokens) recovers
	// without a restart.
	e.storeTokens(t)
	e.clock.Add(permanentRecheck)
	if _, err := m.Credentials(ctx); err != nil {
		t.Fatalf("after a new sign-in: %v", err)
	}
	if a := e.rec.Snapshot().Auth; a.State != status.AuthSignedIn {
		t.Fatalf("status = %+v", a)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	e.storeTokens(t)
	session := e.fake.NewSessionToken(300)
	e.secrets.Set(ctx, KeySessionToken, session)
	_, access, _ := e.fake.IssueTokens()
	e.secrets.Set(ctx, KeyAccessToken, access)

	kind := func(m *Manager) string {
		t.Helper()
		c, err := m.Credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.Kind
	}
	if k := kind(e.manager(t)); k != "codex_oauth" {
		t.Fatalf("stored: %s, want codex_oauth", k)
	}
	e.secrets.Set(ctx, KeyActive, "session")
	if k := kind(e.manager(t)); k != "session_token" {
		t.Fatalf("chosen last: %s, want session_token", k)
	}
	e.cfg.SessionToken = e.fake.NewSessionToken(100)
	m := e.manager(t)
	if k := kind(m); k != "session_token" || m.Storage() != "environment" {
		t.Fatalf("env session: %s %s", k, m.Storage())
	}
	_, envAccess, _ := e.fake.IssueTokens()
	e.cfg.AccessToken = envAccess
	m = e.manager(t)
	if c, _ := m.Credentials(ctx); c.AccessToken != envAccess {
		t.Fatal("CHATGPT_ACCESS_TOKEN does not win")
	}
	// A JWT that is no ChatGPT access token (no expiry, no account) is
	// refused and leaves the working credentials alone.
	junk := codextest.FakeJWT(map[string]any{"foo": "bar"})
	if err := m.SetAccessToken(ctx, junk); auth.KindOf(err) != auth.KindSignInRequired {
		t.Fatalf("a token without expiry or account was taken: %v", err)
	}
	if c, _ := m.Credentials(ctx); c.AccessToken != envAccess {
		t.Fatal("a refused token replaced the working one")
	}
	// A token set at run time wins at once, even over the environment.
	_, fresh, _ := e.fake.IssueTokens()
	if err := m.SetAccessToken(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if c, _ := m.Credentials(ctx); c.AccessToken != fresh {
		t.Fatal("SetAccessToken is not effective immediately")
	}
	// The static token cannot be refreshed after a 401.
	if _, err := m.Refresh(ctx, fresh); auth.KindOf(err) != auth.KindSignInRequired {
		t.Fatalf("refresh of a static token: %v", err)
	}
}

func TestSetSessionTokenValidatesAndLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, codextest.AuthOptions{Email: "s@example.com"}, nil)
	m := e.manager(t)
	if _, err := m.Credentials(ctx); auth.KindOf(err) != auth.KindSignedOut {
		t.Fatalf("nothing configured: %v", err)
	}
	if a := e.rec.Snapshot().Auth; a.State != status.AuthSignedOut {
		t.Fatalf("status = %+v", a)
	}
	// An invalid token is not stored.
	if err := m.SetSessionToken(ctx, "not-a-valid-session"); auth.KindOf(err) != auth.KindSignInRequired {
		t.Fatalf("invalid token: %v", err)
	}
	if _, err := e.secrets.Get(ctx, KeySessionToken); err == nil {
		t.Fatal("an invalid session token was stored")
	}
	tok := e.fake.NewSessionToken(5000)
	if err := m.SetSessionToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	c, err := m.Credentials(ctx)
	if err != nil || !e.fake.ValidAccessToken(c.AccessToken) {
		t.Fatalf("after set: %v", err)
	}
	if v, _ := e.secrets.Get(ctx, KeySessionToken); v != tok {
		t.Fatal("the session token was not stored as given")
	}
	a := m.Status()
	if a.State != status.AuthSignedIn || a.Email != "s@example.com" || a.Storage != "memory" {
		t.Fatalf("status = %+v", a)
	}
	if b, _ := json.Marshal(e.rec.Snapshot()); strings.Contains(string(b), tok) || strings.Contains(string(b), c.AccessToken) {
		t.Fatal("the status contains a secret")
	}
	if err := m.RefreshNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.secrets.Get(ctx, KeySessionToken); err == nil {
		t.Fatal("logout kept the session token")
	}
	if _, err := m.Credentials(ctx); auth.KindOf(err) != auth.KindSignedOut {
		t.Fatalf("after logout: %v", err)
	}
}

func TestTransientFailureKeepsServingValidToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: time.Hour}, nil)
	e.cfg.SessionToken = e.fake.NewSessionToken(100)
	m := e.manager(t)
	ctx := context.Background()
	c1, err := m.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(59 * time.Minute) // inside the margin
	m.http = failingHTTP{}
	c2, err := m.Credentials(ctx)
	if err != nil || c2.AccessToken != c1.AccessToken {
		t.Fatalf("a failed proactive refresh broke a valid token: %v", err)
	}
	if a := e.rec.Snapshot().Auth; a.State != status.AuthSignedIn || !strings.Contains(a.Message, "will be retried") {
		t.Fatalf("status = %+v", a)
	}
	e.clock.Add(2 * time.Minute) // expired, network still down
	if _, err := m.Credentials(ctx); auth.KindOf(err) != auth.KindTransient {
		t.Fatalf("expired and offline: %v", err)
	}
	if a := e.rec.Snapshot().Auth; a.State != status.AuthError {
		t.Fatalf("status = %+v", a)
	}
}

func TestSessionRefreshAfter401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	e.cfg.SessionToken = e.fake.NewSessionToken(100)
	m := e.manager(t)
	ctx := context.Background()
	c1, err := m.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := m.Refresh(ctx, c1.AccessToken)
	if err != nil || c2.AccessToken == c1.AccessToken || !e.fake.ValidAccessToken(c2.AccessToken) {
		t.Fatalf("re-exchange after 401: %v", err)
	}
	if e.fake.Exchanges() != 2 {
		t.Fatalf("exchanges = %d, want 2", e.fake.Exchanges())
	}
}

func TestRunPublishesStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	e.cfg.SessionToken = e.fake.NewSessionToken(100)
	m := e.manager(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	for e.rec.Snapshot().Auth.State != status.AuthSignedIn {
		<-e.rec.Changed()
	}
	cancel()
	<-done
}

func TestAfterFetchDoesNotHammer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	m := e.manager(t)
	now := e.clock.Now()
	tok := codextest.FakeJWT(map[string]any{"iat": now.Add(-10 * 24 * time.Hour).Unix(), "exp": now.Add(time.Minute).Unix()})
	c := credentialsFromToken(tok, "session_token")
	// The same old token came back inside the margin: use it for half of
	// what is left rather than re-exchanging on every request.
	if at := m.afterFetch(srcSession, c, now); !at.Equal(now.Add(30 * time.Second)) {
		t.Fatalf("next refresh at %v, want in 30s", at.Sub(now))
	}
	fresh := codextest.FakeJWT(map[string]any{"iat": now.Unix(), "exp": now.Add(10 * 24 * time.Hour).Unix()})
	if at := m.afterFetch(srcOAuth, credentialsFromToken(fresh, "codex_oauth"), now); !at.Equal(now.Add(9 * 24 * time.Hour)) {
		t.Fatalf("oauth: next refresh after %v, want 9 days", at.Sub(now))
	}
	if at := m.afterFetch(srcSession, credentialsFromToken(fresh, "session_token"), now); !at.Equal(now.Add(10*24*time.Hour - sessionMargin)) {
		t.Fatalf("session: next refresh after %v", at.Sub(now))
	}
}

func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: 2 * time.Second}, nil)
	e.fake.SetSessionMode(codextest.SessionRotating)
	var buf bytes.Buffer
	var mu sync.Mutex
	m := e.manager(t)
	m.log = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tok := e.fake.NewSessionToken(5000)
	if err := m.SetSessionToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	serve(t, e, m, 30, 300*time.Millisecond)
	var browser followOpener
	if err := m.SignInWith(context.Background(), browser.open); err != nil {
		t.Fatal(err)
	}
	serve(t, e, m, 30, 300*time.Millisecond)
	v, _ := e.secrets.Get(context.Background(), KeyOAuth)
	var tk Tokens
	json.Unmarshal([]byte(v), &tk)
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	for _, secret := range []string{tok[:40], tk.RefreshToken, tk.AccessToken[:60], "eyJ", "rt_"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log contains a secret (%.8s…)", secret)
		}
	}
	if !strings.Contains(out, "sha256:") {
		t.Fatal("the log has no fingerprints; did logging work?")
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// RefreshNow (the tray's "Refresh token now", POST /admin/refresh) on a
// plain access token must not treat the still-valid token as rejected:
// it cannot be refreshed, so the request is a check, never a sign-out.
func TestRefreshNowKeepsStaticToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, stored := range []bool{false, true} {
		e := newEnv(t, codextest.AuthOptions{}, nil)
		_, access, _ := e.fake.IssueTokens()
		if stored {
			e.secrets.Set(ctx, KeyAccessToken, access)
		} else {
			e.cfg.AccessToken = access
		}
		m := e.manager(t)
		if _, err := m.Credentials(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.RefreshNow(ctx); err != nil {
			t.Errorf("stored=%v: RefreshNow on a valid access token: %v", stored, err)
		}
		e.clock.Add(time.Minute) // past any retry delay
		if c, err := m.Credentials(ctx); err != nil || c.AccessToken != access {
			t.Fatalf("stored=%v: after RefreshNow the valid token is gone: %v", stored, err)
		}
		if a := m.Status(); a.State != status.AuthSignedIn {
			t.Fatalf("stored=%v: status after RefreshNow = %+v", stored, a)
		}
	}
}
