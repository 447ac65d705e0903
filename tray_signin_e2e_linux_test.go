package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain/keychaintest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray/traytest"
)

// The sign-in tests drive the real binary in the tray, in a private
// desktop: a session bus with a StatusNotifierWatcher, gnome-keyring as the
// Secret Service, and Xvfb. The browser is a stand-in (this test binary,
// run through CHATGPT_BROWSER) that records the address it was asked to
// open and, when told to, opens it: it follows the fake issuer's redirect
// to the app's callback, as a browser whose person signs in would.

// standInEnv names the folder where the browser stand-in records the
// addresses and reads what to do ("follow" or anything else: ignore).
const standInEnv = "CTA_TEST_BROWSER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(standInEnv); dir != "" && len(os.Args) == 2 {
		os.Exit(runBrowserStandIn(dir, os.Args[1]))
	}
	os.Exit(m.Run())
}

// runBrowserStandIn is the browser: it appends u to dir/urls and, in
// "follow" mode, loads u and follows the redirects to the callback page.
func runBrowserStandIn(dir, u string) int {
	f, err := os.OpenFile(filepath.Join(dir, "urls"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 1
	}
	fmt.Fprintln(f, u)
	f.Close()
	mode, _ := os.ReadFile(filepath.Join(dir, "mode"))
	if strings.TrimSpace(string(mode)) != "follow" {
		return 0 // a browser window the person closes without signing in
	}
	page, err := loadPage(u)
	if err != nil {
		page = "error: " + err.Error()
	}
	p, err := os.OpenFile(filepath.Join(dir, "pages"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 1
	}
	defer p.Close()
	fmt.Fprintln(p, strings.Join(strings.Fields(page), " "))
	return 0
}

// loadPage GETs u, following redirects, and returns the final page.
func loadPage(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// browserStandIn controls the stand-in from the test.
type browserStandIn struct{ dir string }

func newBrowserStandIn(t *testing.T) *browserStandIn {
	t.Helper()
	b := &browserStandIn{dir: t.TempDir()}
	b.setMode(t, "ignore")
	return b
}

func (b *browserStandIn) setMode(t *testing.T, mode string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(b.dir, "mode"), []byte(mode), 0o600); err != nil {
		t.Fatal(err)
	}
}

// env is what the app (and the command line) need to use the stand-in.
func (b *browserStandIn) env(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{"CHATGPT_BROWSER=" + exe, standInEnv + "=" + b.dir}
}

func (b *browserStandIn) lines(name string) []string {
	data, _ := os.ReadFile(filepath.Join(b.dir, name))
	return strings.Fields(strings.TrimSpace(string(data)))
}

// waitURL waits until the stand-in was asked to open n addresses and
// returns the n-th.
func (b *browserStandIn) waitURL(t *testing.T, ctx context.Context, n int) string {
	t.Helper()
	for {
		if urls := b.lines("urls"); len(urls) >= n {
			return urls[n-1]
		}
		if ctx.Err() != nil {
			t.Fatalf("the browser was never asked to open a sign-in page (%d so far)", len(b.lines("urls")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPage waits for the n-th page the stand-in loaded.
func (b *browserStandIn) waitPage(t *testing.T, ctx context.Context, n int) string {
	t.Helper()
	for {
		data, _ := os.ReadFile(filepath.Join(b.dir, "pages"))
		if pages := strings.Split(strings.TrimSpace(string(data)), "\n"); len(data) > 0 && len(pages) >= n {
			return pages[n-1]
		}
		if ctx.Err() != nil {
			t.Fatal("the browser never loaded the callback page")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signInDesktop is a private desktop with the tray app in it.
type signInDesktop struct {
	t        *testing.T
	ctx      context.Context
	app      *app
	item     *traytest.Item
	env      []string // for the app and the command line
	root     string
	port     int // the sign-in callback port
	key      string
	browser  *browserStandIn
	issuer   *codextest.AuthServer
	lastMenu traytest.Node
}

// startSignInDesktop starts the desktop, a fake backend and issuer with
// opts, and the app in the tray, not signed in.
func startSignInDesktop(t *testing.T, ctx context.Context, opts codextest.AuthOptions, extraEnv ...string) *signInDesktop {
	t.Helper()
	traytest.Require(t, "dbus-daemon", "Xvfb")
	keychaintest.RequireTools(t, "dbus-daemon", "gnome-keyring-daemon", "secret-tool")
	ss := keychaintest.Start(t, keychaintest.UnlockedKeyring)
	display := traytest.StartXvfb(t)
	w := traytest.StartWatcher(t, ss.BusAddr)
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(opts)
	issuer.Mount(fake)
	d := &signInDesktop{t: t, ctx: ctx, root: ss.Root, port: freePort(t), key: "sk-local-signin-e2e",
		browser: newBrowserStandIn(t), issuer: issuer}
	d.env = append(keychaintest.BaseEnv(), ss.Env...)
	d.env = append(d.env, "DISPLAY="+display, "NO_AT_BRIDGE=1",
		"CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL,
		"CHATGPT_API_KEY="+d.key, "CHATGPT_SECRET_STORE=keychain", "CHATGPT_LOG_LEVEL=debug",
		"CHATGPT_CALLBACK_PORT="+strconv.Itoa(d.port))
	d.env = append(append(d.env, d.browser.env(t)...), extraEnv...)
	d.app = launch(t, d.env)

	items := make(chan *traytest.Item, 1)
	go func() {
		it, _ := w.WaitItem(ctx)
		items <- it
	}()
	select {
	case d.item = <-items:
		if d.item == nil {
			t.Fatalf("the tray never registered\n%s", d.app.output())
		}
	case err := <-d.app.exited:
		d.app.exited <- err
		t.Fatalf("the app exited before its tray registered: %v\n%s", err, d.app.output())
	}
	d.menu("the signed-out menu", has("Not signed in"), has("Sign in…"), lacks(reSignOut))
	return d
}

// A menu condition.
type menuCond func(traytest.Node) bool

func has(label string) menuCond {
	return func(n traytest.Node) bool { _, ok := n.FindLabel(label); return ok }
}

func hasRe(re *regexp.Regexp) menuCond {
	return func(n traytest.Node) bool { _, ok := n.Find(re); return ok }
}

func lacks(re *regexp.Regexp) menuCond {
	return func(n traytest.Node) bool { _, ok := n.Find(re); return !ok }
}

var (
	reSignOut     = regexp.MustCompile(`^Sign out`)
	reSigningItem = regexp.MustCompile(`^(Cancel sign-in|Open the sign-in page again|Signing in…)$`)
	reQuotaLine   = regexp.MustCompile(`^(5-hour|Weekly): `)
	reLastError   = regexp.MustCompile(`^Last error`)
	reFailure     = regexp.MustCompile(`(?i)fail|cancel|error|denied|timed out`)
)

// menu waits until the menu meets every condition and returns it.
func (d *signInDesktop) menu(what string, conds ...menuCond) traytest.Node {
	d.t.Helper()
	n := d.item.WaitLayout(d.t, d.ctx, what, func(n traytest.Node) bool {
		for _, c := range conds {
			if !c(n) {
				return false
			}
		}
		return true
	})
	d.lastMenu = n
	d.t.Logf("menu with %s:\n  %s", what, strings.Join(n.Labels(), "\n  "))
	return n
}

// click clicks the visible item labelled label (matched by re).
func (d *signInDesktop) click(re *regexp.Regexp) {
	d.t.Helper()
	n, err := d.item.Layout(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	it, ok := n.Find(re)
	if !ok {
		d.t.Fatalf("the menu has no item matching %s:\n%s", re, strings.Join(n.Labels(), "\n"))
	}
	if !it.Enabled {
		d.t.Fatalf("%q is not clickable", it.Label)
	}
	if err := d.item.Click(d.ctx, it.ID); err != nil {
		d.t.Fatalf("clicking %q: %v", it.Label, err)
	}
}

func exact(label string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(label) + "$")
}

// portHeld reports whether something accepts connections on the callback
// port.
func (d *signInDesktop) portHeld() bool {
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// waitPortFree waits until the callback port can be bound again.
func (d *signInDesktop) waitPortFree(what string) {
	d.t.Helper()
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)))
		if err == nil {
			ln.Close()
			return
		}
		if d.ctx.Err() != nil {
			d.t.Fatalf("the callback port %d is still held after %s: %v", d.port, what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keychainKeys lists the app's keys in the Secret Service (chunks left out).
func (d *signInDesktop) keychainKeys() []string {
	d.t.Helper()
	cmd := exec.CommandContext(d.ctx, "secret-tool", "search", "--all", "service", "chatgpt-to-api")
	cmd.Env = d.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	_ = cmd.Run() // exits 1 when nothing matches
	var keys []string
	sc := bufio.NewScanner(io.MultiReader(&out, &errOut))
	for sc.Scan() {
		if k, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "attribute.username = "); ok {
			if !regexp.MustCompile(`\.\d+\.\d+$`).MatchString(k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func (d *signInDesktop) assertKeychain(what string, wantSignIn bool, key string) {
	d.t.Helper()
	keys := d.keychainKeys()
	if got := slices.Contains(keys, key); got != wantSignIn {
		d.t.Errorf("after %s the keychain holds %v; want %s present = %v", what, keys, key, wantSignIn)
	}
}

// cli runs a command line command of the app with the same settings.
func (d *signInDesktop) cli(stdin string, args ...string) (string, error) {
	d.t.Helper()
	cmd := exec.CommandContext(d.ctx, binary(d.t), args...)
	cmd.Env = d.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// chat sends one chat request and returns the status code and error code.
func (d *signInDesktop) chat() (int, string) {
	d.t.Helper()
	req, _ := http.NewRequestWithContext(d.ctx, http.MethodPost, d.app.base+"/chat/completions",
		strings.NewReader(`{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error.Code
}

// waitChat waits until a chat request answers status.
func (d *signInDesktop) waitChat(status int, what string) string {
	d.t.Helper()
	for {
		got, code := d.chat()
		if got == status {
			return code
		}
		if d.ctx.Err() != nil {
			d.t.Fatalf("a request after %s answered %d %s, want %d\n%s", what, got, code, status, d.app.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTraySignInAndSignOut walks the tray's sign-in paths with a browser
// that is closed, reopened, or beaten by `login` in a terminal, then signs
// out from the tray and from the command line.
func TestTraySignInAndSignOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*livenessDeadline)
	defer cancel()
	d := startSignInDesktop(t, ctx, codextest.AuthOptions{Email: "ann@example.com", Plan: "plus"})
	reSignedIn := exact("Signed in as ann@example.com (Plus)")
	signOut := exact("Sign out (ann@example.com)")

	// 1. The browser is closed without signing in; the person cancels.
	d.click(exact("Sign in…"))
	d.menu("a sign-in waiting", has("Signing in…"), has("Cancel sign-in"), has("Open the sign-in page again"))
	first := d.browser.waitURL(t, ctx, 1)
	if !d.portHeld() {
		t.Error("nothing listens on the callback port while the sign-in waits")
	}
	d.click(exact("Cancel sign-in"))
	d.menu("the sign-in cancelled", has("Sign-in cancelled"), has("Sign in…"), lacks(reSigningItem), has("Not signed in"))
	d.waitPortFree("Cancel sign-in")
	d.assertKeychain("a cancelled sign-in", false, "codex-oauth")

	// 2. Closed, then opened again from the menu: the same page, and the
	// sign-in completes.
	d.click(exact("Sign in…"))
	d.menu("a second sign-in waiting", has("Cancel sign-in"), lacks(exact("Sign-in cancelled")))
	pending := d.browser.waitURL(t, ctx, 2)
	if pending == first {
		t.Error("a new sign-in reused the previous sign-in's address (state and PKCE must be new)")
	}
	d.browser.setMode(t, "follow")
	d.click(exact("Open the sign-in page again"))
	if again := d.browser.waitURL(t, ctx, 3); again != pending {
		t.Errorf("the page opened again is %q, want the pending %q", again, pending)
	}
	if page := d.browser.waitPage(t, ctx, 1); !strings.Contains(page, "You can close this tab") {
		t.Errorf("the browser showed %q", page)
	}
	d.menu("signed in", hasRe(reSignedIn), hasRe(signOut), has("Sign in again…"), lacks(reSigningItem), lacks(reFailure))
	d.waitPortFree("the sign-in")
	d.assertKeychain("the sign-in", true, "codex-oauth")
	if code, _ := d.chat(); code != http.StatusOK {
		t.Fatalf("a request after signing in answered %d\n%s", code, d.app.output())
	}
	d.menu("the quota", hasRe(reQuotaLine))

	// 3. Sign out from the tray: the account's lines go, requests stop.
	d.click(signOut)
	d.menu("signed out from the tray", has("Not signed in"), has("Sign in…"), lacks(reSignOut), lacks(reQuotaLine))
	d.assertKeychain("Sign out", false, "codex-oauth")
	if code, errCode := d.chat(); code != http.StatusUnauthorized || errCode != "not_signed_in" {
		t.Errorf("a request after Sign out answered %d %q, want 401 not_signed_in", code, errCode)
	}
	d.menu("the refused request's error", hasRe(reLastError))

	// 4. A sign-in in a terminal replaces the tray's pending one; the tray
	// reports no failure and shows the account.
	d.browser.setMode(t, "ignore")
	d.click(exact("Sign in…"))
	d.menu("a third sign-in waiting", has("Cancel sign-in"))
	d.browser.waitURL(t, ctx, 4)
	d.browser.setMode(t, "follow")
	if out, err := d.cli("", "login"); err != nil || !strings.Contains(out, "Signed in as ann@example.com") {
		t.Fatalf("login in a terminal: %v\n%s\n%s", err, out, d.app.output())
	}
	d.menu("signed in from the terminal", hasRe(reSignedIn), hasRe(signOut), lacks(reSigningItem), lacks(reFailure), lacks(reLastError))
	d.waitPortFree("a sign-in replaced by another")
	d.assertKeychain("login in a terminal", true, "codex-oauth")
	d.waitChat(http.StatusOK, "login in a terminal")
	d.menu("the quota after the terminal sign-in", hasRe(reQuotaLine))

	// 5. logout in a terminal while the tray runs: within seconds requests
	// get 401 and the menu says so.
	if out, err := d.cli("", "logout"); err != nil {
		t.Fatalf("logout in a terminal: %v\n%s", err, out)
	}
	if code := d.waitChat(http.StatusUnauthorized, "logout in a terminal"); code != "not_signed_in" {
		t.Errorf("a request after logout answered code %q, want not_signed_in", code)
	}
	d.menu("signed out from the terminal", has("Not signed in"), lacks(reSignOut), lacks(reQuotaLine))
	d.assertKeychain("logout in a terminal", false, "codex-oauth")

	// 6. A session token set in a terminal while the tray runs is used at
	// once, and the stale "not signed in" error goes.
	d.menu("the error of the refused request", hasRe(reLastError))
	session := d.issuer.NewSessionToken(3000)
	if out, err := d.cli(session+"\n", "set-session-token"); err != nil {
		t.Fatalf("set-session-token: %v\n%s", err, out)
	}
	d.menu("signed in with a session token", hasRe(reSignedIn), hasRe(signOut), lacks(reLastError))
	d.waitChat(http.StatusOK, "set-session-token")
	d.assertKeychain("set-session-token", true, "session-token")

	out := d.app.output()
	for _, bad := range []string{"panic", "context deadline excee", "cancelled by another sign-in"} {
		if strings.Contains(out, bad) {
			t.Errorf("the app's output contains %q", bad)
		}
	}
	assertNowhere(t, session, d.root, out)
}

// TestTraySignInTimeoutAndDenied lets a sign-in time out (with a short
// CHATGPT_SIGNIN_TIMEOUT) and has another denied in the browser.
func TestTraySignInTimeoutAndDenied(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*livenessDeadline)
	defer cancel()
	// Long enough for a loaded machine to see the waiting menu before the
	// timeout ends it.
	d := startSignInDesktop(t, ctx, codextest.AuthOptions{AuthorizeError: "access_denied"}, "CHATGPT_SIGNIN_TIMEOUT=5s")

	// Nobody signs in: the sign-in gives up with a sentence, not an error.
	d.click(exact("Sign in…"))
	d.menu("a sign-in waiting", has("Cancel sign-in"))
	d.browser.waitURL(t, ctx, 1)
	d.menu("the timeout", has("Sign-in timed out — try again"), has("Sign in…"), lacks(reSigningItem), has("Not signed in"))
	d.waitPortFree("the timeout")
	d.assertKeychain("the timeout", false, "codex-oauth")

	// The person refuses in the browser.
	d.browser.setMode(t, "follow")
	d.click(exact("Sign in…"))
	if page := d.browser.waitPage(t, ctx, 1); !strings.Contains(page, "Sign-in failed") {
		t.Errorf("the browser showed %q", page)
	}
	d.menu("the denial", has("Sign-in was denied in the browser"), has("Sign in…"), lacks(reSigningItem),
		lacks(exact("Sign-in timed out — try again")))
	d.waitPortFree("the denial")
	d.assertKeychain("the denial", false, "codex-oauth")
	if out := d.app.output(); strings.Contains(out, "panic") {
		t.Errorf("the app panicked:\n%s", out)
	}
}
