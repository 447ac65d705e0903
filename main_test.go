package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/chatgpt-to-api/chatgpt-to-api/keychain/keychaintest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the app once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cta-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "chatgpt-to-api")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// isolatedEnv is a clean environment whose HOME and XDG folders live in
// root, with extra variables added.
func isolatedEnv(root string, extra ...string) []string {
	env := keychaintest.BaseEnv()
	for _, d := range []string{"home", "config", "cache", "data"} {
		_ = os.MkdirAll(filepath.Join(root, d), 0o700)
	}
	env = append(env, "HOME="+filepath.Join(root, "home"), "XDG_CONFIG_HOME="+filepath.Join(root, "config"),
		"XDG_CACHE_HOME="+filepath.Join(root, "cache"), "XDG_DATA_HOME="+filepath.Join(root, "data"))
	return append(env, extra...)
}

// app is the app running as a subprocess.
type app struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	mu     *sync.Mutex
	base   string
	exited chan error
}

func startApp(t *testing.T, env []string) *app {
	t.Helper()
	port := freePort(t)
	a := &app{out: &bytes.Buffer{}, mu: &sync.Mutex{}, exited: make(chan error, 1),
		base: fmt.Sprintf("http://127.0.0.1:%d/v1", port)}
	a.cmd = exec.Command(binary(t), "--headless")
	a.cmd.Env = append(env, fmt.Sprintf("CHATGPT_PORT=%d", port))
	w := &lockedWriter{mu: a.mu, w: a.out}
	a.cmd.Stdout, a.cmd.Stderr = w, w
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- a.cmd.Wait() }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.exited
		a.exited <- nil
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(strings.TrimSuffix(a.base, "/v1") + "/healthz")
		if err == nil {
			resp.Body.Close()
			return a
		}
		select {
		case err := <-a.exited:
			t.Fatalf("the app exited: %v\n%s", err, a.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app never answered /healthz\n%s", a.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (a *app) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

// stop sends SIGTERM and expects a clean exit.
func (a *app) stop(t *testing.T) {
	t.Helper()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.exited:
		a.exited <- err
		if err != nil {
			t.Fatalf("the app did not exit cleanly on SIGTERM: %v\n%s", err, a.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the app did not exit on SIGTERM\n%s", a.output())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// assertNowhere fails when secret appears in any file below root or in out.
func assertNowhere(t *testing.T, secret string, root string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, secret) {
			t.Error("the secret appears in the app's output")
		}
	}
	probe := secret[len(secret)/2 : len(secret)/2+64]
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(probe)) {
			t.Errorf("the secret is written in plain text to %s", p)
		}
		return nil
	})
}

// TestHeadlessSessionTokenLongRun starts the app headless with only a
// session token against a backend whose access tokens live two seconds, and
// drives a long run of real-client requests across many expiries.
func TestHeadlessSessionTokenLongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("long run")
	}
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(codextest.AuthOptions{AccessLifetime: 2 * time.Second, RotateChunked: true, Email: "ann@example.com", Plan: "plus"})
	issuer.Mount(fake)
	issuer.SetSessionMode(codextest.SessionRotating)
	session := issuer.NewSessionToken(5000)

	root := t.TempDir()
	a := startApp(t, isolatedEnv(root,
		"CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL,
		"CHATGPT_SESSION_TOKEN="+session, "CHATGPT_API_KEY=sk-local-longrun", "CHATGPT_SECRET_STORE=env"))
	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey("sk-local-longrun"), option.WithMaxRetries(0))

	ctx := context.Background()
	start := time.Now()
	var failures []string
	n := 0
	// Ten seconds of traffic is five token lifetimes.
	for time.Since(start) < 10*time.Second && n < 400 {
		n++
		p := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(fmt.Sprintf("request %d", n))}}
		want := fmt.Sprintf("echo: request %d", n)
		if n%2 == 0 {
			r, err := client.Chat.Completions.New(ctx, p)
			if err != nil || r.Choices[0].Message.Content != want {
				failures = append(failures, fmt.Sprintf("#%d: %v", n, err))
			}
		} else {
			s := client.Chat.Completions.NewStreaming(ctx, p)
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if s.Err() != nil || len(acc.Choices) == 0 || acc.Choices[0].Message.Content != want {
				failures = append(failures, fmt.Sprintf("#%d (stream): %v", n, s.Err()))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed: %v\n%s", len(failures), n, failures, a.output())
	}
	if ex := issuer.Exchanges(); ex < 4 {
		t.Errorf("only %d session exchanges in %d requests across five token lifetimes", ex, n)
	}
	if cookies := issuer.LastSetCookie(); len(cookies) == 0 {
		t.Error("the session cookie was never rotated")
	}
	for _, r := range fake.ResponsesRequests() {
		if r.Rejection != "" {
			t.Errorf("the backend refused a request: %s", r.Rejection)
		}
	}
	a.stop(t)
	assertNowhere(t, session, root, a.output())
	t.Logf("%d requests, %d session exchanges", n, issuer.Exchanges())
}

