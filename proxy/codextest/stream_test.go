package codextest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestDefaultResponderEcho(t *testing.T) {
	s := NewServer(t)
	resp, evs := stream(t, s, baseBody())

	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content-type %q", ct)
	}
	for _, h := range []string{"x-request-id", "x-models-etag", "openai-model", "x-codex-primary-used-percent",
		"x-codex-primary-reset-after-seconds", "x-codex-primary-reset-at", "x-codex-secondary-window-minutes",
		"x-codex-secondary-reset-at", "x-codex-plan-type", "x-codex-credits-has-credits"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if got := resp.Header.Get("openai-model"); got != "gpt-5.4" {
		t.Errorf("openai-model %q", got)
	}

	want := []string{
		"response.created", "response.in_progress",
		"response.output_item.added",
		"response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
		"response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
		"response.output_item.done",
		"response.output_item.added", "response.content_part.added", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.completed",
	}
	if got := collapse(types(evs)); !slices.Equal(got, want) {
		t.Fatalf("event order:\n got %v\nwant %v", got, want)
	}
	deltaCount := 0
	for _, e := range evs {
		if e.typ() == "response.output_text.delta" {
			deltaCount++
		}
	}
	if deltaCount < 2 {
		t.Fatalf("text streamed in %d deltas", deltaCount)
	}

	deltas, done := textsByItem(evs, "response.output_text.delta", "response.output_text.done")
	if len(done) != 1 || !mapsEqual(deltas, done) {
		t.Fatalf("text deltas %q vs done %q", deltas, done)
	}
	sd, sdone := textsByItem(evs, "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done")
	if len(sdone) != 2 || !mapsEqual(sd, sdone) {
		t.Fatalf("summary deltas %q vs done %q", sd, sdone)
	}
	if got := finalText(evs); got != "echo: hello" {
		t.Fatalf("text %q", got)
	}
	items := doneItems(evs)
	if items[0]["type"] != "reasoning" || items[0]["encrypted_content"] == nil {
		t.Fatalf("reasoning item %v", items[0])
	}
	if items[1]["phase"] != "final_answer" {
		t.Fatalf("message phase %v", items[1]["phase"])
	}

	last := evs[len(evs)-1].Data["response"].(map[string]any)
	if out := last["output"].([]any); len(out) != 0 {
		t.Fatalf("completed output not empty: %v", out)
	}
	if last["status"] != "completed" || !strings.HasPrefix(last["id"].(string), "resp_") {
		t.Fatalf("completed envelope %v", last)
	}
	u := last["usage"].(map[string]any)
	in, out, total := u["input_tokens"].(float64), u["output_tokens"].(float64), u["total_tokens"].(float64)
	if in <= 0 || out <= 0 || total != in+out {
		t.Fatalf("usage %v", u)
	}
	if evs[0].Data["response"].(map[string]any)["id"] != last["id"] {
		t.Fatal("response id changed during the stream")
	}

	// The same prompt_cache_key reports cached tokens the second time.
	_, evs = stream(t, s, baseBody())
	u = evs[len(evs)-1].Data["response"].(map[string]any)["usage"].(map[string]any)
	if c := u["input_tokens_details"].(map[string]any)["cached_tokens"].(float64); c <= 0 {
		t.Fatalf("cached tokens %v", c)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDefaultResponderWithoutReasoning(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	delete(body, "reasoning")
	delete(body, "include")
	_, evs := stream(t, s, body)
	items := doneItems(evs)
	if len(items) != 1 || items[0]["type"] != "message" {
		t.Fatalf("items %v", items)
	}

	body = baseBody()
	body["reasoning"] = map[string]any{"effort": "low"}
	delete(body, "include")
	_, evs = stream(t, s, body)
	items = doneItems(evs)
	if items[0]["type"] != "reasoning" || len(items[0]["summary"].([]any)) != 0 {
		t.Fatalf("reasoning without summary: %v", items[0])
	}
	if _, ok := items[0]["encrypted_content"]; ok {
		t.Fatal("encrypted_content sent without include")
	}
}

func weatherTool(name string) map[string]any {
	return map[string]any{"type": "function", "name": name, "description": "d", "strict": false,
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}
}

func TestDefaultResponderCall(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["tools"] = []any{weatherTool("get_weather")}
	body["input"] = []any{userText(`call:get_weather {"city":"Paris"}`)}
	_, evs := stream(t, s, body)

	var calls []map[string]any
	for _, it := range doneItems(evs) {
		if it["type"] == "function_call" {
			calls = append(calls, it)
		}
	}
	if len(calls) != 1 || calls[0]["name"] != "get_weather" || calls[0]["arguments"] != `{"city":"Paris"}` {
		t.Fatalf("calls %v", calls)
	}
	if id, _ := calls[0]["call_id"].(string); !strings.HasPrefix(id, "call_") {
		t.Fatalf("call_id %v", calls[0]["call_id"])
	}
	deltas, done := textsByItem(evs, "response.function_call_arguments.delta", "response.function_call_arguments.done")
	if !mapsEqual(deltas, done) {
		t.Fatalf("argument deltas %q vs done %q", deltas, done)
	}
	n := 0
	for _, e := range evs {
		if e.typ() == "response.function_call_arguments.delta" {
			n++
		}
	}
	if n < 2 {
		t.Fatalf("arguments streamed in %d deltas", n)
	}

	// Follow-up with the tool result.
	body["input"] = []any{userText("weather?"),
		map[string]any{"type": "function_call", "name": "get_weather", "arguments": `{"city":"Paris"}`, "call_id": calls[0]["call_id"]},
		map[string]any{"type": "function_call_output", "call_id": calls[0]["call_id"], "output": `{"temp":21}`}}
	_, evs = stream(t, s, body)
	if got := finalText(evs); got != `tool said: {"temp":21}` {
		t.Fatalf("text %q", got)
	}

	// An unknown tool falls back to echo.
	body["input"] = []any{userText("call:nope {}")}
	_, evs = stream(t, s, body)
	if got := finalText(evs); got != "echo: call:nope {}" {
		t.Fatalf("text %q", got)
	}
}

func TestDefaultResponderParallelCalls(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["tools"] = []any{weatherTool("a"), weatherTool("b")}
	body["parallel_tool_calls"] = true
	body["input"] = []any{userText("call-parallel:a,b")}
	_, evs := stream(t, s, body)
	var names []string
	ids := map[string]bool{}
	for _, it := range doneItems(evs) {
		if it["type"] == "function_call" {
			names = append(names, it["name"].(string))
			ids[it["call_id"].(string)] = true
			if it["arguments"] != "{}" {
				t.Fatalf("arguments %v", it["arguments"])
			}
		}
	}
	if !slices.Equal(names, []string{"a", "b"}) || len(ids) != 2 {
		t.Fatalf("calls %v ids %v", names, ids)
	}
}

func TestDefaultResponderJSONSchema(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["text"] = map[string]any{"format": map[string]any{
		"type": "json_schema", "name": "out", "strict": true,
		"schema": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"name":  map[string]any{"type": "string"},
				"age":   map[string]any{"type": "integer"},
				"ok":    map[string]any{"type": "boolean"},
				"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"kind":  map[string]any{"type": "string", "enum": []any{"cat", "dog"}},
				"inner": map[string]any{"$ref": "#/$defs/inner"},
			},
			"required": []any{"name", "age", "ok", "tags", "kind", "inner"},
			"$defs": map[string]any{"inner": map[string]any{"type": "object",
				"properties": map[string]any{"score": map[string]any{"type": "number"}}}},
		},
	}}
	_, evs := stream(t, s, body)
	var got map[string]any
	if err := json.Unmarshal([]byte(finalText(evs)), &got); err != nil {
		t.Fatalf("not JSON: %q", finalText(evs))
	}
	want := map[string]any{"name": "x", "age": 1.0, "ok": true, "tags": []any{}, "kind": "cat",
		"inner": map[string]any{"score": 1.0}}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("got %s want %s", gb, wb)
	}
}

