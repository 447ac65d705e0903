// Package config reads the app's settings from the environment and from
// .env files (the working directory's, then the one in the app's folder
// under os.UserConfigDir), keeping the original design's variable names.
package config

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

// AppName is the app's folder name under the OS config, cache and log dirs,
// and the keychain service name.
const AppName = "chatgpt-to-api"

// Config holds every setting. Secrets (tokens, keys) are only held in memory.
type Config struct {
	// Server.
	Host          string
	Port          int
	APIKey        string // CHATGPT_API_KEY; secret
	NoAPIKey      bool   // CHATGPT_NO_API_KEY: explicitly serve without a key (loopback only)
	AllowedOrigin []string
	AllowedHosts  []string
	BodyLimit     string
	// Responses API store (previous_response_id, GET /v1/responses/{id}).
	ResponsesKeep   time.Duration
	ResponsesMemory string
	// AdaptiveProcs: one CPU for Go's scheduler while the load is low.
	AdaptiveProcs bool

	// Upstream.
	BaseURL        string // e.g. https://chatgpt.com/backend-api
	Proxy          string
	Identity       string // codex | chrome
	ClientVersion  string
	Originator     string
	UserAgent      string
	CompressBody   bool
	ResponsesLite  bool          // send the Responses-Lite shape to models the catalog marks
	QuotaRefresh   time.Duration // how often /wham/usage is read; 0 = never
	HeaderTimeout  time.Duration
	FirstByte      time.Duration // CHATGPT_FIRST_BYTE_TIMEOUT: first byte or error, across retries
	IdleTimeout    time.Duration
	MaxRetries     int
	ModelsRefresh  time.Duration
	DefaultModel   string // empty: the best model of the live catalog
	UnknownModel   string // default | passthrough | reject
	ReasoningMode  string // reasoning_content | think | off
	ReasoningSumm  string // auto | concise | detailed | none
	DefaultEffort  string // empty: the model's default
	EffortMismatch string // clamp | reject
	Verbosity      string
	DropCommentary bool
	ClaudeModels   string // key=model[:effort],… for Claude model names

	// Credentials.
	AccessToken  string // CHATGPT_ACCESS_TOKEN; secret
	AccountID    string
	SessionToken string // CHATGPT_SESSION_TOKEN; secret
	WebOrigin    string // default: derived from BaseURL
	AuthURL      string // OAuth issuer
	SecretStore  string // auto | keychain | file | env
	CodexHome    string

	// Sign-in.
	SignInTimeout time.Duration // how long a browser or device sign-in may stay pending
	CallbackPort  int           // the browser sign-in's callback port on 127.0.0.1
	Browser       string        // command that opens sign-in pages; empty: the system's default browser

	// App.
	Headless bool
	LogLevel string
	LogDir   string

	// Sources records where each set variable came from, for --help and logs.
	Sources map[string]string
}

// Setting describes one environment variable.
type Setting struct {
	Name    string
	Default string
	Help    string
	Secret  bool
	apply   func(c *Config, v string) error
}