// TestSetSessionTokenRealKeychain stores a 5 KB session token with
// set-session-token in a real Secret Service, reports it with status, and
// serves from it; the token reaches no file and no output.
func TestSetSessionTokenRealKeychain(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the real Secret Service test runs on Linux")
	}
	keychaintest.RequireTools(t, "dbus-daemon", "gnome-keyring-daemon")
	ss := keychaintest.Start(t, keychaintest.UnlockedKeyring)
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(codextest.AuthOptions{Email: "ann@example.com", Plan: "plus"})
	issuer.Mount(fake)
	session := issuer.NewSessionToken(5000)

	env := append(keychaintest.BaseEnv(), ss.Env...)
	env = append(env, "CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL, "CHATGPT_SECRET_STORE=keychain")
	var outs []string
	// run returns the command's standard output; both streams are kept
	// for the check that the token was never printed.
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary(t), args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, stdout.String(), stderr.String())
		}
		outs = append(outs, stdout.String(), stderr.String())
		return stdout.String()
	}
	run(session+"\n", "set-session-token")
	st := run("", "status")
	for _, want := range []string{"ann@example.com", "plus", "keychain"} {
		if !strings.Contains(strings.ToLower(st), strings.ToLower(want)) {
			t.Errorf("status does not mention %q:\n%s", want, st)
		}
	}
	key := strings.TrimSpace(run("", "api-key"))
	if !strings.HasPrefix(key, "sk-local-") {
		t.Fatalf("api-key printed %q", key)
	}

	// The server reads the token and the key from the keychain.
	port := freePort(t)
	cmd := exec.Command(binary(t), "--headless")
	cmd.Env = append(env, fmt.Sprintf("CHATGPT_PORT=%d", port))
	var out bytes.Buffer
	mu := &sync.Mutex{}
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: mu, w: &out}, &lockedWriter{mu: mu, w: &out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d/v1", port)
	client := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey(key), option.WithMaxRetries(0))
	var r *openai.ChatCompletion
	var err error
	for i := 0; i < 300; i++ {
		r, err = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("from the keychain")}})
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || r.Choices[0].Message.Content != "echo: from the keychain" {
		mu.Lock()
		t.Fatalf("request with keychain credentials: %v\n%s", err, out.String())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	mu.Lock()
	outs = append(outs, out.String())
	mu.Unlock()
	assertNowhere(t, session, ss.Root, outs...)
	// The keychain holds it under our service name, as chunks plus a manifest.
	search := exec.Command("secret-tool", "search", "--all", "service", "chatgpt-to-api")
	search.Env = env
	found, err := search.CombinedOutput()
	if err != nil {
		t.Fatalf("secret-tool: %v", err)
	}
	items := 0
	sc := bufio.NewScanner(bytes.NewReader(found))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "[/") {
			items++
		}
	}
	if items < 4 { // the session token (manifest + 3 chunks) and the API key
		t.Errorf("the keychain holds %d items under chatgpt-to-api", items)
	}
}

