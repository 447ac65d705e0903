package keychaintest

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// BaseEnv is the current environment without anything that could reach the
// person's real session: their bus, display, home or XDG directories, nor
// the variables named in exclude.
func BaseEnv(exclude ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DBUS_SESSION_BUS_ADDRESS", k == "DISPLAY", k == "WAYLAND_DISPLAY",
			k == "HOME", strings.HasPrefix(k, "XDG_"), slices.Contains(exclude, k):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// RequireTools skips the test when a tool is missing, or fails it on CI,
// which must run these tests.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not installed (apt-get install dbus gnome-keyring libsecret-tools)", tool)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Session is a private D-Bus session with an unlocked gnome-keyring.
type Session struct {
	Root    string   // everything the session writes lives below Root
	Env     []string // HOME, XDG_* and DBUS_SESSION_BUS_ADDRESS for children
	BusAddr string   // the bus address; its socket is $XDG_RUNTIME_DIR/bus
}

// Keyring setups for Start.
const (
	NoKeyring       = iota // a bare bus: nobody provides org.freedesktop.secrets
	LockedKeyring          // gnome-keyring without a login keyring, so nothing can be unlocked
	UnlockedKeyring        // gnome-keyring with an unlocked login keyring
)
