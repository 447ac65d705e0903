// Package conformance proves that real OpenAI-compatible clients work
// against our server: the official OpenAI Node SDK (plain calls and its
// stream/runTools/parse helpers), the Vercel AI SDK (with
// @ai-sdk/openai-compatible and with @ai-sdk/openai .chat()) and
// @mariozechner/pi-ai configured the way OpenClaw configures a custom
// provider. Each cell of the client × scenario matrix starts a fresh
// proxytest harness, scripts the fake Codex backend, runs
// node/run.mjs <client> <scenario> once and asserts on the JSON line of
// observations it prints. The Node side asserts nothing. Cells a client
// cannot express are skipped with the reason; cells skipped with "BUG: …"
// fail today because of a server bug and are to be unskipped once fixed.
//
// Node and npm are required; without them the tests skip, except under
// CI=true where they fail. Dependencies are installed with npm ci into
// node/node_modules once per package-lock.json.
package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

const (
	nodeDir = "node"
	// parallelism bounds the node processes running at once.
	parallelism = 2
	// nodeTimeout guards against a hung client; it is a deadlock guard, not
	// an assertion on speed.
	nodeTimeout = 90 * time.Second
	pngDataURL  = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	retiredText = "The 'gpt-5.2' model is not supported when using Codex with a ChatGPT account."
)

var clients = []string{"openai", "openai-helpers", "ai-compat", "ai-openai", "pi-ai"}

// Observations is what run.mjs prints.
type Observations struct {
	Client   string        `json:"client"`
	Scenario string        `json:"scenario"`
	Turns    []Turn        `json:"turns"`
	Error    *ClientError  `json:"error"`
	Errors   []ClientError `json:"errors"`
	Models   []struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		OwnedBy string `json:"owned_by"`
	} `json:"models"`
	Retrieved *struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	} `json:"retrieved"`
	Aborted   bool            `json:"aborted"`
	AbortPart bool            `json:"abort_part"`
	Finish    string          `json:"finish"` // AI SDK streams: the final finish part
	Object    json.RawMessage `json:"object"` // AI SDK structured output
	Warnings  []string        `json:"warnings"`
	Parsed    json.RawMessage `json:"parsed"`        // openai-helpers parse()
	Final     *string         `json:"final_content"` // openai-helpers runTools()
	// ContextOverflow is pi-ai's isContextOverflow() on the failed message.
	ContextOverflow bool `json:"context_overflow"`
}

// Turn is one model response as the client surfaced it.
type Turn struct {
	Content        string     `json:"content"`
	Reasoning      string     `json:"reasoning"`
	Finish         string     `json:"finish"`
	RawFinish      string     `json:"raw_finish"`
	ToolCalls      []ToolCall `json:"tool_calls"`
	Usage          *Usage     `json:"usage"`
	Chunks         int        `json:"chunks"`
	ID             string     `json:"id"`
	Object         string     `json:"object"`
	Model          string     `json:"model"`
	FirstRole      string     `json:"first_role"`
	IDs            int        `json:"ids"`
	UsageChunkLast bool       `json:"usage_chunk_last"`
	ResponseID     string     `json:"response_id"`
}

// ToolCall is one tool call; Args is the JSON text of the arguments.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Args string `json:"args"`
}

// Usage is normalised token usage (input includes cached tokens).
type Usage struct {
	Input  int `json:"input"`
	Output int `json:"output"`
	Total  int `json:"total"`
}

// ClientError is the error the client raised or streamed.
type ClientError struct {
	Name        string `json:"name"`
	Status      *int   `json:"status"`
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        string `json:"code"`
	Param       string `json:"param"`
	BodyMessage string `json:"body_message"`
	RetryAfter  string `json:"retry_after"`
	Stage       string `json:"stage"`
}

// cell is one client × scenario run.
type cell struct {
	t      *testing.T
	client string
	h      *proxytest.Harness
	o      *Observations
	raw    string
}