func TestDefaultResponderImage(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["input"] = []any{imageMessage("data:image/png;base64,iVBORw0KGgo=")}
	_, evs := stream(t, s, body)
	if got := finalText(evs); got != "echo: look\nimage received: 1" {
		t.Fatalf("text %q", got)
	}
}

func TestReplyScripted(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Reply(
		Reasoning("**A**", "**B**"),
		Commentary("Checking."),
		CallID("call_fixed", "f", `{"x":1}`),
		Text("Done."),
	).WithUsage(Usage(100, 64, 20, 8)).WithCompletedOutput().WithModel("gpt-5.4-mini"))
	body := baseBody()
	resp, evs := stream(t, s, body)
	if got := resp.Header.Get("openai-model"); got != "gpt-5.4-mini" {
		t.Fatalf("openai-model %q", got)
	}
	items := doneItems(evs)
	gotTypes := []string{}
	for _, it := range items {
		gotTypes = append(gotTypes, it["type"].(string))
	}
	if !slices.Equal(gotTypes, []string{"reasoning", "message", "function_call", "message"}) {
		t.Fatalf("types %v", gotTypes)
	}
	if items[1]["phase"] != "commentary" || items[3]["phase"] != "final_answer" || items[2]["call_id"] != "call_fixed" {
		t.Fatalf("items %v", items)
	}
	last := evs[len(evs)-1].Data["response"].(map[string]any)
	if len(last["output"].([]any)) != 4 || last["model"] != "gpt-5.4-mini" {
		t.Fatalf("completed %v", last)
	}
	u := last["usage"].(map[string]any)
	want := `{"input_tokens":100,"input_tokens_details":{"cached_tokens":64},"output_tokens":20,"output_tokens_details":{"reasoning_tokens":8},"total_tokens":120}`
	if b, _ := json.Marshal(u); string(b) != want {
		t.Fatalf("usage %s", b)
	}
}

