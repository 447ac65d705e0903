package creds

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
)

// KeyStamp is a small non-secret item every copy of the app rewrites after
// it changed the stored credentials, so that other copies notice the change
// by reading this one item instead of every credential. Its value is
// "<what>.<nonce>", where what is one of the stamp kinds below.
const KeyStamp = "credential-stamp"

// What a stamp announces.
const (
	stampSignIn  = "signin"  // a new credential was chosen
	stampRefresh = "refresh" // the same sign-in's tokens were rotated
	stampSignOut = "signout" // the stored credentials were removed
)

// defaultWatchInterval is how often Run looks at the stamp.
const defaultWatchInterval = 2 * time.Second

// writeStamp records a change of the stored credentials for the other
// copies. The caller holds m.storeMu, so the stamp follows the change it
// announces.
func (m *Manager) writeStamp(ctx context.Context, what string) {
	b := make([]byte, 12)
	rand.Read(b)
	v := what + "." + base64.RawURLEncoding.EncodeToString(b)
	m.mu.Lock()
	m.stamp = v
	m.mu.Unlock()
	if err := m.secrets.Set(context.WithoutCancel(ctx), KeyStamp, v); err != nil {
		m.log.Warn("could not mark the credential change for other copies of the app", "err", err)
	}
}

// watch checks the stamp every m.watchEvery until ctx ends.
func (m *Manager) watch(ctx context.Context) {
	t := time.NewTicker(m.watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.checkStore(ctx)
		}
	}
}

// checkStore reads the stamp and, when another process changed the stored
// credentials, adopts what the store now holds: requests stop using a
// removed credential at once, and a new sign-in replaces a pending one.
func (m *Manager) checkStore(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := m.secrets.Get(cctx, KeyStamp)
	if errors.Is(err, keychain.ErrNotFound) {
		v, err = "", nil
	}
	if err != nil {
		m.log.Debug("could not read the credential stamp", "err", err)
		return
	}
	m.mu.Lock()
	same, loaded := v == m.stamp, m.loaded
	m.mu.Unlock()
	if same {
		return
	}
	if !loaded {
		// Nothing adopted yet: the first flight reads the store anyway.
		m.mu.Lock()
		m.stamp = v
		m.mu.Unlock()
		return
	}
	m.reloadStore(cctx, v)
}

// reloadStore re-reads the stored credentials after stamp appeared.
func (m *Manager) reloadStore(ctx context.Context, stamp string) {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	m.mu.Lock()
	override := m.override
	m.mu.Unlock()
	st, err := m.loadState(ctx, override)
	if err == nil && st.src == srcNone && override {
		// Signed out elsewhere: an environment token applies again, as
		// after Logout here.
		override = false
		st, err = m.loadState(ctx, false)
	}
	if err != nil {
		m.log.Debug("could not re-read the secret store after a change elsewhere", "err", err)
		return
	}
	what, _, _ := strings.Cut(stamp, ".")
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stamp = stamp
	if st.material == m.material {
		return
	}
	before := m.statusLocked()
	m.gen++
	m.override = override
	m.adoptLocked(st)
	m.fail, m.permanent, m.failedMaterial, m.retryAt = nil, false, "", time.Time{}
	after := m.statusLocked()
	switch {
	case st.src == srcNone:
		m.log.Info("signed out elsewhere (another copy of the app or the command line)")
	case what == stampRefresh:
		m.log.Info("picked up credentials refreshed elsewhere", "source", string(st.src))
	default:
		m.log.Info("signed in elsewhere (another copy of the app, the command line or the admin API)", "source", string(st.src), "email", after.Email)
	}
	if st.src != srcNone && what != stampRefresh {
		m.replacePendingLocked()
	}
	if st.src == srcNone || what != stampRefresh || before.AccountID != after.AccountID || before.Email != after.Email {
		m.clearAccountLocked()
	}
	m.publishLocked()
	m.kickRun()
}

// clearAccountLocked drops the previous sign-in's quota and last error from
// the status. m.mu must be held.
func (m *Manager) clearAccountLocked() {
	if m.rec != nil {
		m.rec.ClearAccount()
	}
}
