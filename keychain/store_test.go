package keychain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

const testService = "chatgpt-to-api-test"

// token returns a deterministic n-byte value with multi-byte runes, so chunk
// boundaries land inside runes too.
func token(n int, seed string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s-%d-ü€-", seed, i)
	}
	s := b.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + strings.Repeat("x", n-len(s))
}

// fakeBackend is an in-memory keychain with hooks to fail, block or limit
// entries. It is safe for concurrent use.
type fakeBackend struct {
	mu      sync.Mutex
	entries map[string]string // keyed by user; one service per test
	// maxValue rejects values longer than this many bytes, like Windows.
	maxValue int
	// failSet, when it returns an error, makes Set of that user fail.
	failSet func(user string) error
	// block, when non-nil, makes every call wait until it is closed.
	block chan struct{}
	sets  []string
}

func newFake() *fakeBackend { return &fakeBackend{entries: make(map[string]string)} }

func (f *fakeBackend) wait() {
	if f.block != nil {
		<-f.block
	}
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.entries[user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, value string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSet != nil {
		if err := f.failSet(user); err != nil {
			return err
		}
	}
	if f.maxValue > 0 && len(value) > f.maxValue {
		return keyring.ErrSetDataTooBig
	}
	f.sets = append(f.sets, user)
	f.entries[user] = value
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entries[user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.entries, user)
	return nil
}

func (f *fakeBackend) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.entries))
}

func mustGet(t *testing.T, s Secrets, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Get(%q) returned %d bytes, want %d bytes (values differ)", key, len(got), len(want))
	}
}

func mustSet(t *testing.T, s Secrets, key, value string) {
	t.Helper()
	if err := s.Set(context.Background(), key, value); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

// The tests that use keyring.MockInit share go-keyring's global provider, so
// they must not run in parallel.

func TestStoreMockRoundTrip(t *testing.T) {
	keyring.MockInit()
	s := New(testService)
	ctx := context.Background()

	for _, tc := range []struct {
		name, key, value string
	}{
		{"small", "api-key", "sk-local-abc123"},
		{"empty", "empty", ""},
		{"5000 bytes", "session-token", token(5000, "a")},
		{"exactly one chunk", "one", token(DefaultChunkSize, "b")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustSet(t, s, tc.key, tc.value)
			mustGet(t, s, tc.key, tc.value)
		})
	}

	// The 5,000-byte value is three chunks of at most 2000 bytes behind a
	// manifest, all visible to go-keyring under our service.
	raw, err := keyring.Get(testService, "session-token")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseManifest(raw)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.chunks != 3 || m.gen != 1 {
		t.Fatalf("manifest = %+v, want 3 chunks of generation 1", m)
	}
	for i := range 3 {
		c, err := keyring.Get(testService, chunkName("session-token", 1, i))
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if len(c) > DefaultChunkSize {
			t.Fatalf("chunk %d has %d bytes", i, len(c))
		}
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe: %v", err)
	}
}

func TestStoreMockRotation(t *testing.T) {
	keyring.MockInit()
	s := New(testService)
	first, second := token(5000, "first"), token(4100, "second")
	mustSet(t, s, "session-token", first)
	mustSet(t, s, "session-token", second)
	mustGet(t, s, "session-token", second)

	for i := range 3 {
		if _, err := keyring.Get(testService, chunkName("session-token", 1, i)); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("old chunk %d still present (err %v)", i, err)
		}
	}
	raw, _ := keyring.Get(testService, "session-token")
	if m, err := parseManifest(raw); err != nil || m.gen != 2 || m.chunks != 3 {
		t.Fatalf("manifest = %+v, %v; want generation 2 with 3 chunks", m, err)
	}
}

func TestStoreMockNotFoundAndDelete(t *testing.T) {
	keyring.MockInit()
	s := New(testService)
	ctx := context.Background()

	if _, err := s.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	mustSet(t, s, "session-token", token(5000, "x"))
	if err := s.Delete(ctx, "session-token"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "session-token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	for i := range 3 {
		if _, err := keyring.Get(testService, chunkName("session-token", 1, i)); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("chunk %d left after Delete", i)
		}
	}
}