func TestOutputIndexes(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Reply(Reasoning("r"), Text("a"), Call("f", "{}")))
	_, evs := stream(t, s, baseBody())
	next := 0
	for _, e := range evs {
		if e.typ() == "response.output_item.added" {
			if int(e.Data["output_index"].(float64)) != next {
				t.Fatalf("output_index %v, want %d", e.Data["output_index"], next)
			}
			next++
		}
	}
	if next != 3 {
		t.Fatalf("%d items", next)
	}
}

func TestTLSHTTP2(t *testing.T) {
	s := NewTLSServer(t)
	if s.Certificate() == nil || !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL)
	}
	resp := post(t, s, baseBody(), goodHeaders())
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("proto %s", resp.Proto)
	}
	evs, err := parseSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if finalText(evs) != "echo: hello" {
		t.Fatalf("text %q", finalText(evs))
	}
}

func TestHandleExtends(t *testing.T) {
	s := NewServer(t)
	s.Handle("/api/auth/session", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	resp := doRaw(t, t.Context(), s, http.MethodGet, "/api/auth/session", nil, http.Header{})
	if b := readAll(t, resp); string(b) != "{}" {
		t.Fatalf("body %s", b)
	}
	if len(s.Requests()) != 0 {
		t.Fatal("non-codex request recorded")
	}
}

// applyPatchTool is a custom tool as Cursor and the Codex CLI define it.
func applyPatchTool() map[string]any {
	return map[string]any{"type": "custom", "name": "ApplyPatch", "description": "Edit files",
		"format": map[string]any{"type": "grammar", "syntax": "lark", "definition": `start: "*** Begin Patch" /(.|\n)*/`}}
}

func TestDefaultResponderCustomCall(t *testing.T) {
	s := NewServer(t)
	patch := "*** Begin Patch\n*** Add File: hello.txt\n+hello \"world\"\n*** End Patch"
	body := baseBody()
	body["tools"] = []any{applyPatchTool()}
	body["input"] = []any{userText("call:ApplyPatch " + patch)}
	_, evs := stream(t, s, body)
	checkSequence(t, evs)

	var calls []map[string]any
	for _, it := range doneItems(evs) {
		if it["type"] == "custom_tool_call" {
			calls = append(calls, it)
		}
	}
	if len(calls) != 1 || calls[0]["name"] != "ApplyPatch" || calls[0]["input"] != patch {
		t.Fatalf("custom calls %v", calls)
	}
	deltas, done := textsByItem(evs, "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done")
	if !mapsEqual(deltas, done) || len(done) != 1 {
		t.Fatalf("input deltas %q vs done %q", deltas, done)
	}
	for _, e := range evs {
		if e.typ() == "response.function_call_arguments.delta" {
			t.Fatal("a custom tool call must not stream function arguments")
		}
	}

	// The result goes back as custom_tool_call_output after its call.
	id := calls[0]["call_id"]
	body["input"] = []any{userText("edit"),
		map[string]any{"type": "custom_tool_call", "name": "ApplyPatch", "input": patch, "call_id": id},
		map[string]any{"type": "custom_tool_call_output", "call_id": id, "output": "Done!"}}
	_, evs = stream(t, s, body)
	if got := finalText(evs); got != "tool said: Done!" {
		t.Fatalf("text %q", got)
	}

	// A scripted custom call.
	s.Enqueue(Reply(CustomCallID("call_x", "ApplyPatch", patch)))
	body["input"] = []any{userText("anything")}
	_, evs = stream(t, s, body)
	if items := doneItems(evs); len(items) != 1 || items[0]["call_id"] != "call_x" || items[0]["input"] != patch {
		t.Fatalf("scripted items %v", items)
	}
}

func TestCustomToolValidation(t *testing.T) {
	s := NewServer(t)
	cases := map[string]struct {
		tool  map[string]any
		input []any
		want  string
	}{
		"parameters": {tool: map[string]any{"type": "custom", "name": "x", "parameters": map[string]any{}}, want: "Unknown parameter: 'tools[0].parameters'."},
		"syntax":     {tool: map[string]any{"type": "custom", "name": "x", "format": map[string]any{"type": "grammar", "syntax": "ebnf", "definition": "a"}}, want: "tools[0].format.syntax"},
		"definition": {tool: map[string]any{"type": "custom", "name": "x", "format": map[string]any{"type": "grammar", "syntax": "lark"}}, want: "tools[0].format.definition"},
		"format":     {tool: map[string]any{"type": "custom", "name": "x", "format": map[string]any{"type": "json"}}, want: "tools[0].format.type"},
		"nested":     {tool: map[string]any{"type": "custom", "custom": map[string]any{"name": "x"}}, want: "tools[0].name"},
		"output of a function call": {tool: applyPatchTool(), input: []any{userText("x"),
			map[string]any{"type": "function_call", "name": "ApplyPatch", "arguments": "{}", "call_id": "c1"},
			map[string]any{"type": "custom_tool_call_output", "call_id": "c1", "output": "ok"}},
			want: "No tool call found for function call output with call_id c1."},
		"input not a string": {tool: applyPatchTool(), input: []any{userText("x"),
			map[string]any{"type": "custom_tool_call", "name": "ApplyPatch", "input": map[string]any{}, "call_id": "c1"}},
			want: "input[1].input"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := baseBody()
			body["tools"] = []any{tc.tool}
			if tc.input != nil {
				body["input"] = tc.input
			}
			resp := post(t, s, body, goodHeaders())
			got := string(readAll(t, resp))
			if resp.StatusCode != 400 || !strings.Contains(got, tc.want) {
				t.Fatalf("status %d body %s; want 400 with %q", resp.StatusCode, got, tc.want)
			}
		})
	}
	body := baseBody()
	body["tools"] = []any{applyPatchTool(), map[string]any{"type": "custom", "name": "free", "format": map[string]any{"type": "text"}}}
	if resp := post(t, s, body, goodHeaders()); resp.StatusCode != 200 {
		t.Fatalf("valid custom tools refused: %d %s", resp.StatusCode, readAll(t, resp))
	}
}

