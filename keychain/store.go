package keychain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

const (
	// DefaultGetTimeout bounds Get, Delete and Probe. It is short so the app
	// can start and show "keychain locked or unavailable" instead of hanging.
	DefaultGetTimeout = 5 * time.Second
	// DefaultSetTimeout bounds Set. It is long because a Set during an
	// interactive login may wait for the person to answer an unlock prompt.
	DefaultSetTimeout = 60 * time.Second
	// DefaultChunkSize is the largest chunk Store writes into one entry. It is
	// below the Windows limit of 2560 bytes and the macOS limit of about 3000.
	DefaultChunkSize = 2000
	// minChunkSize keeps a chunk large enough to hold any UTF-8 rune.
	minChunkSize = 16

	// manifestVersion prefixes every manifest.
	manifestVersion = "v1"
	// hashHexLen is how many hex digits of the SHA-256 a manifest records.
	hashHexLen = 16
	// probeKey is the entry Probe looks up. It is never written.
	probeKey = "keychain-probe"
)

// backend is the keychain the Store talks to. It matches go-keyring's
// package functions; tests substitute fakes that fail or block.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

// goKeyring is the real backend: go-keyring's current provider, which is the
// OS keychain, or its in-memory mock after keyring.MockInit.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// Store keeps secrets in the OS keychain under one service name.
//
// Every value, small or large, is stored the same way: a manifest entry named
// after the key holds "v1:<n>:<sha256 hex prefix>:<generation>", and the value
// itself is split into n chunk entries named "<key>.<generation>.<i>", each at
// most the chunk size. Set writes all new chunks, then the manifest, then
// deletes the previous generation's chunks, so an interrupted Set leaves the
// previous value readable. Get verifies the checksum.
//
// Every call has a deadline. The go-keyring call runs in its own goroutine;
// if the deadline passes first, the method returns ErrTimeout and that
// goroutine is left behind until the keychain answers (an unlock prompt may
// keep it forever). That leak is the price of never hanging the caller.
//
// Calls on one Store are serialized, and a Store is safe for concurrent use.
// Separate processes are not coordinated: two of them writing the same key at
// the same moment can leave chunks of both values under one generation, which
// Get then reports as ErrCorrupt (never as a wrong value). The app runs as a
// single instance, so this is not expected in practice.
type Store struct {
	service    string
	getTimeout time.Duration
	setTimeout time.Duration
	chunkSize  int
	backend    backend
	// sem serializes operations; unlike a mutex, waiting on it honours ctx.
	sem chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithTimeout sets the deadline of Get, Delete and Probe (get) and of Set
// (set). A value of zero or less keeps the default.
func WithTimeout(get, set time.Duration) Option {
	return func(s *Store) {
		if get > 0 {
			s.getTimeout = get
		}
		if set > 0 {
			s.setTimeout = set
		}
	}
}

// WithChunkSize sets the largest number of bytes stored in one chunk entry.
// Values below 16 are raised to 16. Sizes above DefaultChunkSize may exceed
// the entry limit of Windows or macOS; Set then fails before calling the
// keychain.
func WithChunkSize(n int) Option {
	return func(s *Store) {
		s.chunkSize = max(n, minChunkSize)
	}
}

// withBackend replaces the keychain; it exists for tests.
func withBackend(b backend) Option {
	return func(s *Store) { s.backend = b }
}

// New returns a Store that keeps secrets under service in the OS keychain.
// An empty service means DefaultService.
func New(service string, opts ...Option) *Store {
	if service == "" {
		service = DefaultService
	}
	s := &Store{
		service:    service,
		getTimeout: DefaultGetTimeout,
		setTimeout: DefaultSetTimeout,
		chunkSize:  DefaultChunkSize,
		backend:    goKeyring{},
		sem:        make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Where returns "keychain".
func (s *Store) Where() string { return "keychain" }

// Probe checks cheaply whether the keychain answers, by looking up an entry
// that is never written. It returns nil if the keychain is usable, or an
// error wrapping ErrUnavailable or ErrTimeout. On Linux the lookup unlocks
// the collection, so a locked keyring is reported here rather than at the
// first Set.
func (s *Store) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.getTimeout)
	defer cancel()
	_, err := s.get(ctx, probeKey)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return fmt.Errorf("probe keychain: %w", err)
}

// Get returns the value stored under key. It returns an error wrapping
// ErrNotFound if there is no manifest, ErrCorrupt if the manifest or chunks
// are damaged, and ErrUnavailable or ErrTimeout if the keychain cannot be
// used.
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.getTimeout)
	defer cancel()
	if err := s.lock(ctx); err != nil {
		return "", fmt.Errorf("get %s: %w", key, err)
	}
	defer s.unlock()

	v, err := s.read(ctx, key)
	if errors.Is(err, ErrCorrupt) {
		// Another process may have replaced the value between our reads of
		// the manifest and the chunks. Read once more before giving up.
		v, err = s.read(ctx, key)
	}
	if err != nil {
		return "", fmt.Errorf("get %s: %w", key, err)
	}
	return v, nil
}

