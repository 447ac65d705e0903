// Package traytest stands in for a desktop panel in tests: it starts a
// private D-Bus session bus and an X server (Xvfb), owns a minimal
// org.kde.StatusNotifierWatcher on that bus, and reads and clicks a
// registered item's menu through com.canonical.dbusmenu, as a panel does.
//
// The tests that use it need the Debian packages dbus, xvfb and xclip
// (installed with --no-install-recommends; never dbus-x11, which makes a
// missing bus spawn a stray daemon). Require skips a test when a tool is
// missing, except in CI, where that is a failure.
//
// It is Linux only (the StatusNotifierItem protocol is a freedesktop one).
package traytest
