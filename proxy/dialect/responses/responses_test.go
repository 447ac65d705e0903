package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

func fixedNow() time.Time { return time.Unix(1700000000, 0) }

// feed decodes one event's data, as the relay does (skimming what e
// relays as it came), and feeds it.
func feed(e *Encoder, dst, data []byte) ([]byte, relay.Signal, error) {
	var ev codex.Event
	if err := codex.DecodeEventSkimming(data, &ev, e.Skims); err != nil {
		return dst, relay.SigNone, nil
	}
	ev.Raw = data
	return e.Feed(dst, &ev)
}

func translate(t *testing.T, body string) (*Plan, error) {
	t.Helper()
	var req Request
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	return Translate(&req, catalog.Resolution{Slug: "gpt-5.5"}, nil, nil, dialect.Options{})
}

func TestTranslateCodexShapedRequest(t *testing.T) {
	// What Codex CLI 0.171 sends (trimmed): no instructions key, developer
	// messages, ids on user messages, hosted tools, client_metadata.
	plan, err := translate(t, `{"model":"gpt-5.5","stream":true,
	 "input":[{"type":"message","role":"developer","content":[{"type":"input_text","text":"base"}]},
	          {"type":"message","id":"msg_1","role":"user","content":[{"type":"input_text","text":"say hi"}]}],
	 "tools":[{"type":"function","name":"exec_command","parameters":{"type":"object"},"strict":false},
	          {"type":"custom","name":"apply_patch","format":{"type":"grammar","syntax":"lark","definition":"start: x"}},
	          {"type":"tool_search","execution":"client","parameters":{}},
	          {"type":"web_search","external_web_access":false}],
	 "tool_choice":"auto","parallel_tool_calls":true,"reasoning":{"effort":"medium"},"store":false,
	 "include":["reasoning.encrypted_content"],"prompt_cache_key":"thread-1","text":{"verbosity":"low"},
	 "client_metadata":{"turn_id":"t1"}}`)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(&plan.Body)
	var got map[string]json.RawMessage
	_ = json.Unmarshal(b, &got)
	if string(got["instructions"]) != `""` || string(got["store"]) != "false" || plan.Store {
		t.Errorf("instructions=%s store=%s keep=%v", got["instructions"], got["store"], plan.Store)
	}
	for _, want := range []string{`{"type":"tool_search","execution":"client","parameters":{}}`, `{"type":"web_search","external_web_access":false}`, `"syntax":"lark"`, `"client_metadata":{"turn_id":"t1"}`, `"prompt_cache_key":"thread-1"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("upstream body lacks %s:\n%s", want, b)
		}
	}
	if bytes.Contains(b, []byte(`"msg_1"`)) {
		t.Errorf("an input item id was forwarded")
	}
}

func TestTranslateRefusals(t *testing.T) {
	for _, c := range []struct{ body, param string }{
		{`{"model":"m","input":[{"type":"nope"}]}`, "input[0].type"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, "input[0].content[0].file_id"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"ftp://x"}]}]}`, "input[0].content[0].image_url"},
		{`{"model":"m","input":[{"role":"robot","content":"x"}]}`, "input[0].role"},
		{`{"model":"m","input":"x","tools":[{"type":"code_interpreter"}]}`, "tools[0].type"},
		{`{"model":"m","input":"x","tools":[{"type":"function"}]}`, "tools[0].name"},
		{`{"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":"x"}]}`, "tools[0].parameters"},
		{`{"model":"m","input":"x","tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`, "tools[0].function.parameters"},
		{`{"model":"m","input":"x","tools":[{"type":"function","name":7}]}`, "tools[0].name"},
		{`{"model":"m","input":"x","tool_choice":"required"}`, "tool_choice"},
		{`{"model":"m","input":"x","tool_choice":{"type":"function","name":"ghost"}}`, "tool_choice"},
		{`{"model":"m","input":"x","text":{"format":{"type":"json_schema"}}}`, "text.format"},
		{`{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n","schema":"x"}}}`, "text.format.schema"},
		{`{"model":"m","input":[{"type":"custom_tool_call_output","call_id":"c","output":"x"}]}`, "input"},
	} {
		_, err := translate(t, c.body)
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Param == nil || *ae.Param != c.param {
			t.Errorf("%s: %v (param %v), want 400 on %s", c.body, err, ae, c.param)
		}
	}
}