// Set stores value under key, replacing the previous value only once the new
// one is completely written.
func (s *Store) Set(ctx context.Context, key, value string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.setTimeout)
	defer cancel()
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	defer s.unlock()

	if err := s.write(ctx, key, value); err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return nil
}

// Delete removes key and its chunks. Deleting a missing key is not an error.
// A damaged manifest is deleted too.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.getTimeout)
	defer cancel()
	if err := s.lock(ctx); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	defer s.unlock()

	if err := s.remove(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func (s *Store) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(ctx)
	}
}

func (s *Store) unlock() { <-s.sem }

// manifest describes one stored value.
type manifest struct {
	chunks int
	hash   string
	gen    uint64
}

func (m manifest) String() string {
	return fmt.Sprintf("%s:%d:%s:%d", manifestVersion, m.chunks, m.hash, m.gen)
}

func parseManifest(s string) (manifest, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 || parts[0] != manifestVersion {
		return manifest{}, fmt.Errorf("%w: unrecognised manifest", ErrCorrupt)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		return manifest{}, fmt.Errorf("%w: bad chunk count in manifest", ErrCorrupt)
	}
	if len(parts[2]) != hashHexLen {
		return manifest{}, fmt.Errorf("%w: bad checksum in manifest", ErrCorrupt)
	}
	if _, err := hex.DecodeString(parts[2]); err != nil {
		return manifest{}, fmt.Errorf("%w: bad checksum in manifest", ErrCorrupt)
	}
	gen, err := strconv.ParseUint(parts[3], 10, 64)
	if err != nil {
		return manifest{}, fmt.Errorf("%w: bad generation in manifest", ErrCorrupt)
	}
	return manifest{chunks: n, hash: parts[2], gen: gen}, nil
}

func checksum(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:hashHexLen]
}

func chunkName(key string, gen uint64, i int) string {
	return key + "." + strconv.FormatUint(gen, 10) + "." + strconv.Itoa(i)
}

// split cuts v into pieces of at most size bytes, without splitting a UTF-8
// rune when v is text.
func split(v string, size int) []string {
	var out []string
	for len(v) > size {
		cut := size
		for back := 0; back < utf8.UTFMax && cut > 0 && !utf8.RuneStart(v[cut]); back++ {
			cut--
		}
		if cut == 0 || !utf8.RuneStart(v[cut]) {
			cut = size // not text; cut anywhere
		}
		out = append(out, v[:cut])
		v = v[cut:]
	}
	if v != "" {
		out = append(out, v)
	}
	return out
}

// readManifest returns the manifest of key. A missing manifest is
// ErrNotFound; a malformed one is ErrCorrupt.
func (s *Store) readManifest(ctx context.Context, key string) (manifest, error) {
	raw, err := s.get(ctx, key)
	if err != nil {
		return manifest{}, err
	}
	return parseManifest(raw)
}

