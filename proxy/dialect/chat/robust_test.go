package chat

import (
	"strings"
	"testing"
)

// An absurd output_index from upstream must not make the translator
// allocate state for every index below it (which exhausts memory and kills
// the whole process, since an out-of-memory error cannot be recovered).
func TestStreamHugeOutputIndex(t *testing.T) {
	plan := &Plan{Model: "gpt-5.5"}
	tr := NewTranslator(plan, StreamOptions{Now: fixedNow})
	var out []byte
	for _, ev := range []string{
		`{"type":"response.created","response":{"id":"resp_1","created_at":1}}`,
		// decodeFast path (10 digits) and the encoding/json path.
		`{"type":"response.output_text.delta","output_index":9999999999,"delta":"a"}`,
		`{"type":"response.output_item.added","output_index":9223372036854775807,"item":{"type":"function_call","call_id":"call_1","name":"f"}}`,
		`{"type":"response.function_call_arguments.delta","output_index":9223372036854775807,"delta":"{}"}`,
		`{"type":"response.completed","response":{"id":"resp_1"}}`,
	} {
		var err error
		out, _, err = feedData(tr, out, []byte(ev))
		if err != nil {
			t.Fatal(err)
		}
	}
	s := string(out)
	if !strings.Contains(s, `"content":"a"`) || !strings.Contains(s, `"arguments":"{}"`) || !strings.Contains(s, `"finish_reason":"tool_calls"`) {
		t.Fatalf("unexpected output:\n%s", s)
	}
}
