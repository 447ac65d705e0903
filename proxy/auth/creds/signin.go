package creds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
)

// DefaultSignInTimeout is how long an interactive sign-in waits when
// CHATGPT_SIGNIN_TIMEOUT is zero.
const DefaultSignInTimeout = 15 * time.Minute

// pendingSignIn is a browser sign-in in progress in this process.
type pendingSignIn struct {
	url    string // the authorize URL, once known
	open   func(string) error
	cancel context.CancelCauseFunc
}

// signInTimeout returns the configured sign-in timeout.
func (m *Manager) signInTimeout() time.Duration {
	if m.cfg.SignInTimeout > 0 {
		return m.cfg.SignInTimeout
	}
	return DefaultSignInTimeout
}

// SignIn runs the browser sign-in (Codex OAuth with PKCE): it opens the
// browser with Options.OpenURL (or CHATGPT_BROWSER), waits for the callback
// on 127.0.0.1:1455 and stores the tokens. It blocks until the sign-in ends,
// CHATGPT_SIGNIN_TIMEOUT passes or ctx ends; see SignInWith.
func (m *Manager) SignIn(ctx context.Context) error {
	return m.SignInWith(ctx, m.open)
}

// SignInWith is SignIn with an explicit browser opener, which also
// receives the URL to show to the person. The opener runs in its own
// goroutine and may block.
//
// Only one browser sign-in is pending per Manager: a new one, or any other
// new credential (SetSessionToken, a device sign-in, a sign-in noticed in
// the secret store), ends the pending one with auth.ErrSignInReplaced. A
// sign-in that outlives the timeout ends with auth.ErrSignInTimedOut, one
// whose ctx is cancelled with auth.ErrSignInCancelled; the callback port is
// free again when SignInWith returns.
func (m *Manager) SignInWith(ctx context.Context, open func(url string) error) error {
	if open == nil {
		open = func(u string) error {
			m.log.Info("open this address in a browser to sign in", "url", u)
			return nil
		}
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, m.signInTimeout())
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &pendingSignIn{open: open, cancel: cancel}
	m.mu.Lock()
	old := m.pending
	m.pending = p
	m.mu.Unlock()
	if old != nil {
		old.cancel(auth.ErrSignInReplaced)
	}
	done := func() {
		m.mu.Lock()
		if m.pending == p {
			m.pending = nil
		}
		m.mu.Unlock()
	}
	defer done()

	t, err := m.oauth.SignIn(ctx, func(u string) error {
		m.mu.Lock()
		p.url = u
		m.mu.Unlock()
		return open(u)
	})
	done() // this sign-in no longer counts as pending for activate
	if err != nil {
		m.log.Info("the browser sign-in ended without signing in", "err", err)
		return err
	}
	if err := m.useTokens(ctx, t); err != nil {
		return err
	}
	c := t.Credentials()
	m.log.Info("signed in", "email", c.Email, "plan", c.Plan, "token", auth.Fingerprint(t.AccessToken))
	return nil
}

// SigningIn reports whether a browser sign-in is pending in this process.
func (m *Manager) SigningIn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pending != nil
}

// ReopenSignIn opens the pending browser sign-in's page again (the same
// address), for a person who closed the browser. It fails when no browser
// sign-in is pending.
func (m *Manager) ReopenSignIn() error {
	m.mu.Lock()
	p := m.pending
	var u string
	if p != nil {
		u = p.url
	}
	m.mu.Unlock()
	if p == nil || u == "" {
		return errors.New("no browser sign-in is waiting")
	}
	m.log.Info("opening the sign-in page again")
	return p.open(u)
}

// replacePendingLocked ends the pending browser sign-in, if any, because
// another credential took over. m.mu must be held.
func (m *Manager) replacePendingLocked() {
	if p := m.pending; p != nil {
		m.pending = nil
		p.cancel(auth.ErrSignInReplaced)
	}
}

// SignInDevice runs the device-code sign-in. show receives the code and the
// address where the person enters it; SignInDevice then waits (up to
// CHATGPT_SIGNIN_TIMEOUT and the code's own 15 minutes) and stores the
// tokens.
func (m *Manager) SignInDevice(ctx context.Context, show func(DeviceCode)) error {
	ctx, cancel := context.WithTimeout(ctx, m.signInTimeout())
	defer cancel()
	dc, err := m.oauth.StartDevice(ctx)
	if err != nil {
		return err
	}
	show(dc)
	t, err := m.oauth.WaitDevice(ctx, dc)
	if err != nil {
		return err
	}
	return m.useTokens(ctx, t)
}

// BrowserCommand returns an opener that runs command (split at spaces, like
// "chromium --incognito") with the address as its last argument, and waits
// for it to exit.
func BrowserCommand(command string) func(url string) error {
	fields := strings.Fields(command)
	return func(u string) error {
		if len(fields) == 0 {
			return errors.New("CHATGPT_BROWSER is empty")
		}
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return fmt.Errorf("refusing to open %q: not an http(s) address", u)
		}
		cmd := exec.Command(fields[0], append(fields[1:len(fields):len(fields)], u)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("running CHATGPT_BROWSER (%s): %w", fields[0], err)
		}
		return nil
	}
}
