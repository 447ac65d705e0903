package creds

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// source names where the active credential comes from.
type source string

// The sources, in the default order of precedence.
const (
	srcNone       source = ""
	srcEnvAccess  source = "env_access"  // CHATGPT_ACCESS_TOKEN
	srcEnvSession source = "env_session" // CHATGPT_SESSION_TOKEN
	srcOAuth      source = "oauth"       // stored Codex OAuth tokens
	srcSession    source = "session"     // stored web session token
	srcAccess     source = "access"      // stored plain access token
)

// kind returns the auth.Credentials.Kind of a source.
func (s source) kind() string {
	switch s {
	case srcEnvAccess, srcAccess:
		return "access_token"
	case srcEnvSession, srcSession:
		return "session_token"
	case srcOAuth:
		return "codex_oauth"
	}
	return ""
}

func (s source) static() bool  { return s == srcEnvAccess || s == srcAccess }
func (s source) session() bool { return s == srcEnvSession || s == srcSession }
func (s source) fromEnv() bool { return s == srcEnvAccess || s == srcEnvSession }
func (s source) storeKey() string {
	switch s {
	case srcOAuth:
		return KeyOAuth
	case srcSession:
		return KeySessionToken
	case srcAccess:
		return KeyAccessToken
	}
	return ""
}

// Timing of refreshes. Margins shrink to a quarter of a token's lifetime
// for short-lived tokens.
const (
	sessionMargin     = 2 * time.Minute  // re-exchange this long before exp
	oauthMargin       = 24 * time.Hour   // refresh this long before exp
	sessionFallback   = 5 * time.Minute  // TTL when exp is unreadable
	oauthFallback     = 55 * time.Minute // TTL when exp is unreadable
	failedRetry       = 2 * time.Second  // no new attempt sooner after a failure without a usable token
	permanentRecheck  = 10 * time.Second // how often a failed sign-in looks for new credentials
	maxBackoff        = 30 * time.Second // retry delay after a failed proactive refresh
	flightTimeout     = 90 * time.Second // bound on one refresh
	permanentHintText = "sign in again: run `chatgpt-to-api login` or use the tray's Sign in"
)

