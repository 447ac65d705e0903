//go:build linux

package traytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain/keychaintest"
)

// D-Bus names and paths of the StatusNotifierItem protocol and dbusmenu.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = "/StatusNotifierWatcher"
	ItemPath     = "/StatusNotifierItem"
	ItemIface    = "org.kde.StatusNotifierItem"
	MenuPath     = "/StatusNotifierItem/menu"
	MenuIface    = "com.canonical.dbusmenu"
	watcherIface = WatcherName
)

// Require skips the test when one of progs is not on PATH, or fails it
// when CI=true, since CI must run these tests.
func Require(t testing.TB, progs ...string) {
	t.Helper()
	var missing []string
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing %s (apt-get install --no-install-recommends dbus xvfb xclip)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// StartBus starts a hermetic private session bus (no service activation,
// so nothing starts that the test did not start) and returns its address
// and the environment a client needs: DBUS_SESSION_BUS_ADDRESS, and
// XDG_RUNTIME_DIR set to the bus's private folder (whose "bus" socket is
// the bus). The daemon is killed when the test ends, or when the test
// binary dies.
func StartBus(t testing.TB) (addr string, env []string) {
	t.Helper()
	ss := keychaintest.Start(t, keychaintest.NoKeyring)
	return ss.BusAddr, []string{"DBUS_SESSION_BUS_ADDRESS=" + ss.BusAddr, "XDG_RUNTIME_DIR=" + filepath.Join(ss.Root, "run")}
}

// StartXvfb starts an X server on a free display and returns the display,
// such as ":1". The server is killed when the test ends, which also ends
// any xclip left behind as a selection owner.
func StartXvfb(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "640x480x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	n, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the display from Xvfb: %v", err)
	}
	return ":" + strings.TrimSpace(n)
}

