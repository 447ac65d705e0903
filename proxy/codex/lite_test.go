package codex

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// topKeys returns the keys of a JSON object in order.
func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func liteFixture() *Request {
	par := true
	return &Request{
		Model: "gpt-6-luna", Instructions: "Be brief.", Stream: true,
		Input: []Item{
			Message(RoleUser, TextPart(PartInputText, "look"), Content{Type: PartInputImage, ImageURL: "data:image/png;base64,AAAA", Detail: "high"}),
			FunctionCall("call_1", "get_weather", `{"city":"Oslo"}`),
			FunctionOutput("call_1", "sunny"),
			{Type: ItemCustomToolCall, CallID: "call_2", Name: "gone", Namespace: "nowhere", Input: "x"},
			{Type: ItemCustomToolCallOutput, CallID: "call_2", Output: Output{Text: "ok"}},
		},
		Tools: []Tool{
			{Type: ToolFunction, Name: "get_weather", Parameters: json.RawMessage(`{"type":"object"}`)},
			{Type: ToolCustom, Name: "apply_patch", Format: &ToolFormat{Type: "text"}},
		},
		ToolChoice:        ToolChoice{Mode: "required"},
		ParallelToolCalls: &par,
		Reasoning:         &Reasoning{Effort: "low"},
		Include:           []string{IncludeEncryptedReasoning},
		PromptCacheKey:    "k",
		Text:              &Text{Verbosity: "low"},
		Lite:              true,
	}
}

// TestLiteShape checks the lite body against the Codex CLI 0.171.0
// capture's shape: key order, the additional_tools item with the
// "functions" namespace, instructions as a developer message, the
// configuration_update item last, reasoning.context, no parallel calls,
// tool_choice auto, no image detail, namespaces on history calls.
func TestLiteShape(t *testing.T) {
	r := liteFixture()
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"model", "stream", "input", "tool_choice", "parallel_tool_calls", "reasoning", "store", "include", "prompt_cache_key", "text"}
	if got := topKeys(t, b); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	var body struct {
		ToolChoice        string         `json:"tool_choice"`
		ParallelToolCalls bool           `json:"parallel_tool_calls"`
		Reasoning         map[string]any `json:"reasoning"`
		Input             []map[string]any
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	if body.ToolChoice != "auto" || body.ParallelToolCalls || body.Reasoning["context"] != "all_turns" || body.Reasoning["effort"] != "low" {
		t.Errorf("controls: %s", b)
	}
	var types []string
	for _, it := range body.Input {
		types = append(types, it["type"].(string))
	}
	wantTypes := []string{"additional_tools", "message", "message", "function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output", "configuration_update"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("items %v, want %v", types, wantTypes)
	}
	at, _ := json.Marshal(body.Input[0])
	if !strings.Contains(string(at), `"role":"developer"`) || !strings.Contains(string(at), `{"description":"","name":"functions","tools":[`) {
		t.Errorf("additional_tools: %s", at)
	}
	if body.Input[1]["role"] != "developer" || !strings.Contains(string(b), `"text":"Be brief."`) {
		t.Errorf("instructions: %v", body.Input[1])
	}
	if strings.Contains(string(b), `"detail"`) {
		t.Errorf("image detail kept: %s", b)
	}
	if body.Input[3]["namespace"] != "functions" {
		t.Errorf("declared call without namespace: %v", body.Input[3])
	}
	if _, ok := body.Input[5]["namespace"]; ok {
		t.Errorf("undeclared namespace kept: %v", body.Input[5])
	}
	if cu, _ := json.Marshal(body.Input[7]); string(cu) != `{"reasoning":{"effort":"low"},"type":"configuration_update"}` {
		t.Errorf("configuration_update %s", cu)
	}
	// The classic encoding of the same request is unchanged by Lite's
	// transform (it works on copies).
	r.Lite = false
	c, _ := r.MarshalJSON()
	if !strings.Contains(string(c), `"instructions":"Be brief."`) || !strings.Contains(string(c), `"detail":"high"`) || strings.Contains(string(c), `"namespace":"functions"`) {
		t.Errorf("classic body changed: %s", c)
	}
}

