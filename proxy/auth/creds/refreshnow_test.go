package creds

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// sameTokenSession answers every session exchange with the same access
// token, as chatgpt.com does until the token nears its expiry.
type sameTokenSession struct{ token string }

func (s sameTokenSession) Do(ctx context.Context, route upstream.Route, method, url string, header [][2]string, body []byte) (*upstream.Response, error) {
	b, _ := json.Marshal(map[string]any{
		"accessToken": s.token,
		"expires":     "2030-01-01T00:00:00Z",
		"user":        map[string]any{"email": "s@example.com"},
		"account":     map[string]any{"id": "acct-1", "planType": "plus"},
	})
	return &upstream.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
}

// RefreshNow on a web session whose re-exchange hands back the same, valid
// token is a success: nothing was rejected, so it must not ask the person
// to sign in again (the tray's "Refresh token now", POST /admin/refresh).
func TestRefreshNowSessionSameToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, codextest.AuthOptions{}, nil)
	e.cfg.SessionToken = "a-session-cookie"
	tok := codextest.FakeJWT(map[string]any{"iat": e.clock.Now().Unix(), "exp": e.clock.Now().Add(time.Hour).Unix()})
	m := e.manager(t)
	m.http = sameTokenSession{token: tok}
	if _, err := m.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.RefreshNow(ctx); err != nil {
		t.Fatalf("RefreshNow with the same token handed back: %v", err)
	}
	if c, err := m.Credentials(ctx); err != nil || c.AccessToken != tok {
		t.Fatalf("after RefreshNow: %v", err)
	}
	if a := m.Status(); a.State != status.AuthSignedIn {
		t.Fatalf("status after RefreshNow = %+v", a)
	}
	// A real 401 of that token still fails: retrying it would be refused again.
	if _, err := m.Refresh(ctx, tok); err == nil {
		t.Fatal("a 401 whose re-exchange returned the same token did not fail")
	}
}