type scenario struct {
	name string
	// skip gives, per client, the (always true) reason the client cannot
	// express the scenario, or a "BUG: …" naming a server bug.
	skip map[string]string
	// env is extra configuration for the proxy under test.
	env map[string]string
	// setup scripts the fake before the client runs.
	setup func(h *proxytest.Harness)
	// whileAlive runs after the client printed its observations and before
	// it exits (abort: the connection must be closed by the abort itself).
	whileAlive func(c *cell)
	check      func(c *cell)
	// rejectionsOK lists substrings of fake rejections the scenario expects.
	rejectionsOK []string
}

// sameAsOpenAI marks the openai-helpers cells that would send exactly the
// openai client's single create() call: the helpers only differ for streams,
// tool loops and structured output.
var sameAsOpenAI = map[string]string{
	"openai-helpers": "the OpenAI SDK helpers add nothing to a single non-streamed call without tools or schema; the openai client covers it",
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

const (
	noNonStream = "pi-ai's openai-completions provider always streams (stream: true); it cannot send a non-streaming request"
	noModels    = "has no API to list a provider's models"
	noSchema    = "pi-ai's Context/StreamOptions have no response_format (structured output) setting"
)

func scenarios() []scenario {
	return []scenario{
		{
			name: "models",
			skip: map[string]string{
				"openai-helpers": sameAsOpenAI["openai-helpers"],
				"ai-compat":      "the AI SDK " + noModels,
				"ai-openai":      "the AI SDK " + noModels,
				"pi-ai":          "pi-ai " + noModels + " (custom models are declared in configuration)",
			},
			check: func(c *cell) {
				c.noError()
				ids := map[string]bool{}
				for _, m := range c.o.Models {
					ids[m.ID] = true
					if m.Object != "model" || m.OwnedBy == "" {
						c.t.Errorf("model entry %+v lacks object/owned_by", m)
					}
				}
				for _, want := range []string{"gpt-5.5", "gpt-5.4"} {
					if !ids[want] {
						c.t.Errorf("models lack %s: %v", want, ids)
					}
				}
				if ids["gpt-5.2"] || ids["codex-auto-review"] {
					c.t.Errorf("retired or hidden models listed: %v", ids)
				}
				if c.o.Retrieved == nil || c.o.Retrieved.ID != "gpt-4o" || c.o.Retrieved.Object != "model" {
					c.t.Errorf("models.retrieve(gpt-4o) = %+v", c.o.Retrieved)
				}
			},
		},
		{
			name: "chat",
			skip: with(sameAsOpenAI, "pi-ai", noNonStream),
			check: func(c *cell) {
				tn := c.oneTurn()
				c.eq("content", tn.Content, "echo: hello there")
				c.eq("finish", tn.Finish, c.stop())
				c.usage(tn, true)
				c.reasoning(tn)
				if c.client == "openai" {
					if !strings.HasPrefix(tn.ID, "chatcmpl-") || tn.Object != "chat.completion" || tn.Model != "gpt-5.5" {
						c.t.Errorf("envelope: id=%q object=%q model=%q", tn.ID, tn.Object, tn.Model)
					}
				}
				body := c.lastBody()
				if body["instructions"] != "Be brief." {
					c.t.Errorf("instructions = %q", body["instructions"])
				}
			},
		},
		{
			name:  "stream",
			check: func(c *cell) { c.checkStream(false) },
		},
		{
			name:  "stream_usage",
			check: func(c *cell) { c.checkStream(true) },
		},
		{
			name:  "tools",
			skip:  map[string]string{"pi-ai": noNonStream},
			check: func(c *cell) { c.checkTools() },
		},
		{
			name:  "tools_stream",
			check: func(c *cell) { c.checkTools() },
		},
		{
			name:  "parallel_tools",
			skip:  map[string]string{"pi-ai": noNonStream},
			check: func(c *cell) { c.checkParallel() },
		},
		{
			name:  "parallel_tools_stream",
			check: func(c *cell) { c.checkParallel() },
		},
		{
			name: "image",
			skip: sameAsOpenAI,
			check: func(c *cell) {
				tn := c.oneTurn()
				c.eq("content", tn.Content, "echo: what is this?\nimage received: 1")
				c.eq("finish", tn.Finish, c.stop())
				input, _ := c.lastBody()["input"].([]any)
				var parts []any
				if len(input) > 0 {
					msg, _ := input[0].(map[string]any)
					parts, _ = msg["content"].([]any)
				}
				var found bool
				for _, p := range parts {
					if m, _ := p.(map[string]any); m["type"] == "input_image" {
						found = true
						if m["image_url"] != pngDataURL {
							c.t.Errorf("image_url = %.80v…, want the client's data URL", m["image_url"])
						}
					}
				}
				if !found {
					c.t.Errorf("no input_image reached upstream: %v", input)
				}
			},
		},
		{
			name: "json_schema",
			skip: map[string]string{"pi-ai": noSchema},
			check: func(c *cell) {
				tn := c.oneTurn()
				var person struct {
					Name *string `json:"name"`
					Age  *int    `json:"age"`
				}
				if err := json.Unmarshal([]byte(tn.Content), &person); err != nil || person.Name == nil || person.Age == nil {
					c.t.Errorf("content %q is not the schema's JSON: %v", tn.Content, err)
				}
				if c.client == "openai-helpers" {
					if err := json.Unmarshal(c.o.Parsed, &person); err != nil || person.Name == nil || person.Age == nil {
						c.t.Errorf("parse() gave no parsed object: %s (%v)", c.o.Parsed, err)
					}
				}
				if strings.HasPrefix(c.client, "ai-") {
					if err := json.Unmarshal(c.o.Object, &person); err != nil || person.Name == nil || person.Age == nil {
						c.t.Errorf("the AI SDK did not parse the object: %s (%v)", c.o.Object, err)
					}
				}
				text, _ := c.lastBody()["text"].(map[string]any)
				f, _ := text["format"].(map[string]any)
				if f["type"] != "json_schema" || f["name"] != "person" || f["schema"] == nil {
					c.t.Errorf("text.format = %v", f)
				}
			},
		},
		{
			name: "err_auth",
			skip: sameAsOpenAI,
			check: func(c *cell) {
				e := c.wantError(401)
				if !strings.Contains(e.Message, "API key") {
					c.t.Errorf("message = %q", e.Message)
				}
				if c.client != "pi-ai" && e.Code != "invalid_api_key" {
					c.t.Errorf("code = %q", e.Code)
				}
				c.upstreamRequests(0)
			},
		},
		{
			// openai: n=2; ai-compat: n=2 through providerOptions; ai-openai:
			// reasoningEffort "max"; pi-ai: a thinkingLevelMap sending
			// reasoning_effort "ultra". All are refused locally.
			name: "err_bad_request",
			skip: sameAsOpenAI,
			// Strict mode: an effort the model lacks is refused, not clamped.
			env: map[string]string{"CHATGPT_UNSUPPORTED_EFFORT": "reject"},
			check: func(c *cell) {
				e := c.wantError(400)
				switch c.client {
				case "openai", "ai-compat":
					if e.Param != "n" || e.Code != "unsupported_value" {
						c.t.Errorf("param=%q code=%q", e.Param, e.Code)
					}
				case "ai-openai":
					if e.Param != "reasoning_effort" || !strings.Contains(e.Message, "'max' is not supported") {
						c.t.Errorf("param=%q message=%q", e.Param, e.Message)
					}
				case "pi-ai":
					if !strings.Contains(e.Message, "'ultra' is not supported") {
						c.t.Errorf("message=%q", e.Message)
					}
				}
				c.upstreamRequests(0)
			},
		},
		{
			name:  "err_usage_limit",
			skip:  sameAsOpenAI,
			setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.UsageLimit("plus", 3*time.Hour+51*time.Minute)) },
			check: func(c *cell) {
				e := c.wantError(429)
				for _, want := range []string{"plus plan", "resets", "3 h 5"} {
					if !strings.Contains(e.Message, want) {
						c.t.Errorf("message %q lacks %q", e.Message, want)
					}
				}
				if c.client != "pi-ai" && e.RetryAfter == "" {
					c.t.Errorf("the client saw no Retry-After header")
				}
				c.upstreamRequests(1)
			},
		},
		{
			// The client's default retry policy meets a usage limit: one
			// request must reach ChatGPT (the limit lasts hours).
			name: "err_usage_limit_retries",
			skip: map[string]string{"openai-helpers": sameAsOpenAI["openai-helpers"]},
			setup: func(h *proxytest.Harness) {
				h.Fake.Enqueue(codextest.Repeat(codextest.UsageLimit("plus", 3*time.Hour+51*time.Minute), 3)...)
			},
			check: func(c *cell) {
				e := c.wantError(429)
				if !strings.Contains(e.Message, "resets") {
					c.t.Errorf("message %q does not mention the reset", e.Message)
				}
				c.upstreamRequests(1)
			},
		},
		{
			// The backend's context-window error must stay recognisable:
			// OpenClaw compacts the session when pi-ai's isContextOverflow()
			// matches the message.
			name: "err_context_overflow",
			setup: func(h *proxytest.Harness) {
				h.Fake.Enqueue(codextest.ErrorEvent("context_length_exceeded",
					"Your input exceeds the context window of this model. Please adjust your input and try again."))
			},
			check: func(c *cell) {
				e := c.wantError(400)
				if !strings.Contains(e.Message, "exceeds the context window") {
					c.t.Errorf("message = %q", e.Message)
				}
				if c.client == "pi-ai" {
					if !c.o.ContextOverflow {
						c.t.Errorf("pi-ai's isContextOverflow() does not recognise %q", e.Message)
					}
				} else if e.Code != "context_length_exceeded" {
					c.t.Errorf("code = %q", e.Code)
				}
				c.notCleanFinish()
			},
		},
		{
			name: "err_overloaded",
			setup: func(h *proxytest.Harness) {
				h.Fake.Enqueue(codextest.Fail("server_is_overloaded", "Our servers are busy"))
			},
			check: func(c *cell) {
				c.wantError(503)
				c.notCleanFinish()
			},
		},
		{
			name: "err_after_content",
			setup: func(h *proxytest.Harness) {
				h.Fake.Enqueue(codextest.FailAfterText("partial answer", "server_error", "boom"))
			},
			check: func(c *cell) {
				e := c.wantError(0)
				if !strings.Contains(e.Message, "boom") {
					c.t.Errorf("error message = %q, want the backend's %q", e.Message, "boom")
				}
				c.notCleanFinish()
			},
		},
		{
			name:  "err_cut",
			setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.Cut("half an answer")) },
			check: func(c *cell) {
				c.wantError(0)
				c.notCleanFinish()
			},
		},
		{
			name:         "err_retired",
			skip:         sameAsOpenAI,
			rejectionsOK: []string{retiredText},
			check: func(c *cell) {
				e := c.wantError(400)
				if !strings.Contains(e.Message, retiredText) {
					c.t.Errorf("message = %q, want the backend's text", e.Message)
				}
				if c.client != "pi-ai" && e.Param != "model" {
					c.t.Errorf("param = %q", e.Param)
				}
			},
		},
		{
			name:  "abort",
			setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.Stall("thinking")) },
			whileAlive: func(c *cell) {
				// The client is still running: only its abort can have
				// closed the connection.
				select {
				case <-c.h.Fake.Disconnected():
				case <-time.After(30 * time.Second):
					c.t.Errorf("the upstream request was not cancelled after the client aborted")
				}
			},
			check: func(c *cell) {
				if !c.o.Aborted {
					c.t.Fatalf("the client never saw content to abort on: %s", c.raw)
				}
				tn := c.oneTurn()
				if tn.Content == "" || !strings.HasPrefix("thinking", tn.Content) {
					c.t.Errorf("content before the abort = %q, want a prefix of %q", tn.Content, "thinking")
				}
				c.notCleanFinish()
				switch c.client {
				case "openai":
					// The SDK ends the iteration quietly when the caller's
					// signal aborts it (core/streaming.js); anything else is
					// a failure.
					if c.o.Error != nil && c.o.Error.Name != "APIUserAbortError" {
						c.t.Errorf("error = %+v", *c.o.Error)
					}
				case "openai-helpers":
					if c.o.Error == nil || c.o.Error.Name != "APIUserAbortError" {
						c.t.Errorf("finalChatCompletion() error = %+v, want APIUserAbortError", c.o.Error)
					}
				case "ai-compat", "ai-openai":
					if !c.o.AbortPart {
						c.t.Errorf("no abort part in fullStream: %s", c.raw)
					}
				case "pi-ai":
					c.eq("stopReason", tn.Finish, "aborted")
				}
			},
		},
		{
			name: "thinking_levels",
			skip: onlyPi,
			check: func(c *cell) {
				c.checkLevels([]string{"low", "medium", "high", "xhigh"})
			},
		},
		{
			// OpenClaw's "/think minimal": Codex models start at low, so
			// the proxy clamps to the nearest supported level.
			name: "thinking_minimal",
			skip: onlyPi,
			check: func(c *cell) {
				c.checkLevels([]string{"minimal"}, "low")
			},
		},
	}
}

