package tray

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// runKey is the per-user list of programs Windows starts at login.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// runValue is a value under HKCU\...\Run.
type runValue struct{ spec AutostartSpec }

func newAutostart(spec AutostartSpec) Autostart { return runValue{spec} }

// Enabled reports whether the value exists.
func (a runValue) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening the Run key: %w", err)
	}
	defer k.Close()
	_, _, err = k.GetStringValue(a.spec.ID)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the Run value: %w", err)
	}
	return true, nil
}

// SetEnabled writes the quoted command line or deletes the value.
func (a runValue) SetEnabled(on bool) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("opening the Run key: %w", err)
	}
	defer k.Close()
	if !on {
		if err := k.DeleteValue(a.spec.ID); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("deleting the Run value: %w", err)
		}
		return nil
	}
	exe, err := a.spec.executable()
	if err != nil {
		return err
	}
	if err := k.SetStringValue(a.spec.ID, windowsRunValue(exe, a.spec.Args)); err != nil {
		return fmt.Errorf("writing the Run value: %w", err)
	}
	return nil
}
