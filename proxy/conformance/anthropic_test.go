package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// AnthropicObs is what node/anthropic.mjs prints.
type AnthropicObs struct {
	Turns []struct {
		Text      string `json:"text"`
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"`
		Stop      string `json:"stop"`
		Model     string `json:"model"`
		ToolUses  []struct {
			ID    string          `json:"id"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"tool_uses"`
		Usage struct {
			Input  int `json:"input_tokens"`
			Output int `json:"output_tokens"`
		} `json:"usage"`
		Events     []string `json:"events"`
		JSONDeltas int      `json:"json_deltas"`
	} `json:"turns"`
	Error *struct {
		Status     *int   `json:"status"`
		Type       string `json:"type"`
		Message    string `json:"message"`
		RetryAfter string `json:"retry_after"`
	} `json:"error"`
	Count  []int `json:"count"`
	Models []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"models"`
}

// runAnthropic runs one scenario of node/anthropic.mjs against h.
func runAnthropic(t *testing.T, node string, h *proxytest.Harness, scenario string) (*AnthropicObs, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "anthropic.mjs", scenario)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "ROOT_URL="+strings.TrimSuffix(h.BaseURL, "/v1"), "API_KEY="+proxytest.APIKey, "NODE_NO_WARNINGS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node anthropic.mjs %s: %v\nstdout: %s\nstderr: %s", scenario, err, stdout.String(), stderr.String())
	}
	var o AnthropicObs
	if err := json.Unmarshal(stdout.Bytes(), &o); err != nil {
		t.Fatalf("anthropic.mjs printed no JSON: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return &o, stdout.String()
}

// TestAnthropicNodeSDK runs the official Anthropic Node SDK against
// /v1/messages: text, streams through its MessageStream accumulator, tool
// round trips, images, thinking with its signature, count_tokens, models
// and the error statuses.
func TestAnthropicNodeSDK(t *testing.T) {
	node := setupNode(t)
	type tc struct {
		name, scenario string
		env            map[string]string
		setup          func(h *proxytest.Harness)
		check          func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string)
	}
	wantErr := func(status int, typ string) func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
		return func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error == nil || o.Error.Status == nil || *o.Error.Status != status || o.Error.Type != typ {
				t.Fatalf("want %d %s: %s", status, typ, raw)
			}
		}
	}
	cases := []tc{
		{name: "text", scenario: "text", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 1 || o.Turns[0].Text != "echo: hello there" || o.Turns[0].Stop != "end_turn" || o.Turns[0].Model != "claude-sonnet-4-5" || o.Turns[0].Usage.Output <= 0 {
				t.Fatal(raw)
			}
			if h.LastResponses(t).JSON["instructions"] != "Be brief." {
				t.Errorf("instructions %v", h.LastResponses(t).JSON["instructions"])
			}
		}},
		{name: "stream", scenario: "stream", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 1 || o.Turns[0].Text != "echo: stream me" || o.Turns[0].Stop != "end_turn" {
				t.Fatal(raw)
			}
			ev := strings.Join(o.Turns[0].Events, ",")
			if !strings.HasPrefix(ev, "message_start,content_block_start,content_block_delta") || !strings.HasSuffix(ev, "content_block_stop,message_delta,message_stop") {
				t.Errorf("events %s", ev)
			}
		}},
		{name: "tools", scenario: "tools", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 2 || o.Turns[0].Stop != "tool_use" || len(o.Turns[0].ToolUses) != 1 || o.Turns[1].Text != `tool said: {"temp":21}` {
				t.Fatal(raw)
			}
			if tu := o.Turns[0].ToolUses[0]; tu.Name != "get_weather" || string(tu.Input) != `{"city":"Paris"}` {
				t.Errorf("tool_use %+v", tu)
			}
		}},
		{name: "parallel_tools", scenario: "parallel_tools", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 2 || len(o.Turns[0].ToolUses) != 2 || o.Turns[1].Text != "tool said: A\ntool said: B" {
				t.Fatal(raw)
			}
		}},
		{name: "stream_tools", scenario: "stream_tools", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 2 || len(o.Turns[0].ToolUses) != 1 || o.Turns[0].JSONDeltas < 2 || o.Turns[1].Text != "tool said: sunny" {
				t.Fatal(raw)
			}
			if !strings.Contains(string(o.Turns[0].ToolUses[0].Input), `"note":"long enough to be cut in pieces"`) {
				t.Errorf("streamed input %s", o.Turns[0].ToolUses[0].Input)
			}
		}},
		{name: "image", scenario: "image", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 1 || o.Turns[0].Text != "echo: what is this?\nimage received: 1" {
				t.Fatal(raw)
			}
		}},
		{name: "thinking", scenario: "thinking", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Turns) != 2 || !strings.Contains(o.Turns[0].Thinking, "Reading the request") || !strings.HasPrefix(o.Turns[0].Signature, "c2a1.") {
				t.Fatal(raw)
			}
			reqs := h.Fake.ResponsesRequests()
			in, _ := reqs[len(reqs)-1].JSON["input"].([]any)
			if len(in) < 2 {
				t.Fatalf("input %v", in)
			}
			r, _ := in[1].(map[string]any)
			if r["type"] != "reasoning" || r["encrypted_content"] == nil || r["encrypted_content"] == "" {
				t.Errorf("the signature did not replay the reasoning: %v", in[1])
			}
		}},
		{name: "count_tokens", scenario: "count_tokens", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			// 11 for the message; system 4, the 1×1 image 255, the tool more.
			if o.Error != nil || len(o.Count) != 2 || o.Count[0] != 11 || o.Count[1] < 11+4+255+20 {
				t.Fatal(raw)
			}
		}},
		{name: "models", scenario: "models", check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error != nil || len(o.Models) == 0 || o.Models[0].Type != "model" {
				t.Fatal(raw)
			}
		}},
		{name: "401", scenario: "err_auth", check: wantErr(401, "authentication_error")},
		{name: "400", scenario: "err_bad_request", check: wantErr(400, "invalid_request_error")},
		{name: "403", scenario: "err_status", setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.CloudflareBlock()) }, check: wantErr(403, "permission_error")},
		{name: "404", scenario: "err_status", env: map[string]string{"CHATGPT_UNKNOWN_MODEL": "reject", "CHATGPT_CLAUDE_MODELS": "sonnet=mystery-model"}, check: wantErr(404, "not_found_error")},
		{name: "413", scenario: "err_status", env: map[string]string{"CHATGPT_BODY_LIMIT": "1K"}, check: wantErr(413, "request_too_large")},
		{name: "500", scenario: "err_status", env: map[string]string{"CHATGPT_MAX_RETRIES": "0"}, setup: func(h *proxytest.Harness) {
			h.Fake.Enqueue(codextest.Status(500, `{"detail":"Internal Server Error"}`))
		}, check: wantErr(500, "api_error")},
		{name: "529", scenario: "err_status", setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.Overloaded()) }, check: wantErr(529, "overloaded_error")},
		{name: "usage_limit", scenario: "err_usage_limit", setup: func(h *proxytest.Harness) {
			h.Fake.Enqueue(codextest.UsageLimit("plus", 90*time.Minute))
		}, check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			wantErr(429, "rate_limit_error")(t, h, o, raw)
			if o.Error.RetryAfter == "" || !strings.Contains(o.Error.Message, "resets") {
				t.Errorf("usage limit answer %s", raw)
			}
			if n := len(h.Fake.ResponsesRequests()); n != 1 {
				t.Errorf("the SDK retried the usage limit: %d requests", n)
			}
		}},
		{name: "in_band", scenario: "err_in_band", setup: func(h *proxytest.Harness) {
			h.Fake.Enqueue(codextest.FailAfterText("partial", "server_error", "boom"))
		}, check: func(t *testing.T, h *proxytest.Harness, o *AnthropicObs, raw string) {
			if o.Error == nil || !strings.Contains(o.Error.Message, "boom") {
				t.Fatalf("want the in-band error: %s", raw)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := proxytest.New(t, c.env)
			if c.setup != nil {
				c.setup(h)
			}
			o, raw := runAnthropic(t, node, h, c.scenario)
			t.Logf("observations: %s", raw)
			c.check(t, h, o, raw)
			if c.name != "404" {
				h.AssertNoRejections(t)
			}
		})
	}
}

// claudeBinary is Claude Code's native binary from npm (the bin link is a
// stub until a postinstall script runs, and npm ci runs none).
var claudeBinary = filepath.Join(nodeDir, "node_modules", "@anthropic-ai", "claude-code-linux-x64", "claude")

// runClaude runs `claude -p prompt` in dir against h, with a fresh HOME and
// its telemetry, error reporting, update checks and other calls off.
func runClaude(t *testing.T, h *proxytest.Harness, dir, prompt string) (string, string) {
	t.Helper()
	bin, err := filepath.Abs(claudeBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Claude Code binary missing: %v", err)
		}
		t.Skipf("Claude Code binary missing (only published for linux-x64 here): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-p", prompt)
	cmd.Dir = dir
	cmd.Env = append(ClaudeEnv(strings.TrimSuffix(h.BaseURL, "/v1"), proxytest.APIKey), "HOME="+t.TempDir(), "PATH="+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("claude -p: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// ClaudeEnv is the environment the README gives for Claude Code.
func ClaudeEnv(root, key string) []string {
	return []string{
		"ANTHROPIC_BASE_URL=" + root,
		"ANTHROPIC_API_KEY=" + key,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		"DISABLE_AUTOUPDATER=1",
	}
}

// TestClaudeCode runs Claude Code itself (`claude -p`): a plain answer, and
// a task in which the backend calls Claude Code's Read tool on a file in a
// temp folder and Claude Code finishes with what it read.
func TestClaudeCode(t *testing.T) {
	setupNode(t)
	t.Run("plain", func(t *testing.T) {
		h := proxytest.New(t, nil)
		out, errOut := runClaude(t, h, t.TempDir(), "hello there")
		if !strings.HasPrefix(out, "echo: ") || !strings.HasSuffix(strings.TrimSpace(out), "hello there") {
			t.Fatalf("stdout %q\nstderr %s", out, errOut)
		}
		reqs := h.Fake.ResponsesRequests()
		if len(reqs) == 0 {
			t.Fatal("Claude Code's request never reached the backend")
		}
		h.AssertNoRejections(t)
	})
	t.Run("read_tool", func(t *testing.T) {
		h := proxytest.New(t, nil)
		dir := t.TempDir()
		file := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(file, []byte("the secret word is pelican\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut := runClaude(t, h, dir, `call:Read {"file_path":"`+file+`"}`)
		if !strings.HasPrefix(out, "tool said: ") || !strings.Contains(out, "the secret word is pelican") {
			t.Fatalf("stdout %q\nstderr %s", out, errOut)
		}
		last := h.LastResponses(t).JSON
		in, _ := last["input"].([]any)
		kinds := inputKinds(last)
		if !strings.HasSuffix(kinds, "function_call,function_call_output") || len(in) < 2 {
			t.Errorf("the tool result did not go back upstream: %s", kinds)
		}
		h.AssertNoRejections(t)
	})
}