func TestTranslatePreviousAndOrphans(t *testing.T) {
	var req Request
	_ = json.Unmarshal([]byte(`{"model":"m","input":[{"role":"system","content":"rules"},{"role":"user","content":"next"}],"instructions":"new"}`), &req)
	prev := []codex.Item{codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, "q")), codex.FunctionCall("c1", "f", "{}")}
	plan, err := Translate(&req, catalog.Resolution{Slug: "m"}, prev, nil, dialect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, it := range plan.Body.Input {
		types = append(types, it.Type+":"+it.Role)
	}
	// The unanswered call gets a stand-in output; system becomes developer.
	if got := strings.Join(types, ","); got != "message:user,function_call:,function_call_output:,message:developer,message:user" {
		t.Errorf("input = %s", got)
	}
	if plan.Body.Instructions != "new" {
		t.Errorf("instructions %q", plan.Body.Instructions)
	}
}

const (
	evCreated = `{"type":"response.created","sequence_number":0,"response":{"id":"resp_up","created_at":5,"status":"in_progress","model":"gpt-5.5-upstream","output":[]}}`
	evRsAdded = `{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}`
	evRsDone  = `{"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[],"encrypted_content":"gAAA"}}`
	evRate    = `{"type":"codex.rate_limits","sequence_number":4,"rate_limits":{}}`
	evAdded   = `{"type":"response.output_item.added","sequence_number":5,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","status":"in_progress","content":[]}}`
	evDelta   = `{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hi \"there\"","logprobs":[]}`
	evDone    = `{"type":"response.output_item.done","sequence_number":9,"output_index":1,"item":{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi \"there\"","annotations":[]}]}}`
	evDoneAll = `{"type":"response.completed","sequence_number":10,"response":{"id":"resp_up","status":"completed","output":[],"usage":{"input_tokens":10,"output_tokens":2,"total_tokens":12}}}`
)

