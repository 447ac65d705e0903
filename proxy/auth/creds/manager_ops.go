package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// activate stores a new credential under src's key, remembers it as the
// chosen one and makes it the active credential at once. creds and
// sessionExpires are known when the credential was just validated.
func (m *Manager) activate(ctx context.Context, st loadedState, value string, creds auth.Credentials, sessionExpires time.Time) error {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if err := m.secrets.Set(ctx, st.src.storeKey(), value); err != nil {
		return fmt.Errorf("saving the credential in %s: %w", describeWhere(m.secrets.Where()), err)
	}
	if err := m.secrets.Set(ctx, KeyActive, string(st.src)); err != nil {
		m.log.Warn("could not remember the chosen credential", "err", err)
	}
	m.mu.Lock()
	m.gen++
	m.override, m.loaded = true, true
	m.adoptLocked(st)
	now := m.now()
	if creds.AccessToken != "" {
		m.creds = m.withAccount(creds)
		m.sessionExpires = sessionExpires
		m.lastRefresh = now
		m.refreshAt = m.nextRefresh(st.src, m.creds, now)
	}
	m.fail, m.permanent, m.failedMaterial, m.retryAt = nil, false, "", time.Time{}
	m.replacePendingLocked()
	m.clearAccountLocked()
	m.publishLocked()
	m.mu.Unlock()
	m.writeStamp(ctx, stampSignIn)
	m.kickRun()
	return nil
}

// SetSessionToken validates a web session token by exchanging it, then
// stores it in the secret store and uses it at once. token may be the bare
// cookie value or a Cookie header (also chunked). Nothing is stored when
// the exchange fails.
func (m *Manager) SetSessionToken(ctx context.Context, token string) error {
	cookie, err := ParseSessionToken(token)
	if err != nil {
		return &auth.Error{Kind: auth.KindSignInRequired, Message: err.Error()}
	}
	info, err := ExchangeSession(ctx, m.http, m.cfg.WebOrigin, cookie, m.now())
	if err != nil {
		return err
	}
	if !info.Rotated.Empty() {
		cookie = info.Rotated
	}
	st := loadedState{src: srcSession, cookie: cookie, material: string(srcSession) + ":" + auth.Fingerprint(cookie.String())}
	if err := m.activate(ctx, st, cookie.String(), info.Credentials, info.SessionExpires); err != nil {
		return err
	}
	m.log.Info("session token set", "cookie", auth.Fingerprint(cookie.Value()), "chunks", len(cookie.Parts), "account", info.Credentials.AccountID)
	return nil
}

// SetAccessToken stores a plain access token and uses it at once. It must
// be a JWT that has not expired; it cannot be refreshed.
func (m *Manager) SetAccessToken(ctx context.Context, token string) error {
	claims, err := auth.ParseJWT(token)
	if err != nil {
		return &auth.Error{Kind: auth.KindSignInRequired, Message: "the access token is not a JWT (" + err.Error() + ")"}
	}
	if !claims.ExpiresAt.IsZero() && !m.now().Before(claims.ExpiresAt) {
		return &auth.Error{Kind: auth.KindSignInRequired, Message: "the access token expired at " + claims.ExpiresAt.UTC().Format(time.RFC3339)}
	}
	if claims.ExpiresAt.IsZero() || claims.AccountID == "" {
		// Every ChatGPT access token names its expiry and account; a token
		// without them would replace working credentials with one the
		// backend refuses.
		return &auth.Error{Kind: auth.KindSignInRequired, Message: "the token is not a ChatGPT access token (it has no expiry or no ChatGPT account id)"}
	}
	st := loadedState{src: srcAccess, access: token, material: string(srcAccess) + ":" + auth.Fingerprint(token)}
	if err := m.activate(ctx, st, token, auth.Credentials{}, time.Time{}); err != nil {
		return err
	}
	m.log.Info("access token set", "token", auth.Fingerprint(token), "expires", claims.ExpiresAt)
	return nil
}

// useTokens stores OAuth tokens from a sign-in or an import and uses them.
func (m *Manager) useTokens(ctx context.Context, t Tokens) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding tokens: %w", err)
	}
	st := loadedState{src: srcOAuth, tokens: t, material: string(srcOAuth) + ":" + auth.Fingerprint(string(b))}
	return m.activate(ctx, st, string(b), auth.Credentials{}, time.Time{})
}

// ImportCodex copies the Codex CLI's login ($CODEX_HOME/auth.json) into the
// app's own store once and uses it. It never writes the CLI's file. The
// caller should show ShareWarning.
func (m *Manager) ImportCodex(ctx context.Context) (path string, err error) {
	t, path, err := ReadCodexAuth(m.cfg.CodexHome)
	if err != nil {
		return path, err
	}
	if t.LastRefresh.IsZero() {
		t.LastRefresh = m.now()
	}
	if err := m.useTokens(ctx, t); err != nil {
		return path, err
	}
	m.log.Warn("imported the Codex CLI sign-in; the two programs now share one refresh token", "path", path)
	return path, nil
}

