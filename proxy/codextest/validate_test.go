package codextest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestValidation(t *testing.T) {
	s := NewServer(t)
	withInput := func(items ...any) func(map[string]any) {
		return func(b map[string]any) { b["input"] = items }
	}
	call := map[string]any{"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_1"}
	cases := []struct {
		name      string
		mutate    func(map[string]any)
		header    func(http.Header)
		status    int
		body      string
		rejection string
	}{
		{name: "stream missing", mutate: func(b map[string]any) { delete(b, "stream") },
			status: 400, body: `{"detail":"Stream must be set to true"}`},
		{name: "stream false", mutate: func(b map[string]any) { b["stream"] = false },
			status: 400, body: `{"detail":"Stream must be set to true"}`},
		{name: "store missing", mutate: func(b map[string]any) { delete(b, "store") },
			status: 400, body: `{"detail":"Store must be set to false"}`},
		{name: "store true", mutate: func(b map[string]any) { b["store"] = true },
			status: 400, body: `{"detail":"Store must be set to false"}`},
		{name: "instructions missing", mutate: func(b map[string]any) { delete(b, "instructions") },
			status: 400, body: `{"detail":"Instructions are required"}`},
		{name: "unknown model", mutate: func(b map[string]any) { b["model"] = "gpt-4o" },
			status: 400, body: `{"detail":"The 'gpt-4o' model is not supported when using Codex with a ChatGPT account."}`},
		{name: "retired gpt-5.2", mutate: func(b map[string]any) { b["model"] = "gpt-5.2" },
			status: 400, body: `{"detail":"The 'gpt-5.2' model is not supported when using Codex with a ChatGPT account."}`},
		{name: "retired gpt-5.3-codex", mutate: func(b map[string]any) { b["model"] = "gpt-5.3-codex" },
			status: 400, body: `{"detail":"The 'gpt-5.3-codex' model is not supported when using Codex with a ChatGPT account."}`},
		{name: "version too old", mutate: func(b map[string]any) { b["model"] = "gpt-6-sol" },
			header: func(h http.Header) { h.Set("version", "0.153.3") },
			status: 400, body: `{"detail":"The 'gpt-6-sol' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again."}`},
		{name: "version missing", header: func(h http.Header) { h.Del("version") },
			status: 400, body: `{"detail":"The 'gpt-5.4' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again."}`},
		{name: "effort none", mutate: func(b map[string]any) { b["reasoning"] = map[string]any{"effort": "none"} },
			status: 400, body: `{"error":{"message":"Unsupported value: 'none' is not supported with the 'gpt-5.4' model. Supported values are: 'low', 'medium', 'high', and 'xhigh'.","type":"invalid_request_error","param":"reasoning.effort","code":"unsupported_value"}}`},
		{name: "verbosity unsupported", mutate: func(b map[string]any) {
			b["model"] = "codex-auto-review"
			b["text"] = map[string]any{"verbosity": "low"}
		},
			status: 400, body: `{"error":{"message":"Unsupported parameter: 'text.verbosity' is not supported with the 'codex-auto-review' model.","type":"invalid_request_error","param":"text.verbosity","code":"unsupported_parameter"}}`},
		{name: "unknown item type", mutate: withInput(map[string]any{"type": "bogus"}),
			status: 400, rejection: "Invalid value: 'bogus'. Supported values are: 'message', 'reasoning', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'local_shell_call', 'local_shell_call_output', 'web_search_call', 'image_generation_call', 'item_reference', and 'compaction'."},
		{name: "missing role", mutate: withInput(map[string]any{"type": "message", "content": "hi"}),
			status: 400, body: `{"error":{"message":"Missing required parameter: 'input[0].role'.","type":"invalid_request_error","param":"input[0].role","code":"missing_required_parameter"}}`},
		{name: "missing content", mutate: withInput(map[string]any{"type": "message", "role": "user"}),
			status: 400, rejection: "Missing required parameter: 'input[0].content'."},
		{name: "system role", mutate: withInput(map[string]any{"type": "message", "role": "system", "content": "x"}),
			status: 400, body: `{"error":{"message":"Invalid value: 'system'. Supported values are: 'user', 'assistant', and 'developer'.","type":"invalid_request_error","param":"input[0].role","code":"invalid_value"}}`},
		{name: "user output_text", mutate: withInput(map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "output_text", "text": "x"}}}),
			status: 400, rejection: "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and 'input_file'."},
		{name: "assistant input_text", mutate: withInput(userText("a"), map[string]any{"type": "message", "role": "assistant", "content": []any{map[string]any{"type": "input_text", "text": "x"}}}),
			status: 400, body: `{"error":{"message":"Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.","type":"invalid_request_error","param":"input[1].content[0].type","code":"invalid_value"}}`},
		{name: "developer output_text", mutate: withInput(map[string]any{"type": "message", "role": "developer", "content": []any{map[string]any{"type": "output_text", "text": "x"}}}),
			status: 400, rejection: "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and 'input_file'."},
		{name: "function_call without call_id", mutate: withInput(userText("a"), map[string]any{"type": "function_call", "name": "f", "arguments": "{}"}),
			status: 400, rejection: "Missing required parameter: 'input[1].call_id'."},
		{name: "function_call without name", mutate: withInput(userText("a"), map[string]any{"type": "function_call", "call_id": "c", "arguments": "{}"}),
			status: 400, rejection: "Missing required parameter: 'input[1].name'."},
		{name: "function_call object arguments", mutate: withInput(userText("a"), map[string]any{"type": "function_call", "name": "f", "call_id": "c", "arguments": map[string]any{"a": 1}}),
			status: 400, body: `{"error":{"message":"Invalid type for 'input[1].arguments': expected a string, but got an object instead.","type":"invalid_request_error","param":"input[1].arguments","code":"invalid_type"}}`},
		{name: "function_call_output without call_id", mutate: withInput(userText("a"), call, map[string]any{"type": "function_call_output", "output": "x"}),
			status: 400, rejection: "Missing required parameter: 'input[2].call_id'."},
		{name: "orphan function_call_output", mutate: withInput(userText("a"), map[string]any{"type": "function_call_output", "call_id": "call_9", "output": "x"}),
			status: 400, body: `{"error":{"message":"No tool call found for function call output with call_id call_9.","type":"invalid_request_error","param":"input","code":null}}`},
		{name: "output before its call", mutate: withInput(userText("a"), map[string]any{"type": "function_call_output", "call_id": "call_1", "output": "x"}, call),
			status: 400, rejection: "No tool call found for function call output with call_id call_1."},
		{name: "reasoning id without encrypted_content", mutate: withInput(userText("a"), map[string]any{"type": "reasoning", "id": "rs_123", "summary": []any{}}),
			status: 400, body: `{"error":{"message":"Item with id 'rs_123' not found. Items are not persisted when ` + "`store`" + ` is set to false.","type":"invalid_request_error","param":"input","code":null}}`},
		{name: "chat completions tool shape", mutate: func(b map[string]any) {
			b["tools"] = []any{map[string]any{"type": "function", "function": map[string]any{"name": "f", "parameters": map[string]any{}}}}
		},
			status: 400, body: `{"error":{"message":"Missing required parameter: 'tools[0].name'.","type":"invalid_request_error","param":"tools[0].name","code":"missing_required_parameter"}}`},
		{name: "bad image data", mutate: withInput(map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_image", "image_url": "data:image/png;base64,@@not base64@@"}}}),
			status: 400, body: `{"error":{"message":"The image data you provided does not represent a valid image. Please check your input and try again with one of the supported image formats: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].","type":"invalid_request_error","param":"input[0].content[0].image_url","code":"invalid_image"}}`},
		{name: "missing authorization", header: func(h http.Header) { h.Del("Authorization") },
			status: 401, body: `{"detail":"Unauthorized"}`, rejection: "missing Authorization header"},
		{name: "missing account id", header: func(h http.Header) { h.Del("ChatGPT-Account-ID") },
			status: 401, body: `{"detail":"Unauthorized"}`, rejection: "missing ChatGPT-Account-ID header"},
	}
	for _, p := range UnsupportedParameters {
		cases = append(cases, struct {
			name      string
			mutate    func(map[string]any)
			header    func(http.Header)
			status    int
			body      string
			rejection string
		}{name: "unsupported " + p, mutate: func(b map[string]any) { b[p] = 1 },
			status: 400, body: `{"detail":"Unsupported parameter: ` + p + `"}`})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := baseBody()
			if tc.mutate != nil {
				tc.mutate(body)
			}
			h := goodHeaders()
			if tc.header != nil {
				tc.header(h)
			}
			resp := post(t, s, body, h)
			got := readAll(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, got)
			}
			if tc.body != "" && !jsonEqual(t, got, []byte(tc.body)) {
				t.Fatalf("body = %s\nwant   %s", got, tc.body)
			}
			rec := s.LastRequest()
			if rec.Status != tc.status {
				t.Fatalf("recorded status = %d", rec.Status)
			}
			want := tc.rejection
			if want == "" {
				want = messageOf(t, []byte(tc.body))
			}
			if rec.Rejection != want {
				t.Fatalf("rejection = %q, want %q", rec.Rejection, want)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func messageOf(t *testing.T, body []byte) string {
	var m struct {
		Detail string `json:"detail"`
		Error  struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("bad JSON %s: %v", body, err)
	}
	if m.Detail != "" {
		return m.Detail
	}
	return m.Error.Message
}

func TestAcceptedVariants(t *testing.T) {
	s := NewServer(t)
	cases := map[string]struct {
		mutate func(map[string]any)
		header func(http.Header)
	}{
		"empty instructions": {mutate: func(b map[string]any) { b["instructions"] = "" }},
		"reasoning replay with id and encrypted_content": {mutate: func(b map[string]any) {
			b["input"] = []any{userText("a"), map[string]any{"type": "reasoning", "id": "rs_1", "summary": []any{}, "encrypted_content": "gAAAA"},
				map[string]any{"type": "message", "role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": "x"}}, "phase": "final_answer"},
				userText("b")}
		}},
		"version from user agent": {header: func(h http.Header) {
			h.Del("version")
			h.Set("User-Agent", "codex_cli_rs/0.155.0 (Mac OS 26.5.0; arm64) iTerm.app/3.6.10")
		}, mutate: func(b map[string]any) { b["model"] = "gpt-6-sol" }},
		"hidden model": {mutate: func(b map[string]any) {
			b["model"] = "codex-auto-review"
			b["reasoning"] = map[string]any{"effort": "high"}
		}},
		"string input":     {mutate: func(b map[string]any) { b["input"] = "hi" }},
		"easy message":     {mutate: func(b map[string]any) { b["input"] = []any{map[string]any{"role": "user", "content": "hi"}} }},
		"verbosity":        {mutate: func(b map[string]any) { b["text"] = map[string]any{"verbosity": "low"} }},
		"priority tier":    {mutate: func(b map[string]any) { b["service_tier"] = "priority" }},
		"https image":      {mutate: func(b map[string]any) { b["input"] = []any{imageMessage("https://example.com/a.png")} }},
		"ultra on 5.6-sol": {mutate: func(b map[string]any) { b["model"] = "gpt-5.6-sol"; b["reasoning"] = map[string]any{"effort": "ultra"} }},
		"tool loop": {mutate: func(b map[string]any) {
			b["input"] = []any{userText("a"),
				map[string]any{"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_1"},
				map[string]any{"type": "function_call_output", "call_id": "call_1", "output": []any{map[string]any{"type": "input_text", "text": "ok"}}}}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := baseBody()
			if tc.mutate != nil {
				tc.mutate(body)
			}
			h := goodHeaders()
			if tc.header != nil {
				tc.header(h)
			}
			resp := post(t, s, body, h)
			got := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d: %s", resp.StatusCode, got)
			}
			if r := s.LastRequest(); r.Rejection != "" || r.Status != 200 {
				t.Fatalf("recorded %d %q", r.Status, r.Rejection)
			}
		})
	}
}