// Settings lists every variable the app reads, in --help order.
var Settings = []Setting{
	{Name: "CHATGPT_HOST", Default: "127.0.0.1", Help: "Address to bind. Keep 127.0.0.1 unless you know why; anything else exposes your subscription to the network (and needs CHATGPT_ALLOWED_HOSTS).", apply: str(func(c *Config) *string { return &c.Host })},
	{Name: "CHATGPT_PORT", Default: "8100", Help: "Port to listen on.", apply: func(c *Config, v string) error {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("not a port number: %q", v)
		}
		c.Port = p
		return nil
	}},
	{Name: "CHATGPT_API_KEY", Help: "Key clients must send (Authorization: Bearer KEY). When unset, a random key is generated on first run and kept in the keychain.", Secret: true, apply: str(func(c *Config) *string { return &c.APIKey })},
	{Name: "CHATGPT_NO_API_KEY", Default: "false", Help: "Set to true to serve without any API key (only allowed on a loopback address).", apply: boolean(func(c *Config) *bool { return &c.NoAPIKey })},
	{Name: "CHATGPT_ALLOWED_ORIGINS", Help: "Comma-separated browser origins allowed to call the API (CORS), like https://app.example.com.", apply: list(func(c *Config) *[]string { return &c.AllowedOrigin })},
	{Name: "CHATGPT_ALLOWED_HOSTS", Help: "Extra host names to accept in the Host header besides 127.0.0.1 and localhost: a tunnel's hostname, or this machine's LAN name or address when CHATGPT_HOST is not loopback.", apply: list(func(c *Config) *[]string { return &c.AllowedHosts })},
	{Name: "CHATGPT_BODY_LIMIT", Default: "50M", Help: "Largest request body accepted (after decompression, for zstd, gzip and deflate bodies).", apply: str(func(c *Config) *string { return &c.BodyLimit })},
	{Name: "CHATGPT_RESPONSES_KEEP", Default: "24h", Help: "How long /v1/responses answers are kept in memory for previous_response_id and GET /v1/responses/{id} (0 keeps none; nothing survives a restart).", apply: duration(func(c *Config) *time.Duration { return &c.ResponsesKeep })},
	{Name: "CHATGPT_RESPONSES_MEMORY", Default: "64M", Help: "Memory for kept /v1/responses answers; the oldest go first when it is full.", apply: str(func(c *Config) *string { return &c.ResponsesMemory })},
	{Name: "CHATGPT_ADAPTIVE_PROCS", Default: "true", Help: "Run Go's scheduler on one CPU while fewer than three requests (of any kind) are in flight, and on as many as it started with (normally every CPU) from the third until the load has stayed low for 2 s: less latency and CPU for one client at a time. false keeps them all; a GOMAXPROCS in the environment or a one-CPU machine leaves it off.", apply: boolean(func(c *Config) *bool { return &c.AdaptiveProcs })},

	{Name: "CHATGPT_BASE_URL", Default: "https://chatgpt.com/backend-api", Help: "Backend base URL; requests go to {base}/codex/responses.", apply: str(func(c *Config) *string { return &c.BaseURL })},
	{Name: "CHATGPT_PROXY", Help: "Outbound proxy for every upstream request: http://host:port, socks5://host:port (user:pass@ allowed).", Secret: true, apply: str(func(c *Config) *string { return &c.Proxy })},
	{Name: "CHATGPT_IDENTITY", Default: "codex", Help: "Client identity for the Codex routes: codex (the Codex CLI's TLS, HTTP/2 and headers, header for header) or chrome (Chrome's TLS with chatgpt.com web-page headers: not what any real client sends to these routes; a fallback only). Web routes always use chrome.", apply: oneOf(func(c *Config) *string { return &c.Identity }, "codex", "chrome")},
	{Name: "CHATGPT_CLIENT_VERSION", Default: codexcli.Version, Help: "Codex client version sent in the version header, the User-Agent and /models?client_version=. The default is the Codex CLI release the app imitates; new models need a recent one.", apply: str(func(c *Config) *string { return &c.ClientVersion })},
	{Name: "CHATGPT_ORIGINATOR", Default: codexcli.Originator, Help: "originator header value (codex_exec is what `codex exec` sends on its turns).", apply: str(func(c *Config) *string { return &c.Originator })},
	{Name: "CHATGPT_USER_AGENT", Help: "User-Agent override. Default: derived from the originator, version and OS, as the Codex CLI does.", apply: str(func(c *Config) *string { return &c.UserAgent })},
	{Name: "CHATGPT_COMPRESS_BODY", Default: "true", Help: "zstd-compress request bodies as the Codex CLI does under ChatGPT sign-in (codex identity).", apply: boolean(func(c *Config) *bool { return &c.CompressBody })},
	{Name: "CHATGPT_RESPONSES_LITE", Default: "true", Help: "Send the Responses-Lite body and headers, as the Codex CLI does, to models the live catalog marks use_responses_lite (the Luna models exist only there). Set to false if the backend changes; such models then get the classic body.", apply: boolean(func(c *Config) *bool { return &c.ResponsesLite })},
	{Name: "CHATGPT_QUOTA_REFRESH", Default: "5m", Help: "How often the quota is read from the backend's usage endpoint (also at start and after a usage-limit answer), for the tray and /admin/status. 0 turns the polling off; the rate-limit headers of every answer are read anyway.", apply: duration(func(c *Config) *time.Duration { return &c.QuotaRefresh })},
	{Name: "CHATGPT_HEADER_TIMEOUT", Default: "60s", Help: "How long to wait for the backend's response headers.", apply: duration(func(c *Config) *time.Duration { return &c.HeaderTimeout })},
	{Name: "CHATGPT_IDLE_TIMEOUT", Default: "300s", Help: "How long a stream may stay silent before it is treated as dead.", apply: duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{Name: "CHATGPT_FIRST_BYTE_TIMEOUT", Default: "60s", Help: "The longest a client waits for the first byte of its answer or an error, retries included. A streamed answer whose model is still reasoning by then is opened with keep-alives (never cut off); a non-streamed one keeps waiting once the backend answers. After that CHATGPT_IDLE_TIMEOUT guards the stream.", apply: duration(func(c *Config) *time.Duration { return &c.FirstByte })},
	{Name: "CHATGPT_MAX_RETRIES", Default: "2", Help: "Retries on connection errors, 5xx (except 'model overloaded') and cut streams, only while the backend has produced nothing (no quota spent) and within CHATGPT_FIRST_BYTE_TIMEOUT.", apply: integer(func(c *Config) *int { return &c.MaxRetries })},
	{Name: "CHATGPT_MODELS_REFRESH", Default: "1h", Help: "How often the model catalog is refreshed (also when X-Models-Etag changes).", apply: duration(func(c *Config) *time.Duration { return &c.ModelsRefresh })},
	{Name: "CHATGPT_DEFAULT_MODEL", Help: "Model used for aliases (gpt-4o, auto, …) and unknown names. Default: the best model of the live catalog.", apply: str(func(c *Config) *string { return &c.DefaultModel })},
	{Name: "CHATGPT_UNKNOWN_MODEL", Default: "default", Help: "What to do with a model name that is neither in the catalog nor an alias and does not look like an OpenAI slug: default (use the default model), passthrough (send it as is), reject (404).", apply: oneOf(func(c *Config) *string { return &c.UnknownModel }, "default", "passthrough", "reject")},
	{Name: "CHATGPT_REASONING", Default: "reasoning_content", Help: "How reasoning summaries reach clients: reasoning_content (delta.reasoning_content), think (<think>…</think> in content) or off.", apply: oneOf(func(c *Config) *string { return &c.ReasoningMode }, "reasoning_content", "think", "off")},
	{Name: "CHATGPT_REASONING_SUMMARY", Default: "auto", Help: "Reasoning summary detail requested upstream: auto, concise, detailed or none.", apply: oneOf(func(c *Config) *string { return &c.ReasoningSumm }, "auto", "concise", "detailed", "none")},
	{Name: "CHATGPT_REASONING_EFFORT", Help: "Default reasoning effort when the request names none (none, minimal, low, medium, high, xhigh, max, ultra). Default: the model's own.", apply: oneOfOrEmpty(func(c *Config) *string { return &c.DefaultEffort }, "none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra")},
	{Name: "CHATGPT_UNSUPPORTED_EFFORT", Default: "clamp", Help: "What to do with a reasoning effort the model does not support (e.g. minimal on gpt-5.5): clamp (use the nearest supported level and say so in the X-Reasoning-Effort response header) or reject (400, as the backend would).", apply: oneOf(func(c *Config) *string { return &c.EffortMismatch }, "clamp", "reject")},
	{Name: "CHATGPT_VERBOSITY", Help: "text.verbosity sent to models that support it (low, medium, high). Default: none sent.", apply: oneOfOrEmpty(func(c *Config) *string { return &c.Verbosity }, "low", "medium", "high")},
	{Name: "CHATGPT_DROP_COMMENTARY", Default: "false", Help: "Leave out interim 'commentary' messages of Codex models and keep only the final answer.", apply: boolean(func(c *Config) *bool { return &c.DropCommentary })},

	{Name: "CHATGPT_CLAUDE_MODELS", Default: "opus=best:high,sonnet=default,haiku=mini", Help: "How Claude model names (on /v1/messages) map to ChatGPT models: comma-separated key=model[:effort]; the longest key the name contains wins, other claude-* names get the default model. model is a slug, or best (the catalog's first model), default (CHATGPT_DEFAULT_MODEL or the best) or mini (the smallest fast model).", apply: modelMap},

	{Name: "CHATGPT_ACCESS_TOKEN", Help: "A ChatGPT access token (JWT) to use as is. It cannot be refreshed.", Secret: true, apply: str(func(c *Config) *string { return &c.AccessToken })},
	{Name: "CHATGPT_ACCOUNT_ID", Help: "ChatGPT account id override. Default: from the token.", apply: str(func(c *Config) *string { return &c.AccountID })},
	{Name: "CHATGPT_SESSION_TOKEN", Help: "The __Secure-next-auth.session-token cookie of chatgpt.com; exchanged for access tokens as needed.", Secret: true, apply: str(func(c *Config) *string { return &c.SessionToken })},
	{Name: "CHATGPT_WEB_ORIGIN", Help: "Web origin for /api/auth/session. Default: the scheme and host of CHATGPT_BASE_URL.", apply: str(func(c *Config) *string { return &c.WebOrigin })},
	{Name: "CHATGPT_AUTH_URL", Default: "https://auth.openai.com", Help: "OAuth issuer for the browser and device-code sign-in.", apply: str(func(c *Config) *string { return &c.AuthURL })},
	{Name: "CHATGPT_SECRET_STORE", Default: "auto", Help: "Where secrets are kept: auto (the OS keychain when available), keychain, file (an owner-only file in the config folder; you opt in by choosing it) or env (nothing is stored).", apply: oneOf(func(c *Config) *string { return &c.SecretStore }, "auto", "keychain", "file", "env")},
	{Name: "CHATGPT_SIGNIN_TIMEOUT", Default: "15m", Help: "How long a browser or device-code sign-in may wait for you before it gives up.", apply: duration(func(c *Config) *time.Duration { return &c.SignInTimeout })},
	{Name: "CHATGPT_CALLBACK_PORT", Default: "1455", Help: "Port on 127.0.0.1 where the browser sign-in's answer arrives. ChatGPT's sign-in only accepts 1455; change it only for tests against a fake sign-in server.", apply: func(c *Config, v string) error {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("not a port number: %q", v)
		}
		c.CallbackPort = p
		return nil
	}},
	{Name: "CHATGPT_BROWSER", Help: "Command that opens the sign-in page, such as firefox or \"chromium --incognito\"; the address is added as the last argument. Default: the system's default browser.", apply: str(func(c *Config) *string { return &c.Browser })},
	{Name: "CODEX_HOME", Help: "The Codex CLI's folder, for import-codex. Default: ~/.codex.", apply: str(func(c *Config) *string { return &c.CodexHome })},

	{Name: "CHATGPT_HEADLESS", Default: "false", Help: "Run without a tray icon (same as --headless).", apply: boolean(func(c *Config) *bool { return &c.Headless })},
	{Name: "CHATGPT_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error.", apply: oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
	{Name: "CHATGPT_LOG_DIR", Help: "Folder for log files. Default: the OS's usual place (see README).", apply: str(func(c *Config) *string { return &c.LogDir })},
	// Read by Dir, before any .env is: listed here for --help and so that
	// it is not taken for a typo.
	{Name: DirEnv, Help: "The app's folder (request counts, installation id, .env, a secrets file you chose) in place of the OS's usual one; from the environment only, since the folder holds the .env.", apply: func(*Config, string) error { return nil }},
}