func TestEncoderRelaysAndRenumbers(t *testing.T) {
	plan, _ := translate(t, `{"model":"my-model","input":"hi"}`)
	var stored *Response
	e := NewEncoder(plan, "resp_mine", fixedNow, func(r *Response, conv []codex.Item, _ []string) { stored = r })
	var out []byte
	for i, ev := range []string{evCreated, evRsAdded, evRsDone, evRate} {
		var sig relay.Signal
		out, sig, _ = feed(e, out, []byte(ev))
		if len(out) != 0 || sig == relay.SigDone {
			t.Fatalf("event %d: wrote %q before any visible output", i, out)
		}
	}
	out, _, _ = feed(e, out, []byte(evAdded))
	if len(out) != 0 {
		t.Fatalf("a message's start was written before its text: %q", out)
	}
	out, _, _ = feed(e, out, []byte(evDelta))
	if e.pending != nil || e.started != nil {
		// An agent's response object is tens of kilobytes; the stream may
		// stay open for minutes.
		t.Errorf("the held events' buffers are kept once sent: %d, %d bytes", cap(e.pending), cap(e.started))
	}
	out, _, _ = feed(e, out, []byte(evDone))
	out, sig, err := feed(e, out, []byte(evDoneAll))
	if err != nil || sig != relay.SigDone {
		t.Fatalf("completed: %v %v", sig, err)
	}
	frames := strings.Split(strings.TrimSpace(string(out)), "\n\n")
	want := []string{"response.created", "response.output_item.added", "response.output_item.done", "response.output_item.added", "response.output_text.delta", "response.output_item.done", "response.completed"}
	if len(frames) != len(want) {
		t.Fatalf("%d frames:\n%s", len(frames), out)
	}
	for i, f := range frames {
		ev, data, _ := strings.Cut(f, "\n")
		var m struct {
			Type     string    `json:"type"`
			Seq      int       `json:"sequence_number"`
			Response *Response `json:"response"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &m); err != nil {
			t.Fatalf("frame %d: %v\n%s", i, err, f)
		}
		if ev != "event: "+want[i] || m.Type != want[i] || m.Seq != i {
			t.Errorf("frame %d: %s type=%s seq=%d", i, ev, m.Type, m.Seq)
		}
		if m.Response != nil && (m.Response.ID != "resp_mine" || m.Response.Model != "my-model") {
			t.Errorf("frame %d: response id=%s model=%s", i, m.Response.ID, m.Response.Model)
		}
	}
	if !strings.Contains(frames[4], `"delta":"Hi \"there\"","logprobs":[]`) {
		t.Errorf("delta frame changed more than the sequence number: %s", frames[4])
	}
	if stored == nil || len(stored.Output) != 2 || stored.Usage.TotalTokens != 12 || stored.CreatedAt != 5 {
		t.Fatalf("stored %+v", stored)
	}
}

// TestEncoderSkimsOnlyWhatItRelays feeds a stream of every kind of event
// to two encoders, one given every event decoded in full and one given
// what the relay gives it (the events it skims only typed), and to two
// aggregators alike: their answers, signals and stored responses must not
// differ, or Skims accepts a type whose fields Feed reads.
func TestEncoderSkimsOnlyWhatItRelays(t *testing.T) {
	stream := []string{
		evCreated,
		`{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_up","created_at":5,"status":"in_progress","output":[]}}`,
		evRsAdded,
		`{"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}`,
		`{"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Think"}`,
		`{"type":"response.reasoning_summary_text.done","sequence_number":5,"item_id":"rs_1","output_index":0,"summary_index":0,"text":"Think"}`,
		`{"type":"response.reasoning_summary_part.done","sequence_number":6,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":"Think"}}`,
		`{"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Think"}],"encrypted_content":"gAAA"}}`,
		evRate,
		evAdded,
		`{"type":"response.content_part.added","sequence_number":9,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}}`,
		evDelta,
		`{"type":"response.output_text.delta","sequence_number":11,"item_id":"msg_1","output_index":1,"content_index":0,"delta":" \u00e9\n","logprobs":[],"obfuscation":"ab"}`,
		`{"type":"response.output_text.done","sequence_number":12,"item_id":"msg_1","output_index":1,"content_index":0,"text":"Hi \"there\" \u00e9\n","logprobs":[]}`,
		`{"type":"response.content_part.done","sequence_number":13,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"Hi \"there\" \u00e9\n","annotations":[]}}`,
		evDone,
		`{"type":"response.output_item.added","sequence_number":15,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"in_progress","name":"f","call_id":"c1","arguments":""}}`,
		`{"type":"response.function_call_arguments.delta","sequence_number":16,"item_id":"fc_1","output_index":2,"delta":"{\"a\":"}`,
		`{"type":"response.function_call_arguments.done","sequence_number":17,"item_id":"fc_1","output_index":2,"arguments":"{\"a\":1}"}`,
		`{"type":"response.output_item.done","sequence_number":18,"output_index":2,"item":{"id":"fc_1","type":"function_call","status":"completed","name":"f","call_id":"c1","arguments":"{\"a\":1}"}}`,
		`{"type":"response.custom_tool_call_input.delta","sequence_number":19,"item_id":"ct_1","output_index":3,"delta":"*** Begin"}`,
		`{"type":"response.refusal.delta","sequence_number":20,"item_id":"msg_2","output_index":4,"content_index":0,"delta":"no"}`,
		`{"type":"response.some_new_event","sequence_number":21,"x":{"y":[1,2]}}`,
		`{"delta":"type not first","type":"response.output_text.delta","sequence_number":22,"item_id":"msg_1","output_index":1,"content_index":0}`,
		`{"type":"response.completed","sequence_number":23,"response":{"id":"resp_up","status":"completed","output":[],"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":2,"total_tokens":12}}}`,
	}
	plan, _ := translate(t, `{"model":"m","input":"hi"}`)
	type result struct {
		out    []byte
		ends   []int // len(out) after each event: what went out with which
		sigs   []relay.Signal
		stored *Response
		conv   []codex.Item
	}
	decode := func(skim bool, skims func(string) bool, data string, ev *codex.Event) {
		var err error
		if skim {
			err = codex.DecodeEventSkimming([]byte(data), ev, skims)
		} else {
			err = codex.DecodeEvent([]byte(data), ev)
		}
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		ev.Raw = []byte(data)
	}
	run := func(skim bool) (enc, agg result) {
		e := NewEncoder(plan, "resp_x", fixedNow, func(r *Response, conv []codex.Item, _ []string) { enc.stored, enc.conv = r, conv })
		a := NewAggregator(plan, "resp_x", fixedNow, func(r *Response, conv []codex.Item, _ []string) { agg.stored, agg.conv = r, conv })
		var ev codex.Event
		for _, s := range stream {
			decode(skim, e.Skims, s, &ev)
			var sig relay.Signal
			var err error
			if enc.out, sig, err = e.Feed(enc.out, &ev); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			enc.sigs, enc.ends = append(enc.sigs, sig), append(enc.ends, len(enc.out))

			decode(skim, a.Skims, s, &ev)
			if sig, err = a.Feed(&ev); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			agg.sigs = append(agg.sigs, sig)
		}
		agg.out, _ = json.Marshal(a.Result())
		return enc, agg
	}
	fullEnc, fullAgg := run(false)
	skimEnc, skimAgg := run(true)
	for _, c := range []struct {
		name       string
		full, skim result
	}{{"stream", fullEnc, skimEnc}, {"aggregate", fullAgg, skimAgg}} {
		if !bytes.Equal(c.full.out, c.skim.out) {
			t.Errorf("%s: skimmed answer differs:\n%s\nfull:\n%s", c.name, c.skim.out, c.full.out)
		}
		if !reflect.DeepEqual(c.full.ends, c.skim.ends) {
			t.Errorf("%s: frames written after each event %v, full %v", c.name, c.skim.ends, c.full.ends)
		}
		if !reflect.DeepEqual(c.full.sigs, c.skim.sigs) {
			t.Errorf("%s: signals %v, full %v", c.name, c.skim.sigs, c.full.sigs)
		}
		if c.full.stored == nil || !reflect.DeepEqual(c.full.stored, c.skim.stored) || !reflect.DeepEqual(c.full.conv, c.skim.conv) {
			t.Errorf("%s: stored %+v\nfull %+v", c.name, c.skim.stored, c.full.stored)
		}
	}
	if !bytes.Contains(skimEnc.out, []byte(`"delta":" \u00e9\n","logprobs":[],"obfuscation":"ab"}`)) || !bytes.Contains(skimEnc.out, []byte("response.some_new_event")) {
		t.Errorf("a skimmed event was not relayed as it came:\n%s", skimEnc.out)
	}
}

func TestEncoderRetryStartsOver(t *testing.T) {
	plan, _ := translate(t, `{"model":"m","input":"hi"}`)
	e := NewEncoder(plan, "resp_x", fixedNow, nil)
	out, _, _ := feed(e, nil, []byte(evCreated))
	out, _, _ = feed(e, out, []byte(evRsAdded))
	// The attempt failed before output; the relay retries.
	out, _, _ = feed(e, out, []byte(evCreated))
	out, _, _ = feed(e, out, []byte(evAdded))
	out, _, _ = feed(e, out, []byte(evDelta))
	if n := strings.Count(string(out), "response.created\n"); n != 1 || !strings.Contains(string(out), `"sequence_number":2,`) || strings.Contains(string(out), `"sequence_number":3`) {
		t.Errorf("after a retry:\n%s", out)
	}
	// A failure after output: response.failed, never completed.
	out = e.Fail(out[:0], apierr.Errorf(502, "upstream_error", "cut").WithCode("stream_closed"))
	if !strings.Contains(string(out), `"status":"failed"`) || !strings.Contains(string(out), `"code":"stream_closed"`) {
		t.Errorf("fail frame: %s", out)
	}
}

// TestEncoderFirstBurstInOneWrite: a message's start (its item and empty
// content part) waits with created and in_progress for its first text, so
// that the client is woken once for all of them; a part that carries text
// shows at once.
func TestEncoderFirstBurstInOneWrite(t *testing.T) {
	plan, _ := translate(t, `{"model":"m","input":"hi"}`)
	e := NewEncoder(plan, "resp_x", fixedNow, nil)
	evInProgress := `{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_up","created_at":5,"status":"in_progress","output":[]}}`
	evPart := `{"type":"response.content_part.added","sequence_number":6,"item_id":"msg_1","output_index":1,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}`
	for _, ev := range []string{evCreated, evInProgress, evAdded, evPart} {
		out, sig, err := feed(e, nil, []byte(ev))
		if len(out) != 0 || err != nil {
			t.Fatalf("%.60s: wrote %q (%v) before any text", ev, out, err)
		}
		if ev == evAdded && sig != relay.SigOutput {
			t.Errorf("a message's start: signal %v, want output (the backend is answering)", sig)
		}
	}
	out, _, _ := feed(e, nil, []byte(evDelta))
	var types []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		ev, _, _ := strings.Cut(f, "\n")
		types = append(types, strings.TrimPrefix(ev, "event: "))
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added response.output_text.delta"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("first write: %s\nwant %s", got, want)
	}

	e = NewEncoder(plan, "resp_y", fixedNow, nil)
	_, _, _ = feed(e, nil, []byte(evCreated))
	out, _, _ = feed(e, nil, []byte(`{"type":"response.content_part.added","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"already","annotations":[]}}`))
	if !strings.Contains(string(out), "response.content_part.added") {
		t.Fatalf("a part with text waited: %q", out)
	}
	e = NewEncoder(plan, "resp_z", fixedNow, nil)
	_, _, _ = feed(e, nil, []byte(evCreated))
	out, _, _ = feed(e, nil, []byte(`{"type":"response.content_part.added","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"refusal","refusal":"I can't"}}`))
	if !strings.Contains(string(out), "I can't") {
		t.Fatalf("a refusal part waited: %q", out)
	}
}

func TestEncoderRenamedTools(t *testing.T) {
	plan, err := translate(t, `{"model":"m","input":"hi","tools":[{"type":"function","name":"mcp.read file"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	up := plan.Body.Tools[0].Name
	if up == "mcp.read file" {
		t.Fatal("name not shortened")
	}
	e := NewEncoder(plan, "resp_x", fixedNow, nil)
	out, _, _ := feed(e, nil, []byte(evCreated))
	out, _, _ = feed(e, out, []byte(`{"type":"response.output_item.done","output_index":0,"item":{"id":"fc_1","type":"function_call","name":"`+up+`","call_id":"c1","arguments":"{}"}}`))
	if !strings.Contains(string(out), `"name":"mcp.read file"`) || strings.Contains(string(out), up) {
		t.Errorf("renamed call: %s", out)
	}
}

func TestAppendFrame(t *testing.T) {
	for _, raw := range []string{`{"type":"x"}`, `{"type":"x","sequence_number":99,"a":[1,{"b":"}"}]}`, ` { "type" : "x" , "s":"\\\"" } `} {
		out, ok := appendFrame(nil, "x", []byte(raw), 3)
		if !ok {
			t.Fatalf("%s: not an object", raw)
		}
		data := strings.TrimSuffix(strings.TrimPrefix(string(out), "event: x\ndata: "), "\n\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil || m["sequence_number"] != float64(3) || m["type"] != "x" {
			t.Errorf("%s -> %s (%v)", raw, data, err)
		}
	}
	if _, ok := appendFrame(nil, "x", []byte(`[1]`), 0); ok {
		t.Error("an array was taken for an object")
	}
	if out, ok := appendFrame(nil, "x\n\ndata: {}", []byte(`{"type":"x\n\ndata: {}"}`), 0); ok {
		t.Errorf("a type with line ends was framed: %q", out)
	}
	// Data that spanned lines (white space between tokens) spans data
	// lines again: a line of its own would not be data to the client.
	raw := "{\"type\":\"x\",\r\n \"sequence_number\": 5,\n\"a\":\r[1,\n2]}"
	out, ok := appendFrame(nil, "x", []byte(raw), 3)
	if !ok {
		t.Fatal("not an object")
	}
	var data []string
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n\n"), "\n") {
		if line == "event: x" {
			continue
		}
		d, found := strings.CutPrefix(line, "data: ")
		if !found {
			t.Fatalf("line %q of frame %q is not data", line, out)
		}
		data = append(data, d)
	}
	var m struct {
		Seq int   `json:"sequence_number"`
		A   []int `json:"a"`
	}
	if err := json.Unmarshal([]byte(strings.Join(data, "\n")), &m); err != nil || m.Seq != 3 || len(m.A) != 2 {
		t.Errorf("%q -> %q: %+v (%v)", raw, out, m, err)
	}
}

// TestStoreItems: the items a client saw are found by their ids, by
// their owner only, until their response is deleted or evicted.
func TestStoreItems(t *testing.T) {
	s := NewStore(time.Hour, 1<<20, 2, fixedNow)
	in := codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, "q"))
	out := codex.Message(codex.RoleAssistant, codex.TextPart(codex.PartOutputText, "a1"))
	s.Put("k1", &Response{ID: "r1", Output: []json.RawMessage{}}, []codex.Item{in, out}, []string{"", "msg_1"})
	if it, ok := s.Item("k1", "msg_1"); !ok || it.Role != codex.RoleAssistant || it.Content[0].Text != "a1" {
		t.Fatalf("item msg_1: %+v %v", it, ok)
	}
	if _, ok := s.Item("k2", "msg_1"); ok {
		t.Error("another owner found an item")
	}
	if _, ok := s.Item("k1", ""); ok {
		t.Error("an item without an id was found")
	}
	s.Delete("k1", "r1")
	if _, ok := s.Item("k1", "msg_1"); ok {
		t.Error("a deleted response's item was found")
	}
	// The newest response holding an id answers; evicting an older one
	// does not forget it.
	s.Put("k1", &Response{ID: "r2", Output: []json.RawMessage{}}, []codex.Item{out}, []string{"msg_2"})
	s.Put("k1", &Response{ID: "r3", Output: []json.RawMessage{}}, []codex.Item{out}, []string{"msg_2"})
	s.Put("k1", &Response{ID: "r4", Output: []json.RawMessage{}}, []codex.Item{in}, []string{"msg_4"}) // evicts r2
	if _, ok := s.Item("k1", "msg_2"); !ok {
		t.Error("an item was forgotten with an older copy")
	}
	if n := len(s.byItem); n != 2 {
		t.Errorf("%d items indexed, want 2", n)
	}
}

func TestStoreBounds(t *testing.T) {
	now := fixedNow()
	clock := func() time.Time { return now }
	s := NewStore(time.Hour, 4096, 3, clock)
	conv := []codex.Item{codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, "x"))}
	for _, id := range []string{"a", "b", "c", "d"} {
		s.Put("k1", &Response{ID: id, Output: []json.RawMessage{}}, conv, nil)
	}
	if _, ok := s.Response("k1", "a"); ok {
		t.Error("the oldest response survived the count bound")
	}
	if _, ok := s.Response("k2", "b"); ok {
		t.Error("another owner saw a response")
	}
	if items, ok := s.Conversation("k1", "b"); !ok || len(items) != 1 || items[0].Content[0].Text != "x" {
		t.Errorf("conversation %v %v", items, ok)
	}
	big := []codex.Item{codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, strings.Repeat("y", 3000)))}
	s.Put("k1", &Response{ID: "big", Output: []json.RawMessage{}}, big, nil)
	if n, size := s.Len(); size > 4096 || n > 3 {
		t.Errorf("%d entries, %d bytes over the bounds", n, size)
	}
	now = now.Add(2 * time.Hour)
	if _, ok := s.Response("k1", "big"); ok {
		t.Error("an expired response was served")
	}
	if n, _ := s.Len(); n != 0 {
		t.Errorf("%d expired entries kept", n)
	}
	if !s.Enabled() || NewStore(0, 1, 1, nil).Enabled() {
		t.Error("Enabled")
	}
}

// BenchmarkRelayDelta measures the streaming hot path, like the chat
// route's BenchmarkTranslateDelta: one upstream output_text.delta event
// in, one renumbered event out.
func BenchmarkRelayDelta(b *testing.B) {
	var req Request
	_ = json.Unmarshal([]byte(`{"model":"gpt-5.5","input":"hi"}`), &req)
	plan, _ := Translate(&req, catalog.Resolution{Slug: "gpt-5.5"}, nil, nil, dialect.Options{})
	e := NewEncoder(plan, "resp_1", fixedNow, nil)
	var out []byte
	var ev codex.Event
	for _, s := range []string{`{"type":"response.created","response":{"id":"resp_1","created_at":1}}`, `{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant"}}`} {
		_ = codex.DecodeEvent([]byte(s), &ev)
		ev.Raw = []byte(s)
		out, _, _ = e.Feed(out, &ev)
	}
	data := []byte(`{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello, world! This is a typical delta."}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = codex.DecodeEvent(data, &ev)
		ev.Raw = data
		out, _, _ = e.Feed(out[:0], &ev)
	}
	if !bytes.Contains(out, []byte("typical delta")) {
		b.Fatal("no event produced")
	}
}

// TestTranslateInputItems walks an input array whose strings hold what
// delimits items (brackets, braces, commas, escaped quotes and
// backslashes), with white space between items.
func TestTranslateInputItems(t *testing.T) {
	plan, err := translate(t, `{"model":"m","input":[ {"role":"user","content":"a ] b }, { \"q\" \\"} ,
	  {"type":"message","role":"assistant","content":[{"type":"output_text","text":"x\\\"]\\\\"}]},
	  {"type":"function_call","call_id":"c1","name":"f","arguments":"{\"a\":\"]\"}"},
	  {"type":"function_call_output","call_id":"c1","output":"ok"}
	]}`)
	if err != nil {
		t.Fatal(err)
	}
	in := plan.Body.Input
	if len(in) != 4 {
		t.Fatalf("%d items: %+v", len(in), in)
	}
	if got := in[0].Content[0].Text; in[0].Role != codex.RoleUser || got != `a ] b }, { "q" \` {
		t.Errorf("item 0: %s %q", in[0].Role, got)
	}
	if got := in[1].Content[0].Text; in[1].Role != codex.RoleAssistant || got != `x\"]\\` {
		t.Errorf("item 1: %s %q", in[1].Role, got)
	}
	if in[2].Type != codex.ItemFunctionCall || in[2].Arguments != `{"a":"]"}` || in[3].Type != codex.ItemFunctionCallOutput || in[3].Output.Text != "ok" {
		t.Errorf("items 2, 3: %+v %+v", in[2], in[3])
	}
	for _, c := range []struct{ body, param, msg string }{
		{`{"model":"m","input":[{"role":"user","content":"x"}, 7]}`, "input[1]", "expected an object"},
		{`{"model":"m","input":[{"role":"user","content":"x"}, null]}`, "input[1]", "expected an object"},
		{`{"model":"m","input":[{"role":5,"content":"x"}]}`, "input[0].role", "Invalid type for 'input[0].role': expected a string, but got a number instead."},
		{`{"model":"m","input":[{"type":["message"],"content":"x"}]}`, "input[0].type", "expected a string, but got an array instead"},
		{`{"model":"m","input":[{"role":"user","content":"x","phase":5}]}`, "input[0].phase", "expected a string, but got a number"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}`, "input[0].content[0].text", "expected a string"},
		{`{"model":"m","input":[{"role":"user","content":7}]}`, "input[0].content", "expected a string or an array of content parts"},
		{`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{"a":1}}]}`, "input[0].arguments", "expected a string, but got an object instead"},
		{`{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`, "input[0].call_id", "Missing required parameter: 'input[0].call_id'."},
		{`{"model":"m","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}`, "input[0].name", "Missing required parameter"},
	} {
		_, err := translate(t, c.body)
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Param == nil || *ae.Param != c.param || !strings.Contains(ae.Message, c.msg) || strings.Contains(ae.Message, "Go ") {
			t.Errorf("%s: %v, want %q on %s", c.body, err, c.msg, c.param)
		}
	}
}

