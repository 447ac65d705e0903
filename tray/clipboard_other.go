//go:build !linux

package tray

// clipboardHelp is empty: the clipboard needs no extra program here, so a
// failed copy shows its own error.
const clipboardHelp = ""
