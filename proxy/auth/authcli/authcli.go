// Package authcli is the command line for signing in, so that a person on
// a headless machine can do everything the tray does: login (browser or
// device code), logout, status, import-codex, set-session-token and
// api-key. main.go calls Main for these subcommands.
//
// No command prints a ChatGPT token, cookie or refresh token. The local
// API key is printed only by "api-key", on explicit request: it is the
// person's own key for their own local server.
package authcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/browser"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/creds"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// Commands lists the subcommands Main handles, for main.go's dispatch.
var Commands = []string{"login", "logout", "status", "import-codex", "set-session-token", "api-key"}

// IsCommand reports whether name is one of Commands.
func IsCommand(name string) bool {
	for _, c := range Commands {
		if c == name {
			return true
		}
	}
	return false
}

// The seams below are variables so that tests (and main.go) can replace
// them.
var (
	// OpenURL opens url in the default browser. It runs pkg/browser in a
	// goroutine and gives up waiting after a few seconds, because the
	// opener can block for a long time (a text browser, a broken
	// xdg-open). Callers always also print the URL.
	OpenURL = openBrowser
	// NewHTTP builds the upstream client from the settings.
	NewHTTP = func(cfg *config.Config) (creds.HTTP, error) { return upstream.New(upstream.Settings(cfg, nil)) }
	// OpenSecrets opens the secret store (creds.OpenSecrets).
	OpenSecrets = creds.OpenSecrets
	// CallbackPort is the browser sign-in's callback port; 0 means 1455.
	CallbackPort = 0
)

var browserOnce sync.Once

// openBrowser is the default OpenURL.
func openBrowser(u string) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return fmt.Errorf("refusing to open %q: not an http(s) address", u)
	}
	browserOnce.Do(func() {
		browser.Stdout = io.Discard
		browser.Stderr = io.Discard
	})
	done := make(chan error, 1)
	go func() { done <- browser.OpenURL(u) }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		return nil // still starting; the URL is printed anyway
	}
}

const usage = `Usage: chatgpt-to-api <command>

Commands:
  login               Sign in with your ChatGPT account in the browser (Codex sign-in).
  login --device      Sign in on another device with a one-time code (for machines without a browser).
  logout              Forget the stored sign-in (the local API key is kept).
  status              Show the account, plan, token expiry and where secrets are kept.
  import-codex        Copy the Codex CLI's sign-in ($CODEX_HOME/auth.json) into this app, once.
  set-session-token   Read a chatgpt.com session token from standard input and save it:
                        chatgpt-to-api set-session-token < token.txt
  api-key             Print the local API key clients must send.
`

// Main runs one auth subcommand; args[0] is the command. It returns the
// process exit code: 0 on success, 1 on failure, 2 on a usage error
// ("status" returns 1 when not signed in).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, cfg *config.Config) int {
	if len(args) == 0 || !IsCommand(args[0]) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	// Refuse a token on the command line before anything else.
	if cmd == "set-session-token" && len(rest) > 0 {
		fmt.Fprintln(stderr, "set-session-token reads the token from standard input, never from the command line,")
		fmt.Fprintln(stderr, "where it would end up in your shell history and the process list. Pipe it in instead:")
		fmt.Fprintln(stderr, "  chatgpt-to-api set-session-token < token.txt")
		fmt.Fprintln(stderr, "or run it without arguments and paste the token.")
		return 2
	}
	device := false
	for _, a := range rest {
		switch {
		case cmd == "login" && (a == "--device" || a == "-device"):
			device = true
		default:
			fmt.Fprintf(stderr, "%s: unexpected argument %q\n\n%s", cmd, a, usage)
			return 2
		}
	}

	secrets, note, err := OpenSecrets(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	level := slog.LevelError + 1
	if cfg.LogLevel == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if cmd == "api-key" {
		return apiKey(ctx, stdout, stderr, secrets, note, cfg)
	}
	h, err := NewHTTP(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	m := creds.NewManager(creds.Options{Config: cfg, Secrets: secrets, HTTP: h, CallbackPort: CallbackPort, Log: log})
	saves := cmd == "login" || cmd == "import-codex" || cmd == "set-session-token"
	if saves && secrets.Where() == "memory" {
		fmt.Fprintln(stderr, note)
		return 1
	}
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, cfg: cfg, secrets: secrets, note: note, m: m}
	switch cmd {
	case "login":
		if device {
			return c.loginDevice()
		}
		return c.login()
	case "logout":
		return c.logout()
	case "status":
		return c.status()
	case "import-codex":
		return c.importCodex()
	default:
		return c.setSessionToken()
	}
}

// cli holds what the commands share.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	cfg            *config.Config
	secrets        keychain.Secrets
	note           string
	m              *creds.Manager
}

// fail prints err and returns 1.
func (c *cli) fail(err error) int {
	fmt.Fprintln(c.stderr, "Error:", err)
	return 1
}

// where describes the secret store.
func (c *cli) where() string { return describeWhere(c.secrets.Where()) }

