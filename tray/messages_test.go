package tray

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
)

func TestSignInMessage(t *testing.T) {
	t.Parallel()
	wrapped := func(err error) error { return fmt.Errorf("signing in: %w", err) }
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, ""},
		{"replaced by a newer sign-in", wrapped(auth.ErrSignInReplaced), ""},
		{"timed out", fmt.Errorf("%w: nobody finished it in the browser", auth.ErrSignInTimedOut), "Sign-in timed out — try again"},
		{"bare deadline", wrapped(context.DeadlineExceeded), "Sign-in timed out — try again"},
		{"cancelled", auth.ErrSignInCancelled, "Sign-in cancelled"},
		{"bare cancel", context.Canceled, "Sign-in cancelled"},
		{"denied", fmt.Errorf("%w: access_denied: The person refused", auth.ErrSignInDenied), "Sign-in was denied in the browser"},
		{"port busy", fmt.Errorf("%w: listening on 127.0.0.1:1455: bind: address already in use", auth.ErrCallbackBusy),
			"Another sign-in is using the sign-in port — close it and try again"},
		{"keychain", fmt.Errorf("saving the credential in the OS keychain: %w", fmt.Errorf("set x: %w", keychain.ErrTimeout)),
			"Signed in, but the keychain could not save it — see the log"},
		{"code refused", &auth.Error{Kind: auth.KindSignInRequired, Message: "the sign-in server refused the authorization code (HTTP 400 invalid_grant)"},
			"The sign-in server refused the sign-in — try again"},
		{"unreachable", &auth.Error{Kind: auth.KindTransient, Message: "could not reach the sign-in server", Err: errors.New("dial tcp: connection refused")},
			"Could not reach the sign-in server — try again"},
		{"blocked", &auth.Error{Kind: auth.KindBlocked, Message: "Cloudflare"}, "Sign-in blocked by Cloudflare — try again later"},
		{"incomplete answer", &auth.Error{Kind: auth.KindTransient, Message: "the sign-in server's token answer is incomplete"}, "Sign-in failed — see the log"},
		{"anything else", errors.New("waiting for the browser sign-in: context deadline exceeded in a way nobody planned"), "Sign-in failed — see the log"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := signInMessage(tt.err); got != tt.want {
				t.Errorf("signInMessage(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestRefreshMessage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.Canceled, ""},
		{&auth.Error{Kind: auth.KindSignedOut, Message: "not signed in"}, "Not signed in — sign in first"},
		{&auth.Error{Kind: auth.KindSignInRequired, Message: "refresh token revoked"}, "Refresh failed — sign in again"},
		{&auth.Error{Kind: auth.KindBlocked, Message: "cf"}, "Refresh blocked by Cloudflare — try again later"},
		{errors.New("dial tcp 1.2.3.4:443: i/o timeout"), "Refresh failed — will retry; see the log"},
	} {
		if got := refreshMessage(tt.err); got != tt.want {
			t.Errorf("refreshMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := failedMessage(msgLogsFailed, errors.New("xdg-open: not found")); got != msgLogsFailed {
		t.Errorf("failedMessage = %q", got)
	}
	if got := failedMessage(msgLogsFailed, nil); got != "" {
		t.Errorf("failedMessage(nil) = %q", got)
	}
}

// TestMessagesAreMenuSentences keeps every message a short sentence with
// no error text in it.
func TestMessagesAreMenuSentences(t *testing.T) {
	t.Parallel()
	for _, m := range []string{msgSignInTimedOut, msgSignInCancelled, msgSignInDenied, msgSignInPortBusy, msgSignInUnreached,
		msgSignInRefused, msgSignInNotSaved, msgSignInBlocked, msgSignInFailed, msgSignOutFailed, msgRefreshSignIn, msgRefreshBlocked,
		msgRefreshSignedOut, msgRefreshFailed, msgReopenFailed, msgLogsFailed, msgAutostartFailed, msgAPIKeyFailed} {
		if n := utf8.RuneCountInString(m); n > maxLine {
			t.Errorf("%q has %d runes, more than a menu line (%d)", m, n, maxLine)
		}
		if clip(m, maxLine) != m || strings.Contains(m, "…") || strings.ContainsAny(m, ":") {
			t.Errorf("%q is not a plain sentence", m)
		}
	}
}