// onlyPi skips the thinking-level scenarios for the clients that send the
// caller's reasoning_effort verbatim (err_bad_request covers a refused one):
// only pi-ai maps a UI thinking level onto reasoning_effort.
var onlyPi = map[string]string{
	"openai":         "only pi-ai maps UI thinking levels onto reasoning_effort; this client sends the caller's value verbatim",
	"openai-helpers": "only pi-ai maps UI thinking levels onto reasoning_effort; this client sends the caller's value verbatim",
	"ai-compat":      "only pi-ai maps UI thinking levels onto reasoning_effort; this client sends the caller's value verbatim",
	"ai-openai":      "only pi-ai maps UI thinking levels onto reasoning_effort; this client sends the caller's value verbatim",
}

// checkLevels: one successful turn per level, and the level reached upstream
// as reasoning.effort (OpenClaw's levels are the model's levels).
// checkLevels checks one turn per level; upstream gives the effort each
// level must reach the backend as (the level itself when not given).
func (c *cell) checkLevels(levels []string, upstream ...string) {
	c.t.Helper()
	ts := c.turns(len(levels))
	reqs := c.h.Fake.ResponsesRequests()
	if len(reqs) != len(levels) {
		c.t.Fatalf("upstream requests = %d, want %d", len(reqs), len(levels))
	}
	for i, level := range levels {
		c.eq(level+": content", ts[i].Content, "echo: hi")
		c.eq(level+": finish", ts[i].Finish, c.stop())
		want := level
		if i < len(upstream) {
			want = upstream[i]
		}
		r, _ := reqs[i].JSON["reasoning"].(map[string]any)
		if r["effort"] != want {
			c.t.Errorf("%s: upstream reasoning = %v", level, reqs[i].JSON["reasoning"])
		}
	}
}

