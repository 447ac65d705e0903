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
