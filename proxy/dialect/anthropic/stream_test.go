package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

func fixedNow() time.Time { return time.Unix(1_800_000_000, 0) }

// feed decodes one event's data, as the relay does, and feeds it.
func feed(e *Encoder, dst []byte, data string) ([]byte, relay.Signal, error) {
	var ev codex.Event
	if err := codex.DecodeEvent([]byte(data), &ev); err != nil {
		return dst, relay.SigNone, nil
	}
	return e.Feed(dst, &ev)
}

// events splits an SSE stream into (event, data) pairs and checks that
// each data line is JSON whose type is the event name.
func events(t *testing.T, raw []byte) []string {
	t.Helper()
	var names []string
	for _, frame := range strings.Split(strings.TrimSpace(string(raw)), "\n\n") {
		name, data, ok := strings.Cut(frame, "\ndata: ")
		name = strings.TrimPrefix(name, "event: ")
		var v struct {
			Type string `json:"type"`
		}
		if !ok || json.Unmarshal([]byte(data), &v) != nil || v.Type != name {
			t.Fatalf("bad frame %q", frame)
		}
		names = append(names, name)
	}
	return names
}

func TestEncoderGrammar(t *testing.T) {
	e := NewEncoder(&Plan{Model: "claude-x", Thinking: true, ToolNames: map[string]string{"long_abc": "long.name"}}, fixedNow)
	var out []byte
	for _, ev := range []string{
		`{"type":"response.created","response":{"id":"resp_7"}}`,
		`{"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}}`,
		`{"type":"response.reasoning_summary_text.delta","output_index":0,"summary_index":0,"delta":"Think"}`,
		`{"type":"response.reasoning_summary_text.delta","output_index":0,"summary_index":1,"delta":"More"}`,
		`{"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Think"},{"type":"summary_text","text":"More"}],"encrypted_content":"gAAA"}}`,
		`{"type":"response.output_item.added","output_index":1,"item":{"type":"message","role":"assistant","content":[]}}`,
		`{"type":"response.output_text.delta","output_index":1,"delta":"Hi \"there\""}`,
		`{"type":"response.output_item.done","output_index":1,"item":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi \"there\""}]}}`,
		`{"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","call_id":"call_1","name":"long_abc","arguments":""}}`,
		`{"type":"response.function_call_arguments.delta","output_index":2,"delta":"{\"a\":"}`,
		`{"type":"response.function_call_arguments.delta","output_index":2,"delta":"1}"}`,
		`{"type":"response.output_item.done","output_index":2,"item":{"type":"function_call","call_id":"call_1","name":"long_abc","arguments":"{\"a\":1}"}}`,
		`{"type":"response.completed","response":{"id":"resp_7","usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":64},"output_tokens":7}}}`,
	} {
		var sig relay.Signal
		var err error
		out, sig, err = feed(e, out, ev)
		if err != nil {
			t.Fatal(err)
		}
		_ = sig
	}
	got := strings.Join(events(t, out), ",")
	want := "message_start,ping," +
		"content_block_start,content_block_delta,content_block_delta,content_block_delta,content_block_stop," +
		"content_block_start,content_block_delta,content_block_stop," +
		"content_block_start,content_block_delta,content_block_delta,content_block_stop," +
		"message_delta,message_stop"
	if got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	s := string(out)
	for _, frag := range []string{
		`"id":"msg_7"`, `"model":"claude-x"`,
		`{"type":"thinking_delta","thinking":"\n\nMore"}`,
		`{"type":"signature_delta","signature":"` + Signature("rs_1", "gAAA") + `"}`,
		`"index":1,"delta":{"type":"text_delta","text":"Hi \"there\""}`,
		`{"type":"tool_use","id":"call_1","name":"long.name","input":{}}`,
		`{"type":"input_json_delta","partial_json":"1}"}`,
		`"stop_reason":"tool_use"`,
		`"usage":{"input_tokens":36,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":64}`,
	} {
		if !strings.Contains(s, frag) {
			t.Errorf("stream lacks %s\n%s", frag, s)
		}
	}
}

func TestEncoderEmptyAndEnvelopeOutput(t *testing.T) {
	// No item events: the completed envelope's output is used; an empty
	// answer still has the full grammar.
	e := NewEncoder(&Plan{Model: "m"}, fixedNow)
	out, sig, _ := feed(e, nil, `{"type":"response.completed","response":{"id":"resp_1","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"late"}]}]}}`)
	if sig != relay.SigDone || strings.Join(events(t, out), ",") != "message_start,ping,content_block_start,content_block_delta,content_block_stop,message_delta,message_stop" {
		t.Errorf("envelope output: %s", out)
	}
	e = NewEncoder(&Plan{Model: "m"}, fixedNow)
	out, _, _ = feed(e, nil, `{"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_output_tokens"}}}`)
	if strings.Join(events(t, out), ",") != "message_start,ping,message_delta,message_stop" || !strings.Contains(string(out), `"stop_reason":"max_tokens"`) {
		t.Errorf("empty incomplete: %s", out)
	}
}

func TestEncoderWithoutThinkingHidesReasoning(t *testing.T) {
	e := NewEncoder(&Plan{Model: "m"}, fixedNow)
	var out []byte
	for _, ev := range []string{
		`{"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","summary":[]}}`,
		`{"type":"response.reasoning_summary_text.delta","output_index":0,"delta":"secret"}`,
		`{"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","summary":[{"type":"summary_text","text":"secret"}],"encrypted_content":"x"}}`,
	} {
		out, _, _ = feed(e, out, ev)
	}
	if len(out) != 0 {
		t.Errorf("reasoning reached a client that did not ask for thinking: %s", out)
	}
}

func TestSignature(t *testing.T) {
	s := Signature("rs_9", "gAAAAB+/=")
	id, enc, ok := ParseSignature(s)
	if !ok || id != "rs_9" || enc != "gAAAAB+/=" {
		t.Errorf("round trip: %q %q %v", id, enc, ok)
	}
	for _, bad := range []string{"", "EqQBCkgIARABGAIiQ", "c2a1.", "c2a1.!!!", Signature("x", "")} {
		if _, _, ok := ParseSignature(bad); ok {
			t.Errorf("%q parsed as ours", bad)
		}
	}
}

// BenchmarkTranslateDelta is the cost of one text delta, decoding included,
// to compare with the chat dialect's benchmark of the same name.
func BenchmarkTranslateDelta(b *testing.B) {
	e := NewEncoder(&Plan{Model: "claude-sonnet-4-5"}, fixedNow)
	var out []byte
	out, _, _ = feed(e, out, `{"type":"response.created","response":{"id":"resp_1","created_at":1}}`)
	out, _, _ = feed(e, out, `{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant"}}`)
	out, _, _ = feed(e, out, `{"type":"response.output_text.delta","output_index":0,"delta":"first"}`)
	ev := []byte(`{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello, world! This is a typical delta."}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	var cev codex.Event
	for b.Loop() {
		_ = codex.DecodeEvent(ev, &cev)
		out, _, _ = e.Feed(out[:0], &cev)
	}
	if !bytes.Contains(out, []byte("typical delta")) {
		b.Fatal("no event produced")
	}
}
