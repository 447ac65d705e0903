package codextest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Codex CLI's OAuth client id, which the fake issuer expects.
const CodexClientID = "app_EMoamEEZ73f0CkXaXp7hrann"

// SessionCookieName is the NextAuth session cookie of chatgpt.com.
const SessionCookieName = "__Secure-next-auth.session-token"

// SessionMode selects how the fake /api/auth/session answers.
type SessionMode int

// The session modes.
const (
	// SessionPlain answers a valid cookie with a session and no Set-Cookie.
	SessionPlain SessionMode = iota
	// SessionRotating answers a valid cookie with a session and rotates the
	// cookie: Set-Cookie with Max-Age=0 for every cookie of the old family,
	// then the new family (chunked when AuthOptions.RotateChunked is set).
	// The old value stops working, so a client that does not persist the
	// new one fails on its next exchange.
	SessionRotating
	// SessionSignedOut answers every cookie with 200 and "{}".
	SessionSignedOut
	// SessionCloudflare answers every request with a 403 challenge page.
	SessionCloudflare
)

// AuthOptions configure an AuthServer. Zero values give sensible defaults.
type AuthOptions struct {
	// Now is the fake's clock (time.Now when nil). Token expiry is checked
	// against it.
	Now func() time.Time
	// AccessLifetime is the lifetime of issued access tokens (1 hour when
	// zero). A few seconds exercises refreshing.
	AccessLifetime time.Duration
	// Email, Plan and AccountID go into the tokens and the session.
	Email, Plan, AccountID string
	// RotateChunked makes SessionRotating send the new cookie as .0/.1
	// chunks instead of one cookie.
	RotateChunked bool
	// DevicePendingPolls is how many device-token polls answer 403 before
	// the device sign-in succeeds (2 when zero; -1 for none).
	DevicePendingPolls int
	// AuthorizeError, when set, makes /oauth/authorize redirect back with
	// error=AuthorizeError instead of a code.
	AuthorizeError string
}

// AuthServer fakes chatgpt.com's /api/auth/session and auth.openai.com's
// OAuth endpoints (authorize, token, device code). It is an http.Handler:
// serve it alone with httptest.NewServer, or mount it on a fake backend
// with Mount. Tokens it issues are JWT-shaped (unsigned) and are accepted
// by ValidAccessToken until they expire.
type AuthServer struct {
	opts AuthOptions
	mux  *http.ServeMux

	mu            sync.Mutex
	mode          SessionMode
	sessions      map[string]bool        // valid session cookie values
	access        map[string]time.Time   // issued access token → expiry
	codes         map[string]authCode    // authorization code → binding
	refresh       map[string]string      // refresh token → "valid", "used", "revoked", "expired"
	devices       map[string]*authDevice // device_auth_id → state
	exchanges     int
	refreshes     int
	seq           int
	lastSetCookie []string
}

type authCode struct {
	challenge   string
	redirectURI string
	clientID    string
}

type authDevice struct {
	userCode string
	polls    int
	done     bool
}

// NewAuthServer returns a fake issuer and session endpoint.
func NewAuthServer(opts AuthOptions) *AuthServer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AccessLifetime == 0 {
		opts.AccessLifetime = time.Hour
	}
	if opts.Email == "" {
		opts.Email = "person@example.com"
	}
	if opts.Plan == "" {
		opts.Plan = "plus"
	}
	if opts.AccountID == "" {
		opts.AccountID = "acc-0000-test"
	}
	if opts.DevicePendingPolls == 0 {
		opts.DevicePendingPolls = 2
	}
	a := &AuthServer{
		opts:     opts,
		mux:      http.NewServeMux(),
		sessions: map[string]bool{},
		access:   map[string]time.Time{},
		codes:    map[string]authCode{},
		refresh:  map[string]string{},
		devices:  map[string]*authDevice{},
	}
	for pattern, h := range a.Routes() {
		a.mux.HandleFunc(pattern, h)
	}
	return a
}