// Lookup reads one variable; it returns false when unset.
type Lookup func(name string) (string, bool)

// Load builds a Config from the environment, then the .env in the working
// directory, then the .env in Dir(). Earlier sources win, as with godotenv.
func Load() (*Config, error) {
	files := []string{".env"}
	if d, err := Dir(); err == nil {
		files = append(files, filepath.Join(d, ".env"))
	}
	return LoadFrom(os.LookupEnv, files...)
}

// LoadFrom builds a Config from env, then the given .env files in order.
// Missing files are ignored.
func LoadFrom(env Lookup, files ...string) (*Config, error) {
	values := map[string]string{}
	sources := map[string]string{}
	for _, s := range Settings {
		if v, ok := env(s.Name); ok {
			values[s.Name], sources[s.Name] = v, "environment"
		}
	}
	for _, f := range files {
		kv, err := readDotEnv(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			if abs, aerr := filepath.Abs(f); aerr == nil {
				f = abs
			}
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		for k, v := range kv {
			if _, ok := values[k]; !ok {
				values[k], sources[k] = v, f
			}
		}
	}
	c := &Config{Sources: sources}
	for _, s := range Settings {
		v, ok := values[s.Name]
		if !ok {
			v = s.Default
		}
		v = strings.TrimSpace(v)
		if v == "" && s.Default != "" && ok {
			v = s.Default
		}
		if err := s.apply(c, v); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("CHATGPT_BASE_URL: not an http(s) URL: %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.WebOrigin == "" {
		c.WebOrigin = u.Scheme + "://" + u.Host
	}
	c.WebOrigin = strings.TrimRight(c.WebOrigin, "/")
	if u, err := url.Parse(c.WebOrigin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("CHATGPT_WEB_ORIGIN: not an origin like https://chatgpt.com: %q", c.WebOrigin)
	}
	if u, err := url.Parse(c.AuthURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("CHATGPT_AUTH_URL: not a URL like https://auth.openai.com: %q", c.AuthURL)
	}
	if err := c.validateLists(); err != nil {
		return err
	}
	c.AuthURL = strings.TrimRight(c.AuthURL, "/")
	if err := c.validateProxy(); err != nil {
		return err
	}
	if _, err := ParseSize(c.BodyLimit); err != nil {
		return fmt.Errorf("CHATGPT_BODY_LIMIT: %w", err)
	}
	if _, err := ParseSize(c.ResponsesMemory); err != nil {
		return fmt.Errorf("CHATGPT_RESPONSES_MEMORY: %w", err)
	}
	if c.NoAPIKey && !c.IsLoopback() {
		return errors.New("CHATGPT_NO_API_KEY is only allowed when CHATGPT_HOST is a loopback address")
	}
	return nil
}

// validateLists checks and cleans the allowed hosts and origins.
func (c *Config) validateLists() error {
	for i, h := range c.AllowedHosts {
		// Accept a pasted URL ("https://x.trycloudflare.com/") as its host.
		if u, err := url.Parse(h); err == nil && u.Host != "" {
			h = u.Host
		}
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		h = strings.ToLower(strings.Trim(strings.TrimRight(h, "/"), "[]"))
		if h == "" || strings.ContainsAny(h, "/ ") {
			return fmt.Errorf("CHATGPT_ALLOWED_HOSTS: not a host name: %q", c.AllowedHosts[i])
		}
		c.AllowedHosts[i] = h
	}
	for _, o := range c.AllowedOrigin {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.TrimRight(u.Path, "/") != "" {
			return fmt.Errorf("CHATGPT_ALLOWED_ORIGINS: not an origin like https://app.example.com: %q", o)
		}
	}
	return nil
}

// validateProxy checks CHATGPT_PROXY.
func (c *Config) validateProxy() error {
	if c.Proxy != "" {
		p, err := url.Parse(c.Proxy)
		if err != nil || p.Host == "" {
			return errors.New("CHATGPT_PROXY: not a URL like http://host:port or socks5://host:port")
		}
		switch p.Scheme {
		case "http", "https", "socks5", "socks5h", "socks4":
		default:
			return fmt.Errorf("CHATGPT_PROXY: unsupported scheme %q (use http, https, socks5 or socks5h)", p.Scheme)
		}
	}
	return nil
}

// ParseSize reads a size like 50M, 512K, 1G or 1048576 (bytes).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("not a size like 50M, 512K or 1G: %q", s)
	}
	return n * mult, nil
}