func TestStoreMockCorrupt(t *testing.T) {
	ctx := context.Background()
	value := token(5000, "c")
	for _, tc := range []struct {
		name   string
		damage func()
	}{
		{"garbage manifest", func() { keyring.Set(testService, "tok", "not a manifest") }},
		{"bad version", func() { keyring.Set(testService, "tok", "v9:3:0123456789abcdef:1") }},
		{"bad chunk count", func() { keyring.Set(testService, "tok", "v1:x:0123456789abcdef:1") }},
		{"wrong checksum", func() { keyring.Set(testService, "tok", "v1:3:0123456789abcdef:1") }},
		{"altered chunk", func() { keyring.Set(testService, chunkName("tok", 1, 1), token(2000, "evil")) }},
		{"missing chunk", func() { keyring.Delete(testService, chunkName("tok", 1, 2)) }},
		{"too few chunks in manifest", func() {
			raw, _ := keyring.Get(testService, "tok")
			keyring.Set(testService, "tok", strings.Replace(raw, ":3:", ":2:", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyring.MockInit()
			s := New(testService)
			mustSet(t, s, "tok", value)
			tc.damage()

			_, err := s.Get(ctx, "tok")
			if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
				t.Fatalf("Get: %v, want ErrCorrupt and not ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("error %q does not say the value is corrupt", err)
			}
			if strings.Contains(err.Error(), value[:40]) {
				t.Error("error message contains the secret")
			}

			// A new Set repairs the key, and Delete works on a damaged key.
			mustSet(t, s, "tok", "fresh")
			mustGet(t, s, "tok", "fresh")
			tc.damage()
			if err := s.Delete(ctx, "tok"); err != nil {
				t.Fatalf("Delete damaged: %v", err)
			}
			if _, err := s.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestStoreMockBackendErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"no bus", errors.New(`exec: "dbus-launch": executable file not found in $PATH`)},
		{"dead bus", errors.New("dial unix /tmp/nope/bus: connect: no such file or directory")},
		{"no secret service", errors.New("The name org.freedesktop.secrets was not provided by any .service files")},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'")},
		{"unsupported", keyring.ErrUnsupportedPlatform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyring.MockInitWithError(tc.err)
			s := New(testService)
			checks := map[string]error{
				"Probe":  s.Probe(ctx),
				"Set":    s.Set(ctx, "k", "v"),
				"Delete": s.Delete(ctx, "k"),
			}
			_, checks["Get"] = s.Get(ctx, "k")
			for op, err := range checks {
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s: %v, want ErrUnavailable", op, err)
				}
				if !errors.Is(err, tc.err) {
					t.Errorf("%s: %v does not wrap the cause", op, err)
				}
			}
		})
	}
	keyring.MockInit()
}

func TestStoreCrashKeepsPreviousValue(t *testing.T) {
	t.Parallel()
	old := token(5000, "old")   // 3 chunks, generation 1
	next := token(4500, "next") // 3 chunks, generation 2
	errCrash := errors.New("simulated crash")
	targets := []string{
		chunkName("tok", 2, 0),
		chunkName("tok", 2, 1),
		chunkName("tok", 2, 2),
		"tok", // the manifest
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			fb := newFake()
			s := New(testService, withBackend(fb))
			mustSet(t, s, "tok", old)

			fb.failSet = func(user string) error {
				if user == target {
					return errCrash
				}
				return nil
			}
			err := s.Set(context.Background(), "tok", next)
			if !errors.Is(err, errCrash) {
				t.Fatalf("Set: %v, want the simulated crash", err)
			}
			mustGet(t, s, "tok", old)

			// The next successful Set replaces the value and leaves only the
			// manifest and the new chunks, whatever the crash left behind.
			fb.failSet = nil
			third := token(2500, "third") // 2 chunks
			mustSet(t, s, "tok", third)
			mustGet(t, s, "tok", third)
			want := []string{"tok", chunkName("tok", 2, 0), chunkName("tok", 2, 1)}
			if got := fb.users(); !slices.Equal(got, want) {
				t.Fatalf("entries = %v, want %v", got, want)
			}
		})
	}
}

func TestStoreWindowsSizeLimit(t *testing.T) {
	t.Parallel()
	fb := newFake()
	fb.maxValue = 2560 // CRED_MAX_CREDENTIAL_BLOB_SIZE
	s := New(testService, withBackend(fb))
	big := token(5000, "win")
	mustSet(t, s, "session-token", big)
	mustGet(t, s, "session-token", big)

	// Without chunking small enough the backend refuses, and the previous
	// value survives.
	s2 := New(testService, withBackend(fb), WithChunkSize(3000))
	err := s2.Set(context.Background(), "session-token", token(5000, "other"))
	if err == nil || !errors.Is(err, errTooLarge) {
		t.Fatalf("Set with 3000-byte chunks: %v, want a too-large error", err)
	}
	mustGet(t, s, "session-token", big)
}

