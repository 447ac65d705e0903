package creds

import (
	"context"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// TestRealUpstreamClient runs the session exchange (chunked and rotating),
// the browser sign-in and refresh rotation through upstream.Client, the
// tls-client transport the app uses, against the fake.
func TestRealUpstreamClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, codextest.AuthOptions{AccessLifetime: 2 * time.Second, RotateChunked: true}, nil)
	client, err := upstream.New(upstream.Config{BaseURL: e.backend.BaseURL(), Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	m := e.manager(t)
	m.http = client
	m.oauth.HTTP = client
	e.fake.SetSessionMode(codextest.SessionRotating)
	tok := e.fake.NewSessionToken(5000)
	if err := m.SetSessionToken(ctx, SessionCookieName+".0="+tok[:2500]+"; "+SessionCookieName+".1="+tok[2500:]); err != nil {
		t.Fatal(err)
	}
	serve(t, e, m, 60, 150*time.Millisecond)
	if e.fake.Exchanges() < 5 {
		t.Fatalf("exchanges = %d", e.fake.Exchanges())
	}

	var browser followOpener
	if err := m.SignInWith(ctx, browser.open); err != nil {
		t.Fatal(err)
	}
	serve(t, e, m, 60, 150*time.Millisecond)
	if e.fake.Refreshes() < 5 {
		t.Fatalf("refreshes = %d", e.fake.Refreshes())
	}
}
