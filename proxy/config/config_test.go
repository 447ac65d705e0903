package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

func env(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := LoadFrom(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "127.0.0.1" || c.Port != 8100 || c.BaseURL != "https://chatgpt.com/backend-api" || c.WebOrigin != "https://chatgpt.com" {
		t.Errorf("defaults: %+v", c)
	}
	if c.IdleTimeout.Seconds() != 300 || c.Identity != "codex" || c.Originator != "codex_exec" || c.ClientVersion != codexcli.Version || !c.CompressBody || c.ClientVersion == "" {
		t.Errorf("upstream defaults: %+v", c)
	}
	if c.PublicBaseURL(0) != "http://127.0.0.1:8100/v1" {
		t.Errorf("PublicBaseURL = %s", c.PublicBaseURL(0))
	}
}

func TestDotEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	wd := filepath.Join(dir, ".env")
	app := filepath.Join(dir, "app.env")
	os.WriteFile(wd, []byte("# comment\nexport CHATGPT_PORT=9000\nCHATGPT_BASE_URL=\"http://127.0.0.1:1/backend-api/\"\nCHATGPT_REASONING='think' # inline\n"), 0o600)
	os.WriteFile(app, []byte("CHATGPT_PORT=9100\nCHATGPT_DEFAULT_MODEL=gpt-5.4\n"), 0o600)
	c, err := LoadFrom(env(map[string]string{"CHATGPT_DEFAULT_MODEL": "gpt-5.5"}), wd, app, filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.BaseURL != "http://127.0.0.1:1/backend-api" || c.ReasoningMode != "think" || c.DefaultModel != "gpt-5.5" {
		t.Errorf("got port=%d base=%s mode=%s model=%s", c.Port, c.BaseURL, c.ReasoningMode, c.DefaultModel)
	}
	if c.Sources["CHATGPT_PORT"] != wd || c.Sources["CHATGPT_DEFAULT_MODEL"] != "environment" {
		t.Errorf("sources = %v", c.Sources)
	}
}

func TestInvalid(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"port":          {"CHATGPT_PORT": "99999"},
		"base":          {"CHATGPT_BASE_URL": "ftp://x"},
		"proxy_scheme":  {"CHATGPT_PROXY": "gopher://h:1"},
		"identity":      {"CHATGPT_IDENTITY": "firefox"},
		"duration":      {"CHATGPT_IDLE_TIMEOUT": "soon"},
		"nokey_on_lan":  {"CHATGPT_NO_API_KEY": "true", "CHATGPT_HOST": "0.0.0.0"},
		"bool":          {"CHATGPT_NO_API_KEY": "maybe"},
		"reasoning":     {"CHATGPT_REASONING": "loud"},
		"unknown_model": {"CHATGPT_UNKNOWN_MODEL": "guess"},
		"effort":        {"CHATGPT_REASONING_EFFORT": "extreme"},
		"verbosity":     {"CHATGPT_VERBOSITY": "loud"},
		"web_origin":    {"CHATGPT_WEB_ORIGIN": "x"},
		"auth_url":      {"CHATGPT_AUTH_URL": "auth.openai.com"},
		"origin_scheme": {"CHATGPT_ALLOWED_ORIGINS": "evil.com"},
		"body_limit":    {"CHATGPT_BODY_LIMIT": "10XB"},
		"body_zero":     {"CHATGPT_BODY_LIMIT": "0"},
		"body_overflow": {"CHATGPT_BODY_LIMIT": "9000000000G"},
	} {
		if _, err := LoadFrom(env(m)); err == nil {
			t.Errorf("%s: want an error", name)
		} else if !strings.Contains(err.Error(), "CHATGPT_") {
			t.Errorf("%s: error does not name the variable: %v", name, err)
		}
	}
	c, err := LoadFrom(env(map[string]string{"CHATGPT_NO_API_KEY": "true", "CHATGPT_IDLE_TIMEOUT": "90"}))
	if err != nil || !c.NoAPIKey || c.IdleTimeout.Seconds() != 90 {
		t.Errorf("loopback without key / bare seconds: %v %+v", err, c)
	}
}

func TestAllowedHostsAcceptPastedURLs(t *testing.T) {
	c, err := LoadFrom(env(map[string]string{"CHATGPT_ALLOWED_HOSTS": "https://Tunnel.Example.com/, lan-box:8100, [fe80::1]"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.AllowedHosts, ","); got != "tunnel.example.com,lan-box,fe80::1" {
		t.Errorf("AllowedHosts = %s", got)
	}
	if n, err := ParseSize("2M"); err != nil || n != 2<<20 {
		t.Errorf("ParseSize(2M) = %d, %v", n, err)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var b strings.Builder
	WriteHelp(&b)
	for _, s := range Settings {
		if !strings.Contains(b.String(), s.Name) {
			t.Errorf("--help lacks %s", s.Name)
		}
	}
}

func TestUnknownVariables(t *testing.T) {
	got := UnknownVariables([]string{"CHATGPT_PORT=1", "CHATGPT_APIKEY=x", "HOME=/h", "CHATGPT_TYPO=1"})
	if strings.Join(got, ",") != "CHATGPT_APIKEY,CHATGPT_TYPO" {
		t.Errorf("UnknownVariables = %v", got)
	}
}

func TestInstallationIDIsKept(t *testing.T) {
	dir := t.TempDir()
	a := InstallationIDIn(dir)
	b := InstallationIDIn(dir)
	if a == "" || a != b || len(a) != 36 || a[14] != '4' {
		t.Fatalf("ids %q %q", a, b)
	}
	if c := InstallationIDIn(filepath.Join(dir, "missing", "\x00")); c == "" || c == a {
		t.Fatalf("unwritable dir gave %q", c)
	}
}

// TestDirFromEnvironment: CHATGPT_CONFIG_DIR replaces the usual folder (a
// trial run against the fake keeps its counts and .env apart), made
// absolute.
func TestDirFromEnvironment(t *testing.T) {
	t.Setenv(DirEnv, "try-folder")
	got, err := Dir()
	wd, _ := os.Getwd()
	if err != nil || got != filepath.Join(wd, "try-folder") {
		t.Fatalf("Dir() = %q, %v; want %s", got, err, filepath.Join(wd, "try-folder"))
	}
	// Not taken for a typo at start, and listed by --help.
	if u := UnknownVariables([]string{DirEnv + "=/tmp/x"}); len(u) != 0 {
		t.Errorf("unknown variables %v", u)
	}
	var help strings.Builder
	WriteHelp(&help)
	if !strings.Contains(help.String(), DirEnv) {
		t.Error("--help does not list " + DirEnv)
	}
}
