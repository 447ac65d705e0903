package upstream

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// chromeMajor is the Chrome version the Chrome identity claims. Chrome
// 152-156 share chrome_152_PSK's handshake.
const chromeMajor = 156

// codexUserAgent builds the User-Agent the Codex CLI sends once its client
// name is registered, for example
// "codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)".
func codexUserAgent(originator, version string) string {
	name, ver := osInfo()
	return fmt.Sprintf("%s/%s (%s %s; %s) %s (%s; %s)",
		originator, version, name, ver, osArch(), terminalName(), originator, version)
}

// codexBootstrapUserAgent is the User-Agent before the client name is
// registered (`codex login`, the first bootstrap calls), for example
// "codex_cli_rs/0.171.0 (Debian 12.0.0; x86_64) xterm".
func codexBootstrapUserAgent(originator, version string) string {
	name, ver := osInfo()
	return fmt.Sprintf("%s/%s (%s %s; %s) %s", originator, version, name, ver, osArch(), terminalName())
}

// osArch mirrors os_info's architecture(): uname -m on Unix.
func osArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return arm64Name
	default:
		return runtime.GOARCH
	}
}

// terminalName mirrors the Codex CLI's terminal detection closely enough:
// TERM_PROGRAM[/version], then known terminal variables, then TERM. A tray
// app started by the desktop has none of them, so it falls back to the
// platform's usual terminal.
func terminalName() string {
	if p := os.Getenv("TERM_PROGRAM"); p != "" {
		if v := os.Getenv("TERM_PROGRAM_VERSION"); v != "" {
			return sanitizeUAToken(p + "/" + v)
		}
		return sanitizeUAToken(p)
	}
	if os.Getenv("WT_SESSION") != "" {
		return "WindowsTerminal"
	}
	if t := os.Getenv("TERM"); t != "" && t != "dumb" {
		return sanitizeUAToken(t)
	}
	return defaultTerminal
}

// sanitizeUAToken keeps a header value printable ASCII.
func sanitizeUAToken(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}

var (
	osInfoOnce sync.Once
	osName     string
	osVersion  string
)

// osInfo returns the OS type and version the way the os_info crate
// formats them ("Debian" "12.0.0", "Mac OS" "26.5.0", "Windows" "10.0.22631").
func osInfo() (string, string) {
	osInfoOnce.Do(func() {
		osName, osVersion = detectOS()
		if osName == "" {
			osName = "Unknown"
		}
		if osVersion == "" {
			osVersion = "Unknown"
		}
	})
	return osName, osVersion
}

// semver pads a dotted numeric version to three components, as os_info's
// Version::Semantic prints it ("12" → "12.0.0", "24.04" → "24.4.0").
func semver(v string) string {
	parts := strings.Split(strings.TrimSpace(v), ".")
	var out [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v
		}
		out[i] = n
	}
	return fmt.Sprintf("%d.%d.%d", out[0], out[1], out[2])
}

// parseOSRelease reads NAME-ish and VERSION_ID from an os-release file.
func parseOSRelease(data string) (string, string) {
	var id, name, version string
	for _, line := range strings.Split(data, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			id = v
		case "NAME":
			name = v
		case "VERSION_ID":
			version = v
		}
	}
	known := map[string]string{
		"debian": "Debian", "ubuntu": "Ubuntu", "fedora": "Fedora", "arch": "Arch Linux",
		"linuxmint": "Mint", "opensuse-leap": "openSUSE", "opensuse-tumbleweed": "openSUSE",
		"centos": "CentOS", "rhel": "Redhat Enterprise", "alpine": "Alpine Linux",
		"manjaro": "Manjaro", "pop": "Pop", "nixos": "NixOS", "gentoo": "Gentoo Linux",
	}
	if n, ok := known[id]; ok {
		name = n
	} else if name == "" {
		name = "Linux"
	}
	if version == "" {
		version = "Rolling Release"
	} else {
		version = semver(version)
	}
	return name, version
}