// UnknownVariables lists CHATGPT_* variables in the environment that no
// setting reads: most likely typos.
func UnknownVariables(environ []string) []string {
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.Name] = true
	}
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CHATGPT_") && !known[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// IsLoopback reports whether Host is a loopback address or localhost.
func (c *Config) IsLoopback() bool {
	if c.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(c.Host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the listen address, host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// PublicBaseURL is the OpenAI base URL clients use, e.g.
// http://127.0.0.1:8100/v1. port overrides Port when non-zero (port 0 binds).
func (c *Config) PublicBaseURL(port int) string {
	if port == 0 {
		port = c.Port
	}
	host := c.Host
	if host == "0.0.0.0" || host == "::" || host == "" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/v1"
}

// DirEnv names a folder to use in place of the app's usual one (a trial
// set-up, a second instance). It is read from the environment only: the
// folder holds the .env file.
const DirEnv = "CHATGPT_CONFIG_DIR"

// Dir returns the app's folder: $CHATGPT_CONFIG_DIR, else its folder
// under os.UserConfigDir.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding the config folder: %w", err)
	}
	return filepath.Join(d, AppName), nil
}

// InstallationID returns the app's installation id (a UUIDv4 the Codex CLI
// keeps in $CODEX_HOME/installation_id and sends in its turn metadata),
// kept in the config folder. It is not a secret. When the folder cannot be
// used the id is random for this run.
func InstallationID() string {
	d, err := Dir()
	if err != nil {
		return newUUIDv4()
	}
	return InstallationIDIn(d)
}