func TestStoreTimeout(t *testing.T) {
	t.Parallel()
	fb := newFake()
	fb.block = make(chan struct{})
	t.Cleanup(func() { close(fb.block) }) // let the leaked goroutines finish
	s := New(testService, withBackend(fb), WithTimeout(20*time.Millisecond, 20*time.Millisecond))
	ctx := context.Background()

	if _, err := s.Get(ctx, "tok"); !errors.Is(err, ErrTimeout) {
		t.Errorf("Get: %v, want ErrTimeout", err)
	}
	if err := s.Set(ctx, "tok", "v"); !errors.Is(err, ErrTimeout) {
		t.Errorf("Set: %v, want ErrTimeout", err)
	}
	if err := s.Delete(ctx, "tok"); !errors.Is(err, ErrTimeout) {
		t.Errorf("Delete: %v, want ErrTimeout", err)
	}
	if err := s.Probe(ctx); !errors.Is(err, ErrTimeout) {
		t.Errorf("Probe: %v, want ErrTimeout", err)
	}

	// The caller's own deadline counts as a timeout too, and a cancelled
	// context is reported as such.
	long := New(testService, withBackend(fb))
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := long.Get(dctx, "tok"); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with caller deadline: %v, want ErrTimeout", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := long.Set(cctx, "tok", "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with cancelled context: %v, want context.Canceled", err)
	}
}

func TestStoreConcurrent(t *testing.T) {
	t.Parallel()
	fb := newFake()
	s := New(testService, withBackend(fb))
	values := []string{token(5000, "v0"), token(300, "v1"), token(4100, "v2")}
	mustSet(t, s, "tok", values[0])

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 20 {
				if w%2 == 0 {
					if err := s.Set(context.Background(), "tok", values[(w+i)%len(values)]); err != nil {
						t.Errorf("Set: %v", err)
					}
					continue
				}
				got, err := s.Get(context.Background(), "tok")
				if err != nil {
					t.Errorf("Get: %v", err)
				} else if !slices.Contains(values, got) {
					t.Errorf("Get returned a value that was never set (%d bytes)", len(got))
				}
			}
		})
	}
	wg.Wait()
}

func TestStoreInvalidKey(t *testing.T) {
	t.Parallel()
	s := New(testService, withBackend(newFake()))
	ctx := context.Background()
	for _, key := range []string{"", "Upper", "has space", "slash/x", "colon:x", "tok.1.0", strings.Repeat("a", 65)} {
		if err := s.Set(ctx, key, "v"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Set(%q): %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q): %v, want ErrInvalidKey", key, err)
		}
	}
	for _, key := range []string{"session-token", "oauth.codex", "api_key", "v1.2", "a.b.3", "x.1.y"} {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q): %v", key, err)
		}
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 15, 16, 17, 1999, 2000, 2001, 5000} {
		for _, size := range []int{16, 17, 100, 2000} {
			v := token(n, "s")
			parts := split(v, size)
			if strings.Join(parts, "") != v {
				t.Fatalf("split(%d, %d) does not rejoin", n, size)
			}
			for _, p := range parts {
				if len(p) > size || len(p) == 0 {
					t.Fatalf("split(%d, %d) made a %d-byte part", n, size, len(p))
				}
				if !utf8ValidOrBinary(p) {
					t.Fatalf("split(%d, %d) cut a rune", n, size)
				}
			}
		}
	}
	// Arbitrary bytes are still cut to size.
	bin := strings.Repeat("\x80", 50)
	for _, p := range split(bin, 16) {
		if len(p) > 16 {
			t.Fatalf("binary part of %d bytes", len(p))
		}
	}
}

func utf8ValidOrBinary(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s
}

func TestMemory(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	ctx := context.Background()
	if m.Where() != "memory" {
		t.Fatalf("Where = %q", m.Where())
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	mustSet(t, m, "k", token(5000, "m"))
	mustGet(t, m, "k", token(5000, "m"))
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted: %v", err)
	}
}