// Routes returns the fake's handlers by pattern, for mounting them on
// another server.
func (a *AuthServer) Routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /api/auth/session":                  a.handleSession,
		"GET /oauth/authorize":                   a.handleAuthorize,
		"POST /oauth/token":                      a.handleToken,
		"POST /api/accounts/deviceauth/usercode": a.handleUserCode,
		"POST /api/accounts/deviceauth/token":    a.handleDeviceToken,
		"GET /codex/device":                      a.handleDevicePage,
		"GET /deviceauth/callback":               a.handleDevicePage,
	}
}

// ServeHTTP serves the fake's routes.
func (a *AuthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// SetSessionMode changes how /api/auth/session answers.
func (a *AuthServer) SetSessionMode(m SessionMode) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mode = m
}

// NewSessionToken returns a fresh valid session cookie value of size bytes
// (at least 16).
func (a *AuthServer) NewSessionToken(size int) string {
	v := authRandom(max(size, 16))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions[v] = true
	return v
}

// ValidSession reports whether value is a currently valid session cookie.
func (a *AuthServer) ValidSession(value string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[value]
}

// ValidAccessToken reports whether token was issued by the fake and has not
// expired. Pass it to the backend fake's token check.
func (a *AuthServer) ValidAccessToken(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.access[token]
	return ok && a.opts.Now().Before(exp)
}

// Exchanges counts successful session exchanges.
func (a *AuthServer) Exchanges() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exchanges
}

// Refreshes counts refresh_token grants that succeeded.
func (a *AuthServer) Refreshes() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshes
}

// LastSetCookie returns the Set-Cookie values of the last session answer.
func (a *AuthServer) LastSetCookie() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lastSetCookie...)
}

// RevokeRefreshTokens marks every valid refresh token as revoked
// (refresh_token_invalidated) or, with expired, as expired
// (refresh_token_expired).
func (a *AuthServer) RevokeRefreshTokens(expired bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, v := range a.refresh {
		if v == "valid" {
			if expired {
				a.refresh[k] = "expired"
			} else {
				a.refresh[k] = "revoked"
			}
		}
	}
}

// IssueTokens returns a fresh (id, access, refresh) token set, as after a
// sign-in, e.g. to write a Codex CLI auth.json in a test.
func (a *AuthServer) IssueTokens() (idToken, accessToken, refreshToken string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked()
}

// issueLocked mints a token set. a.mu must be held.
func (a *AuthServer) issueLocked() (idToken, accessToken, refreshToken string) {
	now := a.opts.Now()
	a.seq++
	exp := now.Add(a.opts.AccessLifetime)
	claims := map[string]any{
		"iat":       now.Unix(),
		"exp":       exp.Unix(),
		"jti":       fmt.Sprintf("jti-%d-%s", a.seq, authRandom(8)),
		"client_id": CodexClientID,
		"https://api.openai.com/auth": map[string]any{
			"chatgpt_account_id": a.opts.AccountID,
			"chatgpt_plan_type":  a.opts.Plan,
			"chatgpt_user_id":    "user-test",
		},
		"https://api.openai.com/profile": map[string]any{"email": a.opts.Email},
	}
	accessToken = FakeJWT(claims)
	claims["email"] = a.opts.Email
	claims["exp"] = now.Add(time.Hour).Unix()
	idToken = FakeJWT(claims)
	refreshToken = "rt_" + authRandom(24)
	// The JWT exp has a resolution of one second; keep the fake's notion
	// of expiry consistent with what the client can read.
	a.access[accessToken] = time.Unix(exp.Unix(), 0)
	a.refresh[refreshToken] = "valid"
	return idToken, accessToken, refreshToken
}

// FakeJWT returns an unsigned JWT-shaped token carrying claims.
func FakeJWT(claims map[string]any) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return header + "." + base64.RawURLEncoding.EncodeToString(body) + ".fake-signature"
}