// TestPassThroughItemsAsTheyCame: the backend's own item types go as the
// client sent them, ids included (the Codex CLI sends them).
func TestPassThroughItemsAsTheyCame(t *testing.T) {
	in := `[{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"id"}},{"type":"item_reference","id":"msg_1"}]`
	plan, err := translate(t, `{"model":"m","input":`+in+`}`)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(plan.Body.Input); string(b) != in {
		t.Errorf("upstream input\n got %s\nwant %s", b, in)
	}
}

// TestEchoOfDefaults: what the client set is echoed, also where the
// backend is not told (no tools), and an explicit null is the default.
func TestEchoOfDefaults(t *testing.T) {
	for _, c := range []struct {
		body     string
		parallel bool
		choice   string
	}{
		{`{"model":"m","input":"hi","parallel_tool_calls":false}`, false, `"auto"`},
		{`{"model":"m","input":"hi","tool_choice":null}`, true, `"auto"`},
		{`{"model":"m","input":"hi","tool_choice":"none","parallel_tool_calls":true}`, true, `"none"`},
	} {
		plan, err := translate(t, c.body)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Echo.ParallelToolCalls != c.parallel || string(plan.Echo.ToolChoice) != c.choice {
			t.Errorf("%s: parallel_tool_calls %v, tool_choice %s", c.body, plan.Echo.ParallelToolCalls, plan.Echo.ToolChoice)
		}
	}
}