// Logout forgets every stored credential (not the local API key). An
// environment token, if any, is used again afterwards.
func (m *Manager) Logout(ctx context.Context) error {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	m.mu.Lock()
	m.gen++
	m.mu.Unlock()
	var errs []error
	for _, k := range []string{KeyOAuth, KeySessionToken, KeyAccessToken, KeyActive} {
		if err := m.secrets.Delete(ctx, k); err != nil && !errors.Is(err, keychain.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", k, err))
		}
	}
	m.mu.Lock()
	m.gen++
	m.override, m.loaded = false, false
	m.adoptLocked(loadedState{})
	m.lastRefresh = time.Time{}
	m.fail, m.permanent, m.failedMaterial, m.retryAt = nil, false, "", time.Time{}
	m.clearAccountLocked()
	m.publishLocked()
	m.mu.Unlock()
	m.writeStamp(ctx, stampSignOut)
	m.kickRun()
	if cc, ok := m.http.(interface{ ClearCookies() }); ok {
		cc.ClearCookies() // no session cookie may outlive the sign-out
	}
	m.log.Info("signed out")
	return errors.Join(errs...)
}

// Status returns the sign-in state, without secrets.
func (m *Manager) Status() status.Auth {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked()
}

// Storage returns where the active credential lives: "environment",
// "keychain", "file" or "memory".
func (m *Manager) Storage() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.src.fromEnv() {
		return "environment"
	}
	return Storage(m.secrets)
}

// statusLocked builds the status. m.mu must be held.
func (m *Manager) statusLocked() status.Auth {
	a := status.Auth{
		Source:         m.src.kind(),
		Email:          m.creds.Email,
		Plan:           m.creds.Plan,
		AccountID:      m.creds.AccountID,
		TokenExpires:   m.creds.ExpiresAt,
		SessionExpires: m.sessionExpires,
		LastRefresh:    m.lastRefresh,
		Refreshing:     m.flight != nil,
	}
	if m.src == srcOAuth && a.Email == "" {
		c := m.tokens.Credentials()
		a.Email, a.Plan, a.AccountID = c.Email, c.Plan, c.AccountID
	}
	switch {
	case m.src.fromEnv():
		a.Storage = "environment"
	case m.src != srcNone:
		a.Storage = Storage(m.secrets)
	}
	usable := m.creds.AccessToken != "" && (m.creds.ExpiresAt.IsZero() || m.now().Before(m.creds.ExpiresAt))
	switch {
	case m.fail != nil && m.permanent && m.fail.Kind == auth.KindSignedOut:
		a.State, a.Message = status.AuthSignedOut, m.fail.Message
	case m.fail != nil && m.permanent:
		a.State, a.Message = status.AuthNeedsSignIn, m.fail.Message
		if usable {
			a.Message += " (the current access token still works until " + m.creds.ExpiresAt.Local().Format("15:04") + ")"
		}
	case m.fail != nil && usable:
		a.State, a.Message = status.AuthSignedIn, "the last refresh failed and will be retried: "+m.fail.Message
	case m.fail != nil && m.fail.Kind == auth.KindBlocked:
		a.State, a.Message = status.AuthBlocked, m.fail.Message
	case m.fail != nil:
		a.State, a.Message = status.AuthError, m.fail.Message
	case m.src == srcNone && m.loaded:
		a.State, a.Message = status.AuthSignedOut, "not signed in"
	case usable:
		a.State = status.AuthSignedIn
		a.Message = m.warn
	default:
		a.State = status.AuthUnknown
	}
	return a
}

// publishLocked sends the status to the recorder. m.mu must be held.
func (m *Manager) publishLocked() {
	if m.rec != nil {
		m.rec.SetAuth(m.statusLocked())
	}
}

// kickRun wakes Run after the credential changed.
func (m *Manager) kickRun() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run keeps the credentials fresh in the background until ctx ends, so
// that the status is current and a refresh rarely falls on a request. It
// also watches the secret store (see KeyStamp) for sign-ins and sign-outs
// made by another process. It is optional: Credentials refreshes on demand
// anyway.
func (m *Manager) Run(ctx context.Context) {
	if m.watchEvery > 0 && m.secrets.Where() != "memory" {
		watched := make(chan struct{})
		defer func() { <-watched }()
		go func() { defer close(watched); m.watch(ctx) }()
	}
	for {
		m.Credentials(ctx)
		m.mu.Lock()
		next := m.refreshAt
		if m.creds.AccessToken == "" || m.fail != nil {
			next = m.retryAt
			if m.permanent || m.src == srcNone {
				next = m.now().Add(time.Minute)
			}
		}
		d := next.Sub(m.now())
		m.mu.Unlock()
		d = min(max(d, time.Second), 12*time.Hour)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-m.kick:
		case <-t.C:
		}
		t.Stop()
	}
}
