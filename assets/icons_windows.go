package assets

import _ "embed"

// Windows's notification area loads ICO files only.
var (
	//go:embed tray-ok.ico
	iconOK []byte
	//go:embed tray-warning.ico
	iconWarning []byte
	//go:embed tray-error.ico
	iconError []byte
)
