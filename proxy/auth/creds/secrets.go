package creds

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// The keys the app keeps in its secret store.
const (
	KeySessionToken = "session-token" // the web session cookie (SessionCookie.String)
	KeyOAuth        = "codex-oauth"   // Tokens as JSON
	KeyAccessToken  = "access-token"  // a plain access token given through the admin API
	KeyActive       = "active-source" // which stored credential was chosen last (not a secret)
	KeyAPIKey       = "api-key"       // the local API key
)

// ProbeKeychain is how OpenSecrets checks the OS keychain; tests replace it.
var ProbeKeychain = func(ctx context.Context, s *keychain.Store) error { return s.Probe(ctx) }

// OpenSecrets opens the secret store chosen by CHATGPT_SECRET_STORE:
//
//   - auto: the OS keychain when it answers a probe; otherwise memory only,
//     with a note that says so and how to opt into the file store;
//   - keychain: the OS keychain, or an error when it does not answer;
//   - file: an owner-only secrets.json in the config folder, which the
//     person chose explicitly;
//   - env: memory only; credentials come from the environment.
//
// note is a plain sentence for the log and the status output, empty when
// there is nothing to say. A secret never goes to a plain file unless the
// person chose "file".
func OpenSecrets(ctx context.Context, cfg *config.Config) (keychain.Secrets, string, error) {
	switch cfg.SecretStore {
	case "env":
		return keychain.NewMemory(), "CHATGPT_SECRET_STORE=env: nothing is saved; credentials come from environment variables, and anything set at run time is forgotten when the app exits.", nil
	case "file":
		dir, err := config.Dir()
		if err != nil {
			return nil, "", err
		}
		path := filepath.Join(dir, "secrets.json")
		return keychain.NewFileStore(path), "Secrets are kept in the owner-only file " + path + ", as chosen with CHATGPT_SECRET_STORE=file.", nil
	case "keychain":
		s := keychain.New(keychain.DefaultService)
		if err := ProbeKeychain(ctx, s); err != nil {
			return nil, "", fmt.Errorf("the OS keychain is not available (CHATGPT_SECRET_STORE=keychain): %w", err)
		}
		return s, "", nil
	default:
		s := keychain.New(keychain.DefaultService)
		err := ProbeKeychain(ctx, s)
		if err == nil {
			return s, "", nil
		}
		reason := "it did not answer"
		switch {
		case errors.Is(err, keychain.ErrTimeout):
			reason = "it did not answer in time (locked, or waiting for an unlock prompt)"
		case errors.Is(err, keychain.ErrUnavailable):
			reason = "there is no usable Secret Service or keychain on this machine"
		}
		advice := "set CHATGPT_SESSION_TOKEN or CHATGPT_ACCESS_TOKEN in the environment, or sign in again after each start. "
		if cfg.SessionToken != "" || cfg.AccessToken != "" {
			// The credentials already come from the environment: only a
			// sign-in made at run time would be lost.
			advice = "the credentials from the environment are used; a sign-in made while the app runs is forgotten when it exits. "
		}
		return keychain.NewMemory(), "No OS keychain is available (" + reason + "), so nothing is saved: " + advice +
			"To keep secrets in an owner-only file in the config folder instead, set CHATGPT_SECRET_STORE=file.", nil
	}
}

// Storage describes a secret store for status output: "keychain",
// "file" or "memory".
func Storage(s keychain.Secrets) string {
	w := s.Where()
	if len(w) >= 5 && w[:5] == "file:" {
		return "file"
	}
	return w
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey returns "sk-local-" followed by 32 random base62 characters.
func NewAPIKey() string {
	b := make([]byte, 32)
	n := big.NewInt(int64(len(base62)))
	for i := range b {
		r, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b[i] = base62[r.Int64()]
	}
	return "sk-local-" + string(b)
}

// LoadOrCreateAPIKey returns the key clients must send: CHATGPT_API_KEY
// when set; otherwise the stored key; otherwise a new one, stored for the
// next run (created is then true). With CHATGPT_NO_API_KEY=true it returns
// "" (no key).
func LoadOrCreateAPIKey(ctx context.Context, secrets keychain.Secrets, cfg *config.Config) (key string, created bool, err error) {
	if cfg.APIKey != "" {
		return cfg.APIKey, false, nil
	}
	if cfg.NoAPIKey {
		return "", false, nil
	}
	v, err := secrets.Get(ctx, KeyAPIKey)
	if err == nil && v != "" {
		return v, false, nil
	}
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return "", false, fmt.Errorf("reading the local API key: %w", err)
	}
	key = NewAPIKey()
	if err := secrets.Set(ctx, KeyAPIKey, key); err != nil {
		return "", false, fmt.Errorf("storing the local API key: %w", err)
	}
	return key, true, nil
}

// APIKeyLocation says where the local API key comes from, for status
// output. It never contains the key.
func APIKeyLocation(secrets keychain.Secrets, cfg *config.Config) string {
	switch {
	case cfg.APIKey != "":
		return "from CHATGPT_API_KEY (" + cfg.Sources["CHATGPT_API_KEY"] + ")"
	case cfg.NoAPIKey:
		return "none: CHATGPT_NO_API_KEY=true, clients need no key"
	case secrets.Where() == "memory":
		return "generated for this run only (not saved, no keychain)"
	default:
		return "stored in " + describeWhere(secrets.Where())
	}
}

// describeWhere words a Secrets.Where value for people.
func describeWhere(w string) string {
	switch {
	case w == "keychain":
		return "the OS keychain (service " + keychain.DefaultService + ")"
	case len(w) > 5 && w[:5] == "file:":
		return "the owner-only file " + w[5:]
	case w == "memory":
		return "memory only (not saved)"
	}
	return w
}