func TestClients(t *testing.T) {
	node := setupNode(t)
	sem := make(chan struct{}, parallelism)
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			for _, sc := range scenarios() {
				t.Run(sc.name, func(t *testing.T) {
					if reason, ok := sc.skip[client]; ok {
						t.Skip(reason)
					}
					t.Parallel()
					sem <- struct{}{}
					defer func() { <-sem }()
					runCell(t, node, client, sc)
				})
			}
		})
	}
}

func runCell(t *testing.T, node, client string, sc scenario) {
	h := proxytest.New(t, sc.env)
	if sc.setup != nil {
		sc.setup(h)
	}
	c := &cell{t: t, client: client, h: h}
	c.raw = runNode(t, node, client, sc.name, h.BaseURL, func() {
		if sc.whileAlive != nil {
			sc.whileAlive(c)
		}
	})
	var o Observations
	if err := json.Unmarshal([]byte(c.raw), &o); err != nil {
		t.Fatalf("run.mjs printed no JSON: %v\n%s", err, c.raw)
	}
	c.o = &o
	t.Logf("observations: %s", c.raw)
	sc.check(c)
	if len(sc.rejectionsOK) == 0 {
		h.AssertNoRejections(t)
		return
	}
	for _, r := range h.Fake.Requests() {
		if r.Rejection == "" || r.Status == 401 {
			continue
		}
		ok := false
		for _, s := range sc.rejectionsOK {
			ok = ok || strings.Contains(r.Rejection, s)
		}
		if !ok {
			t.Errorf("the fake rejected %s %s: %s", r.Method, r.Path, r.Rejection)
		}
	}
}

