//go:build !windows

package tray

func alert(title, message string) {}
