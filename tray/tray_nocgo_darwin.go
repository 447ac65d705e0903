//go:build darwin && !cgo

package tray

import (
	"context"
	"log/slog"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// Source publishes the proxy's status. *status.Recorder satisfies it.
type Source interface {
	Snapshot() status.Status
	Changed() <-chan struct{}
}

// Config is what the tray needs from the application; see the cgo build.
type Config struct {
	Source    Source
	BaseURL   string
	APIKey    func() (string, error)
	SignIn    func(ctx context.Context) error
	Refresh   func(ctx context.Context) error
	OpenLogs  func() error
	Autostart Autostart
	Clipboard func(string) error
	Logger    *slog.Logger
}

// Available reports false: the macOS tray needs cgo and Cocoa, and this
// binary was built without cgo.
func Available() (ok bool, reason string) {
	return false, "this macOS build has no tray support (built without cgo)"
}

// Run returns ErrUnsupported: the macOS tray needs cgo.
func Run(ctx context.Context, cfg Config) error { return ErrUnsupported }
