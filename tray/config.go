package tray

import (
	"context"
	"errors"
	"log/slog"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// Source publishes the proxy's status. *status.Recorder satisfies it.
type Source interface {
	Snapshot() status.Status
	Changed() <-chan struct{}
}

// Config is what the tray needs from the application. Only Source is
// required; a nil function hides its menu item.
type Config struct {
	// Source is the status to show.
	Source Source
	// BaseURL is the OpenAI base URL including /v1, such as
	// http://127.0.0.1:8100/v1. Empty means the Status's BaseURL.
	BaseURL string
	// APIKey returns the local API key for "Copy API key".
	APIKey func() (string, error)
	// SignIn runs the browser sign-in; it should return when it is done,
	// when it times out, or at once when ctx ends (which is how "Cancel
	// sign-in" works). Errors are worded with the auth.ErrSignIn* kinds.
	SignIn func(ctx context.Context) error
	// ReopenSignIn opens the pending sign-in's page again; nil hides
	// "Open the sign-in page again".
	ReopenSignIn func() error
	// SignOut forgets the stored sign-in; nil hides "Sign out".
	SignOut func(ctx context.Context) error
	// Refresh refreshes the access token now.
	Refresh func(ctx context.Context) error
	// OpenLogs opens the logs folder in the file manager. It may block
	// until the opener exits; the tray calls it in a goroutine.
	OpenLogs func() error
	// Autostart reads and writes the "Start at login" setting.
	Autostart Autostart
	// Clipboard writes text to the clipboard; nil means atotto/clipboard.
	Clipboard func(string) error
	// Logger receives the tray's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// copyErrorText is the menu line after a failed copy, empty on success or
// when the copy was cancelled.
func copyErrorText(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	if clipboardHelp != "" {
		return "Copy failed: " + clipboardHelp
	}
	return "Copy failed: " + clip(err.Error(), 48)
}