func TestElements(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`[]`, nil, true},
		{` [ 1 , "a\"]" ,{"b":[1,{}]}, [ ] ,null,-2e3] `, []string{`1`, `"a\"]"`, `{"b":[1,{}]}`, `[ ]`, `null`, `-2e3`}, true},
		{`["\\",2]`, []string{`"\\"`, `2`}, true},
		{`{}`, nil, false},
		{`[1,`, []string{`1`}, false},
		{`["open`, nil, false},
		{`[1 2]`, []string{`1`}, false},
		{`[1,]`, []string{`1`}, false},
		{`[`, nil, false},
	} {
		var got []string
		ok := elements([]byte(c.in), func(el []byte) bool { got = append(got, string(el)); return true })
		if ok != c.ok || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestTranslateCodexLiteBody takes the Codex CLI 0.171's own
// Responses-Lite body (captured; tools in an additional_tools item, the
// effort in a configuration_update item, ids on every item), as the CLI
// sends it to a provider for a Lite model.
func TestTranslateCodexLiteBody(t *testing.T) {
	raw, err := os.ReadFile("../../upstream/testdata/codex-cli-0.171.0/exec-rustls-responses-0.171.0.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "reasoning") // the effort then comes from configuration_update alone
	body, _ := json.Marshal(m)
	plan, err := translate(t, string(body))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range plan.Body.Tools {
		var ns struct{ Name string }
		_ = json.Unmarshal(tl.Raw, &ns)
		names = append(names, tl.Type+":"+ns.Name)
	}
	if got := strings.Join(names, ","); got != "namespace:functions,namespace:clock,namespace:collaboration" {
		t.Errorf("tools %s", got)
	}
	// The namespace's tools are known, so that a Lite body upstream can
	// name the namespace of each call in the history.
	if fs := plan.Body.Tools[0].Tools; len(fs) == 0 || fs[0].Name != "exec" {
		t.Errorf("functions namespace read as %+v", fs)
	}
	if r := plan.Body.Reasoning; r == nil || r.Effort != "low" {
		t.Errorf("reasoning %+v, want the configuration_update's effort", r)
	}
	for i, it := range plan.Body.Input {
		if it.ID != "" || it.Type == codex.ItemAdditionalTools || it.Type == codex.ItemConfigurationUpdate {
			t.Errorf("input[%d]: %s id=%q", i, it.Type, it.ID)
		}
	}
	if len(plan.Body.Input) == 0 {
		t.Error("no input")
	}
	// The same tools declared again (a second additional_tools item, or
	// in tools too) are sent once.
	plan, err = translate(t, `{"model":"m","tools":[{"type":"function","name":"f"}],"input":[
		{"type":"additional_tools","role":"developer","tools":[{"type":"function","name":"f"},{"type":"namespace","name":"ns","tools":[]}]},
		{"type":"additional_tools","role":"developer","tools":[{"type":"namespace","name":"ns","tools":[]}]},
		{"role":"user","content":"hi"}]}`)
	if err != nil || len(plan.Body.Tools) != 2 {
		t.Errorf("%v: %d tools", err, len(plan.Body.Tools))
	}
	// Declared again as it was, a namespace goes as the client wrote it.
	ns := `{"type":"namespace","name":"functions","description":"","defer_loading":true,"tools":[{"type":"custom","name":"exec"}]}`
	plan, err = translate(t, `{"model":"m","input":[{"type":"additional_tools","tools":[`+ns+`]},{"type":"additional_tools","tools":[`+ns+`]},{"role":"user","content":"hi"}]}`)
	if err != nil || len(plan.Body.Tools) != 1 || string(plan.Body.Tools[0].Raw) != ns {
		t.Errorf("%v: %+v", err, plan.Body.Tools)
	}
}

// TestImageDetail: an image's detail goes upstream as the client sent it
// (the Codex CLI sends "original"); an unknown one is refused.
func TestImageDetail(t *testing.T) {
	plan, err := translate(t, `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"original"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Body.Input[0].Content[0].Detail; d != "original" {
		t.Errorf("detail %q", d)
	}
	_, err = translate(t, `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"huge"}]}]}`)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Param == nil || *ae.Param != "input[0].content[0].detail" {
		t.Errorf("detail huge: %v", err)
	}
}

// A text part without text is refused, as OpenAI refuses it, instead of
// going upstream empty; an empty text is text.
func TestTextRequired(t *testing.T) {
	for _, c := range []struct{ body, param, msg, code string }{
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_text"}]}]}`, "input[0].content[0].text", "Missing required parameter: 'input[0].content[0].text'.", "missing_required_parameter"},
		{`{"model":"m","input":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"output_text","text":"b"},{"type":"output_text","annotations":[]}]}]}`, "input[1].content[1].text", "Missing required parameter: 'input[1].content[1].text'.", "missing_required_parameter"},
		{`{"model":"m","input":[{"role":"developer","content":[{"type":"text","text":null}]}]}`, "input[0].content[0].text", "Invalid type for 'input[0].content[0].text': expected a string, but got null instead.", "invalid_type"},
		{`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text"}]}]}`, "input[1].output[0].text", "Missing required parameter: 'input[1].output[0].text'.", "missing_required_parameter"},
	} {
		_, err := translate(t, c.body)
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Param == nil || *ae.Param != c.param || ae.Message != c.msg || *ae.Code != c.code {
			t.Errorf("%s: %v, want 400 %q on %s (%s)", c.body, err, c.msg, c.param, c.code)
		}
	}
	if _, err := translate(t, `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":""},{"type":"input_text","text":"x"}]}]}`); err != nil {
		t.Errorf("empty text refused: %v", err)
	}
}

// The echoed sampling parameters are refused out of OpenAI's ranges, in
// its words.
func TestSamplingRanges(t *testing.T) {
	for _, c := range []struct{ body, param, msg, code string }{
		{`{"model":"m","input":"x","temperature":2.5}`, "temperature", "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.", "decimal_above_max_value"},
		{`{"model":"m","input":"x","top_p":-0.1}`, "top_p", "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.1 instead.", "decimal_below_min_value"},
		{`{"model":"m","input":"x","max_output_tokens":5}`, "max_output_tokens", "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead.", "integer_below_min_value"},
	} {
		_, err := translate(t, c.body)
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Param == nil || *ae.Param != c.param || ae.Message != c.msg || *ae.Code != c.code {
			t.Errorf("%s: %v, want 400 %q on %s (%s)", c.body, err, c.msg, c.param, c.code)
		}
	}
	if _, err := translate(t, `{"model":"m","input":"x","temperature":2,"top_p":0,"max_output_tokens":16}`); err != nil {
		t.Errorf("in range: %v", err)
	}
}