// Options configure a Manager.
type Options struct {
	// Config supplies the environment tokens, the web origin and the issuer.
	Config *config.Config
	// Secrets is where credentials are kept (see OpenSecrets).
	Secrets keychain.Secrets
	// HTTP reaches chatgpt.com and the issuer (upstream.Client).
	HTTP HTTP
	// Status receives the sign-in state; nil for none.
	Status *status.Recorder
	// OpenURL opens the browser for SignIn; nil only prints through Log.
	OpenURL func(url string) error
	// CallbackPort overrides the sign-in listener's port (CHATGPT_CALLBACK_PORT,
	// 1455); -1 picks any free port (tests).
	CallbackPort int
	// WatchInterval is how often Run looks for sign-ins and sign-outs made
	// by another process in the secret store (2 s when zero; negative turns
	// it off).
	WatchInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits between device-code polls (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
	// Log is the logger (slog.Default when nil).
	Log *slog.Logger
}

// Manager is the app's auth.Source. It chooses the active credential with
// this precedence:
//
//  1. CHATGPT_ACCESS_TOKEN (used as is, never refreshed);
//  2. CHATGPT_SESSION_TOKEN (exchanged at {web origin}/api/auth/session);
//  3. stored credentials: the one chosen last (sign-in, import-codex,
//     set-session-token, the admin API), then Codex OAuth tokens, then a
//     web session token, then a plain access token.
//
// A credential set at run time (SignIn, SetSessionToken, SetAccessToken,
// ImportCodex) takes effect at once, also over the environment, until
// Logout or the next start.
//
// Tokens are refreshed before they expire, in one flight per Manager: many
// concurrent callers across an expiry cause one refresh. Permanent failures
// are *auth.Error values of kind KindSignInRequired whose message says how
// to sign in again. Manager is safe for concurrent use.
type Manager struct {
	cfg     *config.Config
	secrets keychain.Secrets
	rec     *status.Recorder
	now     func() time.Time
	log     *slog.Logger
	oauth   *OAuth
	http    HTTP
	open    func(string) error

	// storeMu serializes writes of credential material to the secret
	// store, so a refresh finishing late cannot resurrect a logged-out
	// credential.
	storeMu sync.Mutex

	mu             sync.Mutex
	gen            uint64 // bumped whenever the credential is replaced
	loaded         bool
	override       bool // a credential was set at run time: ignore the environment
	src            source
	material       string // fingerprint of the secret material in use
	cookie         SessionCookie
	tokens         Tokens
	creds          auth.Credentials
	refreshAt      time.Time // refresh (or, for a static token, expire) at
	retryAt        time.Time // no new attempt before this after a failure
	sessionExpires time.Time
	lastRefresh    time.Time
	fail           *auth.Error // the last failure; nil after a success
	permanent      bool        // fail is permanent for material failedMaterial
	failedMaterial string
	warn           string // a non-fatal problem to show (e.g. could not save)
	flight         *flight
	kick           chan struct{}
	pending        *pendingSignIn // the browser sign-in waiting in this process
	stamp          string         // the last credential stamp written or seen
	watchEvery     time.Duration
}

// flight is one refresh in progress; waiters block on done.
type flight struct {
	done  chan struct{}
	creds auth.Credentials
	err   error
}

var _ auth.Source = (*Manager)(nil)

// NewManager returns a Manager. Nothing is read or exchanged until the
// first call to Credentials (or Run).
func NewManager(o Options) *Manager {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	cfg := o.Config
	if cfg == nil {
		cfg = &config.Config{}
	}
	m := &Manager{
		cfg:     cfg,
		secrets: o.Secrets,
		rec:     o.Status,
		now:     now,
		log:     log,
		http:    o.HTTP,
		open:    o.OpenURL,
		kick:    make(chan struct{}, 1),

		watchEvery: o.WatchInterval,
	}
	if cfg.Browser != "" {
		m.open = BrowserCommand(cfg.Browser)
	}
	if m.watchEvery == 0 {
		m.watchEvery = defaultWatchInterval
	}
	if m.secrets == nil {
		m.secrets = keychain.NewMemory()
	}
	port := o.CallbackPort
	if port == 0 {
		port = cfg.CallbackPort
	}
	m.oauth = &OAuth{
		Issuer:       cfg.AuthURL,
		HTTP:         o.HTTP,
		Originator:   cfg.Originator,
		CallbackPort: port,
		Now:          now,
		Sleep:        o.Sleep,
		Log:          log,
	}
	if m.oauth.Issuer == "" {
		m.oauth.Issuer = "https://auth.openai.com"
	}
	return m
}

// Credentials returns usable credentials, refreshing them first when they
// are about to expire.
func (m *Manager) Credentials(ctx context.Context) (auth.Credentials, error) {
	m.mu.Lock()
	now := m.now()
	if m.creds.AccessToken != "" && now.Before(m.refreshAt) {
		c := m.creds
		m.mu.Unlock()
		return c, nil
	}
	if m.fail != nil && now.Before(m.retryAt) {
		err := m.fail
		m.mu.Unlock()
		return auth.Credentials{}, err
	}
	f := m.flight
	if f == nil {
		f = m.startLocked(ctx, false, "")
	}
	m.mu.Unlock()
	return wait(ctx, f)
}

// Refresh is called after the backend answered 401 to rejected. When the
// current token already differs from rejected it is returned without a
// refresh; otherwise the credential is refreshed (or re-exchanged) once.
func (m *Manager) Refresh(ctx context.Context, rejected string) (auth.Credentials, error) {
	m.mu.Lock()
	if c := m.creds; c.AccessToken != "" && c.AccessToken != rejected && (c.ExpiresAt.IsZero() || m.now().Before(c.ExpiresAt)) {
		m.mu.Unlock()
		return c, nil
	}
	if f := m.flight; f != nil {
		m.mu.Unlock()
		c, err := wait(ctx, f)
		if err == nil && c.AccessToken != rejected {
			return c, nil
		}
		m.mu.Lock()
	}
	f := m.flight
	if f == nil {
		f = m.startLocked(ctx, true, rejected)
	}
	m.mu.Unlock()
	return wait(ctx, f)
}

// RefreshNow refreshes (or re-exchanges) the credential now, whether or not
// it is about to expire. A plain access token cannot be refreshed: for it
// RefreshNow only checks that the token is still usable, and never marks
// it as rejected. chatgpt.com hands out the same token until it nears
// expiry, so a re-exchange that returns the current token is a success
// here (unlike after a 401).
func (m *Manager) RefreshNow(ctx context.Context) error {
	m.mu.Lock()
	rejected, static, session := m.creds.AccessToken, m.src.static(), m.src.session()
	m.mu.Unlock()
	if static {
		_, err := m.Credentials(ctx)
		return err
	}
	_, err := m.Refresh(ctx, rejected)
	if err != nil && session && rejected != "" {
		if c, cerr := m.Credentials(ctx); cerr == nil && c.AccessToken == rejected {
			return nil
		}
	}
	return err
}

// wait blocks until f is done or ctx ends.
func wait(ctx context.Context, f *flight) (auth.Credentials, error) {
	select {
	case <-f.done:
		return f.creds, f.err
	case <-ctx.Done():
		return auth.Credentials{}, &auth.Error{Kind: auth.KindTransient, Message: "gave up waiting for the credentials", Err: ctx.Err()}
	}
}

// startLocked starts a flight. m.mu must be held.
func (m *Manager) startLocked(ctx context.Context, force bool, rejected string) *flight {
	f := &flight{done: make(chan struct{})}
	m.flight = f
	m.publishLocked()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
	go func() {
		defer cancel()
		c, err := m.update(fctx, force, rejected)
		m.mu.Lock()
		f.creds, f.err = c, err
		m.flight = nil
		m.publishLocked()
		m.mu.Unlock()
		close(f.done)
	}()
	return f
}

// loaded is what loadState found.
type loadedState struct {
	src      source
	material string
	cookie   SessionCookie
	tokens   Tokens
	access   string
}

// loadState reads the credential to use, following the precedence.
func (m *Manager) loadState(ctx context.Context, override bool) (loadedState, error) {
	if !override {
		if m.cfg.AccessToken != "" {
			return loadedState{src: srcEnvAccess, access: m.cfg.AccessToken, material: "env_access:" + auth.Fingerprint(m.cfg.AccessToken)}, nil
		}
		if m.cfg.SessionToken != "" {
			c, err := ParseSessionToken(m.cfg.SessionToken)
			if err != nil {
				return loadedState{}, &auth.Error{Kind: auth.KindSignInRequired, Message: "CHATGPT_SESSION_TOKEN is not usable: " + err.Error()}
			}
			return loadedState{src: srcEnvSession, cookie: c, material: "env_session:" + auth.Fingerprint(c.Value())}, nil
		}
	}
	order := []source{srcOAuth, srcSession, srcAccess}
	pref, err := m.secrets.Get(ctx, KeyActive)
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return loadedState{}, storeError(err)
	}
	for i, s := range order {
		if string(s) == pref {
			order = append([]source{s}, append(order[:i:i], order[i+1:]...)...)
			break
		}
	}
	for _, s := range order {
		v, err := m.secrets.Get(ctx, s.storeKey())
		if errors.Is(err, keychain.ErrNotFound) || (err == nil && v == "") {
			continue
		}
		if err != nil {
			return loadedState{}, storeError(err)
		}
		st := loadedState{src: s, material: string(s) + ":" + auth.Fingerprint(v)}
		switch s {
		case srcOAuth:
			if err := json.Unmarshal([]byte(v), &st.tokens); err != nil {
				m.log.Warn("the stored sign-in is unreadable; ignoring it", "err", err)
				continue
			}
		case srcSession:
			c, err := ParseSessionToken(v)
			if err != nil {
				m.log.Warn("the stored session token is unreadable; ignoring it", "err", err)
				continue
			}
			st.cookie = c
		case srcAccess:
			st.access = v
		}
		return st, nil
	}
	return loadedState{src: srcNone}, nil
}

