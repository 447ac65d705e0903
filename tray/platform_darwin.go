//go:build cgo

package tray

import (
	"context"

	"fyne.io/systray"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
)

// Available reports whether a tray can be shown; on macOS it always can.
func Available() (ok bool, reason string) { return true, "" }

// setIcon shows the template icon for state, which the menu bar tints for
// light and dark mode.
func setIcon(state assets.State) {
	systray.SetTemplateIcon(assets.TemplateIcon(state), assets.Icon(state))
}

// setTitle does nothing: on macOS a title would show as text next to the
// icon in the menu bar.
func setTitle(string) {}

// settle does nothing: systray applies the icon and tooltip directly.
func settle(ctx context.Context, tooltip string, reapply func()) {}