func (s *Store) read(ctx context.Context, key string) (string, error) {
	m, err := s.readManifest(ctx, key)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := range m.chunks {
		c, err := s.get(ctx, chunkName(key, m.gen, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("%w: chunk %d of %d is missing", ErrCorrupt, i+1, m.chunks)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(c)
	}
	v := b.String()
	if checksum(v) != m.hash {
		return "", fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return v, nil
}

func (s *Store) write(ctx context.Context, key, value string) error {
	old, err := s.readManifest(ctx, key)
	hasOld := err == nil
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt):
		// A damaged manifest is simply overwritten.
	default:
		return err
	}

	m := manifest{hash: checksum(value), gen: 1}
	if hasOld {
		m.gen = old.gen + 1
	}
	chunks := split(value, s.chunkSize)
	m.chunks = len(chunks)

	// Check every entry against the OS limit before writing anything, so a
	// value that cannot fit fails cleanly (and macOS's security tool is never
	// left waiting on stdin).
	for i, c := range chunks {
		if err := fitsEntry(s.service, chunkName(key, m.gen, i), c); err != nil {
			return err
		}
	}
	if err := fitsEntry(s.service, key, m.String()); err != nil {
		return err
	}

	for i, c := range chunks {
		if err := s.set(ctx, chunkName(key, m.gen, i), c); err != nil {
			return fmt.Errorf("write chunk %d of %d: %w", i+1, len(chunks), err)
		}
	}
	if err := s.set(ctx, key, m.String()); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}

	// The new value is in place. What follows only removes garbage, so its
	// failures are ignored: a leftover chunk is harmless and the next Set or
	// Delete tries again.
	if hasOld && old.gen != m.gen {
		s.deleteChunks(ctx, key, old.gen, 0, old.chunks)
	}
	// An interrupted earlier Set may have left chunks of this generation
	// beyond the ones just written.
	s.deleteChunks(ctx, key, m.gen, m.chunks, -1)
	return nil
}

// deleteChunks deletes chunks from..to-1 of a generation. With to < 0 it
// deletes from "from" until a chunk is missing. It stops at the first error
// other than ErrNotFound and reports it.
func (s *Store) deleteChunks(ctx context.Context, key string, gen uint64, from, to int) error {
	for i := from; to < 0 || i < to; i++ {
		err := s.del(ctx, chunkName(key, gen, i))
		if errors.Is(err, ErrNotFound) {
			if to < 0 {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) remove(ctx context.Context, key string) error {
	m, err := s.readManifest(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case errors.Is(err, ErrCorrupt):
		// Without a readable manifest the chunks cannot be named; drop the
		// manifest so the key reads as missing.
		if err := s.del(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	case err != nil:
		return err
	}
	// Remove the manifest first: from then on the key reads as missing, even
	// if deleting a chunk fails below.
	if err := s.del(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := s.deleteChunks(ctx, key, m.gen, 0, m.chunks); err != nil {
		return err
	}
	// Leftovers of an interrupted Set use the next generation.
	return s.deleteChunks(ctx, key, m.gen+1, 0, -1)
}

// get, set and del run one backend call under ctx's deadline and translate
// its error.
func (s *Store) get(ctx context.Context, user string) (string, error) {
	return s.call(ctx, func() (string, error) { return s.backend.Get(s.service, user) })
}

func (s *Store) set(ctx context.Context, user, value string) error {
	_, err := s.call(ctx, func() (string, error) { return "", s.backend.Set(s.service, user, value) })
	return err
}

func (s *Store) del(ctx context.Context, user string) error {
	_, err := s.call(ctx, func() (string, error) { return "", s.backend.Delete(s.service, user) })
	return err
}

// call runs f in a goroutine and waits for it or for ctx. If ctx ends first,
// f's goroutine keeps running until the backend returns; its result is
// dropped.
func (s *Store) call(ctx context.Context, f func() (string, error)) (string, error) {
	if ctx.Err() != nil {
		return "", ctxError(ctx)
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1) // buffered so a late result never blocks
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, mapError(r.err)
	case <-ctx.Done():
		return "", ctxError(ctx)
	}
}

// ctxError turns an ended context into ErrTimeout for a passed deadline, or
// the context's own error for a cancellation.
func ctxError(ctx context.Context) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%w)", ErrTimeout, err)
	}
	return err
}
