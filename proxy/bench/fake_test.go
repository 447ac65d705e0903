package bench_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

// The benchmark's responder answers the last user text "deltas:N" with a
// message of N text deltas, and "stall" with the start of a message and
// then silence until the client goes away. Its events are rendered once
// per (model, N) so that the fake's own cost per event is a write and a
// flush, the same for every target.
type rendered struct {
	events [][]byte
}

var renderCache sync.Map // key "model/N" -> *rendered

func render(model string, n int) *rendered {
	key := model + "/" + strconv.Itoa(n)
	if r, ok := renderCache.Load(key); ok {
		return r.(*rendered)
	}
	r := &rendered{}
	seq := 0
	// Each event begins with its type and sequence number, as the backend
	// writes them (and codextest.Stream.Event), not where encoding/json
	// would sort them among the other keys.
	add := func(typ string, fields map[string]any) {
		rest, err := json.Marshal(fields)
		if err != nil {
			panic(err)
		}
		head := fmt.Sprintf(`{"type":%q,"sequence_number":%d`, typ, seq)
		seq++
		if len(fields) > 0 {
			head += "," + string(rest[1:])
		} else {
			head += "}"
		}
		r.events = append(r.events, []byte("event: "+typ+"\ndata: "+head+"\n\n"))
	}
	envelope := func(status string, usage any) map[string]any {
		return map[string]any{
			"id": "resp_bench", "object": "response", "created_at": 1700000000, "status": status,
			"model": model, "output": []any{}, "usage": usage, "store": false,
			"tool_choice": "auto", "tools": []any{}, "parallel_tool_calls": false,
			"text": map[string]any{"format": map[string]any{"type": "text"}, "verbosity": "medium"},
		}
	}
	add("response.created", map[string]any{"response": envelope("in_progress", nil)})
	add("response.in_progress", map[string]any{"response": envelope("in_progress", nil)})
	add("response.output_item.added", map[string]any{"output_index": 0, "item": map[string]any{
		"id": "msg_bench", "type": "message", "status": "in_progress", "role": "assistant", "content": []any{}, "phase": "final_answer"}})
	add("response.content_part.added", map[string]any{"item_id": "msg_bench", "output_index": 0, "content_index": 0,
		"part": map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": ""}})
	var full strings.Builder
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("word%d ", i)
		full.WriteString(d)
		add("response.output_text.delta", map[string]any{"item_id": "msg_bench", "output_index": 0, "content_index": 0, "delta": d, "logprobs": []any{}})
	}
	text := full.String()
	part := map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": text}
	add("response.output_text.done", map[string]any{"item_id": "msg_bench", "output_index": 0, "content_index": 0, "text": text, "logprobs": []any{}})
	add("response.content_part.done", map[string]any{"item_id": "msg_bench", "output_index": 0, "content_index": 0, "part": part})
	add("response.output_item.done", map[string]any{"output_index": 0, "item": map[string]any{
		"id": "msg_bench", "type": "message", "status": "completed", "role": "assistant", "content": []any{part}, "phase": "final_answer"}})
	usage := map[string]any{"input_tokens": 20, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens": n, "output_tokens_details": map[string]any{"reasoning_tokens": 0}, "total_tokens": 20 + n}
	add("response.completed", map[string]any{"response": envelope("completed", usage)})
	actual, _ := renderCache.LoadOrStore(key, r)
	return actual.(*rendered)
}

// responder implements the conventions above.
func responder(w http.ResponseWriter, r *http.Request, req *codextest.ResponsesRequest) {
	text := req.LastUserText()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if text == "stall" {
		ev := render(req.Model, 1).events
		for _, e := range ev[:5] {
			_, _ = w.Write(e)
		}
		_ = rc.Flush()
		<-r.Context().Done()
		return
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(text, "deltas:"))
	for _, e := range render(req.Model, n).events {
		if _, err := w.Write(e); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}
