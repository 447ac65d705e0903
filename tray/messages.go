package tray

import (
	"context"
	"errors"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
)

// The menu's sentences for how an action ended. Each is short enough for
// the menu and complete; the error itself goes to the log.
const (
	msgSignInTimedOut   = "Sign-in timed out — try again"
	msgSignInCancelled  = "Sign-in cancelled"
	msgSignInDenied     = "Sign-in was denied in the browser"
	msgSignInPortBusy   = "Another sign-in is using the sign-in port — close it and try again"
	msgSignInUnreached  = "Could not reach the sign-in server — try again"
	msgSignInRefused    = "The sign-in server refused the sign-in — try again"
	msgSignInNotSaved   = "Signed in, but the keychain could not save it — see the log"
	msgSignInBlocked    = "Sign-in blocked by Cloudflare — try again later"
	msgSignInFailed     = "Sign-in failed — see the log"
	msgSignOutFailed    = "Sign-out failed — see the log"
	msgRefreshSignIn    = "Refresh failed — sign in again"
	msgRefreshBlocked   = "Refresh blocked by Cloudflare — try again later"
	msgRefreshSignedOut = "Not signed in — sign in first"
	msgRefreshFailed    = "Refresh failed — will retry; see the log"
	msgReopenFailed     = "Could not open the browser — see the log"
	msgLogsFailed       = "Could not open the logs folder — see the log"
	msgAutostartFailed  = "Could not change Start at login — see the log"
	msgAPIKeyFailed     = "Could not read the API key — see the log"
)

// signInMessage is the menu line for how a sign-in ended: empty on success,
// and when a newer sign-in took over (that one reports instead).
func signInMessage(err error) string {
	switch {
	case err == nil, errors.Is(err, auth.ErrSignInReplaced):
		return ""
	case errors.Is(err, auth.ErrSignInTimedOut), errors.Is(err, context.DeadlineExceeded):
		return msgSignInTimedOut
	case errors.Is(err, auth.ErrSignInCancelled), errors.Is(err, context.Canceled):
		return msgSignInCancelled
	case errors.Is(err, auth.ErrSignInDenied):
		return msgSignInDenied
	case errors.Is(err, auth.ErrCallbackBusy):
		return msgSignInPortBusy
	case errors.Is(err, keychain.ErrUnavailable), errors.Is(err, keychain.ErrTimeout):
		return msgSignInNotSaved
	}
	switch auth.KindOf(err) {
	case auth.KindSignInRequired:
		return msgSignInRefused
	case auth.KindBlocked:
		return msgSignInBlocked
	}
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Err != nil {
		return msgSignInUnreached // a network error under a transient failure
	}
	return msgSignInFailed
}

// refreshMessage is the menu line for a failed "Refresh token now", empty
// on success.
func refreshMessage(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	switch auth.KindOf(err) {
	case auth.KindSignedOut:
		return msgRefreshSignedOut
	case auth.KindSignInRequired:
		return msgRefreshSignIn
	case auth.KindBlocked:
		return msgRefreshBlocked
	}
	return msgRefreshFailed
}

// failedMessage returns msg when err is set, and "" otherwise.
func failedMessage(msg string, err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	return msg
}
