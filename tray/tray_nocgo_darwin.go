//go:build darwin && !cgo

package tray

import (
	"context"
)

// Available reports false: the macOS tray needs cgo and Cocoa, and this
// binary was built without cgo.
func Available() (ok bool, reason string) {
	return false, "this macOS build has no tray support (built without cgo)"
}

// Run returns ErrUnsupported: the macOS tray needs cgo.
func Run(ctx context.Context, cfg Config) error { return ErrUnsupported }
