package creds

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

func TestPKCE(t *testing.T) {
	t.Parallel()
	p := NewPKCE()
	sum := sha256.Sum256([]byte(p.Verifier))
	if len(p.Verifier) != 86 || p.Challenge != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("verifier length %d, challenge mismatch", len(p.Verifier))
	}
	if NewPKCE().Verifier == p.Verifier {
		t.Fatal("two verifiers are equal")
	}
}

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	o := &OAuth{Issuer: "https://auth.openai.com"}
	u, err := url.Parse(o.AuthorizeURL(PKCE{Challenge: "ch"}, "st", "http://localhost:1455/auth/callback"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": CodexClientID, "redirect_uri": "http://localhost:1455/auth/callback",
		"scope": "openid profile email offline_access", "code_challenge": "ch", "code_challenge_method": "S256",
		"id_token_add_organizations": "true", "codex_cli_simplified_flow": "true", "state": "st", "originator": "codex_cli_rs",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Path != "/oauth/authorize" {
		t.Errorf("path = %s", u.Path)
	}
}

func TestSignInEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{Email: "me@example.com", Plan: "pro", AccountID: "acc-42"}, nil)
	m := e.manager(t)
	var browser followOpener
	if err := m.SignInWith(context.Background(), browser.open); err != nil {
		t.Fatal(err)
	}
	if code, page := browser.wait(t); code != 200 || !strings.Contains(page, "You can close this tab") {
		t.Fatalf("success page: %d %q", code, page)
	}
	c, err := m.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !e.fake.ValidAccessToken(c.AccessToken) || c.AccountID != "acc-42" || c.Kind != "codex_oauth" {
		t.Fatalf("credentials = %+v", c)
	}
	// The tokens are in the secret store, the refresh token included.
	v, err := e.secrets.Get(context.Background(), KeyOAuth)
	if err != nil {
		t.Fatal(err)
	}
	var stored Tokens
	if err := json.Unmarshal([]byte(v), &stored); err != nil || !strings.HasPrefix(stored.RefreshToken, "rt_") || stored.AccessToken != c.AccessToken {
		t.Fatalf("stored tokens: %v", err)
	}
	a := e.rec.Snapshot().Auth
	if a.State != status.AuthSignedIn || a.Email != "me@example.com" || a.Plan != "pro" || a.Source != "codex_oauth" || a.Storage != "memory" {
		t.Fatalf("status = %+v", a)
	}
}

func TestSignInRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AuthorizeError: "access_denied"}, nil)
	m := e.manager(t)
	var browser followOpener
	err := m.SignInWith(context.Background(), browser.open)
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, auth.ErrSignInDenied) {
		t.Errorf("err = %v, want ErrSignInDenied", err)
	}
	if _, page := browser.wait(t); !strings.Contains(page, "Sign-in failed") {
		t.Fatalf("failure page: %q", page)
	}
}

func TestSignInStateMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	m := e.manager(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var page followOpener
	// A forged callback with a wrong state is refused and does not end
	// the sign-in; the real one then completes it.
	err := m.SignInWith(ctx, func(u string) error {
		au, _ := url.Parse(u)
		cb, _ := url.Parse(au.Query().Get("redirect_uri"))
		cb.RawQuery = url.Values{"code": {"forged"}, "state": {"wrong"}}.Encode()
		if err := page.open(cb.String()); err != nil {
			return err
		}
		if page.code != 400 || !strings.Contains(page.page, "out of date") {
			t.Errorf("forged callback answered %d %q", page.code, page.page)
		}
		var real followOpener
		return real.open(u)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	o := &OAuth{Issuer: e.cfg.AuthURL, HTTP: NetHTTP{}, Now: e.clock.Now}
	id, access, refresh := e.fake.IssueTokens()
	t0 := Tokens{IDToken: id, AccessToken: access, RefreshToken: refresh}
	t1, err := o.Refresh(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if t1.RefreshToken == t0.RefreshToken || t1.AccessToken == t0.AccessToken || !e.fake.ValidAccessToken(t1.AccessToken) {
		t.Fatal("refresh did not rotate the tokens")
	}
	_, err = o.Refresh(context.Background(), t0)
	if auth.KindOf(err) != auth.KindSignInRequired || !strings.Contains(err.Error(), "already used") || !strings.Contains(err.Error(), "chatgpt-to-api login") {
		t.Fatalf("reuse: %v", err)
	}
	e.fake.RevokeRefreshTokens(false)
	if _, err := o.Refresh(context.Background(), t1); !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked: %v", err)
	}
	_, _, r2 := e.fake.IssueTokens()
	e.fake.RevokeRefreshTokens(true)
	if _, err := o.Refresh(context.Background(), Tokens{RefreshToken: r2}); !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
}

func TestOAuthErrorCodeShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"error":{"code":"refresh_token_reused","message":"x"}}`: "refresh_token_reused",
		`{"error":"refresh_token_expired"}`:                       "refresh_token_expired",
		`{"code":"refresh_token_invalidated"}`:                    "refresh_token_invalidated",
		`not json`:                                                "",
	} {
		if got, _ := oauthErrorCode([]byte(body)); got != want {
			t.Errorf("%s → %q, want %q", body, got, want)
		}
	}
}

func TestDeviceSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{DevicePendingPolls: 3}, nil)
	m := e.manager(t)
	var shown DeviceCode
	if err := m.SignInDevice(context.Background(), func(dc DeviceCode) { shown = dc }); err != nil {
		t.Fatal(err)
	}
	if shown.UserCode == "" || !strings.HasSuffix(shown.VerificationURL, "/codex/device") {
		t.Fatalf("shown = %+v", shown)
	}
	c, err := m.Credentials(context.Background())
	if err != nil || !e.fake.ValidAccessToken(c.AccessToken) {
		t.Fatalf("credentials after device sign-in: %v", err)
	}
}

func TestImportCodex(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	e := newEnv(t, codextest.AuthOptions{AccountID: "acc-cli"}, map[string]string{"CODEX_HOME": home})
	id, access, refresh := e.fake.IssueTokens()
	file := filepath.Join(home, "auth.json")
	body, _ := json.Marshal(map[string]any{
		"auth_mode": "ChatGPT", "OPENAI_API_KEY": nil,
		"tokens":       map[string]string{"id_token": id, "access_token": access, "refresh_token": refresh, "account_id": "acc-cli"},
		"last_refresh": "2026-03-01T11:00:00.123456Z",
	})
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(file)
	m := e.manager(t)
	path, err := m.ImportCodex(context.Background())
	if err != nil || path != file {
		t.Fatalf("import: %q %v", path, err)
	}
	c, err := m.Credentials(context.Background())
	if err != nil || c.AccessToken != access || c.AccountID != "acc-cli" {
		t.Fatalf("credentials: %v", err)
	}
	// A refresh rotates our copy only; the CLI's file is never written.
	if _, err := m.Refresh(context.Background(), access); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(file)
	got, _ := os.ReadFile(file)
	if string(got) != string(body) || !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("the Codex CLI's auth.json was modified")
	}

	// Missing file and API-key mode give clear errors.
	if _, _, err := ReadCodexAuth(t.TempDir()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "auth.json"), []byte(`{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}`), 0o600)
	if _, _, err := ReadCodexAuth(dir); err == nil || !strings.Contains(err.Error(), "API key") {
		t.Fatalf("apikey: %v", err)
	}
}
