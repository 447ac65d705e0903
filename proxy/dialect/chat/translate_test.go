package chat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testCatalog = catalog.New(nil, catalog.Options{ClientVersion: "0.169.0"})

func fixedNow() time.Time { return time.Unix(1764000000, 0) }

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func planFor(t *testing.T, path string) *Plan {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var req ChatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	res, err := testCatalog.Resolve(req.Model)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Chat(&req, res, Options{ReasoningSummary: "auto"})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// TestRequestGolden translates each testdata/requests/*.json and compares
// the Codex body with the .codex golden file.
func TestRequestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/requests/*.json")
	if len(files) == 0 {
		t.Fatal("no request fixtures")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			p := planFor(t, f)
			got, err := json.MarshalIndent(&p.Body, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f, ".json")+".codex", append(got, '\n'))
		})
	}
}

func readSSE(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if d, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: ")); ok {
			out = append(out, append([]byte(nil), d...))
		}
	}
	return out
}

// TestStreamGolden feeds each testdata/streams/*.sse through the stream
// translator and the aggregator in every reasoning mode.
func TestStreamGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/streams/*.sse")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sse")
		plan := planFor(t, "testdata/requests/basic.json")
		switch name {
		case "tools_parallel":
			plan = planFor(t, "testdata/requests/tools_history.json")
		case "cursor_patch":
			plan = planFor(t, "testdata/requests/cursor_agent.json")
		}
		plan.IncludeUsage = true
		events := readSSE(t, f)
		for _, mode := range []ReasoningMode{ReasoningContent, ReasoningThink, ReasoningOff} {
			for _, drop := range []bool{false, true} {
				if drop && name != "commentary" {
					continue
				}
				suffix := string(mode)
				if drop {
					suffix += ".drop"
				}
				t.Run(name+"/"+suffix, func(t *testing.T) {
					opts := StreamOptions{Reasoning: mode, DropCommentary: drop, Now: fixedNow}
					tr := NewTranslator(plan, opts)
					var out []byte
					var last Signal
					for _, ev := range events {
						var err error
						out, last, err = feedData(tr, out, ev)
						if err != nil {
							t.Fatal(err)
						}
					}
					if last != SigDone {
						t.Fatalf("last signal = %v, want SigDone", last)
					}
					out = append(out, Done...)
					checkChunks(t, out)
					golden(t, "testdata/streams/"+name+"."+suffix+".stream", out)

					ag := NewAggregator(plan, opts)
					for _, ev := range events {
						if _, err := aggData(ag, ev); err != nil {
							t.Fatal(err)
						}
					}
					c, _ := json.MarshalIndent(ag.Completion(), "", "  ")
					golden(t, "testdata/streams/"+name+"."+suffix+".completion", append(c, '\n'))
				})
			}
		}
	}
}

// checkChunks verifies the OpenAI chunk grammar: every frame is valid JSON
// with one id, the role comes first, and [DONE] closes the stream.
func checkChunks(t *testing.T, out []byte) {
	t.Helper()
	frames := strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n\n")
	if frames[len(frames)-1] != "data: [DONE]" {
		t.Fatalf("stream does not end with [DONE]")
	}
	ids := map[string]bool{}
	for i, fr := range frames[:len(frames)-1] {
		var c struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Choices []struct {
				Delta map[string]any `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(fr, "data: ")), &c); err != nil {
			t.Fatalf("frame %d is not JSON: %v\n%s", i, err, fr)
		}
		ids[c.ID] = true
		if c.Object != "chat.completion.chunk" {
			t.Errorf("frame %d object = %q", i, c.Object)
		}
		if i == 0 && (len(c.Choices) == 0 || c.Choices[0].Delta["role"] != "assistant") {
			t.Errorf("the first chunk must carry the role: %s", fr)
		}
	}
	if len(ids) != 1 {
		t.Errorf("chunks carry %d ids", len(ids))
	}
}

func TestStreamFailures(t *testing.T) {
	plan := &Plan{Model: "gpt-5.5"}
	cases := []struct {
		name   string
		event  string
		status int
		code   string
		retry  bool
	}{
		{"overloaded", `{"type":"response.failed","response":{"error":{"code":"server_is_overloaded","message":"busy"}}}`, 503, "server_is_overloaded", false},
		{"context", `{"type":"response.failed","response":{"error":{"code":"context_length_exceeded","message":"too long"}}}`, 400, "context_length_exceeded", false},
		{"rate_limit", `{"type":"response.failed","response":{"error":{"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 1.5s."}}}`, 429, "rate_limit_exceeded", true},
		{"other", `{"type":"response.failed","response":{"error":{"code":"server_error","message":"boom"}}}`, 502, "server_error", true},
		{"error_event_flat", `{"type":"error","code":"usage_limit_reached","message":"limit"}`, 429, "usage_limit_reached", false},
		{"error_event_nested", `{"type":"error","error":{"type":"invalid_request_error","code":"invalid_encrypted_content","message":"bad blob"}}`, 400, "invalid_encrypted_content", false},
		{"incomplete_interrupted", `{"type":"response.incomplete","response":{"incomplete_details":{"reason":"interrupted"}}}`, 502, "incomplete_response", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, feed := range []func([]byte) error{
				func(b []byte) error {
					_, _, err := feedData(NewTranslator(plan, StreamOptions{Now: fixedNow}), nil, b)
					return err
				},
				func(b []byte) error {
					_, err := aggData(NewAggregator(plan, StreamOptions{Now: fixedNow}), b)
					return err
				},
			} {
				err := feed([]byte(c.event))
				var f *relay.Failure
				if !errors.As(err, &f) {
					t.Fatalf("want a Failure, got %v", err)
				}
				if f.Err.Status != c.status || f.Err.Code == nil || *f.Err.Code != c.code || f.Retryable != c.retry {
					t.Errorf("got status=%d code=%v retry=%v", f.Err.Status, f.Err.Code, f.Retryable)
				}
			}
		})
	}
	// The retry delay of a rate limit is read from the message.
	_, _, err := feedData(NewTranslator(plan, StreamOptions{}), nil, []byte(cases[2].event))
	var f *relay.Failure
	errors.As(err, &f)
	if f.RetryAfter != 1500*time.Millisecond || f.Err.Header.Get("Retry-After") != "2" {
		t.Errorf("RetryAfter = %v, header %q", f.RetryAfter, f.Err.Header.Get("Retry-After"))
	}
}

func TestRequestErrors(t *testing.T) {
	cases := map[string]string{
		"empty_messages":      `{"model":"gpt-5.5","messages":[]}`,
		"unknown_part":        `{"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}`,
		"image_not_url":       `{"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`,
		"tool_no_id":          `{"model":"gpt-5.5","messages":[{"role":"tool","content":"x"}]}`,
		"tool_choice_unknown": `{"model":"gpt-5.5","tool_choice":{"type":"function","function":{"name":"nope"}},"messages":[{"role":"user","content":"x"}]}`,
		"bad_tool_type":       `{"model":"gpt-5.5","tools":[{"type":"code_interpreter"}],"messages":[{"role":"user","content":"x"}]}`,
		"effort_not_enum":     `{"model":"gpt-5.5","reasoning_effort":"turbo","messages":[{"role":"user","content":"x"}]}`,
		"schema_no_name":      `{"model":"gpt-5.5","response_format":{"type":"json_schema","json_schema":{"schema":{}}},"messages":[{"role":"user","content":"x"}]}`,
		"stream_options_only": `{"model":"gpt-5.5","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`,
		"legacy_function":     `{"model":"gpt-5.5","messages":[{"role":"function","name":"f","content":"x"}]}`,
		"legacy_functions":    `{"model":"gpt-5.5","functions":[{"name":"f"}],"messages":[{"role":"user","content":"x"}]}`,
		"required_no_tools":   `{"model":"gpt-5.5","tool_choice":"required","messages":[{"role":"user","content":"x"}]}`,
		"parameters_string":   `{"model":"gpt-5.5","tools":[{"type":"function","function":{"name":"f","parameters":"x"}}],"messages":[{"role":"user","content":"x"}]}`,
		"parameters_array":    `{"model":"gpt-5.5","tools":[{"type":"function","function":{"name":"f","parameters":[1]}}],"messages":[{"role":"user","content":"x"}]}`,
		"schema_string":       `{"model":"gpt-5.5","response_format":{"type":"json_schema","json_schema":{"name":"n","schema":"x"}},"messages":[{"role":"user","content":"x"}]}`,
		"schema_null":         `{"model":"gpt-5.5","response_format":{"type":"json_schema","json_schema":{"name":"n","schema":null}},"messages":[{"role":"user","content":"x"}]}`,
		"cursor_schema_array": `{"model":"gpt-5.5","input":"x","text":{"format":{"type":"json_schema","name":"n","schema":[]}}}`,
		"cursor_input_number": `{"model":"gpt-5.5","input":5}`,
		"cursor_item_field":   `{"model":"gpt-5.5","input":[{"role":"user","content":"hi","call_id":5}]}`,
		"stop_number":         `{"model":"gpt-5.5","stop":5,"messages":[{"role":"user","content":"x"}]}`,
		"stop_numbers":        `{"model":"gpt-5.5","stop":["a",5],"messages":[{"role":"user","content":"x"}]}`,
		"part_text_number":    `{"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":5}]}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			var req ChatRequest
			if err := json.Unmarshal([]byte(body), &req); err != nil {
				t.Fatal(err)
			}
			res, _ := testCatalog.Resolve(req.Model)
			_, err := Chat(&req, res, Options{})
			var oe *apierr.Error
			if !errors.As(err, &oe) || oe.Status != 400 || oe.Message == "" || strings.Contains(oe.Message, "Go ") || strings.Contains(oe.Message, "json:") {
				t.Fatalf("want a 400 OpenAI error in its words, got %v", err)
			}
		})
	}
}

// A text part without text is refused, as OpenAI refuses it, instead of
// going upstream empty; an empty text is text.
func TestTextRequired(t *testing.T) {
	for _, c := range []struct{ body, param, msg, code string }{
		{`{"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text", "Missing required parameter: 'messages[0].content[0].text'.", "missing_required_parameter"},
		{`{"model":"gpt-5.5","messages":[{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":null}]},{"role":"user","content":"x"}]}`, "messages[0].content[1].text", "Invalid type for 'messages[0].content[1].text': expected a string, but got null instead.", "invalid_type"},
		{`{"model":"gpt-5.5","messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"text"}]}]}`, "messages[1].content[0].text", "Missing required parameter: 'messages[1].content[0].text'.", "missing_required_parameter"},
		{`{"model":"gpt-5.5","input":[{"role":"user","content":[{"type":"input_text"}]}]}`, "input[0].content[0].text", "Missing required parameter: 'input[0].content[0].text'.", "missing_required_parameter"},
	} {
		wantRefused(t, c.body, c.param, c.msg, c.code)
	}
	if _, err := translateBody(t, `{"model":"gpt-5.5","messages":[{"role":"user","content":[{"type":"text","text":""},{"type":"text","text":"x"}]}]}`); err != nil {
		t.Errorf("empty text refused: %v", err)
	}
}

// The dropped sampling parameters are refused out of OpenAI's ranges, in
// its words.
func TestSamplingRanges(t *testing.T) {
	for _, c := range []struct{ extra, param, msg, code string }{
		{`"temperature":5`, "temperature", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 instead.", "decimal_above_max_value"},
		{`"temperature":-1`, "temperature", "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead.", "decimal_below_min_value"},
		{`"top_p":1.5`, "top_p", "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.", "decimal_above_max_value"},
		{`"presence_penalty":-3`, "presence_penalty", "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got -3 instead.", "decimal_below_min_value"},
		{`"max_tokens":-1`, "max_tokens", "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -1 instead.", "integer_below_min_value"},
		{`"max_completion_tokens":0.0`, "max_completion_tokens", "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.", "integer_below_min_value"},
	} {
		wantRefused(t, `{"model":"gpt-5.5",`+c.extra+`,"messages":[{"role":"user","content":"x"}]}`, c.param, c.msg, c.code)
	}
	if _, err := translateBody(t, `{"model":"gpt-5.5","temperature":2,"top_p":0,"presence_penalty":2,"frequency_penalty":-2,"max_tokens":1,"max_completion_tokens":1.0,"messages":[{"role":"user","content":"x"}]}`); err != nil {
		t.Errorf("in range: %v", err)
	}
}

// The deprecated functions and function_call are refused when set; null is
// absent, as at OpenAI.
func TestNullFunctionsAbsent(t *testing.T) {
	var req ChatRequest
	body := `{"model":"gpt-5.5","functions":null,"function_call":null,"messages":[{"role":"user","content":"x"}]}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	res, _ := testCatalog.Resolve(req.Model)
	if _, err := Chat(&req, res, Options{}); err != nil {
		t.Fatalf("null functions refused: %v", err)
	}
}

func TestEffortClamp(t *testing.T) {
	for _, c := range []struct{ model, effort, want string }{
		{"gpt-5.4", "minimal", "low"},
		{"gpt-5.4", "none", "low"},
		{"gpt-5.4", "max", "xhigh"},
		{"gpt-5.4", "ultra", "xhigh"},
		{"gpt-5.4", "high", ""},
	} {
		var req ChatRequest
		_ = json.Unmarshal([]byte(`{"model":"`+c.model+`","reasoning_effort":"`+c.effort+`","messages":[{"role":"user","content":"x"}]}`), &req)
		res, _ := testCatalog.Resolve(req.Model)
		p, err := Chat(&req, res, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.EffortClamped != c.want {
			t.Errorf("%s %s: clamped to %q, want %q", c.model, c.effort, p.EffortClamped, c.want)
		}
		if _, err := Chat(&req, res, Options{RejectEffort: true}); (err == nil) != (c.want == "") {
			t.Errorf("%s %s: reject mode gave %v", c.model, c.effort, err)
		}
	}
}

func TestToolHistoryRepairs(t *testing.T) {
	var req ChatRequest
	_ = json.Unmarshal([]byte(`{"model":"gpt-5.5",
	 "tools":[{"type":"function","function":{"name":"ns.get_weather"}}],
	 "messages":[{"role":"user","content":"a"},
	  {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"ns.get_weather","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"ns.get_weather","arguments":"{}"}}]},
	  {"role":"tool","tool_call_id":"c1","content":"r1"},
	  {"role":"user","content":"b"}]}`), &req)
	res, _ := testCatalog.Resolve(req.Model)
	p, err := Chat(&req, res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, it := range p.Body.Input {
		var x struct {
			Type   string `json:"type"`
			CallID string `json:"call_id"`
			Name   string `json:"name"`
			Output string `json:"output"`
		}
		raw, _ := json.Marshal(it)
		_ = json.Unmarshal(raw, &x)
		kinds = append(kinds, x.Type+":"+x.CallID+x.Output)
		if x.Type == "function_call" && !regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`).MatchString(x.Name) {
			t.Errorf("tool name %q is not allowed upstream", x.Name)
		}
	}
	want := "message:,function_call:c1,function_call:c2,function_call_output:c1r1,function_call_output:c2" + dialect.OrphanOutput + ",message:"
	if strings.Join(kinds, ",") != want {
		t.Errorf("input = %v", kinds)
	}
	var tool struct{ Name string }
	rawTool, _ := json.Marshal(p.Body.Tools[0])
	_ = json.Unmarshal(rawTool, &tool)
	if p.ToolNames[tool.Name] != "ns.get_weather" {
		t.Errorf("renamed tool %q does not map back: %v", tool.Name, p.ToolNames)
	}
}

// BenchmarkTranslateDelta measures the streaming hot path: one upstream
// output_text.delta event in, one chat.completion.chunk out.
func BenchmarkTranslateDelta(b *testing.B) {
	plan := &Plan{Model: "gpt-5.5"}
	tr := NewTranslator(plan, StreamOptions{Now: fixedNow})
	var out []byte
	out, _, _ = feedData(tr, out, []byte(`{"type":"response.created","response":{"id":"resp_1","created_at":1}}`))
	out, _, _ = feedData(tr, out, []byte(`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant"}}`))
	ev := []byte(`{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello, world! This is a typical delta."}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	var e codex.Event // one per stream, as the relay keeps it
	for b.Loop() {
		_ = codex.DecodeEvent(ev, &e)
		out, _, _ = tr.Feed(out[:0], &e)
	}
	if !bytes.Contains(out, []byte("typical delta")) {
		b.Fatal("no chunk produced")
	}
}

// feedData decodes one event's data, as the relay does, and feeds it.
func feedData(tr *Translator, dst, data []byte) ([]byte, Signal, error) {
	var ev codex.Event
	if err := codex.DecodeEvent(data, &ev); err != nil {
		return dst, SigNone, nil
	}
	return tr.Feed(dst, &ev)
}

// aggData decodes one event's data and feeds it to the aggregator.
func aggData(a *Aggregator, data []byte) (Signal, error) {
	var ev codex.Event
	if err := codex.DecodeEvent(data, &ev); err != nil {
		return SigNone, nil
	}
	return a.Feed(&ev)
}

// translateBody translates a chat request body.
func translateBody(t *testing.T, body string) (*Plan, error) {
	t.Helper()
	var req ChatRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	res, _ := testCatalog.Resolve(req.Model)
	return Chat(&req, res, Options{})
}

// wantRefused checks that body is refused with a 400 naming param, in
// msg, with code.
func wantRefused(t *testing.T, body, param, msg, code string) {
	t.Helper()
	_, err := translateBody(t, body)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Param == nil || *ae.Param != param || ae.Message != msg || *ae.Code != code {
		t.Errorf("%s: %v, want 400 %q on %s (%s)", body, err, msg, param, code)
	}
}