// runNode runs run.mjs and returns the line it printed. whileAlive runs
// after that line and before the process is told (by closing stdin) to exit.
func runNode(t *testing.T, node, client, scenario, baseURL string, whileAlive func()) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs", client, scenario)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+baseURL,
		"API_KEY="+proxytest.APIKey,
		"AI_SDK_LOG_WARNINGS=false",
		"NODE_NO_WARNINGS=1",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, readErr := bufio.NewReader(stdout).ReadString('\n')
	if readErr == nil {
		whileAlive()
	}
	_ = stdin.Close()
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("node run.mjs %s %s did not finish within %v and was killed\nstdout: %s\nstderr: %s", client, scenario, nodeTimeout, line, stderr.String())
	}
	if readErr != nil || waitErr != nil {
		t.Fatalf("node run.mjs %s %s: read: %v, exit: %v\nstdout: %s\nstderr: %s", client, scenario, readErr, waitErr, line, stderr.String())
	}
	return strings.TrimSpace(line)
}

var (
	nodeOnce sync.Once
	nodePath string
	nodeErr  error
	nodeSkip string
)

// setupNode finds node and npm and installs node/node_modules with npm ci
// unless it already matches package-lock.json.
func setupNode(t *testing.T) string {
	t.Helper()
	nodeOnce.Do(func() {
		node, err1 := exec.LookPath("node")
		npm, err2 := exec.LookPath("npm")
		if err1 != nil || err2 != nil {
			nodeSkip = fmt.Sprintf("node/npm not found (node: %v, npm: %v)", err1, err2)
			return
		}
		nodePath = node
		nodeErr = npmCI(npm)
	})
	if nodeSkip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(nodeSkip + "; CI=true requires them")
		}
		t.Skip(nodeSkip)
	}
	if nodeErr != nil {
		t.Fatal(nodeErr)
	}
	return nodePath
}