// sessionCookie reassembles the session cookie of r, whole or chunked, and
// returns the names of the cookies it came from.
func authSessionCookie(r *http.Request) (value string, names []string) {
	type chunk struct {
		i int
		v string
	}
	var whole string
	var chunks []chunk
	for _, c := range r.Cookies() {
		switch {
		case c.Name == SessionCookieName:
			whole = c.Value
			names = append(names, c.Name)
		case strings.HasPrefix(c.Name, SessionCookieName+"."):
			i, err := strconv.Atoi(strings.TrimPrefix(c.Name, SessionCookieName+"."))
			if err == nil {
				chunks = append(chunks, chunk{i, c.Value})
				names = append(names, c.Name)
			}
		}
	}
	if len(chunks) == 0 {
		return whole, names
	}
	sort.Slice(chunks, func(x, y int) bool { return chunks[x].i < chunks[y].i })
	var b strings.Builder
	for n, c := range chunks {
		if c.i != n {
			return "", names // a gap: not a valid family
		}
		b.WriteString(c.v)
	}
	return b.String(), names
}

func (a *AuthServer) handleSession(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastSetCookie = nil
	switch a.mode {
	case SessionCloudflare:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Header().Set("Cf-Mitigated", "challenge")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Enable JavaScript and cookies to continue</body></html>")
		return
	case SessionSignedOut:
		authWriteJSON(w, http.StatusOK, map[string]any{})
		return
	}
	value, names := authSessionCookie(r)
	if value == "" || !a.sessions[value] {
		authWriteJSON(w, http.StatusOK, map[string]any{})
		return
	}
	if a.mode == SessionRotating {
		for _, n := range names {
			c := fmt.Sprintf("%s=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", n)
			w.Header().Add("Set-Cookie", c)
			a.lastSetCookie = append(a.lastSetCookie, c)
		}
		delete(a.sessions, value)
		next := authRandom(len(value))
		a.sessions[next] = true
		parts := []string{next}
		if a.opts.RotateChunked {
			half := len(next) / 2
			parts = []string{next[:half], next[half:]}
		}
		for i, p := range parts {
			name := SessionCookieName
			if a.opts.RotateChunked {
				name += "." + strconv.Itoa(i)
			}
			c := fmt.Sprintf("%s=%s; Path=/; Expires=%s; HttpOnly; Secure; SameSite=Lax", name, p,
				a.opts.Now().Add(30*24*time.Hour).UTC().Format(http.TimeFormat))
			w.Header().Add("Set-Cookie", c)
			a.lastSetCookie = append(a.lastSetCookie, c)
		}
	}
	a.exchanges++
	_, access, _ := a.issueLocked()
	authWriteJSON(w, http.StatusOK, map[string]any{
		"user":         map[string]any{"id": "user-test", "name": "Test Person", "email": a.opts.Email},
		"expires":      a.opts.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
		"account":      map[string]any{"id": a.opts.AccountID, "planType": a.opts.Plan, "structure": "personal"},
		"accessToken":  access,
		"authProvider": "openai",
	})
}

