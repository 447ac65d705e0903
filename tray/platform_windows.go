package tray

import (
	"context"

	"fyne.io/systray"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
)

// Available reports whether a tray can be shown; on Windows it always can.
func Available() (ok bool, reason string) { return true, "" }

// setIcon shows the ICO icon for state. Windows needs an icon before menu
// items are added, and onReady applies the icon first.
func setIcon(state assets.State) { systray.SetIcon(assets.Icon(state)) }

// setTitle does nothing: Windows has no title next to the tray icon.
func setTitle(string) {}

// settle does nothing: systray applies the icon and tooltip directly.
func settle(ctx context.Context, tooltip string, reapply func()) {}