// TestAdminAPI drives the admin routes of a headless app that starts with
// no credentials at all.
func TestAdminAPI(t *testing.T) {
	fake := codextest.NewServer(t)
	issuer := codextest.NewAuthServer(codextest.AuthOptions{Email: "ann@example.com", Plan: "pro"})
	issuer.Mount(fake)
	root := t.TempDir()
	const key = "sk-local-admin"
	a := startApp(t, isolatedEnv(root, "CHATGPT_BASE_URL="+fake.BaseURL(), "CHATGPT_AUTH_URL="+fake.URL,
		"CHATGPT_API_KEY="+key, "CHATGPT_SECRET_STORE=env"))
	admin := strings.TrimSuffix(a.base, "/v1") + "/admin"
	call := func(method, path, key, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, admin+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey(key), option.WithMaxRetries(0))
	chat := func() error {
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
		return err
	}

	if code, _ := call("GET", "/status", "", ""); code != 401 {
		t.Errorf("admin without a key: %d", code)
	}
	code, st := call("GET", "/status", key, "")
	if code != 200 || st["auth"].(map[string]any)["state"] != "signed_out" {
		t.Fatalf("status before sign-in: %d %v", code, st)
	}
	var ae *openai.Error
	if err := chat(); !errors.As(err, &ae) || ae.StatusCode != 401 || !strings.Contains(ae.Message, "login") {
		t.Fatalf("chat while signed out: %v", err)
	}
	if code, m := call("POST", "/token", key, `{}`); code != 400 {
		t.Errorf("empty token body: %d %v", code, m)
	}
	if code, m := call("POST", "/token", key, `{"session_token":"not-a-real-session"}`); code < 400 {
		t.Errorf("an invalid session token was accepted: %d %v", code, m)
	}
	session := issuer.NewSessionToken(3000)
	code, m := call("POST", "/token", key, `{"session_token":"`+session+`"}`)
	if code != 200 || m["state"] != "signed_in" || m["email"] != "ann@example.com" {
		t.Fatalf("set session token: %d %v", code, m)
	}
	if err := chat(); err != nil {
		t.Fatalf("chat after /admin/token: %v", err)
	}
	before := issuer.Exchanges()
	if code, m := call("POST", "/refresh", key, ``); code != 200 || m["state"] != "signed_in" {
		t.Fatalf("refresh: %d %v", code, m)
	}
	if issuer.Exchanges() <= before {
		t.Error("/admin/refresh did not exchange the session again")
	}
	// A request is counted once its answer has ended, which can be after
	// the client has it: the wait is for both requests to be counted.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, st = call("GET", "/status", key, "")
		raw, _ := json.Marshal(st)
		if code != 200 || strings.Contains(string(raw), session) || strings.Contains(string(raw), key) {
			t.Fatalf("status leaks a secret or failed: %d", code)
		}
		if st["requests"].(map[string]any)["total"].(float64) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests not counted: %v", st["requests"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.stop(t)
	assertNowhere(t, session, root, a.output())
}

// TestTLSUpstreamWithSSLCertFile runs the app against the fake over TLS
// (HTTP/2), trusting the fake's CA only through SSL_CERT_FILE, with each
// client identity.
func TestTLSUpstreamWithSSLCertFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE is honoured on Linux only (Go's documented behaviour)")
	}
	for _, identity := range []string{"codex", "chrome"} {
		t.Run(identity, func(t *testing.T) {
			fake := codextest.NewTLSServer(t)
			root := t.TempDir()
			ca := filepath.Join(root, "ca.pem")
			if err := os.WriteFile(ca, fake.CertPEM(), 0o600); err != nil {
				t.Fatal(err)
			}
			a := startApp(t, isolatedEnv(root, "CHATGPT_BASE_URL="+fake.BaseURL(), "SSL_CERT_FILE="+ca,
				"CHATGPT_ACCESS_TOKEN="+codextest.FakeJWT(map[string]any{
					"exp":                         time.Now().Add(time.Hour).Unix(),
					"https://api.openai.com/auth": map[string]any{"chatgpt_account_id": "acct-tls"},
				}),
				"CHATGPT_API_KEY=sk-local-tls", "CHATGPT_SECRET_STORE=env", "CHATGPT_IDENTITY="+identity))
			client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey("sk-local-tls"), option.WithMaxRetries(0))
			s := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("over tls")}})
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if s.Err() != nil || acc.Choices[0].Message.Content != "echo: over tls" {
				t.Fatalf("stream over TLS: %v\n%s", s.Err(), a.output())
			}
			reqs := fake.ResponsesRequests()
			h := reqs[len(reqs)-1].Header
			if h.Get("ChatGPT-Account-ID") != "acct-tls" || h.Get("version") == "" {
				t.Errorf("headers: %v", h)
			}
			ua := h.Get("User-Agent")
			switch identity {
			case "codex":
				if !strings.HasPrefix(ua, "codex_exec/") || h.Get("Sec-Ch-Ua") != "" || h.Get("Accept-Encoding") != "zstd,gzip" {
					t.Errorf("codex identity sent UA %q, sec-ch-ua %q, accept-encoding %q", ua, h.Get("Sec-Ch-Ua"), h.Get("Accept-Encoding"))
				}
			case "chrome":
				if !strings.Contains(ua, "Chrome/") || h.Get("Sec-Ch-Ua") == "" || h.Get("Origin") == "" {
					t.Errorf("chrome identity sent UA %q, sec-ch-ua %q, origin %q", ua, h.Get("Sec-Ch-Ua"), h.Get("Origin"))
				}
			}
			a.stop(t)
		})
	}
}

