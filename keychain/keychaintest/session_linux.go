//go:build linux

package keychaintest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Start starts a private dbus-daemon and, unless setup is
// NoKeyring, a gnome-keyring-daemon. Both are killed when the test ends (or,
// through Pdeathsig, when the test binary dies). It returns once
// org.freedesktop.secrets has an owner.
func Start(t testing.TB, setup int) *Session {
	t.Helper()
	// A short root keeps the socket path well below the 108-byte limit.
	root, err := os.MkdirTemp("", "kc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	dirs := map[string]string{
		"HOME":            "home",
		"XDG_DATA_HOME":   "data",
		"XDG_CONFIG_HOME": "config",
		"XDG_CACHE_HOME":  "cache",
		"XDG_RUNTIME_DIR": "run",
	}
	s := &Session{Root: root}
	for k, d := range dirs {
		p := filepath.Join(root, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		s.Env = append(s.Env, k+"="+p)
	}

	// A hermetic bus: no service directories, so nothing is auto-activated
	// with the wrong environment.
	conf := filepath.Join(root, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(root, "run", "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	bus := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address")
	bus.Env = append(BaseEnv(), s.Env...)
	bus.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	busOut, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var busErr bytes.Buffer
	bus.Stderr = &busErr
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { bus.Process.Kill(); bus.Wait() })
	addr, err := bufio.NewReader(busOut).ReadString('\n')
	if err != nil {
		t.Fatalf("read bus address: %v (%s)", err, busErr.String())
	}
	addr = strings.TrimSpace(addr)
	s.BusAddr = addr
	s.Env = append(s.Env, "DBUS_SESSION_BUS_ADDRESS="+addr)

	if setup == NoKeyring {
		return s
	}
	// A non-empty password makes --unlock create and unlock the login
	// keyring, which becomes the default collection. Without --unlock there
	// is no login keyring, and no prompter on this bus to create one.
	args := []string{"--foreground", "--components=secrets"}
	if setup == UnlockedKeyring {
		args = append(args, "--unlock")
	}
	gkr := exec.Command("gnome-keyring-daemon", args...)
	gkr.Env = append(BaseEnv(), s.Env...)
	if setup == UnlockedKeyring {
		gkr.Stdin = strings.NewReader("test-password")
	}
	gkrLog, err := os.Create(filepath.Join(root, "gnome-keyring.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer gkrLog.Close()
	gkr.Stdout, gkr.Stderr = gkrLog, gkrLog
	gkr.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := gkr.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- gkr.Wait() }()
	t.Cleanup(func() { gkr.Process.Kill(); <-exited })

	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to private bus: %v", err)
	}
	defer conn.Close()
	// The bound only limits how long a broken setup takes to fail.
	deadline := time.After(30 * time.Second)
	for {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned)
		if err != nil {
			t.Fatalf("NameHasOwner: %v", err)
		}
		if owned {
			return s
		}
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(gkrLog.Name())
			t.Fatalf("gnome-keyring-daemon exited: %v\n%s", err, log)
		case <-deadline:
			t.Fatal("org.freedesktop.secrets never got an owner")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
