// Package tray is the desktop face of the proxy: an icon in the
// notification area (the menu bar on macOS) whose menu shows the account's
// state, token expiry, request counts and quota, and offers the few actions
// a person needs day to day.
//
// The design follows Tailscale's systray: the proxy core publishes one
// status.Status value with a coalescing change signal; View is a pure
// function from that value (and the clock) to a Menu model; and one event
// loop applies the model to fyne.io/systray and turns clicks into actions
// that run in their own goroutines. The proxy never imports this package.
//
// Run must be called on the main goroutine. On Linux, call Available first:
// without a session bus the application should run headless, because
// systray panics on Quit when it has no bus.
package tray

import "errors"

// ErrUnsupported is returned by Run in builds without tray support (macOS
// built without cgo).
var ErrUnsupported = errors.New("tray: not supported in this build")

// ErrUnavailable is returned by Run when Available reports that no tray can
// be shown, such as on Linux without a session bus.
var ErrUnavailable = errors.New("tray: unavailable")