// TestTLSUpstreamUntrusted checks the other side: without the CA the
// handshake fails and the client gets a clear 502.
func TestTLSUpstreamUntrusted(t *testing.T) {
	fake := codextest.NewTLSServer(t)
	root := t.TempDir()
	a := startApp(t, isolatedEnv(root, "CHATGPT_BASE_URL="+fake.BaseURL(),
		"CHATGPT_ACCESS_TOKEN="+codextest.FakeJWT(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}),
		"CHATGPT_ACCOUNT_ID=acct", "CHATGPT_API_KEY=sk-local-tls", "CHATGPT_SECRET_STORE=env", "CHATGPT_MAX_RETRIES=0"))
	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey("sk-local-tls"), option.WithMaxRetries(0))
	_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
	var ae *openai.Error
	if !errors.As(err, &ae) || ae.StatusCode != 502 || !strings.Contains(ae.Message, "certificate") {
		t.Fatalf("want a 502 naming the certificate problem, got %v", err)
	}
	if n := len(fake.ResponsesRequests()); n != 0 {
		t.Errorf("the untrusted server received %d requests", n)
	}
}

// TestSecondInstance starts the app twice on one port: the second copy
// notices the first and says so (headless, that is a failed start).
func TestSecondInstance(t *testing.T) {
	root := t.TempDir()
	env := isolatedEnv(root, "CHATGPT_API_KEY=sk-local-x", "CHATGPT_SECRET_STORE=env", "CHATGPT_BASE_URL=http://127.0.0.1:9/backend-api")
	a := startApp(t, env)
	port := strings.TrimSuffix(strings.TrimPrefix(a.base, "http://127.0.0.1:"), "/v1")
	cmd := exec.Command(binary(t), "--headless")
	cmd.Env = append(env, "CHATGPT_PORT="+port)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("a second headless copy must fail saying the app already runs: %v\n%s", err, out)
	}
	// A foreign program on the port is an error that says what to do.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd = exec.Command(binary(t), "--headless")
	cmd.Env = append(env, fmt.Sprintf("CHATGPT_PORT=%d", ln.Addr().(*net.TCPAddr).Port))
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CHATGPT_PORT") {
		t.Fatalf("port taken by another program: %v\n%s", err, out)
	}
	a.stop(t)
}

// TestShutdownDuringRequests stops the app while a plain and a streamed
// request are waiting on the backend: after the grace period both clients
// are told the server is shutting down (never an empty 200), and the app
// exits cleanly.
func TestShutdownDuringRequests(t *testing.T) {
	fake := codextest.NewServer(t)
	fake.Enqueue(codextest.Stall(""), codextest.Stall("partial"))
	root := t.TempDir()
	a := startApp(t, isolatedEnv(root, "CHATGPT_BASE_URL="+fake.BaseURL(),
		"CHATGPT_ACCESS_TOKEN="+codextest.FakeJWT(map[string]any{"exp": time.Now().Add(time.Hour).Unix()}),
		"CHATGPT_ACCOUNT_ID=acct", "CHATGPT_API_KEY=sk-local-stop", "CHATGPT_SECRET_STORE=env"))
	client := openai.NewClient(option.WithBaseURL(a.base), option.WithAPIKey("sk-local-stop"), option.WithMaxRetries(0))
	p := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("wait")}}

	plain := make(chan error, 1)
	go func() { _, err := client.Chat.Completions.New(context.Background(), p); plain <- err }()
	waitRequests := func(n int) {
		for i := 0; len(fake.ResponsesRequests()) < n; i++ {
			if i > 3000 {
				t.Fatal("the backend never received the requests")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitRequests(1)
	s := client.Chat.Completions.NewStreaming(context.Background(), p)
	if !s.Next() {
		t.Fatalf("the stream produced nothing: %v", s.Err())
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	for s.Next() {
	}
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "shutting down") {
		t.Errorf("stream ended with %v, want the shutting-down error", s.Err())
	}
	var ae *openai.Error
	if err := <-plain; !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Code != "server_shutting_down" {
		t.Errorf("plain request ended with %v, want 503 server_shutting_down", err)
	}
	a.stop(t)
}
