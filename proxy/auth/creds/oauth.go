package creds

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// The Codex CLI's OAuth registration (docs/protocol.md §6).
const (
	// CodexClientID is the Codex CLI's OAuth client id.
	CodexClientID = "app_EMoamEEZ73f0CkXaXp7hrann"
	// DefaultCallbackPort is the port the client registration expects for
	// http://localhost:1455/auth/callback.
	DefaultCallbackPort = 1455
	// Scope is what the sign-in asks for; offline_access yields a refresh
	// token.
	Scope = "openid profile email offline_access"
)

// Tokens is a Codex OAuth token set, as stored in the secret store (JSON
// under the key "codex-oauth"). Every token is a secret.
type Tokens struct {
	IDToken      string    `json:"id_token"`
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	AccountID    string    `json:"account_id,omitempty"`
	LastRefresh  time.Time `json:"last_refresh,omitzero"`
	// Imported notes where the tokens came from ("codex-cli" after
	// import-codex); empty for our own sign-ins.
	Imported string `json:"imported,omitempty"`
}

// Credentials returns what an upstream request needs from t.
func (t Tokens) Credentials() auth.Credentials {
	c := credentialsFromToken(t.AccessToken, "codex_oauth")
	if t.AccountID != "" {
		c.AccountID = t.AccountID
	}
	if id, err := auth.ParseJWT(t.IDToken); err == nil {
		if c.Email == "" {
			c.Email = id.Email
		}
		if c.Plan == "" {
			c.Plan = id.Plan
		}
		if c.AccountID == "" {
			c.AccountID = id.AccountID
		}
	}
	return c
}

// OAuth talks to the OAuth issuer with the Codex CLI's registration.
type OAuth struct {
	// Issuer is the issuer's origin, e.g. https://auth.openai.com.
	Issuer string
	// HTTP sends the token requests (route RouteAuth).
	HTTP HTTP
	// Originator is sent as the originator parameter (codex_cli_rs).
	Originator string
	// CallbackHost and CallbackPort are where the sign-in listener binds
	// (127.0.0.1 and DefaultCallbackPort when zero). Tests use port 0;
	// the redirect URI then names the bound port.
	CallbackHost string
	CallbackPort int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits between device-code polls (a context-aware time.Sleep
	// when nil).
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives progress messages (slog.Default when nil).
	Log *slog.Logger
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *OAuth) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.Default()
}

// PKCE is one proof key: the verifier stays here, the challenge goes to
// the authorize URL.
type PKCE struct {
	Verifier  string
	Challenge string
}