const stampFile = "node_modules/.conformance-lock-sha256"

func npmCI(npm string) error {
	lock, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	if got, err := os.ReadFile(filepath.Join(nodeDir, stampFile)); err == nil && strings.TrimSpace(string(got)) == want {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", nodeDir, err, out)
	}
	return os.WriteFile(filepath.Join(nodeDir, stampFile), []byte(want+"\n"), 0o644)
}

// ---- assertion helpers ----

func (c *cell) eq(what, got, want string) {
	c.t.Helper()
	if got != want {
		c.t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func (c *cell) noError() {
	c.t.Helper()
	if c.o.Error != nil {
		c.t.Fatalf("client error: %+v\n%s", *c.o.Error, c.raw)
	}
}

func (c *cell) oneTurn() Turn {
	c.t.Helper()
	if len(c.o.Turns) != 1 {
		c.t.Fatalf("turns = %d, want 1: %s", len(c.o.Turns), c.raw)
	}
	return c.o.Turns[0]
}

func (c *cell) turns(n int) []Turn {
	c.t.Helper()
	c.noError()
	if len(c.o.Turns) != n {
		c.t.Fatalf("turns = %d, want %d: %s", len(c.o.Turns), n, c.raw)
	}
	return c.o.Turns
}

// stop and toolUse are each client's finish reason names.
func (c *cell) stop() string { return "stop" }

func (c *cell) toolUse() string {
	switch c.client {
	case "ai-compat", "ai-openai":
		return "tool-calls"
	case "pi-ai":
		return "toolUse"
	}
	return "tool_calls"
}

// reasoning: every client that surfaces reasoning text gets the summary.
// @ai-sdk/openai's chat model does not read reasoning_content (OpenAI's own
// Chat Completions API has no reasoning text), so it has none to check.
//
// openai-helpers is not checked either: ChatCompletionStream's accumulator
// Object.assign()s unknown delta fields, so a streamed reasoning_content ends
// up as its last delta only (a client limitation for every server that
// streams reasoning_content, not a server bug).
func (c *cell) reasoning(tn Turn) {
	c.t.Helper()
	if c.client == "ai-openai" || c.client == "openai-helpers" {
		return
	}
	if !strings.Contains(tn.Reasoning, "Reading the request") {
		c.t.Errorf("reasoning = %q", tn.Reasoning)
	}
}

func (c *cell) usage(tn Turn, want bool) {
	c.t.Helper()
	if !want {
		if tn.Usage != nil {
			c.t.Errorf("usage %+v surfaced though not requested", *tn.Usage)
		}
		return
	}
	if tn.Usage == nil {
		c.t.Errorf("no usage surfaced: %s", c.raw)
		return
	}
	if u := *tn.Usage; u.Input <= 0 || u.Output <= 0 || u.Total != u.Input+u.Output {
		c.t.Errorf("usage = %+v", u)
	}
}

func (c *cell) checkStream(includeUsage bool) {
	tn := c.oneTurn()
	c.noError()
	c.eq("content", tn.Content, "echo: stream me")
	c.eq("finish", tn.Finish, c.stop())
	c.reasoning(tn)
	if tn.Chunks < 4 {
		c.t.Errorf("chunks = %d: not streamed", tn.Chunks)
	}
	// @ai-sdk/openai always sends stream_options.include_usage.
	c.usage(tn, includeUsage || c.client == "ai-openai")
	if c.client == "openai" {
		c.eq("first delta role", tn.FirstRole, "assistant")
		if tn.IDs != 1 || tn.Object != "chat.completion.chunk" {
			c.t.Errorf("chunk ids=%d object=%q", tn.IDs, tn.Object)
		}
		if includeUsage && !tn.UsageChunkLast {
			c.t.Errorf("the last chunk is not the usage chunk with choices: []")
		}
	}
	body := c.lastBody()
	if body["stream"] != true || body["store"] != false || body["instructions"] != "Be brief." {
		c.t.Errorf("upstream stream/store/instructions = %v/%v/%q", body["stream"], body["store"], body["instructions"])
	}
	if _, ok := body["stream_options"]; ok {
		c.t.Errorf("stream_options forwarded upstream")
	}
}

func (c *cell) checkTools() {
	ts := c.turns(2)
	c.eq("finish", ts[0].Finish, c.toolUse())
	if len(ts[0].ToolCalls) != 1 {
		c.t.Fatalf("tool calls = %+v", ts[0].ToolCalls)
	}
	tc := ts[0].ToolCalls[0]
	if tc.Name != "get_weather" || !strings.HasPrefix(tc.ID, "call_") || !sameJSON(tc.Args, `{"city":"Paris"}`) {
		c.t.Errorf("tool call = %+v", tc)
	}
	c.eq("content after the tool", ts[1].Content, `tool said: {"temp":21}`)
	c.finalContent(`tool said: {"temp":21}`)
	c.eq("finish after the tool", ts[1].Finish, c.stop())

	reqs := c.h.Fake.ResponsesRequests()
	if len(reqs) != 2 {
		c.t.Fatalf("upstream requests = %d, want 2", len(reqs))
	}
	tools, _ := reqs[0].JSON["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "get_weather" {
		c.t.Errorf("tools not flattened: %v", reqs[0].JSON["tools"])
	}
	if got := inputKinds(reqs[1].JSON); got != "message,function_call,function_call_output" {
		c.t.Errorf("second request input items = %s (an empty assistant message must not be sent)", got)
	}
}

func (c *cell) checkParallel() {
	ts := c.turns(2)
	c.eq("finish", ts[0].Finish, c.toolUse())
	calls := ts[0].ToolCalls
	if len(calls) != 2 || calls[0].Name != "lookup_a" || calls[1].Name != "lookup_b" || calls[0].ID == calls[1].ID {
		c.t.Fatalf("tool calls = %+v", calls)
	}
	for _, tc := range calls {
		if !sameJSON(tc.Args, `{"q":1}`) {
			c.t.Errorf("args = %s", tc.Args)
		}
	}
	c.eq("content after the tools", ts[1].Content, "tool said: A\ntool said: B")
	c.finalContent("tool said: A\ntool said: B")
	c.eq("finish after the tools", ts[1].Finish, c.stop())
	if got := inputKinds(c.lastBody()); got != "message,function_call,function_call,function_call_output,function_call_output" {
		c.t.Errorf("second request input items = %s", got)
	}
}

// finalContent checks runTools().finalContent() for openai-helpers.
func (c *cell) finalContent(want string) {
	c.t.Helper()
	if c.client != "openai-helpers" {
		return
	}
	if c.o.Final == nil || *c.o.Final != want {
		c.t.Errorf("runTools finalContent = %v, want %q", c.o.Final, want)
	}
}

// wantError asserts the client raised an error with HTTP status (0: any,
// including in-band stream errors that have none) and returns it.
func (c *cell) wantError(status int) ClientError {
	c.t.Helper()
	if c.o.Error == nil {
		c.t.Fatalf("the client raised no error: %s", c.raw)
	}
	e := *c.o.Error
	if status != 0 {
		if got := c.status(e); got != status {
			c.t.Fatalf("status = %d, want %d: %+v", got, status, e)
		}
	}
	return e
}

var statusPrefix = regexp.MustCompile(`^(\d{3}) `)

// status is the HTTP status of e. pi-ai only keeps the OpenAI SDK's error
// message, which starts with the status ("401 Incorrect API key…").
func (c *cell) status(e ClientError) int {
	if e.Status != nil {
		return *e.Status
	}
	if m := statusPrefix.FindStringSubmatch(e.Message); c.client == "pi-ai" && m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// notCleanFinish asserts no turn (or AI SDK finish part) ended as a clean
// stop.
func (c *cell) notCleanFinish() {
	c.t.Helper()
	for _, tn := range c.o.Turns {
		if tn.Finish == "stop" {
			c.t.Errorf("a failed response finished cleanly: %s", c.raw)
		}
	}
	if c.o.Finish == "stop" {
		c.t.Errorf("the AI SDK stream finished with stop: %s", c.raw)
	}
}

func (c *cell) upstreamRequests(n int) {
	c.t.Helper()
	if got := len(c.h.Fake.ResponsesRequests()); got != n {
		c.t.Errorf("upstream /responses requests = %d, want %d", got, n)
	}
}

func (c *cell) lastBody() map[string]any {
	c.t.Helper()
	return c.h.LastResponses(c.t).JSON
}

func inputKinds(body map[string]any) string {
	input, _ := body["input"].([]any)
	var kinds []string
	for _, it := range input {
		m, _ := it.(map[string]any)
		k, _ := m["type"].(string)
		kinds = append(kinds, k)
	}
	return strings.Join(kinds, ",")
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
