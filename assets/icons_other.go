//go:build !windows

package assets

import _ "embed"

// Linux's StatusNotifierItem (systray decodes PNG only) and macOS take PNG.
var (
	//go:embed tray-ok.png
	iconOK []byte
	//go:embed tray-warning.png
	iconWarning []byte
	//go:embed tray-error.png
	iconError []byte
)
