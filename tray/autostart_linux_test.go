package tray

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXDGAutostart(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("APPIMAGE", "")
	s := spec
	s.Exe = "/opt/chatgpt-to-api/chatgpt-to-api"
	a := NewAutostart(s)
	path := filepath.Join(cfg, "autostart", "chatgpt-to-api.desktop")

	if on, err := a.Enabled(); on || err != nil {
		t.Fatalf("Enabled() before = %v, %v", on, err)
	}
	if err := a.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "Exec=/opt/chatgpt-to-api/chatgpt-to-api --minimized\n") {
		t.Errorf("entry:\n%s", data)
	}
	if on, err := a.Enabled(); !on || err != nil {
		t.Fatalf("Enabled() after enabling = %v, %v", on, err)
	}

	// A desktop that switched the entry off counts as off.
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "enabled=true", "enabled=false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, _ := a.Enabled(); on {
		t.Error("an entry with X-GNOME-Autostart-enabled=false counts as on")
	}

	if err := a.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after disabling: %v", err)
	}
	if err := a.SetEnabled(false); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
}

func TestXDGAutostartAppImage(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("APPIMAGE", "/home/ann/Apps/ChatGPT to API.AppImage")
	s := spec
	s.Args = nil
	if err := NewAutostart(s).SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(cfg, "autostart", "chatgpt-to-api.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `Exec="/home/ann/Apps/ChatGPT to API.AppImage"`+"\n") {
		t.Errorf("entry does not start the AppImage:\n%s", data)
	}
}

func TestXDGAutostartDefaultsToHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	s := spec
	s.Exe = "/bin/true"
	if err := NewAutostart(s).SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "autostart", "chatgpt-to-api.desktop")); err != nil {
		t.Fatal(err)
	}
}