// storeError words a secret store failure.
func storeError(err error) *auth.Error {
	msg := "could not read the saved credentials from the secret store"
	if errors.Is(err, keychain.ErrTimeout) {
		msg = "the OS keychain did not answer (it may be locked and waiting for a password prompt)"
	} else if errors.Is(err, keychain.ErrUnavailable) {
		msg = "the OS keychain is not available"
	}
	return &auth.Error{Kind: auth.KindTransient, Message: msg, Err: err}
}

// adoptLocked switches to a freshly loaded credential. m.mu must be held.
func (m *Manager) adoptLocked(st loadedState) {
	if m.loaded && st.material != m.material {
		m.log.Info("using credentials", "source", string(st.src))
	}
	m.src, m.material = st.src, st.material
	m.cookie, m.tokens = st.cookie, st.tokens
	m.creds, m.refreshAt, m.sessionExpires = auth.Credentials{}, time.Time{}, time.Time{}
	m.warn = ""
	switch {
	case st.src.static():
		m.creds = credentialsFromToken(st.access, "access_token")
		if m.cfg.AccountID != "" {
			m.creds.AccountID = m.cfg.AccountID
		}
		m.refreshAt = m.creds.ExpiresAt
		if m.refreshAt.IsZero() {
			m.refreshAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	case st.src == srcOAuth:
		m.creds = m.withAccount(st.tokens.Credentials())
		m.lastRefresh = st.tokens.LastRefresh
		m.refreshAt = m.nextRefresh(st.src, m.creds, st.tokens.LastRefresh)
	}
	if st.material != m.failedMaterial {
		m.fail, m.permanent, m.failedMaterial = nil, false, ""
	}
}

// withAccount applies the CHATGPT_ACCOUNT_ID override.
func (m *Manager) withAccount(c auth.Credentials) auth.Credentials {
	if m.cfg.AccountID != "" {
		c.AccountID = m.cfg.AccountID
	}
	return c
}

// nextRefresh returns when to refresh c, obtained at obtained.
func (m *Manager) nextRefresh(src source, c auth.Credentials, obtained time.Time) time.Time {
	if obtained.IsZero() {
		obtained = m.now()
	}
	if c.ExpiresAt.IsZero() {
		if src.session() {
			return obtained.Add(sessionFallback)
		}
		return obtained.Add(oauthFallback)
	}
	issued := obtained
	if claims, err := auth.ParseJWT(c.AccessToken); err == nil && !claims.IssuedAt.IsZero() {
		issued = claims.IssuedAt
	}
	margin := oauthMargin
	if src.session() {
		margin = sessionMargin
	}
	if life := c.ExpiresAt.Sub(issued); life > 0 {
		margin = min(margin, life/4)
	}
	return c.ExpiresAt.Add(-margin)
}

// afterFetch schedules the next refresh of a token just fetched. chatgpt.com
// keeps handing out the same access token until it expires, so a token
// that is already inside the margin is used for half of what is left
// (at least 15 s) instead of being re-fetched on every request.
func (m *Manager) afterFetch(src source, c auth.Credentials, now time.Time) time.Time {
	at := m.nextRefresh(src, c, now)
	if at.After(now) || c.ExpiresAt.IsZero() {
		return at
	}
	left := c.ExpiresAt.Sub(now)
	if left <= 0 {
		return now.Add(failedRetry)
	}
	return now.Add(min(max(left/2, 15*time.Second), left))
}

// update is the body of a flight: it picks up the credential (re-reading
// the secret store, where another process may have signed in or rotated a
// token), then refreshes it when needed.
func (m *Manager) update(ctx context.Context, force bool, rejected string) (auth.Credentials, error) {
	m.mu.Lock()
	gen, loaded, override, src := m.gen, m.loaded, m.override, m.src
	m.mu.Unlock()

	if !loaded || !src.fromEnv() {
		st, err := m.loadState(ctx, override)
		m.mu.Lock()
		switch {
		case gen != m.gen:
			// Replaced while we read; the new credential wins.
		case err != nil && !m.loaded:
			m.mu.Unlock()
			ae := asAuthError(err)
			return m.failed(gen, ae, ae.Kind == auth.KindSignInRequired)
		case err != nil:
			m.log.Warn("could not re-read the secret store; keeping the current credentials", "err", err)
		default:
			if !m.loaded || st.material != m.material {
				m.adoptLocked(st)
			}
			m.loaded = true
		}
		m.mu.Unlock()
	}

	m.mu.Lock()
	gen, src = m.gen, m.src
	now := m.now()
	cur, cookie, tokens := m.creds, m.cookie, m.tokens
	material, permanent, fail, failedMaterial := m.material, m.permanent, m.fail, m.failedMaterial
	fresh := cur.AccessToken != "" && now.Before(m.refreshAt) && (!force || cur.AccessToken != rejected)
	if force && cur.AccessToken != "" && cur.AccessToken == rejected {
		// The backend refused this token: never hand it out again.
		m.creds = auth.Credentials{}
	}
	m.mu.Unlock()

	if permanent && material == failedMaterial {
		if fresh && !force {
			return cur, nil
		}
		return auth.Credentials{}, fail
	}
	if fresh {
		return cur, nil
	}
	switch {
	case src == srcNone:
		return m.failed(gen, &auth.Error{Kind: auth.KindSignedOut, Message: "not signed in: run `chatgpt-to-api login`, use the tray's Sign in, or set CHATGPT_SESSION_TOKEN"}, true)
	case src.static():
		what := "the ChatGPT access token"
		if src == srcEnvAccess {
			what = "CHATGPT_ACCESS_TOKEN"
		}
		if force && cur.AccessToken == rejected {
			return m.failed(gen, &auth.Error{Kind: auth.KindSignInRequired, Message: "ChatGPT rejected " + what + " (it cannot be refreshed); set a new one or " + permanentHintText}, true)
		}
		return m.failed(gen, &auth.Error{Kind: auth.KindSignInRequired, Message: what + " expired at " + cur.ExpiresAt.UTC().Format(time.RFC3339) + " (it cannot be refreshed); set a new one or " + permanentHintText}, true)
	case src.session():
		c, err := m.exchange(ctx, gen, src, cookie)
		if err == nil && force && c.AccessToken == rejected {
			// chatgpt.com hands out the same token until it nears expiry;
			// a retry with it would only be refused again.
			return auth.Credentials{}, &auth.Error{Kind: auth.KindSignInRequired, Message: "ChatGPT's backend refused the access token of the web session, and chatgpt.com returned the same token again; " + permanentHintText + " (the Codex sign-in is the most reliable)"}
		}
		return c, err
	default:
		return m.refreshOAuth(ctx, gen, tokens)
	}
}

// exchange re-exchanges the session cookie and applies the result.
func (m *Manager) exchange(ctx context.Context, gen uint64, src source, cookie SessionCookie) (auth.Credentials, error) {
	info, err := ExchangeSession(ctx, m.http, m.cfg.WebOrigin, cookie, m.now())
	if err != nil {
		ae := asAuthError(err)
		return m.failed(gen, ae, ae.Kind == auth.KindSignInRequired || ae.Kind == auth.KindSignedOut)
	}
	warn := ""
	if !info.Rotated.Empty() {
		if src == srcSession {
			if err := m.persist(ctx, gen, KeySessionToken, info.Rotated.String()); err != nil {
				warn = "could not save the rotated session token (" + err.Error() + "); it will be lost when the app exits"
				m.log.Error("saving the rotated session token failed", "err", err)
			}
		} else {
			m.log.Info("chatgpt.com rotated the session token; the new one is kept in memory (CHATGPT_SESSION_TOKEN still holds the old one)")
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return m.currentLocked()
	}
	now := m.now()
	if !info.Rotated.Empty() {
		m.cookie = info.Rotated
		if src == srcSession && warn == "" {
			m.material = string(src) + ":" + auth.Fingerprint(info.Rotated.String())
		}
		m.log.Info("session token rotated", "cookie", auth.Fingerprint(info.Rotated.Value()), "chunks", len(info.Rotated.Parts))
	}
	m.creds = m.withAccount(info.Credentials)
	m.sessionExpires = info.SessionExpires
	m.lastRefresh = now
	m.refreshAt = m.afterFetch(src, m.creds, now)
	m.fail, m.permanent, m.failedMaterial, m.warn = nil, false, "", warn
	m.log.Debug("session exchanged", "token", auth.Fingerprint(m.creds.AccessToken), "expires", m.creds.ExpiresAt)
	return m.creds, nil
}

// refreshOAuth refreshes the OAuth tokens, stores the rotated refresh token
// and only then uses the new access token.
func (m *Manager) refreshOAuth(ctx context.Context, gen uint64, t Tokens) (auth.Credentials, error) {
	next, err := m.oauth.Refresh(ctx, t)
	if err != nil {
		ae := asAuthError(err)
		return m.failed(gen, ae, ae.Kind == auth.KindSignInRequired)
	}
	b, _ := json.Marshal(next)
	warn := ""
	if err := m.persist(ctx, gen, KeyOAuth, string(b)); err != nil {
		if errors.Is(err, errReplaced) {
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.currentLocked()
		}
		// The old refresh token is spent: keep the new one in memory
		// rather than lose the sign-in, and say so.
		warn = "could not save the refreshed sign-in (" + err.Error() + "); it will be lost when the app exits"
		m.log.Error("saving the refreshed sign-in failed", "err", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return m.currentLocked()
	}
	now := m.now()
	m.tokens = next
	if warn == "" {
		m.material = string(srcOAuth) + ":" + auth.Fingerprint(string(b))
	}
	m.creds = m.withAccount(next.Credentials())
	m.lastRefresh = next.LastRefresh
	m.refreshAt = m.afterFetch(srcOAuth, m.creds, now)
	m.fail, m.permanent, m.failedMaterial, m.warn = nil, false, "", warn
	m.log.Info("access token refreshed", "token", auth.Fingerprint(m.creds.AccessToken), "expires", m.creds.ExpiresAt)
	return m.creds, nil
}

// errReplaced means the credential was replaced while a refresh ran.
var errReplaced = errors.New("the credential was replaced meanwhile")

// persist stores value under key unless the credential was replaced since
// generation gen.
func (m *Manager) persist(ctx context.Context, gen uint64, key, value string) error {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	m.mu.Lock()
	replaced := gen != m.gen
	m.mu.Unlock()
	if replaced {
		return errReplaced
	}
	if err := m.secrets.Set(ctx, key, value); err != nil {
		return err
	}
	m.writeStamp(ctx, stampRefresh)
	return nil
}

// currentLocked returns the current credentials or failure. m.mu must be
// held.
func (m *Manager) currentLocked() (auth.Credentials, error) {
	if m.creds.AccessToken != "" && (m.creds.ExpiresAt.IsZero() || m.now().Before(m.creds.ExpiresAt)) {
		return m.creds, nil
	}
	if m.fail != nil {
		return auth.Credentials{}, m.fail
	}
	return auth.Credentials{}, &auth.Error{Kind: auth.KindTransient, Message: "the credentials changed; try again"}
}

// failed records a failure of generation gen. A token that has not expired
// yet keeps being served after a failure; callers see the error once it
// has.
func (m *Manager) failed(gen uint64, e *auth.Error, permanent bool) (auth.Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.gen {
		return m.currentLocked()
	}
	now := m.now()
	if permanent && e.Kind == auth.KindSignInRequired && !strings.Contains(e.Message, "sign in again") {
		e = &auth.Error{Kind: e.Kind, Message: e.Message + "; " + permanentHintText, Err: e.Err}
	}
	m.fail, m.permanent = e, permanent
	if permanent {
		m.failedMaterial = m.material
		m.retryAt = now.Add(permanentRecheck)
	} else {
		m.retryAt = now.Add(failedRetry)
	}
	if permanent && m.src == "" {
		m.log.Info("not signed in yet: use the tray's Sign in, run `chatgpt-to-api login`, or set CHATGPT_SESSION_TOKEN")
	} else if permanent {
		m.log.Warn("credentials need a new sign-in", "source", string(m.src), "reason", e.Message)
	} else {
		m.log.Warn("refreshing credentials failed", "source", string(m.src), "kind", string(e.Kind), "err", e.Error())
	}
	if c := m.creds; c.AccessToken != "" && !c.ExpiresAt.IsZero() && now.Before(c.ExpiresAt) {
		// Keep serving the still-valid token; retry before it expires.
		if permanent {
			m.refreshAt = c.ExpiresAt
		} else {
			m.refreshAt = now.Add(min(maxBackoff, max(c.ExpiresAt.Sub(now)/4, time.Millisecond)))
		}
		return c, nil
	}
	m.creds = auth.Credentials{}
	return auth.Credentials{}, e
}

// asAuthError returns err as an *auth.Error, wrapping foreign errors as
// transient ones.
func asAuthError(err error) *auth.Error {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &auth.Error{Kind: auth.KindTransient, Message: "getting credentials failed", Err: err}
}
