package tray

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// launchAgent is a LaunchAgent plist in ~/Library/LaunchAgents. It is not
// loaded with launchctl: with RunAtLoad that would start a second instance
// now; it takes effect at the next login.
type launchAgent struct{ spec AutostartSpec }

func newAutostart(spec AutostartSpec) Autostart { return launchAgent{spec} }

// path returns the plist's path.
func (a launchAgent) path() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", a.spec.BundleID+".plist"), nil
}

// Enabled reports whether the plist exists.
func (a launchAgent) Enabled() (bool, error) {
	p, err := a.path()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking the launch agent: %w", err)
	}
	return true, nil
}

// SetEnabled writes or removes the plist.
func (a launchAgent) SetEnabled(on bool) error {
	p, err := a.path()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the launch agent: %w", err)
		}
		return nil
	}
	exe, err := a.spec.executable()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p, []byte(launchAgentPlist(a.spec, exe)), 0o644); err != nil {
		return fmt.Errorf("writing the launch agent: %w", err)
	}
	return nil
}
