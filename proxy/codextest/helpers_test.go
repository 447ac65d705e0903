package codextest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sseEvent is one parsed SSE event.
type sseEvent struct {
	Name string
	Data map[string]any
}

func (e sseEvent) typ() string { s, _ := e.Data["type"].(string); return s }

// baseBody returns a valid request body.
func baseBody() map[string]any {
	return map[string]any{
		"model":        "gpt-5.4",
		"instructions": "",
		"stream":       true,
		"store":        false,
		"input": []any{
			map[string]any{"type": "message", "role": "user", "content": []any{
				map[string]any{"type": "input_text", "text": "hello"},
			}},
		},
		"tools":               []any{},
		"tool_choice":         "auto",
		"parallel_tool_calls": false,
		"reasoning":           map[string]any{"effort": "medium", "summary": "auto"},
		"include":             []any{"reasoning.encrypted_content"},
		"prompt_cache_key":    "conv-1",
	}
}

func userText(text string) map[string]any {
	return map[string]any{"type": "message", "role": "user", "content": []any{
		map[string]any{"type": "input_text", "text": text},
	}}
}

func goodHeaders() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer tok")
	h.Set("ChatGPT-Account-ID", "acct-1")
	h.Set("version", "0.155.0")
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "text/event-stream")
	return h
}

func doRaw(t *testing.T, ctx context.Context, s *Server, method, path string, body []byte, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header = h
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func post(t *testing.T, s *Server, body map[string]any, h http.Header) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return doRaw(t, context.Background(), s, http.MethodPost, "/backend-api/codex/responses", b, h)
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}

// parseSSE parses the whole stream; it fails the test on framing errors.
func parseSSE(t *testing.T, r io.Reader) ([]sseEvent, error) {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var name string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &m); err != nil {
				t.Fatalf("bad data %q: %v", data, err)
			}
			if name == "" || name != m["type"] {
				t.Fatalf("event line %q does not match type %v", name, m["type"])
			}
			out = append(out, sseEvent{Name: name, Data: m})
			name, data = "", nil
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	if len(data) > 0 {
		t.Fatalf("unterminated event %q", data)
	}
	return out, sc.Err()
}

func stream(t *testing.T, s *Server, body map[string]any) (*http.Response, []sseEvent) {
	t.Helper()
	resp := post(t, s, body, goodHeaders())
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
	}
	evs, err := parseSSE(t, resp.Body)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	checkSequence(t, evs)
	return resp, evs
}

func checkSequence(t *testing.T, evs []sseEvent) {
	t.Helper()
	for i, e := range evs {
		n, ok := e.Data["sequence_number"].(float64)
		if !ok || int(n) != i {
			t.Fatalf("event %d (%s) has sequence_number %v", i, e.typ(), e.Data["sequence_number"])
		}
	}
}

func types(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.typ()
	}
	return out
}

// collapse removes consecutive duplicates of delta events for readable
// order checks.
func collapse(ts []string) []string {
	var out []string
	for _, x := range ts {
		if len(out) > 0 && out[len(out)-1] == x && strings.HasSuffix(x, ".delta") {
			continue
		}
		out = append(out, x)
	}
	return out
}

// doneItems returns the items of output_item.done events.
func doneItems(evs []sseEvent) []map[string]any {
	var out []map[string]any
	for _, e := range evs {
		if e.typ() == "response.output_item.done" {
			out = append(out, e.Data["item"].(map[string]any))
		}
	}
	return out
}

// messageTexts returns the concatenated text deltas per item id and the
// done text per item id.
func textsByItem(evs []sseEvent, deltaType, doneType string) (deltas, done map[string]string) {
	deltas, done = map[string]string{}, map[string]string{}
	for _, e := range evs {
		id, _ := e.Data["item_id"].(string)
		if idx, ok := e.Data["summary_index"].(float64); ok {
			id += "#" + strings.Repeat("i", int(idx))
		}
		switch e.typ() {
		case deltaType:
			deltas[id] += e.Data["delta"].(string)
		case doneType:
			if s, ok := e.Data["text"].(string); ok {
				done[id] = s
			} else if s, ok := e.Data["input"].(string); ok {
				done[id] = s // custom_tool_call_input.done
			} else {
				done[id] = e.Data["arguments"].(string)
			}
		}
	}
	return deltas, done
}

func finalText(evs []sseEvent) string {
	var b strings.Builder
	for _, it := range doneItems(evs) {
		if it["type"] != "message" {
			continue
		}
		for _, p := range it["content"].([]any) {
			b.WriteString(p.(map[string]any)["text"].(string))
		}
	}
	return b.String()
}
