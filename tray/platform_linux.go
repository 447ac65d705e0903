package tray

import (
	"context"
	"fmt"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
)

// watcherName is the D-Bus name a tray host (panel) owns.
const watcherName = "org.kde.StatusNotifierWatcher"

// probeTimeout bounds the session bus probe; a healthy bus answers in a few
// milliseconds.
const probeTimeout = 2 * time.Second

// Available reports whether a tray can be shown. On Linux that needs a
// session bus: without one, systray runs blind and panics on Quit, so the
// application should run headless. When the bus has no tray host yet, ok
// is true and reason says so: the icon appears once a panel starts, and the
// caller should also log the base URL.
//
// The probe uses a private connection and never starts dbus-launch.
func Available() (ok bool, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	hasWatcher, err := probeBus(ctx)
	if err != nil {
		return false, "no D-Bus session bus: " + err.Error()
	}
	if !hasWatcher {
		return true, "no tray host (" + watcherName + ") on the session bus yet; the icon appears when a panel starts"
	}
	return true, ""
}

// probeBus connects to the session bus without autolaunch and reports
// whether a StatusNotifierWatcher is registered.
func probeBus(ctx context.Context) (bool, error) {
	conn, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
	if err != nil {
		return false, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false, fmt.Errorf("authenticating: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return false, fmt.Errorf("saying hello: %w", err)
	}
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	if err != nil {
		return false, fmt.Errorf("asking for %s: %w", watcherName, err)
	}
	return has, nil
}

// setIcon shows the PNG icon for state.
func setIcon(state assets.State) { systray.SetIcon(assets.Icon(state)) }

// setTitle sets the StatusNotifierItem's title, which panels use as the
// item's accessible name.
func setTitle(title string) { systray.SetTitle(title) }

// settle makes sure the icon and tooltip reach the bus. systray runs
// onReady concurrently with its D-Bus setup, and an icon or tooltip set
// while the item's properties are being exported is stored but never
// published (fyne.io/systray v1.12.2, nativeStart). settle waits until the
// item answers on the bus, then re-applies both until the tooltip reads
// back as tooltip.
func settle(ctx context.Context, tooltip string, reapply func()) {
	conn, err := dbus.SessionBus() // systray's shared connection
	if err != nil || len(conn.Names()) == 0 {
		return
	}
	self := conn.Object(conn.Names()[0], "/StatusNotifierItem")
	for attempt := 0; attempt < 200; attempt++ {
		v, err := self.GetProperty("org.kde.StatusNotifierItem.ToolTip")
		if err == nil {
			reapply()
			var tip struct {
				Name  string
				Icons []struct {
					W, H int32
					Pix  []byte
				}
				Title, Text string
			}
			if v.Store(&tip) == nil && tip.Title == tooltip {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