func (c *cli) login() int {
	openURL := OpenURL
	if c.cfg.Browser != "" {
		openURL = creds.BrowserCommand(c.cfg.Browser)
	}
	open := func(u string) error {
		fmt.Fprintln(c.stdout, "Opening your browser to sign in. If it does not open, visit this address on this computer:")
		fmt.Fprintln(c.stdout, "  "+u)
		if err := openURL(u); err != nil {
			fmt.Fprintln(c.stderr, "Could not open the browser:", err)
			fmt.Fprintln(c.stderr, "On a machine without a browser, use `chatgpt-to-api login --device`.")
		}
		return nil
	}
	if err := c.m.SignInWith(c.ctx, open); err != nil {
		return c.fail(fmt.Errorf("signing in: %w", err))
	}
	c.signedIn()
	return 0
}

func (c *cli) loginDevice() int {
	err := c.m.SignInDevice(c.ctx, func(dc creds.DeviceCode) {
		fmt.Fprintln(c.stdout, "On any device, open:")
		fmt.Fprintln(c.stdout, "  "+dc.VerificationURL)
		fmt.Fprintln(c.stdout, "and enter this code (it expires in 15 minutes):")
		fmt.Fprintln(c.stdout, "  "+dc.UserCode)
		fmt.Fprintln(c.stdout, "Waiting…")
	})
	if err != nil {
		return c.fail(fmt.Errorf("signing in: %w", err))
	}
	c.signedIn()
	return 0
}

// signedIn reports a completed sign-in.
func (c *cli) signedIn() {
	a := c.m.Status()
	who := a.Email
	if who == "" {
		who = "your ChatGPT account"
	}
	fmt.Fprintf(c.stdout, "Signed in as %s%s. The sign-in is saved in %s.\n", who, planSuffix(a.Plan), c.where())
	if c.cfg.AccessToken != "" || c.cfg.SessionToken != "" {
		fmt.Fprintln(c.stdout, "Note: CHATGPT_ACCESS_TOKEN or CHATGPT_SESSION_TOKEN is set in the environment and takes precedence at the next start; unset it to use this sign-in.")
	}
}

func planSuffix(plan string) string {
	if plan == "" {
		return ""
	}
	return " (plan " + plan + ")"
}

func (c *cli) logout() int {
	if err := c.m.Logout(c.ctx); err != nil {
		return c.fail(fmt.Errorf("signing out: %w", err))
	}
	fmt.Fprintf(c.stdout, "Signed out: the stored sign-in was removed from %s.\n", c.where())
	if c.cfg.AccessToken != "" || c.cfg.SessionToken != "" {
		fmt.Fprintln(c.stdout, "CHATGPT_ACCESS_TOKEN or CHATGPT_SESSION_TOKEN is still set in the environment and will be used.")
	}
	return 0
}

func (c *cli) importCodex() int {
	path, err := c.m.ImportCodex(c.ctx)
	if err != nil {
		return c.fail(fmt.Errorf("importing the Codex CLI sign-in: %w", err))
	}
	fmt.Fprintln(c.stderr, creds.ShareWarning)
	a := c.m.Status()
	fmt.Fprintf(c.stdout, "Imported the Codex CLI sign-in%s from %s into %s. The Codex CLI's file was not changed.\n", accountSuffix(a), path, c.where())
	return 0
}

func accountSuffix(a status.Auth) string {
	if a.Email == "" {
		return ""
	}
	return " of " + a.Email + planSuffix(a.Plan)
}

// maxTokenInput bounds what set-session-token reads.
const maxTokenInput = 64 << 10