func (a *AuthServer) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "localhost" && ru.Hostname() != "127.0.0.1") || ru.Path != "/auth/callback" {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	for k, want := range map[string]string{"response_type": "code", "client_id": CodexClientID, "code_challenge_method": "S256"} {
		if q.Get(k) != want {
			http.Error(w, "invalid "+k, http.StatusBadRequest)
			return
		}
	}
	if q.Get("code_challenge") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "offline_access") {
		http.Error(w, "missing code_challenge, state or offline_access scope", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	if a.opts.AuthorizeError != "" {
		back.Set("error", a.opts.AuthorizeError)
		back.Set("error_description", "The fake issuer refused the sign-in.")
	} else {
		code := "code_" + authRandom(16)
		a.mu.Lock()
		a.codes[code] = authCode{challenge: q.Get("code_challenge"), redirectURI: redirect, clientID: q.Get("client_id")}
		a.mu.Unlock()
		back.Set("code", code)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// authParams reads a token request, form-encoded or JSON.
func authParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k := range r.PostForm {
		out[k] = r.PostForm.Get(k)
	}
	return out, nil
}

func authError(w http.ResponseWriter, status int, code, message string) {
	authWriteJSON(w, status, map[string]any{"error": map[string]any{"message": message, "type": "invalid_request_error", "code": code}})
}

func (a *AuthServer) handleToken(w http.ResponseWriter, r *http.Request) {
	p, err := authParams(r)
	if err != nil {
		authError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	if p["client_id"] != CodexClientID {
		authError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch p["grant_type"] {
	case "authorization_code":
		c, ok := a.codes[p["code"]]
		if !ok {
			authError(w, http.StatusBadRequest, "invalid_grant", "unknown or used authorization code")
			return
		}
		delete(a.codes, p["code"])
		if p["redirect_uri"] != c.redirectURI {
			authError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
			return
		}
		sum := sha256.Sum256([]byte(p["code_verifier"]))
		if p["code_verifier"] == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			authError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
	case "refresh_token":
		switch a.refresh[p["refresh_token"]] {
		case "valid":
			a.refresh[p["refresh_token"]] = "used"
			a.refreshes++
		case "used":
			authError(w, http.StatusUnauthorized, "refresh_token_reused", "Your refresh token has already been used to generate a new access token. Please try signing in again.")
			return
		case "revoked":
			authError(w, http.StatusUnauthorized, "refresh_token_invalidated", "Your refresh token has been invalidated. Please try signing in again.")
			return
		case "expired":
			authError(w, http.StatusUnauthorized, "refresh_token_expired", "Your refresh token has expired. Please try signing in again.")
			return
		default:
			authError(w, http.StatusUnauthorized, "invalid_grant", "unknown refresh token")
			return
		}
	default:
		authError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
		return
	}
	id, access, refresh := a.issueLocked()
	authWriteJSON(w, http.StatusOK, map[string]any{
		"id_token": id, "access_token": access, "refresh_token": refresh,
		"token_type": "Bearer", "expires_in": int(a.opts.AccessLifetime.Seconds()),
	})
}

func (a *AuthServer) handleUserCode(w http.ResponseWriter, r *http.Request) {
	p, err := authParams(r)
	if err != nil || p["client_id"] != CodexClientID {
		authError(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	}
	id := "dev_" + authRandom(12)
	code := strings.ToUpper(authRandom(4) + "-" + authRandom(5))
	a.mu.Lock()
	a.devices[id] = &authDevice{userCode: code}
	a.mu.Unlock()
	authWriteJSON(w, http.StatusOK, map[string]any{"device_auth_id": id, "user_code": code, "interval": "0"})
}

func (a *AuthServer) handleDeviceToken(w http.ResponseWriter, r *http.Request) {
	p, err := authParams(r)
	if err != nil {
		authError(w, http.StatusBadRequest, "invalid_request", "unreadable body")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.devices[p["device_auth_id"]]
	if !ok || d.userCode != p["user_code"] || d.done {
		authError(w, http.StatusNotFound, "not_found", "unknown device authorization")
		return
	}
	d.polls++
	if a.opts.DevicePendingPolls > 0 && d.polls <= a.opts.DevicePendingPolls {
		authError(w, http.StatusForbidden, "deviceauth_authorization_pending", "authorization pending")
		return
	}
	d.done = true
	verifier := authRandom(43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	code := "code_" + authRandom(16)
	redirect := "http://" + r.Host + "/deviceauth/callback"
	if r.TLS != nil {
		redirect = "https://" + r.Host + "/deviceauth/callback"
	}
	a.codes[code] = authCode{challenge: challenge, redirectURI: redirect, clientID: CodexClientID}
	authWriteJSON(w, http.StatusOK, map[string]any{"authorization_code": code, "code_challenge": challenge, "code_verifier": verifier})
}

func (a *AuthServer) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, "<html><body>Enter the code shown by the app.</body></html>")
}

func authWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

const authAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// authRandom returns n random base62 characters.
func authRandom(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = authAlphabet[int(b[i])%len(authAlphabet)]
	}
	return string(b)
}

// Mount serves the fake's routes on s (so one server is both chatgpt.com,
// auth.openai.com and the Codex backend) and makes s's /codex/* accept only
// access tokens the fake issued and that have not expired.
func (a *AuthServer) Mount(s *Server) {
	for pattern, h := range a.Routes() {
		s.HandleFunc(pattern, h)
	}
	s.RequireTokens(a.ValidAccessToken)
}
