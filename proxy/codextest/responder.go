package codextest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// DefaultResponder is the deterministic answer used when the queue is
// empty; the package documentation describes its conventions.
func DefaultResponder(w http.ResponseWriter, _ *http.Request, req *ResponsesRequest) {
	items, why := DefaultItems(req)
	st := NewStream(w, req)
	if st.Begin() != nil {
		return
	}
	if req.HasReasoning {
		var sums []string
		if req.WantsSummaries() {
			sums = []string{
				"**Reading the request**\n\nInput items: " + fmt.Sprint(len(req.Input)) + ".",
				"**Planning the answer**\n\n" + why,
			}
		}
		r := Reasoning(sums...)
		if !req.IncludesEncryptedReasoning() {
			r = r.WithEncryptedContent("")
		}
		if st.Item(r) != nil {
			return
		}
	}
	for _, it := range items {
		if st.Item(it) != nil {
			return
		}
	}
	_ = st.Completed(st.EstimatedUsage(), false)
}

// DefaultItems returns the output items (without the reasoning item) the
// default responder produces for req, and a one-line explanation used as
// the second reasoning summary.
func DefaultItems(req *ResponsesRequest) ([]Item, string) {
	// Trailing tool results: answer with what the tools said.
	var outputs []string
	for i := len(req.Input) - 1; i >= 0; i-- {
		t := itemType(req.Input[i])
		if t != "function_call_output" && t != "custom_tool_call_output" {
			break
		}
		outputs = append([]string{outputText(req.Input[i])}, outputs...)
	}
	if len(outputs) > 0 {
		lines := make([]string, len(outputs))
		for i, o := range outputs {
			lines[i] = "tool said: " + o
		}
		return []Item{Text(strings.Join(lines, "\n"))}, "I will report the tool output."
	}

	text := req.LastUserText()
	if calls := requestedCalls(req, req.LastUserDirective()); len(calls) > 0 {
		return calls, "I will call a tool."
	}
	if req.TextFormat != nil && req.TextFormat["type"] == "json_schema" {
		schema, _ := req.TextFormat["schema"].(map[string]any)
		b, _ := json.Marshal(SampleJSON(schema))
		return []Item{Text(string(b))}, "I will answer with JSON matching the schema."
	}
	if req.TextFormat != nil && req.TextFormat["type"] == "json_object" {
		b, _ := json.Marshal(map[string]any{"echo": text})
		return []Item{Text(string(b))}, "I will answer with a JSON object."
	}
	answer := "echo: " + text
	if n := req.ImageCount(); n > 0 {
		answer += fmt.Sprintf("\nimage received: %d", n)
	}
	return []Item{Text(answer)}, "I will echo the last user message."
}

// requestedCalls implements the "call:" and "call-parallel:" conventions.
func requestedCalls(req *ResponsesRequest, text string) []Item {
	text = strings.TrimSpace(text)
	var names []string
	var rest string
	switch {
	case strings.HasPrefix(text, "call-parallel:"):
		var list string
		list, rest, _ = strings.Cut(strings.TrimPrefix(text, "call-parallel:"), " ")
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	case strings.HasPrefix(text, "call:"):
		var name string
		name, rest, _ = strings.Cut(strings.TrimPrefix(text, "call:"), " ")
		names = []string{strings.TrimSpace(name)}
	default:
		return nil
	}
	args := strings.TrimSpace(rest)
	if args == "" {
		args = "{}"
	}
	var items []Item
	for _, n := range names {
		switch {
		case req.HasTool(n):
			a := args
			if a == "" {
				a = "{}"
			}
			items = append(items, Call(n, a))
		case req.HasCustomTool(n):
			items = append(items, CustomCall(n, rest))
		}
	}
	return items
}

// SampleJSON builds a value that conforms to simple JSON schemas: objects
// get every property (strings "x", numbers and integers 1, booleans true,
// arrays [] or one sample item when minItems > 0, enums and consts their
// first value, anyOf/oneOf their first branch, local $refs resolved).
func SampleJSON(schema map[string]any) any {
	return sample(schema, schema, 0)
}

func sample(s, root map[string]any, depth int) any {
	if s == nil || depth > 16 {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		return sample(resolveRef(root, ref), root, depth+1)
	}
	if c, ok := s["const"]; ok {
		return c
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			for _, a := range alts {
				am, _ := a.(map[string]any)
				if am["type"] != "null" {
					return sample(am, root, depth+1)
				}
			}
		}
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok {
		typ = nil
		for _, t := range list {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	switch typ {
	case "string":
		return "x"
	case "number", "integer":
		return 1
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		out := []any{}
		if mi, ok := s["minItems"].(float64); ok && mi > 0 {
			items, _ := s["items"].(map[string]any)
			for range int(mi) {
				out = append(out, sample(items, root, depth+1))
			}
		}
		return out
	}
	props, _ := s["properties"].(map[string]any)
	obj := map[string]any{}
	for name, p := range props {
		pm, _ := p.(map[string]any)
		obj[name] = sample(pm, root, depth+1)
	}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				if _, have := obj[name]; !have {
					obj[name] = "x"
				}
			}
		}
	}
	return obj
}

func resolveRef(root map[string]any, ref string) map[string]any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}
