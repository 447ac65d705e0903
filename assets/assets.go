// Package assets embeds the application's icons: one tray icon per state in
// the format each OS's notification area takes (ICO on Windows, PNG
// elsewhere), black-and-alpha template icons for the macOS menu bar, and
// the application icon files installers use (app-256.png, app-512.png,
// app.ico, app.icns, read from this directory rather than embedded).
//
// The icons are drawn by gen/main.go; run `go run assets/gen/main.go` from
// the repository root after changing it and commit the outputs.
package assets

import _ "embed"

// State is the condition the tray icon shows.
type State int

// The tray states.
const (
	StateOK      State = iota // signed in and serving
	StateWarning              // usable soon or partly: sign-in needed, usage limit, refreshing
	StateError                // not serving: blocked, failing, not signed in
)

// String returns the state's name as used in the icon file names.
func (s State) String() string {
	switch s {
	case StateOK:
		return "ok"
	case StateWarning:
		return "warning"
	case StateError:
		return "error"
	}
	return "unknown"
}

var (
	//go:embed tray-ok-template@2x.png
	templateOK []byte
	//go:embed tray-warning-template@2x.png
	templateWarning []byte
	//go:embed tray-error-template@2x.png
	templateError []byte
)

// Icon returns the tray icon for state in this OS's format: ICO on Windows,
// PNG elsewhere. An unknown state gives the error icon.
func Icon(state State) []byte {
	switch state {
	case StateOK:
		return iconOK
	case StateWarning:
		return iconWarning
	}
	return iconError
}

// TemplateIcon returns the macOS menu-bar template icon for state: a 44 px
// (22 pt at 2x) PNG in black and alpha. An unknown state gives the error
// icon.
func TemplateIcon(state State) []byte {
	switch state {
	case StateOK:
		return templateOK
	case StateWarning:
		return templateWarning
	}
	return templateError
}
