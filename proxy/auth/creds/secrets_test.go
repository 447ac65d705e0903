package creds

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

func TestLoadOrCreateAPIKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := keychain.NewMemory()
	cfg := &config.Config{}
	k1, created, err := LoadOrCreateAPIKey(ctx, s, cfg)
	if err != nil || !created || !regexp.MustCompile(`^sk-local-[0-9A-Za-z]{32}$`).MatchString(k1) {
		t.Fatalf("first run: created=%v err=%v", created, err)
	}
	k2, created, err := LoadOrCreateAPIKey(ctx, s, cfg)
	if err != nil || created || k2 != k1 {
		t.Fatalf("second run: created=%v err=%v same=%v", created, err, k2 == k1)
	}
	k3, _, _ := LoadOrCreateAPIKey(ctx, s, &config.Config{APIKey: "mine"})
	if k3 != "mine" {
		t.Fatal("CHATGPT_API_KEY does not win")
	}
	k4, created, err := LoadOrCreateAPIKey(ctx, keychain.NewMemory(), &config.Config{NoAPIKey: true})
	if k4 != "" || created || err != nil {
		t.Fatal("CHATGPT_NO_API_KEY does not turn the key off")
	}
	if NewAPIKey() == NewAPIKey() {
		t.Fatal("two keys are equal")
	}
}

func TestOpenSecrets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("AppData", dir)
	ctx := context.Background()

	s, note, err := OpenSecrets(ctx, &config.Config{SecretStore: "env"})
	if err != nil || s.Where() != "memory" || !strings.Contains(note, "nothing is saved") {
		t.Fatalf("env: %v %q", err, note)
	}
	s, note, err = OpenSecrets(ctx, &config.Config{SecretStore: "file"})
	if err != nil || !strings.HasPrefix(s.Where(), "file:") || filepath.Base(s.Where()) != "secrets.json" || !strings.Contains(note, "CHATGPT_SECRET_STORE=file") {
		t.Fatalf("file: %v %q %q", err, s.Where(), note)
	}

	old := ProbeKeychain
	t.Cleanup(func() { ProbeKeychain = old })
	ProbeKeychain = func(context.Context, *keychain.Store) error {
		return fmt.Errorf("probe keychain: %w", keychain.ErrUnavailable)
	}
	s, note, err = OpenSecrets(ctx, &config.Config{SecretStore: "auto"})
	if err != nil || s.Where() != "memory" || !strings.Contains(note, "No OS keychain is available") || !strings.Contains(note, "CHATGPT_SECRET_STORE=file") {
		t.Fatalf("auto without keychain: %v %q %q", err, s.Where(), note)
	}
	// A token already set in the environment is not to be set again.
	for _, cfg := range []*config.Config{{SecretStore: "auto", SessionToken: "s"}, {SecretStore: "auto", AccessToken: "a"}} {
		_, note, err = OpenSecrets(ctx, cfg)
		if err != nil || strings.Contains(note, "set CHATGPT_SESSION_TOKEN") || !strings.Contains(note, "from the environment are used") {
			t.Fatalf("auto without keychain, token in the environment: %v %q", err, note)
		}
	}
	if _, _, err := OpenSecrets(ctx, &config.Config{SecretStore: "keychain"}); err == nil {
		t.Fatal("keychain without a keychain: no error")
	}
	ProbeKeychain = func(context.Context, *keychain.Store) error { return nil }
	s, note, err = OpenSecrets(ctx, &config.Config{SecretStore: "auto"})
	if err != nil || s.Where() != "keychain" || note != "" {
		t.Fatalf("auto with keychain: %v %q %q", err, s.Where(), note)
	}
}