// ReadClipboard returns the CLIPBOARD selection of display, read with
// xclip. env is the base environment (PATH is what matters); DISPLAY is
// set from display.
func ReadClipboard(ctx context.Context, display string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, "xclip", "-o", "-selection", "clipboard")
	cmd.Env = append(append([]string(nil), env...), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("xclip -o: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Watcher is a minimal org.kde.StatusNotifierWatcher: it accepts
// registrations, publishes RegisteredStatusNotifierItems and reports each
// registering item. Conn is its connection, usable as a panel's.
type Watcher struct {
	Conn *dbus.Conn

	mu     sync.Mutex
	items  []string
	props  *prop.Properties
	reg    chan string
	closed bool
}

// StartWatcher connects to the bus at addr and owns
// org.kde.StatusNotifierWatcher there. The connection is closed when the
// test ends.
func StartWatcher(t testing.TB, addr string) *Watcher {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the private bus: %v", err)
	}
	w := &Watcher{Conn: conn, reg: make(chan string, 16)}
	t.Cleanup(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		_ = conn.Close()
	})
	if err := conn.Export(w, WatcherPath, watcherIface); err != nil {
		t.Fatal(err)
	}
	props, err := prop.Export(conn, WatcherPath, prop.Map{watcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.props = props
	reply, err := conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v, %v", WatcherName, reply, err)
	}
	return w
}

// RegisterStatusNotifierItem takes a bus name or an object path; for a
// path, the sender is the item's bus name. It is called over D-Bus.
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	name, path := service, ItemPath
	if strings.HasPrefix(service, "/") {
		name, path = string(sender), service
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.items = append(w.items, name+path)
	items := append([]string(nil), w.items...)
	// SetMust panics on a closed connection; closed is checked under mu.
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", items)
	w.mu.Unlock()
	select {
	case w.reg <- name:
	default:
	}
	return nil
}

// RegisterStatusNotifierHost accepts a host. It is called over D-Bus.
func (w *Watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// WaitItem waits for the next item to register and returns it. It returns
// ctx's error when ctx ends first.
func (w *Watcher) WaitItem(ctx context.Context) (*Item, error) {
	select {
	case name := <-w.reg:
		return &Item{Name: name, conn: w.Conn, Menu: w.Conn.Object(name, MenuPath), Obj: w.Conn.Object(name, ItemPath)}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a StatusNotifierItem: %w", ctx.Err())
	}
}

// Item is a registered StatusNotifierItem with its dbusmenu.
type Item struct {
	Name string         // the item's unique bus name
	Menu dbus.BusObject // /StatusNotifierItem/menu
	Obj  dbus.BusObject // /StatusNotifierItem
	conn *dbus.Conn
}

// Property reads one org.kde.StatusNotifierItem property, such as
// "ToolTip" or "Title".
func (it *Item) Property(ctx context.Context, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := it.Obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, ItemIface, name).Store(&v)
	return v, err
}

// Node is a dbusmenu layout node.
type Node struct {
	ID        int32
	Label     string
	Enabled   bool
	Visible   bool
	Separator bool
	Checked   bool
	Children  []Node
}

// Layout reads the whole menu with GetLayout.
func (it *Item) Layout(ctx context.Context) (Node, error) {
	var rev uint32
	var root struct {
		ID    int32
		Props map[string]dbus.Variant
		Kids  []dbus.Variant
	}
	err := it.Menu.CallWithContext(ctx, MenuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root)
	if err != nil {
		return Node{}, err
	}
	return parseNode(root.ID, root.Props, root.Kids), nil
}

// WaitLayout re-reads the menu whenever it may have changed until cond
// holds, and returns it. It fails the test when ctx ends first, showing
// the last menu. The first GetLayout of fyne.io/systray answers depth 1
// only, so a condition on a submenu simply waits for a later read.
func (it *Item) WaitLayout(t testing.TB, ctx context.Context, what string, cond func(Node) bool) Node {
	t.Helper()
	signals := make(chan *dbus.Signal, 64)
	it.conn.Signal(signals)
	defer it.conn.RemoveSignal(signals)
	for {
		n, err := it.Layout(ctx)
		if err == nil && cond(n) {
			return n
		}
		select {
		case <-signals:
		case <-time.After(200 * time.Millisecond):
			// A LayoutUpdated may have been sent before we listened,
			// and retitles only send ItemsPropertiesUpdated.
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last menu:\n%s\n(err %v)", what, ctx.Err(), strings.Join(n.Labels(), "\n"), err)
		}
	}
}

// Click sends a dbusmenu "clicked" event to the item id.
func (it *Item) Click(ctx context.Context, id int32) error {
	return it.Menu.CallWithContext(ctx, MenuIface+".Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err
}

// parseNode decodes a layout node, (ia{sv}av), as godbus delivers it.
func parseNode(id int32, props map[string]dbus.Variant, kids []dbus.Variant) Node {
	n := Node{ID: id, Enabled: true, Visible: true}
	if v, ok := props["label"]; ok {
		n.Label, _ = v.Value().(string)
	}
	if v, ok := props["enabled"]; ok {
		n.Enabled, _ = v.Value().(bool)
	}
	if v, ok := props["visible"]; ok {
		n.Visible, _ = v.Value().(bool)
	}
	if v, ok := props["toggle-state"]; ok {
		st, _ := v.Value().(int32)
		n.Checked = st == 1
	}
	if v, ok := props["type"]; ok {
		n.Separator = v.Value() == "separator"
	}
	for _, k := range kids {
		f, ok := k.Value().([]any)
		if !ok || len(f) != 3 {
			continue
		}
		cid, _ := f[0].(int32)
		cp, _ := f[1].(map[string]dbus.Variant)
		ck, _ := f[2].([]dbus.Variant)
		n.Children = append(n.Children, parseNode(cid, cp, ck))
	}
	return n
}

// Labels lists the visible labels below n, depth first, children indented
// by two spaces per level; separators are left out.
func (n Node) Labels() []string { return n.labels("") }

func (n Node) labels(indent string) []string {
	var out []string
	for _, c := range n.Children {
		if !c.Visible || c.Separator {
			continue
		}
		out = append(out, indent+c.Label)
		out = append(out, c.labels(indent+"  ")...)
	}
	return out
}

// Find returns the first visible item below n, depth first, whose label
// matches re.
func (n Node) Find(re *regexp.Regexp) (Node, bool) {
	for _, c := range n.Children {
		if !c.Visible {
			continue
		}
		if re.MatchString(c.Label) {
			return c, true
		}
		if f, ok := c.Find(re); ok {
			return f, true
		}
	}
	return Node{}, false
}

// FindLabel returns the first visible item below n whose label is label.
func (n Node) FindLabel(label string) (Node, bool) {
	return n.Find(regexp.MustCompile("^" + regexp.QuoteMeta(label) + "$"))
}
