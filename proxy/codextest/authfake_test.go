package codextest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authGet sends a GET with cookies and returns status, headers and body.
func authGet(t *testing.T, u string, cookie string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// authPost posts a JSON or form body and decodes the JSON answer.
func authPost(t *testing.T, u, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestAuthFakeSession(t *testing.T) {
	t.Parallel()
	a := NewAuthServer(AuthOptions{AccountID: "acc-x"})
	srv := httptest.NewServer(a)
	defer srv.Close()
	tok := a.NewSessionToken(6000)

	code, _, body := authGet(t, srv.URL+"/api/auth/session", SessionCookieName+"="+tok)
	var s struct {
		AccessToken string              `json:"accessToken"`
		Account     struct{ ID string } `json:"account"`
	}
	json.Unmarshal([]byte(body), &s)
	if code != 200 || !a.ValidAccessToken(s.AccessToken) || s.Account.ID != "acc-x" {
		t.Fatalf("plain: %d %s", code, body[:min(len(body), 200)])
	}
	// Chunks in any order are joined numerically; a gap is not a session.
	_, _, body = authGet(t, srv.URL+"/api/auth/session", SessionCookieName+".1="+tok[3000:]+"; "+SessionCookieName+".0="+tok[:3000])
	if !strings.Contains(body, "accessToken") {
		t.Fatal("chunked cookie refused")
	}
	_, _, body = authGet(t, srv.URL+"/api/auth/session", SessionCookieName+".0="+tok[:3000]+"; "+SessionCookieName+".2="+tok[3000:])
	if strings.TrimSpace(body) != "{}" {
		t.Fatalf("gap accepted: %s", body)
	}

	a.SetSessionMode(SessionRotating)
	_, h, _ := authGet(t, srv.URL+"/api/auth/session", SessionCookieName+"="+tok)
	sc := h.Values("Set-Cookie")
	if len(sc) != 2 || !strings.Contains(sc[0], "Max-Age=0") || a.ValidSession(tok) {
		t.Fatalf("rotation: %q", sc)
	}

	a.SetSessionMode(SessionCloudflare)
	code, h, body = authGet(t, srv.URL+"/api/auth/session", "")
	if code != 403 || !strings.Contains(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "Just a moment") {
		t.Fatalf("cloudflare: %d", code)
	}
	a.SetSessionMode(SessionSignedOut)
	if _, _, body = authGet(t, srv.URL+"/api/auth/session", ""); strings.TrimSpace(body) != "{}" {
		t.Fatalf("signed out: %s", body)
	}
}

func TestAuthFakeOAuth(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewAuthServer(AuthOptions{Now: func() time.Time { return now }, AccessLifetime: 3 * time.Second})
	srv := httptest.NewServer(a)
	defer srv.Close()

	verifier := "a-verifier-that-is-long-enough-for-the-test-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://localhost:1455/auth/callback"
	q := url.Values{"response_type": {"code"}, "client_id": {CodexClientID}, "redirect_uri": {redirect},
		"scope": {"openid profile email offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st"}}
	code, h, _ := authGet(t, srv.URL+"/oauth/authorize?"+q.Encode(), "")
	loc, _ := url.Parse(h.Get("Location"))
	if code != 302 || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", code, loc)
	}
	authCode := loc.Query().Get("code")

	form := func(v url.Values) (int, map[string]any) {
		return authPost(t, srv.URL+"/oauth/token", "application/x-www-form-urlencoded", v.Encode())
	}
	// A wrong verifier fails PKCE and spends the code.
	status, v := form(url.Values{"grant_type": {"authorization_code"}, "code": {authCode}, "redirect_uri": {redirect}, "client_id": {CodexClientID}, "code_verifier": {"wrong"}})
	if status != 400 {
		t.Fatalf("bad verifier: %d %v", status, v)
	}
	code, h, _ = authGet(t, srv.URL+"/oauth/authorize?"+q.Encode(), "")
	loc, _ = url.Parse(h.Get("Location"))
	status, v = form(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "client_id": {CodexClientID}, "code_verifier": {verifier}})
	if status != 200 || !a.ValidAccessToken(v["access_token"].(string)) {
		t.Fatalf("exchange: %d %v", status, v)
	}
	rt := v["refresh_token"].(string)

	refresh := func(rt string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]string{"client_id": CodexClientID, "grant_type": "refresh_token", "refresh_token": rt})
		return authPost(t, srv.URL+"/oauth/token", "application/json", string(b))
	}
	status, v = refresh(rt)
	if status != 200 || v["refresh_token"] == rt {
		t.Fatalf("refresh: %d", status)
	}
	status, v = refresh(rt)
	e, _ := v["error"].(map[string]any)
	if status != 401 || e["code"] != "refresh_token_reused" {
		t.Fatalf("reuse: %d %v", status, v)
	}
	if a.Refreshes() != 1 {
		t.Fatalf("refreshes = %d", a.Refreshes())
	}

	// Tokens expire on the fake's clock.
	_, access, _ := a.IssueTokens()
	if !a.ValidAccessToken(access) {
		t.Fatal("fresh token invalid")
	}
	now = now.Add(3 * time.Second)
	if a.ValidAccessToken(access) {
		t.Fatal("expired token still valid")
	}
}

func TestAuthFakeDevice(t *testing.T) {
	t.Parallel()
	a := NewAuthServer(AuthOptions{DevicePendingPolls: 1})
	srv := httptest.NewServer(a)
	defer srv.Close()
	_, v := authPost(t, srv.URL+"/api/accounts/deviceauth/usercode", "application/json", `{"client_id":"`+CodexClientID+`"}`)
	body, _ := json.Marshal(map[string]any{"device_auth_id": v["device_auth_id"], "user_code": v["user_code"]})
	if status, _ := authPost(t, srv.URL+"/api/accounts/deviceauth/token", "application/json", string(body)); status != 403 {
		t.Fatalf("first poll: %d, want 403 pending", status)
	}
	status, v := authPost(t, srv.URL+"/api/accounts/deviceauth/token", "application/json", string(body))
	if status != 200 || v["authorization_code"] == "" || v["code_verifier"] == "" {
		t.Fatalf("second poll: %d %v", status, v)
	}
	status, v = authPost(t, srv.URL+"/oauth/token", "application/x-www-form-urlencoded", url.Values{
		"grant_type": {"authorization_code"}, "code": {v["authorization_code"].(string)}, "client_id": {CodexClientID},
		"redirect_uri": {srv.URL + "/deviceauth/callback"}, "code_verifier": {v["code_verifier"].(string)},
	}.Encode())
	if status != 200 || v["refresh_token"] == nil {
		t.Fatalf("device exchange: %d %v", status, v)
	}
}
