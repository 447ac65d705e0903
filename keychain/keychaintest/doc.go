// Package keychaintest starts a real Secret Service for tests: a private
// D-Bus session with gnome-keyring, isolated from the person's own session
// (Linux only). Tests that need it skip locally when dbus-daemon or
// gnome-keyring-daemon is missing, and fail in CI (CI=true).
package keychaintest
