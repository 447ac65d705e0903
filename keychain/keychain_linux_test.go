package keychain

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// The tests in this file talk to a real Secret Service. go-keyring reaches it
// through godbus's session-bus singleton, and the other tests replace
// go-keyring's provider with its mock for good, so each real test re-runs
// this test binary as a child process whose environment points at a private
// bus. childEnv names the part of a test the child must run.
const childEnv = "KEYCHAIN_TEST_CHILD"

const realService = "chatgpt-to-api-realtest"

// Deterministic tokens, so the parent can search the disk for them.
var (
	realFirst  = token(5000, "real-first")
	realSecond = token(5000, "real-second")
)

// runChild runs test name in a child process with env added to a clean
// environment and fails t if the child fails.
func runChild(t *testing.T, name, part string, env []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v", "-test.timeout=2m")
	cmd.Env = append(baseEnv(), append(env, childEnv+"="+part)...)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS")) {
		t.Fatalf("child %s (%s) failed: %v\n%s", name, part, err, out)
	}
	// Pass on what the child logged about errors; it never logs secrets.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Probe: ") {
			t.Log(strings.TrimSpace(line))
		}
	}
	t.Logf("child %s passed", part)
}

// baseEnv is the current environment without anything that could reach the
// person's real session: their bus, display, home or XDG directories.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "DBUS_SESSION_BUS_ADDRESS", k == "DISPLAY", k == "WAYLAND_DISPLAY",
			k == "HOME", strings.HasPrefix(k, "XDG_"), k == childEnv:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// requireTools skips the test when a tool is missing, or fails it on CI,
// which must run these tests.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not installed (apt-get install dbus gnome-keyring libsecret-tools)", tool)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// secretSession is a private D-Bus session with an unlocked gnome-keyring.
type secretSession struct {
	root string   // everything the session writes lives below root
	env  []string // HOME, XDG_* and DBUS_SESSION_BUS_ADDRESS for children
}

// Keyring setups for startSecretSession.
const (
	noKeyring       = iota // a bare bus: nobody provides org.freedesktop.secrets
	lockedKeyring          // gnome-keyring without a login keyring, so nothing can be unlocked
	unlockedKeyring        // gnome-keyring with an unlocked login keyring
)

