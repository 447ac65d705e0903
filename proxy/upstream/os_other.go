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
