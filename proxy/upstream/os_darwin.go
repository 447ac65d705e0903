//go:build darwin

package upstream

import (
	"os"
	"regexp"
)

var productVersionRE = regexp.MustCompile(`<key>ProductVersion</key>\s*<string>([0-9.]+)</string>`)

func detectOS() (string, string) {
	b, err := os.ReadFile("/System/Library/CoreServices/SystemVersion.plist")
	if err != nil {
		return "Mac OS", ""
	}
	m := productVersionRE.FindSubmatch(b)
	if m == nil {
		return "Mac OS", ""
	}
	return "Mac OS", semver(string(m[1]))
}

// sandboxName is the turn metadata's sandbox on macOS.
const sandboxName = "seatbelt"

// The platform's parts of the identities on macOS: Chrome's User-Agent
// platform and sec-ch-ua-platform, the terminal a desktop-started app
// reports, and uname -m's name for arm64.
const (
	chromeUAPlatform   = "Macintosh; Intel Mac OS X 10_15_7"
	chromePlatformHint = `"macOS"`
	defaultTerminal    = "Apple_Terminal"
	arm64Name          = "arm64"
)
