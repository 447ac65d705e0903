package codextest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// liteBody returns a valid Responses-Lite body for a Luna model, as the
// Codex CLI sends it.
func liteBody() map[string]any {
	return map[string]any{
		"model":  "gpt-6-luna",
		"stream": true,
		"input": []any{
			map[string]any{"type": "additional_tools", "role": "developer", "tools": []any{
				map[string]any{"type": "namespace", "name": "functions", "description": "", "tools": []any{
					map[string]any{"type": "function", "name": "f", "parameters": map[string]any{"type": "object"}},
					map[string]any{"type": "custom", "name": "exec"},
				}},
			}},
			map[string]any{"type": "message", "role": "developer", "content": []any{map[string]any{"type": "input_text", "text": "Be brief."}}},
			userText("hello"),
			map[string]any{"type": "configuration_update", "reasoning": map[string]any{"effort": "low"}},
		},
		"tool_choice":         "auto",
		"parallel_tool_calls": false,
		"reasoning":           map[string]any{"effort": "low", "context": "all_turns"},
		"store":               false,
		"include":             []any{"reasoning.encrypted_content"},
		"prompt_cache_key":    "conv-1",
	}
}

func liteHeaders() http.Header {
	h := goodHeaders()
	h.Set(LiteHeader, "true")
	h.Set("x-codex-routing-hint", "model=gpt-6-luna")
	return h
}

// TestLiteValidation checks the fake refuses what the backend refuses in
// the Responses-Lite shape (docs/protocol.md §1) and accepts the CLI's body.
func TestLiteValidation(t *testing.T) {
	s := NewServer(t)
	call := func(ns string) map[string]any {
		c := map[string]any{"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_1"}
		if ns != "" {
			c["namespace"] = ns
		}
		return c
	}
	out := map[string]any{"type": "function_call_output", "call_id": "call_1", "output": "ok"}
	withHistory := func(items ...any) func(map[string]any) {
		return func(b map[string]any) {
			in := b["input"].([]any)
			b["input"] = append(append(append([]any{}, in[:3]...), items...), in[3])
		}
	}
	cases := []struct {
		name     string
		mutate   func(map[string]any)
		header   func(http.Header)
		status   int
		contains string
	}{
		{name: "accepted", status: 200},
		{name: "declared namespace round-trips", mutate: withHistory(call("functions"), out), status: 200},
		{name: "marker on a classic model", mutate: func(b map[string]any) { b["model"] = "gpt-5.5" },
			status: 400, contains: `{"error":{"code":"unsupported_value","message":"This model is not supported when using X-OpenAI-Internal-Codex-Responses-Lite.","param":"model","type":"invalid_request_error"}}`},
		{name: "no all_turns context", mutate: func(b map[string]any) { b["reasoning"] = map[string]any{"effort": "low"} },
			status: 400, contains: `"code":"unsupported_value"`},
		{name: "parallel tool calls", mutate: func(b map[string]any) { b["parallel_tool_calls"] = true },
			status: 400, contains: "parallel tool calls"},
		{name: "hosted tool", mutate: func(b map[string]any) {
			at := b["input"].([]any)[0].(map[string]any)
			at["tools"] = append(at["tools"].([]any), map[string]any{"type": "web_search"})
		}, status: 400, contains: LiteHostedToolMessage},
		{name: "undeclared namespace", mutate: withHistory(call("tools"), out),
			status: 400, contains: `Unknown parameter: 'input[3].namespace'.`},
		{name: "namespace missing", mutate: withHistory(call(""), out),
			status: 400, contains: `Missing namespace for function_call 'f'.`},
		{name: "classic body on a Luna model", header: func(h http.Header) { h.Del(LiteHeader) }, mutate: func(b map[string]any) {
			b["instructions"] = ""
			b["input"] = []any{userText("hi")}
		}, status: 404, contains: "Model not found gpt-6-luna"},
		{name: "top-level tools in lite", mutate: func(b map[string]any) { b["tools"] = []any{} },
			status: 400, contains: "Unsupported parameter: 'tools'"},
		{name: "lite items without the marker", header: func(h http.Header) { h.Del(LiteHeader) }, mutate: func(b map[string]any) {
			b["model"], b["instructions"] = "gpt-5.5", ""
		}, status: 400, contains: "Invalid value: 'additional_tools'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := liteBody()
			if tc.mutate != nil {
				tc.mutate(b)
			}
			h := liteHeaders()
			if tc.header != nil {
				tc.header(h)
			}
			resp := post(t, s, b, h)
			body := readAll(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.contains != "" && !strings.Contains(string(body), tc.contains) {
				t.Errorf("body %s lacks %s", body, tc.contains)
			}
		})
	}
}

// TestLiteView: behaviors see a lite request's tools, instructions and
// conversation as in the classic shape, and a call of a namespaced tool
// comes back in its namespace.
func TestLiteView(t *testing.T) {
	s := NewServer(t)
	var got *ResponsesRequest
	s.SetResponder(BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *ResponsesRequest) {
		got = req
		Reply(Call("f", "{}")).Respond(w, r, req)
	}))
	resp := post(t, s, liteBody(), liteHeaders())
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
	}
	evs, err := parseSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Lite || got.Instructions != "Be brief." || !got.HasTool("f") || len(got.Input) != 1 || got.LastUserText() != "hello" {
		t.Errorf("lite view: lite %v instr %q tools %v input %v", got.Lite, got.Instructions, got.Tools, got.Input)
	}
	items := doneItems(evs)
	if len(items) != 1 || items[0]["namespace"] != "functions" {
		b, _ := json.Marshal(items)
		t.Errorf("call without its namespace: %s", b)
	}
}