// startSecretSession starts a private dbus-daemon and, unless setup is
// noKeyring, a gnome-keyring-daemon. Both are killed when the test ends (or,
// through Pdeathsig, when the test binary dies). It returns once
// org.freedesktop.secrets has an owner.
func startSecretSession(t *testing.T, setup int) *secretSession {
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
	s := &secretSession{root: root}
	for k, d := range dirs {
		p := filepath.Join(root, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, k+"="+p)
	}

	// A hermetic bus: no service directories, so nothing is auto-activated
	// with the wrong environment.
	conf := filepath.Join(root, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(root, "bus")+`</listen>
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
	bus.Env = append(baseEnv(), s.env...)
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
	s.env = append(s.env, "DBUS_SESSION_BUS_ADDRESS="+addr)

	if setup == noKeyring {
		return s
	}
	// A non-empty password makes --unlock create and unlock the login
	// keyring, which becomes the default collection. Without --unlock there
	// is no login keyring, and no prompter on this bus to create one.
	args := []string{"--foreground", "--components=secrets"}
	if setup == unlockedKeyring {
		args = append(args, "--unlock")
	}
	gkr := exec.Command("gnome-keyring-daemon", args...)
	gkr.Env = append(baseEnv(), s.env...)
	if setup == unlockedKeyring {
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

// TestRealSecretService stores, rotates and deletes a 5,000-byte token in a
// real gnome-keyring on a private session bus.
func TestRealSecretService(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "real-set":
		realSetChild(t)
		return
	case "real-delete":
		realDeleteChild(t)
		return
	case "":
	default:
		t.Skip("another child test")
	}
	requireTools(t, "dbus-daemon", "gnome-keyring-daemon", "secret-tool")
	s := startSecretSession(t, unlockedKeyring)

	runChild(t, "TestRealSecretService", "real-set", s.env)

	// Neither token may appear in plain text in any file the session wrote:
	// home, XDG directories and the keyring directory itself, whose keyring
	// gnome-keyring encrypts with the password.
	keyrings := filepath.Join(s.root, "data", "keyrings")
	if _, err := os.Stat(filepath.Join(keyrings, "login.keyring")); err != nil {
		t.Errorf("login keyring was not written: %v", err)
	}
	needles := [][]byte{[]byte(realFirst[:64]), []byte(realSecond[:64]), []byte(realSecond[3000:3064])}
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s contains the token in plain text", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	runChild(t, "TestRealSecretService", "real-delete", s.env)
}

// realSetChild runs in the child process, on the private session bus.
func realSetChild(t *testing.T) {
	ctx := context.Background()
	s := New(realService)
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if _, err := s.Get(ctx, "session-token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	mustSet(t, s, "session-token", realFirst)
	mustGet(t, s, "session-token", realFirst)
	if got := secretToolUsers(t); !slices.Equal(got, []string{"session-token", "session-token.1.0", "session-token.1.1", "session-token.1.2"}) {
		t.Fatalf("secret-tool lists %v after the first Set", got)
	}

	mustSet(t, s, "session-token", realSecond)
	mustGet(t, s, "session-token", realSecond)
	// A second Store, as after a restart, reads the same value.
	mustGet(t, New(realService), "session-token", realSecond)
	if got := secretToolUsers(t); !slices.Equal(got, []string{"session-token", "session-token.2.0", "session-token.2.1", "session-token.2.2"}) {
		t.Fatalf("secret-tool lists %v after the rotation", got)
	}

	// The manifest is what secret-tool sees under the bare key.
	out, err := exec.Command("secret-tool", "lookup", "service", realService, "username", "session-token").Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	if m, err := parseManifest(string(out)); err != nil || m.gen != 2 || m.chunks != 3 || m.hash != checksum(realSecond) {
		t.Fatalf("manifest seen by secret-tool = %+v, %v", m, err)
	}
}

func realDeleteChild(t *testing.T) {
	ctx := context.Background()
	s := New(realService)
	mustGet(t, s, "session-token", realSecond)
	if err := s.Delete(ctx, "session-token"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, "session-token"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := s.Get(ctx, "session-token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if got := secretToolUsers(t); len(got) != 0 {
		t.Fatalf("secret-tool still lists %v after Delete", got)
	}
}

// secretToolUsers lists, sorted, the usernames of the items stored under
// realService, as secret-tool sees them. Its output includes the secrets, so
// it is never logged.
func secretToolUsers(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("secret-tool", "search", "--all", "service", realService)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("secret-tool search: %v", err)
	}
	var users []string
	// secret-tool prints attributes to stdout or stderr depending on its
	// version; read both.
	for _, line := range strings.Split(stdout.String()+"\n"+stderr.String(), "\n") {
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "attribute.username = "); ok {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return users
}

// TestNoSessionBus checks that with a dead session bus address every call
// fails with ErrUnavailable, not ErrTimeout: the Store answers before its
// deadline instead of hanging.
func TestNoSessionBus(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "no-bus":
		ctx := context.Background()
		s := New(realService, WithTimeout(5*time.Second, 5*time.Second))
		err := s.Probe(ctx)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Probe: %v, want ErrUnavailable", err)
		}
		t.Logf("Probe: %v", err)
		if _, err := s.Get(ctx, "session-token"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get: %v, want ErrUnavailable", err)
		}
		if err := s.Set(ctx, "session-token", "v"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Set: %v, want ErrUnavailable", err)
		}
		return
	case "unavailable":
		// Same checks on a live bus whose Secret Service is missing or
		// cannot unlock anything.
		ctx := context.Background()
		s := New(realService, WithTimeout(5*time.Second, 5*time.Second))
		err := s.Probe(ctx)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Probe: %v, want ErrUnavailable", err)
		}
		t.Logf("Probe: %v", err)
		if err := s.Set(ctx, "session-token", "v"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Set: %v, want ErrUnavailable", err)
		}
		return
	case "":
	default:
		t.Skip("another child test")
	}
	dir := t.TempDir()
	runChild(t, "TestNoSessionBus", "no-bus", []string{
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-such-bus"),
		"HOME=" + dir,
	})
}

// TestUnavailableSecretService checks that a bus without a Secret Service,
// and a gnome-keyring with nothing unlocked and no prompter, both give
// ErrUnavailable rather than a timeout.
func TestUnavailableSecretService(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("another child test")
	}
	requireTools(t, "dbus-daemon", "gnome-keyring-daemon")
	for name, setup := range map[string]int{"no provider": noKeyring, "no login keyring": lockedKeyring} {
		t.Run(name, func(t *testing.T) {
			s := startSecretSession(t, setup)
			runChild(t, "TestNoSessionBus", "unavailable", s.env)
		})
	}
}
