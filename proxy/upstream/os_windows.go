//go:build windows

package upstream

import (
	"fmt"

	"golang.org/x/sys/windows"
)

func detectOS() (string, string) {
	v := windows.RtlGetVersion()
	if v == nil {
		return "Windows", ""
	}
	return "Windows", fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
}

// sandboxName is the turn metadata's sandbox on Windows.
const sandboxName = "windows_elevated"

// The platform's parts of the identities on Windows: Chrome's User-Agent
// platform and sec-ch-ua-platform, the terminal a desktop-started app
// reports, and uname -m's name for arm64.
const (
	chromeUAPlatform   = "Windows NT 10.0; Win64; x64"
	chromePlatformHint = `"Windows"`
	defaultTerminal    = "WindowsTerminal"
	arm64Name          = "arm64"
)
