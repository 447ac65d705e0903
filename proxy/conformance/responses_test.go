package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// RespObservations is what responses.mjs prints.
type RespObservations struct {
	Turns []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Model     string `json:"model"`
		Text      string `json:"text"`
		ToolCalls []struct {
			ID, Type, Name, Args string
		} `json:"tool_calls"`
		Usage  *Usage   `json:"usage"`
		Events []string `json:"events"`
		SeqOK  *bool    `json:"seq_ok"`
	} `json:"turns"`
	Error     *ClientError `json:"error"`
	Retrieved *struct {
		ID, Text, Status string
	} `json:"retrieved"`
	Deleted     json.RawMessage `json:"deleted"`
	AfterDelete *ClientError    `json:"after_delete"`
}

// runScript runs node <script> <client> <scenario> against baseURL and
// returns the JSON line it printed.
func runScript(t *testing.T, node, script, client, scenario, baseURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, client, scenario)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "BASE_URL="+baseURL, "API_KEY="+proxytest.APIKey, "NODE_NO_WARNINGS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %s %s: %v\nstdout: %s\nstderr: %s", script, client, scenario, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// TestResponsesClients runs the OpenAI Node SDK's Responses client and
// pi-ai's openai-responses provider (as OpenClaw configures it) against
// /v1/responses.
func TestResponsesClients(t *testing.T) {
	node := setupNode(t)
	type rcase struct {
		client, scenario string
		setup            func(h *proxytest.Harness)
		check            func(t *testing.T, h *proxytest.Harness, o *RespObservations)
	}
	text := func(want string, turns int) func(*testing.T, *proxytest.Harness, *RespObservations) {
		return func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			if o.Error != nil || len(o.Turns) != turns {
				t.Fatalf("error %+v, %d turns", o.Error, len(o.Turns))
			}
			last := o.Turns[len(o.Turns)-1]
			if last.Text != want {
				t.Errorf("text %q, want %q", last.Text, want)
			}
			if last.Usage == nil || last.Usage.Total == 0 {
				t.Errorf("no usage")
			}
			if last.SeqOK != nil && !*last.SeqOK {
				t.Errorf("sequence numbers not contiguous: %v", last.Events)
			}
		}
	}
	toolsCheck := func(names ...string) func(*testing.T, *proxytest.Harness, *RespObservations) {
		return func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			if o.Error != nil || len(o.Turns) != 2 {
				t.Fatalf("error %+v, %d turns", o.Error, len(o.Turns))
			}
			calls := o.Turns[0].ToolCalls
			if len(calls) != len(names) {
				t.Fatalf("calls %+v", calls)
			}
			want := ""
			for i, n := range names {
				if calls[i].Name != n || calls[i].ID == "" {
					t.Errorf("call %d: %+v", i, calls[i])
				}
				res := map[string]string{"get_weather": "sunny", "get_time": "noon"}[n]
				want += "\ntool said: " + res
			}
			if o.Turns[1].Text != strings.TrimPrefix(want, "\n") {
				t.Errorf("second turn %q", o.Turns[1].Text)
			}
		}
	}
	cases := []rcase{
		{client: "openai", scenario: "text", check: text("echo: hello there", 1)},
		{client: "openai", scenario: "stream", check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			text("echo: hello there", 1)(t, h, o)
			ev := o.Turns[0].Events
			if len(ev) < 5 || ev[0] != "response.created" || ev[len(ev)-1] != "response.completed" || !contains(ev, "response.output_text.delta") {
				t.Errorf("events %v", ev)
			}
		}},
		{client: "openai", scenario: "stream_helper", check: text("echo: hello there", 1)},
		{client: "openai", scenario: "tools", check: toolsCheck("get_weather")},
		{client: "openai", scenario: "tools_stream", check: toolsCheck("get_weather")},
		{client: "openai", scenario: "parallel_tools", check: toolsCheck("get_weather", "get_time")},
		{client: "openai", scenario: "custom_tool", check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			if o.Error != nil || len(o.Turns) != 2 {
				t.Fatalf("error %+v, %d turns", o.Error, len(o.Turns))
			}
			c := o.Turns[0].ToolCalls
			if len(c) != 1 || c[0].Type != "custom_tool_call" || c[0].Name != "ApplyPatch" || !strings.HasPrefix(c[0].Args, "*** Begin Patch\n") || !strings.HasSuffix(c[0].Args, "*** End Patch\n") {
				t.Errorf("custom call %+v", c)
			}
			if o.Turns[1].Text != "tool said: Done!" {
				t.Errorf("second turn %q", o.Turns[1].Text)
			}
		}},
		{client: "openai", scenario: "image", check: text("echo: what is this?\nimage received: 1", 1)},
		{client: "openai", scenario: "json_schema", check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			var p struct {
				Name *string `json:"name"`
				Age  *int    `json:"age"`
			}
			if o.Error != nil || len(o.Turns) != 1 || json.Unmarshal([]byte(o.Turns[0].Text), &p) != nil || p.Name == nil || p.Age == nil {
				t.Errorf("observations %+v", o)
			}
		}},
		{client: "openai", scenario: "chain", check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
			if len(o.Turns) != 2 || o.Turns[1].Text != "echo: second" {
				t.Fatalf("turns %+v", o.Turns)
			}
			if r := o.Retrieved; r == nil || r.ID != o.Turns[1].ID || r.Text != "echo: second" || r.Status != "completed" {
				t.Errorf("retrieved %+v", r)
			}
			if e := o.AfterDelete; e == nil || e.Status == nil || *e.Status != 404 {
				t.Errorf("after delete %+v", e)
			}
			if e := o.Error; e == nil || e.Status == nil || *e.Status != 404 || !strings.Contains(e.Message, "Previous response with id 'resp_expired0000' not found.") {
				t.Errorf("unknown previous id: %+v", e)
			}
			reqs := h.Fake.ResponsesRequests()
			if n := len(reqs); n != 2 {
				t.Fatalf("%d upstream requests", n)
			}
			in, _ := reqs[1].JSON["input"].([]any)
			if len(in) < 3 {
				t.Errorf("the chained request did not carry the first exchange: %v", in)
			}
		}},
		{client: "openai", scenario: "err_usage_limit", setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.UsageLimit("plus", 2*time.Hour)) },
			check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
				if e := o.Error; e == nil || e.Status == nil || *e.Status != 429 || !strings.Contains(e.Message, "usage limit") {
					t.Errorf("error %+v", e)
				}
			}},
		{client: "pi-ai", scenario: "stream", check: text("echo: hello there", 1)},
		{client: "pi-ai", scenario: "tools_stream", check: toolsCheck("get_weather")},
		{client: "pi-ai", scenario: "parallel_tools", check: toolsCheck("get_weather", "get_time")},
		{client: "pi-ai", scenario: "image", check: text("echo: what is this?\nimage received: 1", 1)},
		{client: "pi-ai", scenario: "err_usage_limit", setup: func(h *proxytest.Harness) { h.Fake.Enqueue(codextest.UsageLimit("plus", 2*time.Hour)) },
			check: func(t *testing.T, h *proxytest.Harness, o *RespObservations) {
				if e := o.Error; e == nil || !strings.Contains(e.Message, "usage limit") {
					t.Errorf("error %+v", e)
				}
				if n := len(h.Fake.ResponsesRequests()); n != 1 {
					t.Errorf("%d upstream requests", n)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.client+"/"+c.scenario, func(t *testing.T) {
			h := proxytest.New(t, nil)
			if c.setup != nil {
				c.setup(h)
			}
			raw := runScript(t, node, "responses.mjs", c.client, c.scenario, h.BaseURL)
			var o RespObservations
			if err := json.Unmarshal([]byte(raw), &o); err != nil {
				t.Fatalf("no JSON: %v\n%s", err, raw)
			}
			t.Logf("observations: %s", raw)
			c.check(t, h, &o)
			h.AssertNoRejections(t)
		})
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
