package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray/traytest"
)

// These tests run the real binary without --headless: once under a private
// session bus with a StatusNotifierWatcher standing in for the panel (and
// Xvfb + xclip for the clipboard), reading and clicking its menu over
// D-Bus as a panel does; and once with no session bus at all. CI needs the
// Debian packages dbus, xvfb and xclip (never dbus-x11).
//
// Every wait is bounded only by a generous liveness deadline: nothing
// asserts how fast something happens.

// livenessDeadline bounds how long a broken run takes to fail.
const livenessDeadline = 60 * time.Second

// launch starts the binary with args (the tray unless --headless) and env,
// on a free port, and returns once it answers /healthz. The process is
// killed when the test ends if it is still running.
func launch(t *testing.T, env []string, args ...string) *app {
	t.Helper()
	port := freePort(t)
	a := &app{out: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan error, 1),
		base: fmt.Sprintf("http://127.0.0.1:%d/v1", port)}
	a.cmd = exec.Command(binary(t), args...)
	a.cmd.Env = append(append([]string(nil), env...), fmt.Sprintf("CHATGPT_PORT=%d", port))
	w := &lockedWriter{mu: a.mu, w: a.out}
	a.cmd.Stdout, a.cmd.Stderr = w, w
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- a.cmd.Wait() }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		a.exited <- <-a.exited
	})
	deadline := time.Now().Add(livenessDeadline)
	for {
		resp, err := http.Get(strings.TrimSuffix(a.base, "/v1") + "/healthz")
		if err == nil {
			resp.Body.Close()
			return a
		}
		select {
		case err := <-a.exited:
			a.exited <- err
			t.Fatalf("the app exited: %v\n%s", err, a.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app never answered /healthz\n%s", a.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for the app to exit on its own and returns its error.
func (a *app) waitExit(t *testing.T, ctx context.Context, what string) error {
	t.Helper()
	select {
	case err := <-a.exited:
		a.exited <- err
		return err
	case <-ctx.Done():
		t.Fatalf("the app did not exit after %s: %v\n%s", what, ctx.Err(), a.output())
		return nil
	}
}

// assertPortClosed fails when something still accepts connections on the
// app's port.
func assertPortClosed(t *testing.T, base string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the app exited", u.Host)
	}
}

// TestTrayRealBinaryOverDBus starts the real app in the tray on a private
// session bus, against an in-process fake of the backend and its session
// endpoint, and uses the menu as a person would: it shows the account, a
// live token expiry, request counts that grow with real client requests,
// and the quota; "Copy base URL" fills the clipboard; "Quit" exits 0.
func TestTrayRealBinaryOverDBus(t *testing.T) {
	traytest.Require(t, "dbus-daemon", "Xvfb", "xclip")
	ctx, cancel := context.WithTimeout(context.Background(), livenessDeadline)
	defer cancel()

	const lifetime = 50 * time.Minute
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(codextest.AuthOptions{AccessLifetime: lifetime, Email: "ann@example.com", Plan: "plus"})
	issuer.Mount(fake)
	session := issuer.NewSessionToken(3000)

	addr, busEnv := traytest.StartBus(t)
	display := traytest.StartXvfb(t)
	w := traytest.StartWatcher(t, addr)

	root := t.TempDir()
	const key = "sk-local-tray-e2e"
	env := isolatedEnv(root, append(busEnv, "DISPLAY="+display, "NO_AT_BRIDGE=1",
		"CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL,
		"CHATGPT_SESSION_TOKEN="+session, "CHATGPT_API_KEY="+key, "CHATGPT_SECRET_STORE=env",
		"CHATGPT_LOG_LEVEL=debug")...)
	a := launch(t, env)

	// The item registers with the watcher.
	items := make(chan *traytest.Item, 1)
	go func() {
		it, _ := w.WaitItem(ctx)
		items <- it
	}()
	var item *traytest.Item
	select {
	case item = <-items:
		if item == nil {
			t.Fatalf("the tray never registered: %v\n%s", ctx.Err(), a.output())
		}
	case err := <-a.exited:
		a.exited <- err
		t.Fatalf("the app exited before its tray registered: %v\n%s", err, a.output())
	}

	// Signed in from the session token, with a live expiry; no request yet.
	// The menu is retitled item by item, so a layout read while the
	// start-up token exchange ends can show the new expiry beside the
	// old "Refreshing token…": the wait is for the settled menu.
	reSignedIn := regexp.MustCompile(`^Signed in as ann@example\.com \(Plus\)$`)
	reToken := regexp.MustCompile(`^Token expires in (\d+) min$`)
	n := item.WaitLayout(t, ctx, "the signed-in menu", func(n traytest.Node) bool {
		_, ok1 := n.Find(reSignedIn)
		_, ok2 := n.Find(reToken)
		_, ok3 := n.FindLabel("Requests: 0 today · 0 total")
		_, ok4 := n.FindLabel("Refresh token now")
		return ok1 && ok2 && ok3 && ok4
	})
	t.Logf("menu at start:\n%s", strings.Join(n.Labels(), "\n"))
	tok, _ := n.Find(reToken)
	if m, _ := strconv.Atoi(reToken.FindStringSubmatch(tok.Label)[1]); m > int(lifetime/time.Minute) || m < int(lifetime/time.Minute)-10 {
		t.Errorf("token expiry line %q does not match a %s token issued just now", tok.Label, lifetime)
	}
	if st, _ := n.Find(reSignedIn); st.Enabled {
		t.Error("the state line is clickable")
	}
	for _, want := range []string{"Copy base URL (" + a.base + ")", "Copy API key", "Refresh token now", "Open logs folder", "Start at login", "Quit"} {
		if _, ok := n.FindLabel(want); !ok {
			t.Errorf("menu lacks %q", want)
		}
	}

	// Real client requests, streamed and not, make the counts grow and
	// bring the quota from the x-codex-* headers.
	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey(key), option.WithMaxRetries(0))
	const sent = 3
	for i := 1; i <= sent; i++ {
		p := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage(fmt.Sprintf("tray %d", i))}}
		want := fmt.Sprintf("echo: tray %d", i)
		if i%2 == 0 {
			s := client.Chat.Completions.NewStreaming(ctx, p)
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if s.Err() != nil || len(acc.Choices) == 0 || acc.Choices[0].Message.Content != want {
				t.Fatalf("streamed request %d: %v\n%s", i, s.Err(), a.output())
			}
		} else {
			r, err := client.Chat.Completions.New(ctx, p)
			if err != nil || r.Choices[0].Message.Content != want {
				t.Fatalf("request %d: %v\n%s", i, err, a.output())
			}
		}
	}
	reQuota := regexp.MustCompile(`^5-hour: 12% used · resets ([A-Z][a-z]{2} )?\d\d:\d\d$`)
	reWeekly := regexp.MustCompile(`^Weekly: 34% used · resets [A-Z][a-z]{2} \d\d:\d\d$`)
	wantReq := fmt.Sprintf("Requests: %d today · %d total", sent, sent)
	reClient := regexp.MustCompile(fmt.Sprintf(`^OpenAI/Go: %d today · %d total$`, sent, sent))
	n = item.WaitLayout(t, ctx, "the counts and the quota", func(n traytest.Node) bool {
		_, ok1 := n.FindLabel(wantReq)
		_, ok2 := n.Find(reClient)
		_, ok3 := n.Find(reQuota)
		_, ok4 := n.Find(reWeekly)
		return ok1 && ok2 && ok3 && ok4
	})
	t.Logf("menu after %d requests:\n%s", sent, strings.Join(n.Labels(), "\n"))
	if _, ok := n.Find(reSignedIn); !ok {
		t.Error("the state line changed after the requests")
	}
	for _, l := range n.Labels() {
		if strings.Contains(l, key) || strings.Contains(l, session[:32]) {
			t.Errorf("a secret is shown in the menu: %q", l)
		}
	}

	// The tooltip names the base URL.
	var tip []any
	if v, err := item.Property(ctx, "ToolTip"); err != nil {
		t.Errorf("reading the tooltip: %v", err)
	} else if err := v.Store(&tip); err != nil || len(tip) < 3 || !strings.Contains(fmt.Sprint(tip[2]), a.base) {
		t.Errorf("tooltip = %q (%v)", tip, err)
	}

	// "Copy base URL" puts the base URL on the clipboard.
	cp, _ := n.FindLabel("Copy base URL (" + a.base + ")")
	if err := item.Click(ctx, cp.ID); err != nil {
		t.Fatalf("clicking Copy base URL: %v", err)
	}
	reCopyFailed := regexp.MustCompile(`^Copy failed`)
	for {
		got, err := traytest.ReadClipboard(ctx, display, env)
		if err == nil && got == a.base {
			break
		}
		if l, lerr := item.Layout(ctx); lerr == nil {
			if f, failed := l.Find(reCopyFailed); failed {
				t.Fatalf("the menu says %q\n%s", f.Label, a.output())
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the clipboard never held the base URL (last %q, %v)\n%s", got, err, a.output())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// "Quit" ends the app with status 0 and closes the port.
	q, _ := n.FindLabel("Quit")
	if err := item.Click(ctx, q.ID); err != nil {
		t.Fatalf("clicking Quit: %v", err)
	}
	if err := a.waitExit(t, ctx, "Quit"); err != nil {
		t.Fatalf("the app did not exit cleanly after Quit: %v\n%s", err, a.output())
	}
	assertPortClosed(t, a.base)
	out := a.output()
	if strings.Contains(out, "panic") {
		t.Errorf("the app panicked:\n%s", out)
	}
	if !strings.Contains(out, "quit chosen") {
		t.Errorf("the app did not log the Quit click:\n%s", out)
	}
	assertNowhere(t, session, root, out)
}

// TestNoSessionBusServesHeadless starts the app without --headless and with
// no session bus and no display: it must not start systray (which panics
// on Quit without a bus), serve the API, and exit 0 on SIGTERM.
func TestNoSessionBusServesHeadless(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), livenessDeadline)
	defer cancel()
	root := t.TempDir()
	// An empty runtime folder: godbus would otherwise try
	// /run/user/<uid>/bus, which may exist on a developer's machine.
	runtimeDir := filepath.Join(root, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	const key = "sk-local-no-bus"
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(codextest.AuthOptions{Email: "ann@example.com", Plan: "plus"})
	issuer.Mount(fake)
	env := isolatedEnv(root, "XDG_RUNTIME_DIR="+runtimeDir,
		"CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL,
		"CHATGPT_SESSION_TOKEN="+issuer.NewSessionToken(1000), "CHATGPT_API_KEY="+key, "CHATGPT_SECRET_STORE=env")
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == "DBUS_SESSION_BUS_ADDRESS" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			t.Fatalf("the environment has %s", kv)
		}
	}
	a := launch(t, env)

	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey(key), option.WithMaxRetries(0))
	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatalf("listing models: %v\n%s", err, a.output())
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, "gpt-5.5") {
		t.Errorf("/v1/models = %v, want gpt-5.5 among them", ids)
	}

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.waitExit(t, ctx, "SIGTERM"); err != nil {
		t.Fatalf("the app did not exit cleanly on SIGTERM: %v\n%s", err, a.output())
	}
	assertPortClosed(t, a.base)
	out := a.output()
	if !strings.Contains(out, "no tray available; running headless") {
		t.Errorf("the app did not say it runs headless:\n%s", out)
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "systray error") {
		t.Errorf("systray ran without a session bus:\n%s", out)
	}
}