func imageMessage(url string) map[string]any {
	return map[string]any{"type": "message", "role": "user", "content": []any{
		map[string]any{"type": "input_text", "text": "look"},
		map[string]any{"type": "input_image", "image_url": url},
	}}
}

func TestRequireTokens(t *testing.T) {
	s := NewServer(t)
	s.RequireTokens(func(tok string) bool { return tok == "good" })
	h := goodHeaders()
	h.Set("Authorization", "Bearer bad")
	resp := post(t, s, baseBody(), h)
	if b := readAll(t, resp); resp.StatusCode != 401 || string(b) != `{"detail":"Unauthorized"}` {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
	if r := s.LastRequest(); r.Rejection != "invalid access token" {
		t.Fatalf("rejection %q", r.Rejection)
	}
	h.Set("Authorization", "Bearer good")
	resp = post(t, s, baseBody(), h)
	readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestZstdBody(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["input"] = []any{userText("compressed hello")}
	raw, _ := json.Marshal(body)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	compressed := enc.EncodeAll(raw, nil)
	_ = enc.Close()
	h := goodHeaders()
	h.Set("Content-Encoding", "zstd")
	resp := doRaw(t, t.Context(), s, http.MethodPost, "/backend-api/codex/responses", compressed, h)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
	}
	evs, err := parseSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := finalText(evs); got != "echo: compressed hello" {
		t.Fatalf("text %q", got)
	}
	rec := s.LastRequest()
	if !bytes.Equal(rec.Body, raw) || rec.JSON["model"] != "gpt-5.4" {
		t.Fatalf("recorded body not decompressed: %q", rec.Body)
	}
}

func TestQueueNotConsumedByRejections(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Reply(Text("scripted")))
	bad := baseBody()
	delete(bad, "stream")
	readAll(t, post(t, s, bad, goodHeaders()))
	if s.Pending() != 1 {
		t.Fatalf("pending = %d", s.Pending())
	}
	_, evs := stream(t, s, baseBody())
	if got := finalText(evs); got != "scripted" {
		t.Fatalf("text %q", got)
	}
	_, evs = stream(t, s, baseBody())
	if got := finalText(evs); got != "echo: hello" {
		t.Fatalf("text %q", got)
	}
	if n := len(s.ResponsesRequests()); n != 3 {
		t.Fatalf("recorded %d", n)
	}
}
