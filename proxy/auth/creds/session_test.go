package creds

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

func TestParseSessionToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		parts    []string
		wantErr  bool
	}{
		{"bare", "  abc.def-ghi  \n", []string{"abc.def-ghi"}, false},
		{"name_value", SessionCookieName + "=xyz", []string{"xyz"}, false},
		{"cookie_header", "Cookie: oai-did=1; " + SessionCookieName + "=xyz; other=2", []string{"xyz"}, false},
		{"chunks_out_of_order", SessionCookieName + ".1=BBB; " + SessionCookieName + ".0=AAA", []string{"AAA", "BBB"}, false},
		{"chunk_gap", SessionCookieName + ".0=AAA; " + SessionCookieName + ".2=CCC", nil, true},
		{"empty", "   ", nil, true},
		{"spaces", "abc def", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseSessionToken(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %v parts", len(c.Parts))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.Parts, "|") != strings.Join(tc.parts, "|") {
				t.Fatalf("parts = %d, want %d", len(c.Parts), len(tc.parts))
			}
			back, err := ParseSessionToken(c.String())
			if err != nil || back.Value() != c.Value() || len(back.Parts) != len(c.Parts) {
				t.Fatalf("String does not round-trip: %v", err)
			}
		})
	}
}

func TestRotatedCookie(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h := func(lines ...string) http.Header { return http.Header{"Set-Cookie": lines} }
	n := SessionCookieName
	cases := []struct {
		name    string
		h       http.Header
		parts   []string
		rotated bool
		cleared bool
	}{
		{"none", h("other=1; Path=/"), nil, false, false},
		{"single_to_chunked", h(n+"=; Max-Age=0", n+".0=A; Path=/", n+".1=B; Path=/"), []string{"A", "B"}, true, false},
		{"chunked_to_single", h(n+".0=; Max-Age=0", n+".1=; Max-Age=0", n+"=S; Path=/"), []string{"S"}, true, false},
		{"new_then_stale_deleted", h(n+"=S; Path=/", n+".0=; Max-Age=0", n+".1=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), []string{"S"}, true, false},
		{"last_family_wins", h(n+".0=A", n+".1=B", n+"=S"), []string{"S"}, true, false},
		{"cleared", h(n + "=; Max-Age=0"), nil, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next, rotated, cleared := rotatedCookie(tc.h, now)
			if rotated != tc.rotated || cleared != tc.cleared || strings.Join(next.Parts, "|") != strings.Join(tc.parts, "|") {
				t.Fatalf("got parts=%q rotated=%v cleared=%v", next.Parts, rotated, cleared)
			}
		})
	}
}

func TestExchangeSessionModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{Email: "a@example.com", Plan: "pro", AccountID: "acc-1"}, nil)
	ctx := context.Background()
	token := e.fake.NewSessionToken(5000)

	t.Run("plain", func(t *testing.T) {
		info, err := ExchangeSession(ctx, NetHTTP{}, e.cfg.WebOrigin, SessionCookie{Parts: []string{token}}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		c := info.Credentials
		if !e.fake.ValidAccessToken(c.AccessToken) || c.AccountID != "acc-1" || c.Plan != "pro" || c.Email != "a@example.com" || c.Kind != "session_token" {
			t.Fatalf("credentials = %+v", c)
		}
		if info.SessionExpires.IsZero() || !info.Rotated.Empty() || c.ExpiresAt.IsZero() {
			t.Fatalf("session expires %v, rotated %v, token expires %v", info.SessionExpires, !info.Rotated.Empty(), c.ExpiresAt)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		c := SessionCookie{Parts: []string{token[:2500], token[2500:]}}
		if _, err := ExchangeSession(ctx, NetHTTP{}, e.cfg.WebOrigin, c, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestExchangeSessionRotating(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		e := newEnv(t, codextest.AuthOptions{RotateChunked: chunked}, nil)
		e.fake.SetSessionMode(codextest.SessionRotating)
		ctx := context.Background()
		tok := e.fake.NewSessionToken(4000)
		old := SessionCookie{Parts: []string{tok[:2000], tok[2000:]}} // start chunked
		info, err := ExchangeSession(ctx, NetHTTP{}, e.cfg.WebOrigin, old, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if info.Rotated.Empty() || info.Rotated.Chunked() != chunked {
			t.Fatalf("chunked=%v: rotated %d parts", chunked, len(info.Rotated.Parts))
		}
		if !e.fake.ValidSession(info.Rotated.Value()) || e.fake.ValidSession(old.Value()) {
			t.Fatal("the rotated cookie is not the valid one")
		}
	}
}

func TestExchangeSessionFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	ctx := context.Background()
	tok := SessionCookie{Parts: []string{e.fake.NewSessionToken(100)}}

	e.fake.SetSessionMode(codextest.SessionSignedOut)
	_, err := ExchangeSession(ctx, NetHTTP{}, e.cfg.WebOrigin, tok, e.clock.Now())
	if auth.KindOf(err) != auth.KindSignInRequired || !strings.Contains(err.Error(), "signed out") {
		t.Fatalf("signed out: %v", err)
	}
	e.fake.SetSessionMode(codextest.SessionCloudflare)
	_, err = ExchangeSession(ctx, NetHTTP{}, e.cfg.WebOrigin, tok, e.clock.Now())
	if auth.KindOf(err) != auth.KindBlocked || !strings.Contains(err.Error(), "Cloudflare") {
		t.Fatalf("cloudflare: %v", err)
	}
	_, err = ExchangeSession(ctx, failingHTTP{}, e.cfg.WebOrigin, tok, e.clock.Now())
	if auth.KindOf(err) != auth.KindTransient || !strings.Contains(err.Error(), "could not reach") {
		t.Fatalf("network: %v", err)
	}
	if strings.Contains(err.Error(), tok.Value()) {
		t.Fatal("an error message contains the session token")
	}
}

func TestManagerSessionStates(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		mode  codextest.SessionMode
		http  HTTP
		kind  auth.Kind
		state status.AuthState
	}{
		{"signed_out", codextest.SessionSignedOut, nil, auth.KindSignInRequired, status.AuthNeedsSignIn},
		{"cloudflare", codextest.SessionCloudflare, nil, auth.KindBlocked, status.AuthBlocked},
		{"network", codextest.SessionPlain, failingHTTP{}, auth.KindTransient, status.AuthError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, codextest.AuthOptions{}, nil)
			e.cfg.SessionToken = e.fake.NewSessionToken(200)
			e.fake.SetSessionMode(tc.mode)
			m := e.manager(t)
			if tc.http != nil {
				m.http = tc.http
			}
			_, err := m.Credentials(context.Background())
			if auth.KindOf(err) != tc.kind {
				t.Fatalf("kind = %s, want %s (%v)", auth.KindOf(err), tc.kind, err)
			}
			a := e.rec.Snapshot().Auth
			if a.State != tc.state || a.Message == "" || a.Storage != "environment" || a.Source != "session_token" {
				t.Fatalf("status = %+v", a)
			}
		})
	}
}