// NewPKCE returns a fresh S256 proof key: 64 random bytes as base64url.
func NewPKCE() PKCE {
	b := make([]byte, 64)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// newState returns 32 random bytes as base64url.
func newState() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// AuthorizeURL returns the URL the browser opens to sign in.
func (o *OAuth) AuthorizeURL(p PKCE, state, redirectURI string) string {
	q := []string{
		"response_type=code",
		"client_id=" + url.QueryEscape(CodexClientID),
		"redirect_uri=" + url.QueryEscape(redirectURI),
		"scope=" + url.QueryEscape(Scope),
		"code_challenge=" + url.QueryEscape(p.Challenge),
		"code_challenge_method=S256",
		"id_token_add_organizations=true",
		"codex_cli_simplified_flow=true",
		"state=" + url.QueryEscape(state),
	}
	orig := o.Originator
	if orig == "" {
		orig = "codex_cli_rs"
	}
	q = append(q, "originator="+url.QueryEscape(orig))
	return strings.TrimRight(o.Issuer, "/") + "/oauth/authorize?" + strings.Join(q, "&")
}

// callbackResult is what the listener learned from the browser.
type callbackResult struct {
	tokens Tokens
	err    error
}

// listen binds the callback listener. When the port is taken, possibly by
// an abandoned sign-in of another instance, it asks that one to /cancel and
// retries, as the Codex CLI does.
func (o *OAuth) listen(ctx context.Context) (net.Listener, error) {
	host := o.CallbackHost
	if host == "" {
		host = "127.0.0.1"
	}
	port := o.CallbackPort
	if port == 0 {
		port = DefaultCallbackPort
	} else if port < 0 {
		port = 0
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lastErr error
	for attempt := range 10 {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		lastErr = err
		if port == 0 {
			break
		}
		if attempt == 0 {
			// Ask an earlier sign-in of ours to give the port up; a
			// stranger on the port must not stall us.
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			req, _ := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+addr+"/cancel", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			cancel()
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: listening on %s (is another sign-in running?): %w", auth.ErrCallbackBusy, addr, lastErr)
}

// SignIn runs the browser sign-in: it listens for the callback, calls open
// with the authorize URL, waits for the browser to come back, checks the
// state and exchanges the code (PKCE S256). It returns when the sign-in
// completed, failed or ctx ended.
//
// The callback is served from before open is called, and open runs in its
// own goroutine: a browser launcher may not return while the browser it
// started is open. How the sign-in ended is told by the auth.ErrSignIn*
// errors: a deadline on ctx is ErrSignInTimedOut; a cancelled ctx is
// ErrSignInCancelled unless its cause (context.WithCancelCause) says more.
func (o *OAuth) SignIn(ctx context.Context, open func(url string) error) (Tokens, error) {
	ln, err := o.listen(ctx)
	if err != nil {
		return Tokens{}, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	redirectURI := "http://localhost:" + strconv.Itoa(port) + "/auth/callback"
	pkce, state := NewPKCE(), newState()

	results := make(chan callbackResult, 1)
	report := func(r callbackResult) {
		select {
		case results <- r:
		default:
		}
	}
	// The token exchange runs inside the callback handler so the browser
	// page can say whether the whole sign-in worked.
	mux := http.NewServeMux()
	mux.HandleFunc("/auth/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			// A stale tab or a forged request: do not end the sign-in.
			writePage(w, http.StatusBadRequest, false, "This sign-in link is out of date or was not started by this app. Start the sign-in again from the app.")
			return
		}
		if e := q.Get("error"); e != "" {
			msg := e
			if d := q.Get("error_description"); d != "" {
				msg += ": " + d
			}
			writePage(w, http.StatusOK, false, "The sign-in was not completed ("+msg+"). Close this tab and try again from the app.")
			report(callbackResult{err: fmt.Errorf("%w: %s", auth.ErrSignInDenied, msg)})
			return
		}
		code := q.Get("code")
		if code == "" {
			writePage(w, http.StatusBadRequest, false, "The sign-in answer carried no code. Close this tab and try again from the app.")
			report(callbackResult{err: &auth.Error{Kind: auth.KindSignInRequired, Message: "the sign-in answer carried no authorization code"}})
			return
		}
		t, err := o.exchangeCode(r.Context(), code, redirectURI, pkce.Verifier)
		if err != nil {
			writePage(w, http.StatusOK, false, "Signing in failed: "+err.Error()+". Close this tab and try again from the app.")
			report(callbackResult{err: err})
			return
		}
		writePage(w, http.StatusOK, true, "You are signed in to ChatGPT-to-API. You can close this tab.")
		report(callbackResult{tokens: t})
	})
	mux.HandleFunc("/cancel", func(w http.ResponseWriter, r *http.Request) {
		writePage(w, http.StatusOK, false, "The sign-in was cancelled.")
		report(callbackResult{err: auth.ErrSignInReplaced})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		// Shutdown misses a listener Serve has not picked up yet: free
		// the port here, before SignIn returns.
		ln.Close()
	}()

	authURL := o.AuthorizeURL(pkce, state, redirectURI)
	o.log().Info("waiting for the browser sign-in", "callback", redirectURI)
	go func() {
		if err := open(authURL); err != nil {
			o.log().Warn("could not open the browser; open the sign-in URL by hand", "err", err)
		}
	}()
	select {
	case r := <-results:
		return r.tokens, r.err
	case <-ctx.Done():
		return Tokens{}, signInEnded(ctx)
	}
}

// signInEnded words why ctx ended a pending sign-in as one of the
// auth.ErrSignIn* errors.
func signInEnded(ctx context.Context) error {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return fmt.Errorf("%w: nobody finished it in the browser", auth.ErrSignInTimedOut)
	case errors.Is(cause, auth.ErrSignInReplaced), errors.Is(cause, auth.ErrSignInTimedOut):
		return cause
	}
	return auth.ErrSignInCancelled
}

// writePage answers the browser with a small page.
func writePage(w http.ResponseWriter, status int, ok bool, message string) {
	title, color := "Sign-in failed", "#b00020"
	if ok {
		title, color = "Signed in", "#0a7d32"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s · ChatGPT-to-API</title></head>`+
		`<body style="font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;text-align:center">`+
		`<h1 style="color:%s">%s</h1><p>%s</p></body></html>`,
		title, color, title, html.EscapeString(message))
}

// tokenResponse is the issuer's token answer.
type tokenResponse struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// exchangeCode trades an authorization code for tokens.
func (o *OAuth) exchangeCode(ctx context.Context, code, redirectURI, verifier string) (Tokens, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"client_id":     {CodexClientID},
		"code_verifier": {verifier},
	}
	header := [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}}
	resp, err := o.HTTP.Do(ctx, upstream.RouteAuth, http.MethodPost, strings.TrimRight(o.Issuer, "/")+"/oauth/token", header, []byte(form.Encode()))
	if err != nil {
		return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: "could not reach the sign-in server " + hostOf(o.Issuer), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		code, desc := oauthErrorCode(resp.Body)
		return Tokens{}, &auth.Error{Kind: auth.KindSignInRequired, Message: fmt.Sprintf("the sign-in server refused the authorization code (HTTP %d %s %s)", resp.StatusCode, code, desc)}
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: "the sign-in server's token answer is incomplete"}
	}
	t := Tokens{IDToken: tr.IDToken, AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, LastRefresh: o.now()}
	t.AccountID = t.Credentials().AccountID
	return t, nil
}

// Refresh trades t's refresh token for a new token set (JSON body, as the
// Codex CLI sends it). The issuer rotates refresh tokens: the caller must
// store the result before using it. A permanent failure is an *auth.Error
// of kind KindSignInRequired with the Codex CLI's wording.
func (o *OAuth) Refresh(ctx context.Context, t Tokens) (Tokens, error) {
	if t.RefreshToken == "" {
		return Tokens{}, &auth.Error{Kind: auth.KindSignInRequired, Message: "there is no refresh token; " + SignInHint}
	}
	body, _ := json.Marshal(map[string]string{
		"client_id":     CodexClientID,
		"grant_type":    "refresh_token",
		"refresh_token": t.RefreshToken,
	})
	header := [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json"}}
	resp, err := o.HTTP.Do(ctx, upstream.RouteAuth, http.MethodPost, strings.TrimRight(o.Issuer, "/")+"/oauth/token", header, body)
	if err != nil {
		return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: "could not reach the sign-in server " + hostOf(o.Issuer) + " to refresh the access token", Err: err}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		code, _ := oauthErrorCode(resp.Body)
		return Tokens{}, &auth.Error{Kind: auth.KindSignInRequired, Message: refreshFailureMessage(code)}
	}
	if resp.StatusCode != http.StatusOK {
		code, _ := oauthErrorCode(resp.Body)
		if code == "refresh_token_reused" || code == "refresh_token_expired" || code == "refresh_token_invalidated" {
			return Tokens{}, &auth.Error{Kind: auth.KindSignInRequired, Message: refreshFailureMessage(code)}
		}
		return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: fmt.Sprintf("refreshing the access token failed with HTTP %d %s; will retry", resp.StatusCode, code)}
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil || tr.AccessToken == "" {
		return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: "the sign-in server's refresh answer is incomplete"}
	}
	next := t
	next.AccessToken = tr.AccessToken
	if tr.IDToken != "" {
		next.IDToken = tr.IDToken
	}
	if tr.RefreshToken != "" {
		next.RefreshToken = tr.RefreshToken
	}
	if acc := next.Credentials().AccountID; acc != "" {
		next.AccountID = acc
	}
	next.LastRefresh = o.now()
	return next, nil
}

// refreshFailureMessage words a permanent refresh failure like the Codex CLI.
func refreshFailureMessage(code string) string {
	base := "Your access token could not be refreshed"
	switch code {
	case "refresh_token_expired":
		base += " because your refresh token has expired"
	case "refresh_token_reused":
		base += " because your refresh token was already used (another program using the same sign-in may have refreshed it)"
	case "refresh_token_invalidated":
		base += " because your refresh token was revoked"
	}
	return base + ". Please " + SignInHint + "."
}

// oauthErrorCode finds the error code of an issuer answer: error.code,
// error as a string, or a top-level code.
func oauthErrorCode(body []byte) (code, description string) {
	var v struct {
		Error            json.RawMessage `json:"error"`
		Code             string          `json:"code"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil && s != "" {
		return s, v.ErrorDescription
	}
	var obj struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &obj) == nil && obj.Code != "" {
		return obj.Code, obj.Message
	}
	return v.Code, v.ErrorDescription
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
