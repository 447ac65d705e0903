package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// The patch Cursor's ApplyPatch tool takes: raw text, quotes, newlines
// and all, never JSON.
const applyPatch = "*** Begin Patch\n*** Add File: hello.py\n+def hello():\n+    print(\"hi\")\n*** End Patch"

// cursorTools are the tools of a Cursor agent-mode body: flat function
// definitions and the ApplyPatch custom tool with a Lark grammar.
const cursorTools = `[
 {"type":"function","name":"read_file","description":"Read a file","parameters":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]},"strict":false},
 {"type":"custom","name":"ApplyPatch","description":"Use this tool to edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF\nend_patch: \"*** End Patch\" LF?\nhunk: /(.|\\n)+/\nLF: \"\\n\""}}]`

// cursorBody builds a Responses-shaped body as Cursor's agent mode posts it
// to /v1/chat/completions.
func cursorBody(model, input string, stream bool) string {
	return `{"model":"` + model + `","stream":` + boolText(stream) + `,` +
		`"instructions":"You are a coding agent in Cursor.","input":` + input + `,"messages":[],` +
		`"tools":` + cursorTools + `,"tool_choice":"auto","parallel_tool_calls":true,` +
		`"reasoning":{"effort":"medium","summary":"auto"},"text":{"verbosity":"low"},` +
		`"metadata":{"cursor_request_id":"abc"},"store":false,"include":["reasoning.encrypted_content"]` +
		streamOpts(stream) + `}`
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func streamOpts(stream bool) string {
	if !stream {
		return ""
	}
	return `,"stream_options":{"include_usage":true,"include_obfuscation":false}`
}

// post sends a raw body to /v1/chat/completions and returns status and body.
func (h *harness) post(t *testing.T, body string) (int, string) {
	t.Helper()
	return h.postTo(t, "/chat/completions", body)
}

// postTo sends a raw body to path under /v1 and returns status and body,
// read to its end.
func (h *harness) postTo(t *testing.T, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// chatCall is a tool call of a chat answer, streamed or not.
type chatCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function *struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
	Custom *struct {
		Name  string `json:"name"`
		Input string `json:"input"`
	} `json:"custom"`
}

// chatAnswer is what a chat answer says, streamed or not.
type chatAnswer struct {
	model, content, finish string
	calls                  []chatCall
	usage                  bool
}

// parseAnswer reads a chat.completion or a chunk stream.
func parseAnswer(t *testing.T, raw string, stream bool) chatAnswer {
	t.Helper()
	type choice struct {
		Message struct {
			Content   *string    `json:"content"`
			ToolCalls []chatCall `json:"tool_calls"`
		} `json:"message"`
		Delta struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				Index int `json:"index"`
				chatCall
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	type frame struct {
		Object  string          `json:"object"`
		Model   string          `json:"model"`
		Choices []choice        `json:"choices"`
		Usage   json.RawMessage `json:"usage"`
		Type    string          `json:"type"`
	}
	var a chatAnswer
	if !stream {
		var f frame
		if err := json.Unmarshal([]byte(raw), &f); err != nil || f.Object != "chat.completion" {
			t.Fatalf("not a chat.completion (%v): %s", err, raw)
		}
		c := f.Choices[0]
		if c.Message.Content != nil {
			a.content = *c.Message.Content
		}
		a.model, a.finish, a.calls, a.usage = f.Model, *c.FinishReason, c.Message.ToolCalls, len(f.Usage) > 0
		return a
	}
	if !strings.HasSuffix(raw, "data: [DONE]\n\n") {
		t.Fatalf("stream does not end with [DONE]:\n%s", raw)
	}
	for _, line := range strings.Split(raw, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var f frame
		if err := json.Unmarshal([]byte(data), &f); err != nil || f.Object != "chat.completion.chunk" || f.Type != "" {
			t.Fatalf("not a chat.completion.chunk (%v): %s", err, data)
		}
		a.model = f.Model
		if string(f.Usage) != "" && string(f.Usage) != "null" {
			a.usage = true
		}
		for _, c := range f.Choices {
			a.content += c.Delta.Content
			if c.FinishReason != nil {
				a.finish = *c.FinishReason
			}
			for _, d := range c.Delta.ToolCalls {
				for len(a.calls) <= d.Index {
					a.calls = append(a.calls, chatCall{})
				}
				cc := &a.calls[d.Index]
				if d.ID != "" {
					cc.ID, cc.Type = d.ID, d.Type
				}
				if d.Function != nil {
					if cc.Function == nil {
						cc.Function = d.Function
					} else {
						cc.Function.Arguments += d.Function.Arguments
					}
				}
				if d.Custom != nil {
					if cc.Custom == nil {
						cc.Custom = d.Custom
					} else {
						cc.Custom.Input += d.Custom.Input
					}
				}
			}
		}
	}
	return a
}

// itemTypes lists the types of the upstream input items.
func itemTypes(body map[string]any) string {
	var kinds []string
	for _, it := range body["input"].([]any) {
		kinds = append(kinds, it.(map[string]any)["type"].(string))
	}
	return strings.Join(kinds, ",")
}

// TestCursorAgentApplyPatch runs Cursor's agent-mode round trip through
// the real server and the fake backend: a Responses-shaped body on the
// chat route, the ApplyPatch custom tool called with a raw patch, answered
// in Chat Completions format with the patch in a function envelope, and
// the next turn's history (Cursor echoes the envelope) sent upstream as
// custom_tool_call / custom_tool_call_output.
func TestCursorAgentApplyPatch(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run("stream="+boolText(stream), func(t *testing.T) {
			h := newHarness(t, nil)
			prompt, _ := json.Marshal("call:ApplyPatch " + applyPatch)
			input := `[{"role":"user","content":[{"type":"input_text","text":` + string(prompt) + `}]}]`
			status, raw := h.post(t, cursorBody("gpt-5.5-high", input, stream))
			if status != 200 {
				t.Fatalf("status %d: %s", status, raw)
			}
			a := parseAnswer(t, raw, stream)
			if a.finish != "tool_calls" || len(a.calls) != 1 {
				t.Fatalf("finish %q, calls %+v", a.finish, a.calls)
			}
			c := a.calls[0]
			if c.Type != "function" || c.Function == nil || c.Function.Name != "ApplyPatch" || c.Custom != nil {
				t.Fatalf("the call is not in the function envelope Cursor needs: %+v", c)
			}
			if c.Function.Arguments != applyPatch {
				t.Fatalf("arguments = %q, want the raw patch %q", c.Function.Arguments, applyPatch)
			}
			if a.model != "gpt-5.5" {
				t.Errorf("answer names model %q, want the real model gpt-5.5", a.model)
			}
			if stream && !a.usage {
				t.Error("stream_options.include_usage gave no usage chunk")
			}

			body := lastBody(t, h.fake)
			tools := body["tools"].([]any)
			patchTool := tools[1].(map[string]any)
			format, _ := patchTool["format"].(map[string]any)
			if patchTool["type"] != "custom" || patchTool["name"] != "ApplyPatch" || format["syntax"] != "lark" || format["definition"] == "" {
				t.Errorf("ApplyPatch did not go upstream as a custom tool: %v", patchTool)
			}
			if fn := tools[0].(map[string]any); fn["type"] != "function" || fn["name"] != "read_file" {
				t.Errorf("flat function tool = %v", fn)
			}
			if _, ok := body["metadata"]; ok {
				t.Error("Cursor's metadata reached the backend")
			}
			if body["instructions"] != "You are a coding agent in Cursor." || body["model"] != "gpt-5.5" {
				t.Errorf("instructions/model = %v / %v", body["instructions"], body["model"])
			}
			if r := body["reasoning"].(map[string]any); r["effort"] != "medium" {
				t.Errorf("reasoning = %v (an explicit effort wins over the suffix)", r)
			}
			if tx := body["text"].(map[string]any); tx["verbosity"] != "low" {
				t.Errorf("text = %v", tx)
			}

			// Cursor's next turn: the call as it was answered (a function
			// envelope) and the tool's result.
			args, _ := json.Marshal(applyPatch)
			input = `[{"role":"user","content":` + string(prompt) + `},` +
				`{"type":"function_call","call_id":"` + c.ID + `","name":"ApplyPatch","arguments":` + string(args) + `},` +
				`{"type":"function_call_output","call_id":"` + c.ID + `","output":"Success. Updated hello.py"}]`
			status, raw = h.post(t, cursorBody("gpt-5.5", input, stream))
			if status != 200 {
				t.Fatalf("second turn: status %d: %s", status, raw)
			}
			a = parseAnswer(t, raw, stream)
			if a.finish != "stop" || a.content != "tool said: Success. Updated hello.py" {
				t.Fatalf("second turn: finish %q content %q", a.finish, a.content)
			}
			body = lastBody(t, h.fake)
			if got := itemTypes(body); got != "message,custom_tool_call,custom_tool_call_output" {
				t.Errorf("history items = %s", got)
			}
			call := body["input"].([]any)[1].(map[string]any)
			if call["input"] != applyPatch || call["name"] != "ApplyPatch" {
				t.Errorf("history call = %v", call)
			}
		})
	}
}

// TestCursorPlainText covers a Responses-shaped body with a string input,
// model suffixes and Cursor's message-shaped history on the chat route.
func TestCursorPlainText(t *testing.T) {
	h := newHarness(t, nil)
	body := `{"model":"gpt-5.4-mini-extra","input":"Hello there","stream":true}`
	status, raw := h.post(t, body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	a := parseAnswer(t, raw, true)
	if a.content != "echo: Hello there" || a.finish != "stop" || a.model != "gpt-5.4-mini" {
		t.Fatalf("answer %+v", a)
	}
	up := lastBody(t, h.fake)
	if r := up["reasoning"].(map[string]any); r["effort"] != "xhigh" {
		t.Errorf("-extra sent effort %v, want xhigh (the highest gpt-5.4-mini supports)", r["effort"])
	}
	if _, ok := up["service_tier"]; ok {
		t.Errorf("service_tier = %v without -fast", up["service_tier"])
	}

	// -fast: the priority tier where the catalog offers it, else the model
	// itself. The live catalog decides (the built-in fallback lists
	// priority for every model).
	waitFor(t, func() bool { return h.core.Catalog().Live() })
	status, raw = h.post(t, `{"model":"gpt-5.5-fast","input":[{"role":"user","content":"hi"}]}`)
	if status != 200 || parseAnswer(t, raw, false).model != "gpt-5.5" {
		t.Fatalf("gpt-5.5-fast: %d %s", status, raw)
	}
	if up = lastBody(t, h.fake); up["service_tier"] != "priority" || up["model"] != "gpt-5.5" {
		t.Errorf("gpt-5.5-fast went up as %v / %v", up["model"], up["service_tier"])
	}
	status, raw = h.post(t, `{"model":"gpt-5.4-mini-fast","input":[{"role":"user","content":"hi"}]}`)
	if status != 200 {
		t.Fatalf("gpt-5.4-mini-fast: %d %s", status, raw)
	}
	if up = lastBody(t, h.fake); up["service_tier"] != nil || up["model"] != "gpt-5.4-mini" {
		t.Errorf("gpt-5.4-mini-fast went up as %v / %v", up["model"], up["service_tier"])
	}
}

// TestCursorBadInput answers malformed Responses-shaped bodies with a 400
// in the OpenAI shape, before anything reaches the backend.
func TestCursorBadInput(t *testing.T) {
	h := newHarness(t, nil)
	for name, body := range map[string]string{
		"unknown item":     `{"model":"gpt-5.5","input":[{"type":"bogus"}]}`,
		"item reference":   `{"model":"gpt-5.5","input":[{"type":"item_reference","id":"msg_1"}]}`,
		"no role":          `{"model":"gpt-5.5","input":[{"type":"message","content":"x"}]}`,
		"orphan output":    `{"model":"gpt-5.5","input":[{"role":"user","content":"x"},{"type":"function_call_output","call_id":"c9","output":"x"}]}`,
		"input not a list": `{"model":"gpt-5.5","input":{"role":"user"}}`,
		"bad grammar":      `{"model":"gpt-5.5","input":"x","tools":[{"type":"custom","name":"P","format":{"type":"grammar","syntax":"ebnf","definition":"a"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			n := len(h.fake.ResponsesRequests())
			status, raw := h.post(t, body)
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if status != 400 || json.Unmarshal([]byte(raw), &e) != nil || e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
				t.Fatalf("status %d body %s", status, raw)
			}
			if len(h.fake.ResponsesRequests()) != n {
				t.Error("a refused body reached the backend")
			}
		})
	}
}

// TestChatCustomToolSDK uses the OpenAI Go SDK's custom tools (the nested
// Chat Completions shape): the call comes back as OpenAI documents it,
// {"type":"custom","custom":{"name","input"}}, and its result goes back
// upstream as custom_tool_call_output.
func TestChatCustomToolSDK(t *testing.T) {
	h := newHarness(t, nil)
	tool := openai.ChatCompletionCustomTool(openai.ChatCompletionCustomToolCustomParam{
		Name: "ApplyPatch",
		Format: openai.ChatCompletionCustomToolCustomFormatUnionParam{OfGrammar: &openai.ChatCompletionCustomToolCustomFormatGrammarParam{
			Grammar: openai.ChatCompletionCustomToolCustomFormatGrammarGrammarParam{Definition: `start: /(.|\n)+/`, Syntax: "lark"},
		}},
	})
	msgs := []openai.ChatCompletionMessageParamUnion{userMsg("call:ApplyPatch " + applyPatch)}
	params := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{tool}}
	resp, err := h.client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	msg := resp.Choices[0].Message
	if resp.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 1 {
		t.Fatalf("answer %+v", resp.Choices[0])
	}
	c := msg.ToolCalls[0].AsCustom()
	if c.Type != "custom" || c.Custom.Name != "ApplyPatch" || c.Custom.Input != applyPatch {
		t.Fatalf("custom call = %+v", msg.ToolCalls[0])
	}
	if tools := lastBody(t, h.fake)["tools"].([]any); tools[0].(map[string]any)["type"] != "custom" {
		t.Fatalf("tool went up as %v", tools[0])
	}
	params.Messages = append(msgs, msg.ToParam(), openai.ToolMessage("Done!", c.ID))
	resp, err = h.client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "tool said: Done!" {
		t.Fatalf("after the tool: %q", got)
	}
	if got := itemTypes(lastBody(t, h.fake)); got != "message,custom_tool_call,custom_tool_call_output" {
		t.Errorf("history items = %s", got)
	}

	// Streamed, the deltas carry the raw input in the custom shape.
	raw := h.rawStream(t, `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":`+jsonString("call:ApplyPatch "+applyPatch)+`}],`+
		`"tools":[{"type":"custom","custom":{"name":"ApplyPatch","format":{"type":"text"}}}]}`)
	a := parseAnswer(t, raw, true)
	if len(a.calls) != 1 || a.calls[0].Custom == nil || a.calls[0].Custom.Input != applyPatch || a.calls[0].Type != "custom" {
		t.Fatalf("streamed custom call = %+v", a.calls)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
