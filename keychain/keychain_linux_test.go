package keychain

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain/keychaintest"
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
	cmd.Env = append(keychaintest.BaseEnv(childEnv), append(env, childEnv+"="+part)...)
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
	keychaintest.RequireTools(t, "dbus-daemon", "gnome-keyring-daemon", "secret-tool")
	s := keychaintest.Start(t, keychaintest.UnlockedKeyring)

	runChild(t, "TestRealSecretService", "real-set", s.Env)

	// Neither token may appear in plain text in any file the session wrote:
	// home, XDG directories and the keyring directory itself, whose keyring
	// gnome-keyring encrypts with the password.
	keyrings := filepath.Join(s.Root, "data", "keyrings")
	if _, err := os.Stat(filepath.Join(keyrings, "login.keyring")); err != nil {
		t.Errorf("login keyring was not written: %v", err)
	}
	needles := [][]byte{[]byte(realFirst[:64]), []byte(realSecond[:64]), []byte(realSecond[3000:3064])}
	err := filepath.WalkDir(s.Root, func(path string, d fs.DirEntry, err error) error {
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

	runChild(t, "TestRealSecretService", "real-delete", s.Env)
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
	keychaintest.RequireTools(t, "dbus-daemon", "gnome-keyring-daemon")
	for name, setup := range map[string]int{"no provider": keychaintest.NoKeyring, "no login keyring": keychaintest.LockedKeyring} {
		t.Run(name, func(t *testing.T) {
			s := keychaintest.Start(t, setup)
			runChild(t, "TestNoSessionBus", "unavailable", s.Env)
		})
	}
}
