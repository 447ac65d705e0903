package authcli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/creds"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// fakeKeychain is a Memory that calls itself the OS keychain.
type fakeKeychain struct{ *keychain.Memory }

func (fakeKeychain) Where() string { return "keychain" }

// harness wires Main to a fake upstream and an in-memory "keychain". The
// package seams are global, so these tests do not run in parallel.
type harness struct {
	fake    *codextest.AuthServer
	cfg     *config.Config
	secrets fakeKeychain
}

func newHarness(t *testing.T, vars map[string]string) *harness {
	t.Helper()
	fake := codextest.NewAuthServer(codextest.AuthOptions{Email: "cli@example.com", Plan: "pro", AccountID: "acc-cli"})
	backend := codextest.NewServer(t)
	fake.Mount(backend)
	all := map[string]string{"CHATGPT_BASE_URL": backend.BaseURL(), "CHATGPT_AUTH_URL": backend.URL}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.LoadFrom(func(k string) (string, bool) { v, ok := all[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{fake: fake, cfg: cfg, secrets: fakeKeychain{keychain.NewMemory()}}
	oldOpen, oldHTTP, oldSecrets, oldPort := OpenURL, NewHTTP, OpenSecrets, CallbackPort
	t.Cleanup(func() { OpenURL, NewHTTP, OpenSecrets, CallbackPort = oldOpen, oldHTTP, oldSecrets, oldPort })
	OpenURL = func(u string) error {
		// A browser that follows the authorize redirect to the callback.
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	NewHTTP = func(*config.Config) (creds.HTTP, error) { return creds.NetHTTP{}, nil }
	OpenSecrets = func(context.Context, *config.Config) (keychain.Secrets, string, error) { return h.secrets, "", nil }
	CallbackPort = -1
	return h
}

func (h *harness) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(stdin), &out, &errb, h.cfg)
	return code, out.String(), errb.String()
}

func TestSetSessionTokenAndStatus(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.fake.NewSessionToken(5000)

	// Refused on the command line, and nothing is stored.
	code, _, stderr := h.run(t, "", "set-session-token", tok)
	if code != 2 || !strings.Contains(stderr, "standard input") || strings.Contains(stderr, tok) {
		t.Fatalf("argv token: code %d, %q", code, stderr)
	}
	if _, err := h.secrets.Get(context.Background(), creds.KeySessionToken); err == nil {
		t.Fatal("an argv token was stored")
	}

	code, stdout, stderr := h.run(t, tok+"\n", "set-session-token")
	if code != 0 || !strings.Contains(stdout, "cli@example.com") || !strings.Contains(stdout, "OS keychain") {
		t.Fatalf("set: code %d\n%s\n%s", code, stdout, stderr)
	}
	if v, _ := h.secrets.Get(context.Background(), creds.KeySessionToken); v != tok {
		t.Fatal("the token was not stored")
	}

	code, stdout, stderr = h.run(t, "", "status")
	if code != 0 {
		t.Fatalf("status: %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"yes, with a chatgpt.com session token", "cli@example.com (plan pro, account acc-cli)", "Access token:", "Web session:", "stored in the OS keychain", "API key:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, tok) || strings.Contains(stdout+stderr, "eyJ") {
		t.Fatal("status printed a secret")
	}

	// An invalid token is refused and the stored one kept.
	code, _, stderr = h.run(t, "bogus-token", "set-session-token")
	if code != 1 || !strings.Contains(stderr, "not saved") {
		t.Fatalf("bogus: %d %q", code, stderr)
	}
	if v, _ := h.secrets.Get(context.Background(), creds.KeySessionToken); v != tok {
		t.Fatal("a rejected token replaced the stored one")
	}
}

func TestLoginLogout(t *testing.T) {
	h := newHarness(t, nil)
	code, stdout, stderr := h.run(t, "", "login")
	if code != 0 || !strings.Contains(stdout, "/oauth/authorize?") || !strings.Contains(stdout, "Signed in as cli@example.com (plan pro)") {
		t.Fatalf("login: %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "rt_") {
		t.Fatal("login printed a refresh token")
	}
	code, stdout, _ = h.run(t, "", "status")
	if code != 0 || !strings.Contains(stdout, "Codex sign-in") {
		t.Fatalf("status after login: %d\n%s", code, stdout)
	}
	code, stdout, _ = h.run(t, "", "logout")
	if code != 0 || !strings.Contains(stdout, "Signed out") {
		t.Fatalf("logout: %d %s", code, stdout)
	}
	code, stdout, _ = h.run(t, "", "status")
	if code != 1 || !strings.Contains(stdout, "chatgpt-to-api login") {
		t.Fatalf("status after logout: %d\n%s", code, stdout)
	}
}

func TestLoginDevice(t *testing.T) {
	h := newHarness(t, nil)
	code, stdout, stderr := h.run(t, "", "login", "--device")
	if code != 0 || !strings.Contains(stdout, "/codex/device") || !strings.Contains(stdout, "Signed in as") {
		t.Fatalf("login --device: %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestImportCodexCommand(t *testing.T) {
	home := t.TempDir()
	h := newHarness(t, map[string]string{"CODEX_HOME": home})
	id, access, refresh := h.fake.IssueTokens()
	body, _ := json.Marshal(map[string]any{"auth_mode": "chatgpt", "tokens": map[string]string{"id_token": id, "access_token": access, "refresh_token": refresh}})
	os.WriteFile(filepath.Join(home, "auth.json"), body, 0o600)
	code, stdout, stderr := h.run(t, "", "import-codex")
	if code != 0 || !strings.Contains(stderr, "log") || !strings.Contains(stdout, "was not changed") {
		t.Fatalf("import-codex: %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "share one sign-in") {
		t.Fatalf("no sharing warning: %s", stderr)
	}
}

func TestAPIKeyCommand(t *testing.T) {
	h := newHarness(t, nil)
	code, stdout, _ := h.run(t, "", "api-key")
	key := strings.TrimSpace(stdout)
	if code != 0 || !strings.HasPrefix(key, "sk-local-") || len(key) != len("sk-local-")+32 {
		t.Fatalf("api-key: %d %q", code, stdout)
	}
	_, again, _ := h.run(t, "", "api-key")
	if strings.TrimSpace(again) != key {
		t.Fatal("the key changed between runs")
	}
	_, status, _ := h.run(t, "", "status")
	if strings.Contains(status, key) || !strings.Contains(status, "chatgpt-to-api api-key") {
		t.Fatalf("status shows the key or not how to copy it:\n%s", status)
	}
}

func TestUsageAndMemoryStore(t *testing.T) {
	h := newHarness(t, nil)
	if code, _, stderr := h.run(t, "", "frobnicate"); code != 2 || !strings.Contains(stderr, "Usage") {
		t.Fatalf("unknown command: %d", code)
	}
	if code, _, _ := h.run(t, "", "login", "--bogus"); code != 2 {
		t.Fatalf("bad flag: %d", code)
	}
	OpenSecrets = func(context.Context, *config.Config) (keychain.Secrets, string, error) {
		return keychain.NewMemory(), "No OS keychain is available.", nil
	}
	code, _, stderr := h.run(t, "x", "set-session-token")
	if code != 1 || !strings.Contains(stderr, "No OS keychain") {
		t.Fatalf("memory store: %d %q", code, stderr)
	}
}