// InstallationIDIn is InstallationID with the folder given.
func InstallationIDIn(dir string) string {
	p := filepath.Join(dir, "installation_id")
	if b, err := os.ReadFile(p); err == nil {
		if id := strings.TrimSpace(string(b)); len(id) == 36 {
			return id
		}
	}
	id := newUUIDv4()
	if err := os.MkdirAll(dir, 0o700); err == nil {
		_ = os.WriteFile(p, []byte(id+"\n"), 0o600)
	}
	return id
}

func newUUIDv4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// WriteHelp prints every setting with its default for --help.
func WriteHelp(w io.Writer) {
	names := make([]string, 0, len(Settings))
	for _, s := range Settings {
		names = append(names, s.Name)
	}
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, s := range Settings {
		switch {
		case s.Default != "":
			fmt.Fprintf(w, "  %-*s  %s (default: %s)\n", width, s.Name, s.Help, s.Default)
		case strings.Contains(s.Help, "Default:"):
			fmt.Fprintf(w, "  %-*s  %s\n", width, s.Name, s.Help)
		default:
			fmt.Fprintf(w, "  %-*s  %s (default: unset)\n", width, s.Name, s.Help)
		}
	}
}

// readDotEnv parses a .env file: KEY=VALUE lines, # comments, optional
// "export ", single or double quotes.
func readDotEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected KEY=VALUE", n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
			end := strings.IndexByte(v[1:], v[0])
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated quote", n)
			}
			quoted := v[:end+2]
			v = quoted[1 : len(quoted)-1]
			if quoted[0] == '"' {
				if uq, err := strconv.Unquote(quoted); err == nil {
					v = uq
				}
			}
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	return out, sc.Err()
}