func TestDefaultResponderDirectiveInLastPart(t *testing.T) {
	s := NewServer(t)
	body := baseBody()
	body["tools"] = []any{weatherTool("Read")}
	body["input"] = []any{
		map[string]any{"type": "message", "role": "user", "content": []any{
			map[string]any{"type": "input_text", "text": "<system-reminder>\nbe nice\n</system-reminder>\n"},
			map[string]any{"type": "input_text", "text": `call:Read {"file_path":"/tmp/x"}`},
		}},
		map[string]any{"type": "message", "role": "developer", "content": []any{
			map[string]any{"type": "input_text", "text": "# Environment"},
		}},
	}
	_, evs := stream(t, s, body)
	items := doneItems(evs)
	last := items[len(items)-1]
	if last["type"] != "function_call" || last["name"] != "Read" || last["arguments"] != `{"file_path":"/tmp/x"}` {
		t.Fatalf("items %v", items)
	}

	// A directive in a middle part is plain text.
	body["input"] = []any{map[string]any{"type": "message", "role": "user", "content": []any{
		map[string]any{"type": "input_text", "text": "hi"},
		map[string]any{"type": "input_text", "text": `call:Read {}`},
		map[string]any{"type": "input_text", "text": "thanks"},
	}}}
	_, evs = stream(t, s, body)
	if got := finalText(evs); got != "echo: hi\ncall:Read {}\nthanks" {
		t.Fatalf("text %q", got)
	}
}