// TestLiteToolChoiceNone leaves the tools out rather than letting the
// model call them.
func TestLiteToolChoiceNone(t *testing.T) {
	r := liteFixture()
	r.ToolChoice = ToolChoice{Mode: "none"}
	b, _ := r.MarshalJSON()
	if strings.Contains(string(b), "additional_tools") || strings.Contains(string(b), `"namespace"`) {
		t.Errorf("tools sent with tool_choice none: %s", b)
	}
}

func TestLiteUnsupportedTool(t *testing.T) {
	r := liteFixture()
	if got := r.LiteUnsupportedTool(); got != "" {
		t.Errorf("function tools refused: %q", got)
	}
	r.Tools = append(r.Tools, Tool{Type: ToolWebSearch})
	if got := r.LiteUnsupportedTool(); got != ToolWebSearch {
		t.Errorf("web_search not refused: %q", got)
	}
}

// TestLiteClientNamespaces: a client's own functions namespace (the Codex
// CLI's, as it came: Raw) takes the plain tools too, one namespace of that
// name; a history call into a client namespace keeps its namespace.
func TestLiteClientNamespaces(t *testing.T) {
	r := liteFixture()
	cli := Tool{Type: ToolNamespace, Name: FunctionsNamespace, Tools: []Tool{{Type: ToolCustom, Name: "exec"}},
		Raw: json.RawMessage(`{"type":"namespace","name":"functions","description":"","tools":[{"type":"custom","name":"exec"}]}`)}
	kb := Tool{Type: ToolNamespace, Name: "mcp__kb", Tools: []Tool{{Type: ToolFunction, Name: "lookup"}},
		Raw: json.RawMessage(`{"type":"namespace","name":"mcp__kb","description":"","tools":[{"type":"function","name":"lookup"}]}`)}
	r.Tools = append(r.Tools, cli, kb)
	r.Input = append(r.Input,
		Item{Type: ItemCustomToolCall, CallID: "c3", Name: "exec", Namespace: FunctionsNamespace, Input: "text(1)"},
		Item{Type: ItemCustomToolCallOutput, CallID: "c3", Output: Output{Text: "1"}},
		Item{Type: ItemFunctionCall, CallID: "c4", Name: "lookup", Namespace: "mcp__kb", Arguments: "{}"},
		Item{Type: ItemFunctionCallOutput, CallID: "c4", Output: Output{Text: "found"}})
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Input []struct {
			Type, Name, Namespace string
			Tools                 []struct {
				Name  string
				Tools []struct{ Name string }
			}
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	decl := body.Input[0]
	if decl.Type != ItemAdditionalTools || len(decl.Tools) != 2 || decl.Tools[0].Name != FunctionsNamespace || decl.Tools[1].Name != "mcp__kb" {
		t.Fatalf("declared %+v", decl)
	}
	var names []string
	for _, x := range decl.Tools[0].Tools {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, ","); got != "exec,get_weather,apply_patch" {
		t.Errorf("functions namespace holds %s", got)
	}
	for _, it := range body.Input {
		if (it.Name == "exec" && it.Namespace != FunctionsNamespace) || (it.Name == "lookup" && it.Namespace != "mcp__kb") {
			t.Errorf("%s %s lost its namespace: %q", it.Type, it.Name, it.Namespace)
		}
	}
}

// TestLiteClientNamespaceKept: plain tools the client's functions
// namespace already holds add nothing: the namespace goes as the client
// wrote it (keys this model does not know included), each tool once.
func TestLiteClientNamespaceKept(t *testing.T) {
	r := liteFixture()
	raw := `{"type":"namespace","name":"functions","description":"","defer_loading":true,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}},{"type":"custom","name":"apply_patch"}]}`
	r.Tools = append(r.Tools, Tool{Type: ToolNamespace, Name: FunctionsNamespace, Raw: json.RawMessage(raw),
		Tools: []Tool{{Type: ToolFunction, Name: "get_weather"}, {Type: ToolCustom, Name: "apply_patch"}}})
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), raw) || strings.Count(string(b), `"name":"get_weather","parameters"`) != 1 {
		t.Errorf("the client's namespace changed or a tool doubled: %s", b)
	}
}