// SortedSources returns "NAME (source)" lines for the variables that were set,
// without their values.
func (c *Config) SortedSources() []string {
	var out []string
	for k, v := range c.Sources {
		out = append(out, k+" ("+v+")")
	}
	sort.Strings(out)
	return out
}

func str(f func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func list(f func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*f(c) = out
		return nil
	}
}

func boolean(f func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		*f(c) = b
		return nil
	}
}

func integer(f func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("not a non-negative number: %q", v)
		}
		*f(c) = n
		return nil
	}
}

func duration(f func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			if n, err2 := strconv.Atoi(v); err2 == nil {
				d, err = time.Duration(n)*time.Second, nil
			}
		}
		if err != nil || d < 0 {
			return fmt.Errorf("not a duration like 30s or 5m: %q", v)
		}
		*f(c) = d
		return nil
	}
}

// oneOfOrEmpty is oneOf that also accepts an empty value (unset).
func oneOfOrEmpty(f func(*Config) *string, allowed ...string) func(*Config, string) error {
	check := oneOf(f, allowed...)
	return func(c *Config, v string) error {
		if v == "" {
			*f(c) = ""
			return nil
		}
		return check(c, v)
	}
}

func oneOf(f func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.ToLower(v)
		for _, a := range allowed {
			if v == a {
				*f(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// modelMap checks CHATGPT_CLAUDE_MODELS: key=model[:effort] pairs.
func modelMap(c *Config, v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, m, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(m) == "" {
			return fmt.Errorf("%q is not key=model[:effort]", part)
		}
		if _, effort, ok := strings.Cut(m, ":"); ok {
			switch strings.ToLower(strings.TrimSpace(effort)) {
			case "none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra":
			default:
				return fmt.Errorf("%q: %q is not a reasoning effort", part, effort)
			}
		}
	}
	c.ClaudeModels = v
	return nil
}
