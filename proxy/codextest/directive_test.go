package codextest

import "testing"

func TestDirectiveInLastTextPart(t *testing.T) {
	req := &ResponsesRequest{
		Tools: []map[string]any{{"type": "function", "name": "Read"}},
		Input: []map[string]any{{"type": "message", "role": "user", "content": []any{
			map[string]any{"type": "input_text", "text": "<system-reminder>env</system-reminder>"},
			map[string]any{"type": "input_text", "text": `call:Read {"file_path":"/tmp/a"}`},
		}}},
	}
	items, _ := DefaultItems(req)
	if len(items) != 1 || items[0].kind != "function_call" || items[0].name != "Read" || items[0].args != `{"file_path":"/tmp/a"}` {
		t.Fatalf("items = %+v", items)
	}
	// Without a directive the message is echoed.
	req.Input[0]["content"] = []any{map[string]any{"type": "input_text", "text": "<system-reminder>x</system-reminder>"}, map[string]any{"type": "input_text", "text": "just text"}}
	if items, _ := DefaultItems(req); len(items) != 1 || items[0].kind != "message" {
		t.Fatalf("items = %+v", items)
	}
}
