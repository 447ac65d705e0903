//go:build !linux && !windows && !darwin

package tray

import (
	"context"

	"fyne.io/systray"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
)

// Available reports false: the tray is only supported on Linux, macOS and
// Windows.
func Available() (ok bool, reason string) { return false, "no tray support on this OS" }

func setIcon(state assets.State) { systray.SetIcon(assets.Icon(state)) }

func setTitle(title string) { systray.SetTitle(title) }

// settle does nothing: systray applies the icon and tooltip directly.
func settle(ctx context.Context, tooltip string, reapply func()) {}
