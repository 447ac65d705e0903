package tray

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// xdgAutostart is an XDG autostart desktop entry in
// $XDG_CONFIG_HOME/autostart.
type xdgAutostart struct{ spec AutostartSpec }

func newAutostart(spec AutostartSpec) Autostart { return xdgAutostart{spec} }

// path returns the desktop entry's path.
func (a xdgAutostart) path() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the config folder: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "autostart", a.spec.ID+".desktop"), nil
}

// Enabled reports whether the entry exists and is not disabled.
func (a xdgAutostart) Enabled() (bool, error) {
	p, err := a.path()
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the autostart entry: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case "Hidden=true", "X-GNOME-Autostart-enabled=false":
			return false, nil
		}
	}
	return true, nil
}

// SetEnabled writes or removes the entry. An AppImage is started through
// $APPIMAGE, not the path it is mounted at.
func (a xdgAutostart) SetEnabled(on bool) error {
	p, err := a.path()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the autostart entry: %w", err)
		}
		return nil
	}
	exe := a.spec.Exe
	if exe == "" {
		exe = os.Getenv("APPIMAGE")
	}
	if exe == "" {
		if exe, err = a.spec.executable(); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(p, []byte(desktopEntry(a.spec, exe)), 0o644); err != nil {
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	return nil
}
