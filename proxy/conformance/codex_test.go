package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// codexBin is the Codex CLI's native binary from the pinned npm package.
const codexBin = "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"

// codexRun is one `codex exec` against the app.
type codexRun struct {
	stdout, stderr string
	err            error
}

// codexConfig is config.toml for a custom provider pointed at baseURL,
// with telemetry, update checks and plugin fetches off (clients.md).
func codexConfig(baseURL string, extra string) string {
	return fmt.Sprintf(`model = "gpt-5.5"
model_provider = "local"
check_for_update_on_startup = false
%s
[model_providers.local]
name = "local"
base_url = %q
wire_api = "responses"
env_key = "LOCAL_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false
[feedback]
enabled = false
[otel]
exporter = "none"
[features]
plugins = false
remote_plugin = false
apps = false
`, extra, baseURL)
}

// runCodex runs `codex exec prompt` with home as CODEX_HOME and HOME.
func runCodex(t *testing.T, bin, home, key, prompt string) codexRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	work := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "exec", "--skip-git-repo-check", prompt)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "CODEX_HOME=" + home, "LOCAL_KEY=" + key, "NO_COLOR=1"}
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("codex exec did not finish within %v\nstderr: %s", nodeTimeout, stderr.String())
	}
	return codexRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func setupCodex(t *testing.T) string {
	t.Helper()
	setupNode(t)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs the Codex CLI on linux/amd64, not %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		t.Skipf("the pinned Codex CLI binary is linux/amd64 only (this is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	bin, err := filepath.Abs(filepath.Join(nodeDir, codexBin))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the Codex CLI binary is missing after npm ci: %v", err)
	}
	return bin
}

func writeHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// TestCodexCLI runs the real Codex CLI (`codex exec`) against /v1/responses.
func TestCodexCLI(t *testing.T) {
	bin := setupCodex(t)

	t.Run("plain_answer", func(t *testing.T) {
		h := proxytest.New(t, nil)
		home := writeHome(t, map[string]string{"config.toml": codexConfig(h.BaseURL, "")})
		r := runCodex(t, bin, home, proxytest.APIKey, "say hi")
		if r.err != nil || r.stdout != "echo: say hi\n" {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		body := h.LastResponses(t).JSON
		if body["instructions"] != "" || body["store"] != false {
			t.Errorf("upstream instructions=%v store=%v", body["instructions"], body["store"])
		}
		h.AssertNoRejections(t)
	})

	t.Run("shell_tool_round_trip", func(t *testing.T) {
		h := proxytest.New(t, nil)
		h.Fake.Enqueue(codextest.Reply(codextest.Call("exec_command", `{"cmd":"echo hello-from-shell"}`)))
		home := writeHome(t, map[string]string{"config.toml": codexConfig(h.BaseURL, "")})
		r := runCodex(t, bin, home, proxytest.APIKey, "run echo")
		if r.err != nil || !strings.HasPrefix(r.stdout, "tool said: ") || !strings.Contains(r.stdout, "hello-from-shell") {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		reqs := h.Fake.ResponsesRequests()
		if len(reqs) != 2 {
			t.Fatalf("%d upstream requests, want 2", len(reqs))
		}
		in, _ := reqs[1].JSON["input"].([]any)
		last, _ := in[len(in)-1].(map[string]any)
		if last["type"] != "function_call_output" || !strings.Contains(fmt.Sprint(last["output"]), "hello-from-shell") {
			t.Errorf("the second turn ends with %v", last)
		}
		h.AssertNoRejections(t)
	})

	t.Run("reasoning_effort", func(t *testing.T) {
		h := proxytest.New(t, nil)
		home := writeHome(t, map[string]string{"config.toml": codexConfig(h.BaseURL, `model_reasoning_effort = "high"`)})
		r := runCodex(t, bin, home, proxytest.APIKey, "think hard")
		if r.err != nil || r.stdout != "echo: think hard\n" {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		rs, _ := h.LastResponses(t).JSON["reasoning"].(map[string]any)
		if rs["effort"] != "high" {
			t.Errorf("upstream reasoning %v", rs)
		}
	})

	t.Run("lite_model", func(t *testing.T) {
		// A Luna model exists only behind Responses Lite upstream; whatever
		// shape the CLI sends the app, the backend gets the Lite body.
		h := proxytest.New(t, nil)
		cfg := strings.Replace(codexConfig(h.BaseURL, ""), `model = "gpt-5.5"`, `model = "gpt-5.6-luna"`, 1)
		home := writeHome(t, map[string]string{"config.toml": cfg})
		r := runCodex(t, bin, home, proxytest.APIKey, "say hi")
		if r.err != nil || r.stdout != "echo: say hi\n" {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		rec := h.LastResponses(t)
		if rec.Header.Get("X-Openai-Internal-Codex-Responses-Lite") != "true" || rec.JSON["instructions"] != nil {
			t.Errorf("upstream not Lite: header %q, instructions %v", rec.Header.Get("X-Openai-Internal-Codex-Responses-Lite"), rec.JSON["instructions"])
		}
		h.AssertNoRejections(t)
	})

	t.Run("lite_model_tool_round_trip", func(t *testing.T) {
		// For a Luna model the CLI declares its tools in its own functions
		// namespace (exec runs JavaScript) and sends each call back with
		// that namespace, which the Lite backend requires.
		h := proxytest.New(t, nil)
		h.Fake.Enqueue(codextest.Reply(codextest.CustomCall("exec", `text("hello-from-lite")`)))
		cfg := strings.Replace(codexConfig(h.BaseURL, ""), `model = "gpt-5.5"`, `model = "gpt-5.6-luna"`, 1)
		home := writeHome(t, map[string]string{"config.toml": cfg})
		r := runCodex(t, bin, home, proxytest.APIKey, "run echo")
		if r.err != nil || !strings.HasPrefix(r.stdout, "tool said: ") || !strings.Contains(r.stdout, "hello-from-lite") {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		h.AssertNoRejections(t)
	})

	t.Run("usage_limit", func(t *testing.T) {
		h := proxytest.New(t, nil)
		h.Fake.Enqueue(codextest.UsageLimit("plus", 2*time.Hour))
		home := writeHome(t, map[string]string{"config.toml": codexConfig(h.BaseURL, "")})
		r := runCodex(t, bin, home, proxytest.APIKey, "hi")
		// The plan and the reset reach the CLI, which then says when to
		// try again (plan_type and resets_at in the error, as the backend
		// sends them).
		if r.err == nil || !strings.Contains(r.stderr, "usage limit") || !strings.Contains(r.stderr, "try again at") {
			t.Fatalf("exit %v\nstderr: %s", r.err, r.stderr)
		}
		if n := len(h.Fake.ResponsesRequests()); n != 1 {
			t.Errorf("%d upstream requests", n)
		}
	})

	t.Run("zstd_body_chatgpt_login", func(t *testing.T) {
		// With ChatGPT sign-in the CLI compresses its bodies with zstd and
		// tries a WebSocket first; it sends the access token as its bearer,
		// so the app's key is that token here.
		jwt := unsignedJWT(map[string]any{
			"exp":                         time.Now().Add(time.Hour).Unix(),
			"email":                       "ann@example.com",
			"https://api.openai.com/auth": map[string]any{"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "plus"},
		})
		h := proxytest.New(t, map[string]string{"CHATGPT_API_KEY": jwt})
		rec := &encodingRecorder{}
		front := rec.front(t, h.BaseURL)
		auth, _ := json.Marshal(map[string]any{
			"auth_mode": "chatgpt", "OPENAI_API_KEY": nil, "last_refresh": time.Now().UTC().Format(time.RFC3339),
			"tokens": map[string]any{"id_token": jwt, "access_token": jwt, "refresh_token": "rt_dummy", "account_id": "acct-1"},
		})
		cfg := fmt.Sprintf(`model = "gpt-5.5"
check_for_update_on_startup = false
cli_auth_credentials_store = "file"
openai_base_url = "%s/v1"
chatgpt_base_url = "%s/backend-api/"
[analytics]
enabled = false
[feedback]
enabled = false
[otel]
exporter = "none"
[features]
plugins = false
remote_plugin = false
apps = false
`, front, front)
		home := writeHome(t, map[string]string{"config.toml": cfg, "auth.json": string(auth)})
		r := runCodex(t, bin, home, "", "compressed hello")
		if r.err != nil || r.stdout != "echo: compressed hello\n" {
			t.Fatalf("exit %v, stdout %q\nstderr: %s", r.err, r.stdout, r.stderr)
		}
		encs, upgrades := rec.result()
		if !contains(encs, "zstd") {
			t.Errorf("no zstd body reached the app: %v", encs)
		}
		if upgrades != 1 {
			t.Errorf("%d WebSocket attempts, want 1 (426 sends the CLI to HTTP at once)", upgrades)
		}
		h.AssertNoRejections(t)
	})
}

// encodingRecorder sits in front of the app and records the
// Content-Encoding of each POST /v1/responses and the WebSocket attempts.
type encodingRecorder struct {
	mu       sync.Mutex
	encs     []string
	upgrades int
}

func (e *encodingRecorder) front(t *testing.T, appV1 string) string {
	u, _ := url.Parse(strings.TrimSuffix(appV1, "/v1"))
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		if r.Method == http.MethodPost && r.URL.Path == "/v1/responses" {
			e.encs = append(e.encs, r.Header.Get("Content-Encoding"))
		}
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			e.upgrades++
		}
		e.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func (e *encodingRecorder) result() ([]string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.encs...), e.upgrades
}

// unsignedJWT builds an alg=none JWT with claims.
func unsignedJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	return head + "." + enc.EncodeToString(body) + "." + enc.EncodeToString([]byte("sig"))
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