func (c *cli) setSessionToken() int {
	if f, ok := c.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(c.stderr, "Paste the value of the "+creds.SessionCookieName+" cookie (or the whole Cookie header),")
			fmt.Fprintln(c.stderr, "then press Enter and Ctrl-D (Ctrl-Z and Enter on Windows).")
			fmt.Fprintln(c.stderr, "Terminals cut pasted lines at about 4,000 characters; for a longer token use:  chatgpt-to-api set-session-token < token.txt")
		}
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, maxTokenInput+1))
	if err != nil {
		return c.fail(fmt.Errorf("reading the token from standard input: %w", err))
	}
	if len(b) > maxTokenInput {
		return c.fail(errors.New("the input is larger than 64 KiB; it is not a session token"))
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return c.fail(errors.New("no token on standard input"))
	}
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Minute)
	defer cancel()
	if err := c.m.SetSessionToken(ctx, token); err != nil {
		return c.fail(fmt.Errorf("the session token was not saved: %w", err))
	}
	a := c.m.Status()
	fmt.Fprintf(c.stdout, "Session token checked and saved in %s (%d characters).\n", c.where(), len(token))
	fmt.Fprintf(c.stdout, "Signed in as %s%s.\n", orDefault(a.Email, "your ChatGPT account"), planSuffix(a.Plan))
	if c.cfg.AccessToken != "" || c.cfg.SessionToken != "" {
		fmt.Fprintln(c.stdout, "Note: CHATGPT_ACCESS_TOKEN or CHATGPT_SESSION_TOKEN is set in the environment and takes precedence at the next start.")
	}
	return 0
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *cli) status() int {
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	_, credErr := c.m.Credentials(ctx)
	a := c.m.Status()
	w := c.stdout
	row := func(k, v string) { fmt.Fprintf(w, "%-14s %s\n", k+":", v) }
	switch a.State {
	case status.AuthSignedIn:
		row("Signed in", "yes, with "+sourceName(a.Source))
	default:
		msg := a.Message
		if msg == "" && credErr != nil {
			msg = credErr.Error()
		}
		row("Signed in", "no: "+msg)
	}
	if a.Email != "" || a.AccountID != "" {
		var details []string
		if a.Plan != "" {
			details = append(details, "plan "+a.Plan)
		}
		if a.AccountID != "" {
			details = append(details, "account "+a.AccountID)
		}
		acct := orDefault(a.Email, "unknown email")
		if len(details) > 0 {
			acct += " (" + strings.Join(details, ", ") + ")"
		}
		row("Account", acct)
	}
	now := time.Now()
	if !a.TokenExpires.IsZero() {
		row("Access token", "expires "+when(a.TokenExpires, now))
	}
	if !a.SessionExpires.IsZero() {
		row("Web session", "expires "+when(a.SessionExpires, now))
	}
	if !a.LastRefresh.IsZero() {
		row("Last refresh", when(a.LastRefresh, now))
	}
	if a.State == status.AuthSignedIn && a.Message != "" {
		row("Warning", a.Message)
	}
	switch {
	case a.Storage == "environment":
		row("Secret", "from the environment ("+envName(c.cfg)+")")
	case a.Source != "":
		row("Secret", "stored in "+c.where())
	default:
		row("Secrets", "kept in "+c.where())
	}
	row("API key", c.apiKeyWhere(ctx))
	if c.note != "" {
		row("Note", c.note)
	}
	if a.State != status.AuthSignedIn {
		fmt.Fprintln(w, "\nTo sign in: chatgpt-to-api login (or login --device, or set-session-token < token.txt)")
		return 1
	}
	return 0
}

// apiKeyWhere says where the local API key is and how to copy it.
func (c *cli) apiKeyWhere(ctx context.Context) string {
	loc := creds.APIKeyLocation(c.secrets, c.cfg)
	if c.cfg.APIKey != "" || c.cfg.NoAPIKey {
		return loc
	}
	if _, err := c.secrets.Get(ctx, creds.KeyAPIKey); errors.Is(err, keychain.ErrNotFound) {
		return "not created yet; it is generated at the first start, or now by `chatgpt-to-api api-key`"
	}
	return loc + "; print it with `chatgpt-to-api api-key` (or use the tray's Copy API key)"
}

func sourceName(s string) string {
	switch s {
	case "codex_oauth":
		return "the Codex sign-in (OAuth)"
	case "session_token":
		return "a chatgpt.com session token"
	case "access_token":
		return "an access token (it cannot be refreshed)"
	}
	return s
}

func envName(cfg *config.Config) string {
	if cfg.AccessToken != "" {
		return "CHATGPT_ACCESS_TOKEN"
	}
	return "CHATGPT_SESSION_TOKEN"
}

// when formats t with a relative hint.
func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	rel := ""
	switch {
	case d > 0:
		rel = " (in " + human(d) + ")"
	case d < 0:
		rel = " (" + human(-d) + " ago)"
	default:
		rel = " (just now)"
	}
	return t.Local().Format("2006-01-02 15:04 MST") + rel
}

func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return "less than a minute"
}

// apiKey prints the local API key on explicit request.
func apiKey(ctx context.Context, stdout, stderr io.Writer, secrets keychain.Secrets, note string, cfg *config.Config) int {
	if cfg.NoAPIKey && cfg.APIKey == "" {
		fmt.Fprintln(stderr, "There is no API key: CHATGPT_NO_API_KEY=true lets clients in without one.")
		return 1
	}
	if cfg.APIKey == "" && secrets.Where() == "memory" {
		// A key made up here would be unknown to the server, which makes
		// its own per-run key: refuse rather than print a useless one.
		fmt.Fprintln(stderr, "No API key is saved anywhere: without a keychain the server generates a key for each run and shows it on its terminal. Set CHATGPT_API_KEY to choose a permanent one, or CHATGPT_SECRET_STORE=file to keep the generated key in an owner-only file.")
		return 1
	}
	key, created, err := creds.LoadOrCreateAPIKey(ctx, secrets, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	fmt.Fprintln(stdout, key)
	switch {
	case created && secrets.Where() == "memory":
		fmt.Fprintln(stderr, "This key was generated just now and could not be saved:", note)
	case created:
		fmt.Fprintln(stderr, "A new key was generated and saved in "+describeWhere(secrets.Where())+".")
	default:
		fmt.Fprintln(stderr, "API key: "+creds.APIKeyLocation(secrets, cfg)+".")
	}
	return 0
}

// describeWhere words a Secrets.Where value.
func describeWhere(w string) string {
	switch {
	case w == "keychain":
		return "the OS keychain (service " + keychain.DefaultService + ")"
	case strings.HasPrefix(w, "file:"):
		return "the owner-only file " + strings.TrimPrefix(w, "file:")
	case w == "memory":
		return "memory only (not saved)"
	}
	return w
}
