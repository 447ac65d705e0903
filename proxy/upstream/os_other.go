//go:build !darwin && !windows

package upstream

import "os"

func detectOS() (string, string) {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			return parseOSRelease(string(b))
		}
	}
	return "Linux", ""
}

// sandboxName is the turn metadata's sandbox on Linux.
const sandboxName = "seccomp"

// The platform's parts of the identities on Linux and the other Unix systems: Chrome's User-Agent
// platform and sec-ch-ua-platform, the terminal a desktop-started app
// reports, and uname -m's name for arm64.
const (
	chromeUAPlatform   = "X11; Linux x86_64"
	chromePlatformHint = `"Linux"`
	defaultTerminal    = "xterm-256color"
	arm64Name          = "aarch64"
)
