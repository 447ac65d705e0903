//go:build !darwin || cgo

package tray

import (
	"context"

	"fyne.io/systray"
)

// actions maps each clickable item to what a click on it does. An action
// runs on the event loop: slow work goes through t.async and reports back.
var actions = map[ItemID]func(*tray){
	IDCopyURL:     (*tray).copyBaseURL,
	IDCopyKey:     (*tray).copyAPIKey,
	IDSignIn:      (*tray).startSignIn,
	IDSignInStop:  (*tray).stopSignIn,
	IDSignInAgain: (*tray).reopenSignIn,
	IDSignOut:     (*tray).signOut,
	IDRefresh:     (*tray).refresh,
	IDOpenLogs:    (*tray).openLogs,
	IDAutostart:   (*tray).toggleAutostart,
	IDQuit:        (*tray).quit,
}

// click starts the work for a click on id.
func (t *tray) click(id ItemID) {
	t.log.Debug("tray: clicked", "item", string(id))
	if act, ok := actions[id]; ok {
		act(t)
	}
}

// copyBaseURL copies the base URL to the clipboard.
func (t *tray) copyBaseURL() {
	url := t.copyURL()
	t.async(func() func(*uiState) {
		err := t.cfg.Clipboard(url)
		if err != nil {
			t.log.Warn("tray: copying the base URL", "err", err)
		}
		return func(u *uiState) { u.copyError = copyErrorText(err) }
	})
}

// copyAPIKey copies the local API key to the clipboard.
func (t *tray) copyAPIKey() {
	if t.cfg.APIKey == nil {
		return
	}
	t.async(func() func(*uiState) {
		key, err := t.cfg.APIKey()
		if err != nil {
			t.log.Warn("tray: reading the API key", "err", err)
			return func(u *uiState) { u.actionError = msgAPIKeyFailed }
		}
		err = t.cfg.Clipboard(key)
		if err != nil {
			t.log.Warn("tray: copying the API key", "err", err)
		}
		return func(u *uiState) { u.copyError = copyErrorText(err) }
	})
}

// reopenSignIn opens the pending sign-in's page again.
func (t *tray) reopenSignIn() {
	if t.cfg.ReopenSignIn == nil || !t.ui.signingIn {
		return
	}
	t.async(func() func(*uiState) {
		err := t.cfg.ReopenSignIn()
		if err != nil {
			t.log.Warn("tray: opening the sign-in page again", "err", err)
		}
		return func(u *uiState) {
			if err != nil && u.signingIn {
				u.actionError = msgReopenFailed
			}
		}
	})
}

// signOut forgets the stored sign-in.
func (t *tray) signOut() {
	if t.cfg.SignOut == nil || t.ui.signingOut {
		return
	}
	t.ui.signingOut = true
	t.async(func() func(*uiState) {
		ctx, cancel := context.WithTimeout(t.ctx, signOutTimeout)
		defer cancel()
		err := t.cfg.SignOut(ctx)
		if err != nil && t.ctx.Err() == nil {
			t.log.Warn("tray: signing out", "err", err)
		} else if err == nil {
			t.log.Info("tray: signed out")
		}
		return func(u *uiState) {
			u.signingOut = false
			u.actionError = failedMessage(msgSignOutFailed, err)
		}
	})
}

// refresh refreshes the access token now.
func (t *tray) refresh() {
	if t.cfg.Refresh == nil || t.ui.refreshing {
		return
	}
	t.ui.refreshing = true
	t.async(func() func(*uiState) {
		ctx, cancel := context.WithTimeout(t.ctx, refreshTimeout)
		defer cancel()
		err := t.cfg.Refresh(ctx)
		if err != nil && t.ctx.Err() == nil {
			t.log.Warn("tray: refreshing the token", "err", err)
		}
		return func(u *uiState) {
			u.refreshing = false
			u.actionError = refreshMessage(err)
		}
	})
}

// openLogs opens the logs folder.
func (t *tray) openLogs() {
	if t.cfg.OpenLogs == nil {
		return
	}
	t.async(func() func(*uiState) {
		err := t.cfg.OpenLogs()
		if err != nil {
			t.log.Warn("tray: opening the logs folder", "err", err)
		}
		return func(u *uiState) { u.actionError = failedMessage(msgLogsFailed, err) }
	})
}

// toggleAutostart turns "Start at login" on or off.
func (t *tray) toggleAutostart() {
	a := t.cfg.Autostart
	if a == nil {
		return
	}
	want := !t.ui.autostartEnabled
	t.async(func() func(*uiState) {
		err := a.SetEnabled(want)
		if err != nil {
			t.log.Warn("tray: changing the autostart setting", "enable", want, "err", err)
		}
		on, rerr := a.Enabled()
		if rerr != nil {
			t.log.Warn("tray: reading the autostart setting", "err", rerr)
			on = want && err == nil
		}
		return func(u *uiState) {
			u.autostartEnabled = on
			u.actionError = failedMessage(msgAutostartFailed, err)
		}
	})
}

// quit ends the tray and the app.
func (t *tray) quit() {
	t.log.Info("tray: quit chosen")
	systray.Quit()
}

// startSignIn starts the browser sign-in unless one of the tray's own is
// waiting already.
func (t *tray) startSignIn() {
	if t.cfg.SignIn == nil || t.ui.signingIn {
		return
	}
	t.signIn++
	n := t.signIn
	ctx, cancel := context.WithCancel(t.ctx)
	t.cancelSignIn = cancel
	t.ui.signingIn, t.ui.actionError = true, ""
	t.async(func() func(*uiState) {
		defer cancel()
		err := t.cfg.SignIn(ctx)
		switch {
		case err == nil:
			t.log.Info("tray: signed in")
		case t.ctx.Err() == nil:
			t.log.Warn("tray: the sign-in ended", "err", err)
		}
		return func(u *uiState) {
			if n != t.signIn {
				return // a later sign-in owns the menu now
			}
			t.cancelSignIn = nil
			u.signingIn = false
			u.actionError = signInMessage(err)
		}
	})
}

// stopSignIn cancels the tray's pending sign-in. The menu changes at once;
// the sign-in itself reports back when it released the callback port.
func (t *tray) stopSignIn() {
	if !t.ui.signingIn || t.cancelSignIn == nil {
		return
	}
	t.log.Info("tray: sign-in cancelled")
	t.cancelSignIn()
	t.cancelSignIn = nil
	t.signIn++ // its late report must not touch the menu
	t.ui.signingIn, t.ui.actionError = false, msgSignInCancelled
}
