//go:build !linux && !darwin && !windows

package tray

import "errors"

// noAutostart reports autostart as unsupported.
type noAutostart struct{}

func newAutostart(AutostartSpec) Autostart { return noAutostart{} }

// Enabled reports false.
func (noAutostart) Enabled() (bool, error) { return false, nil }

// SetEnabled fails: there is no autostart on this OS.
func (noAutostart) SetEnabled(bool) error {
	return errors.New("start at login is not supported on this OS")
}
