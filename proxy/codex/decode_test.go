package codex

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// decodeSeeds are events as the backend sends them, and the odd shapes the
// decoder must leave to encoding/json.
var decodeSeeds = []string{
	`{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hel","logprobs":[],"obfuscation":"x1"}`,
	`{"type":"response.reasoning_summary_text.delta","item_id":"rs","output_index":0,"summary_index":2,"delta":"a \"quoted\" \u00e9\n"}`,
	`{ "type" : "response.function_call_arguments.delta" , "output_index" : 3 , "delta" : "{\"city\":" }`,
	`{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1764000000,"status":"in_progress","model":"gpt-5.5","instructions":"You are Codex.\n\"quoted\"","output":[],"tools":[{"type":"function","name":"f","parameters":{"type":"object","x":[1,-2.5e3,true,false,null]}}],"usage":null,"error":null}}`,
	`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[],"phase":"final_answer"},"sequence_number":2}`,
	`{"type":"response.content_part.added","item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}}`,
	`{"type":"response.output_text.done","item_id":"msg_1","output_index":0,"content_index":0,"text":"line one\nline \ud83c\udf89 two \\ \/","logprobs":[]}`,
	`{"type":"response.output_item.done","output_index":1,"item":{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"a\":1}","call_id":"call_1","name":"get_weather"}}`,
	`{"type":"response.output_item.done","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Thinking"}],"encrypted_content":"gAAA=="}}`,
	`{"type":"response.output_item.done","output_index":2,"item":{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"go"}}}`,
	`{"type":"response.content_part.done","item_id":"m","part":{"type":"output_text","text":"hi","annotations":[{"type":"url_citation","url":"https://e.x"} , 5 ]}}`,
	`{"type":"response.completed","response":{"id":"resp_1","status":"completed","model":"gpt-5.5","output":[{"type":"message","id":"m","role":"assistant","content":[{"type":"output_text","text":"hi"}]}],"usage":{"input_tokens":20,"input_tokens_details":{"cached_tokens":8},"output_tokens":4,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":24}}}`,
	`{"type":"response.incomplete","response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}`,
	`{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"boom","param":null}}}`,
	`{"type":"error","code":"context_length_exceeded","message":"too long","param":"input","plan_type":"plus","resets_at":1700000000,"resets_in_seconds":-3}`,
	`{"type":"error","error":{"type":"invalid_request_error","code":"x","message":"y","param":"z"}}`,
	`{"type":"codex.rate_limits","plan_type":"plus","rate_limits":{"primary":{"used_percent":12.5}}}`,
	// Left to encoding/json: other spellings of keys, repeats, floats
	// in integer fields, invalid UTF-8, items with tool lists, non-objects.
	`{"Type":"response.output_text.delta","delta":"x"}`,
	`{"type":"response.output_text.delta","delta":"x","delta":"y"}`,
	`{"type":"response.output_text.delta","output_index":1.5,"delta":"x"}`,
	`{"type":"response.output_text.delta","delta":"\xff"}`,
	`{"type":"response.output_item.added","item":{"type":"additional_tools","tools":[]}}`,
	`{"type":"response.output_item.added","item":"x"}`,
	`{"type":"response.created","response":{"ſtatus":"s"}}`,
	`{"type":"response.output_text.delta","delta":"x"} trailing`,
	`null`,
	`{"type":"response.output_text.delta","delta":"x","n":01}`,
}

// FuzzDecodeEvent checks that whenever the decoder accepts an event, the
// event is valid JSON and decodes into exactly what encoding/json makes
// of it.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Event
		if !decodeEvent(data, &fast, "") {
			return
		}
		var slow Event
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoded differently from encoding/json for %q:\nfast %+v\nslow %+v", data, fast, slow)
		}
	})
}

// TestDecodeEventSeeds checks that the decoder takes the ordinary events
// of a stream itself and leaves the odd shapes to encoding/json, and that
// DecodeEvent gives the same result either way.
func TestDecodeEventSeeds(t *testing.T) {
	const ordinary = 17 // the seeds before the comment
	for i, s := range decodeSeeds {
		var fast Event
		accepted := decodeEvent([]byte(s), &fast, "")
		if accepted != (i < ordinary) {
			t.Errorf("seed %d accepted=%v: %s", i, accepted, s)
		}
		var got, want Event
		errGot := DecodeEvent([]byte(s), &got)
		errWant := json.Unmarshal([]byte(s), &want)
		if (errGot == nil) != (errWant == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: DecodeEvent %+v (%v), encoding/json %+v (%v)", i, got, errGot, want, errWant)
		}
	}
}

// TestDecodeEventReusesItemID checks that consecutive events of one item
// share its id string.
func TestDecodeEventReusesItemID(t *testing.T) {
	var ev Event
	data := []byte(decodeSeeds[0])
	if err := DecodeEvent(data, &ev); err != nil {
		t.Fatal(err)
	}
	first := ev.ItemID
	allocs := testing.AllocsPerRun(100, func() { _ = DecodeEvent(data, &ev) })
	if ev.ItemID != first || allocs > 1 {
		t.Errorf("item id %q, %v allocations per delta event (want the delta's only)", ev.ItemID, allocs)
	}
}

// skimDeltas accepts the text deltas, as an encoder that relays them as
// they came would.
func skimDeltas(typ string) bool { return typ == EventTextDelta }

// FuzzSkimEvent checks that whenever an event is skimmed, the type it
// got is the value of the event's first key, "type", as encoding/json
// reads that value. (The rest is not read, a later "type" key included:
// a skimmed event is relayed as it came.)
func FuzzSkimEvent(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	for _, s := range skimSeeds {
		f.Add([]byte(s.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, ok := skimEvent(data, skimDeltas)
		if !ok {
			return
		}
		d := json.NewDecoder(bytes.NewReader(data))
		open, err1 := d.Token()
		key, err2 := d.Token()
		var val string
		err3 := d.Decode(&val)
		if open != json.Delim('{') || key != "type" || err1 != nil || err2 != nil || err3 != nil || val != typ || typ != EventTextDelta {
			t.Fatalf("skimmed type %q from %q: encoding/json read %v %v %q (%v %v %v)", typ, data, open, key, val, err1, err2, err3)
		}
	})
}

// skimSeeds are events and whether DecodeEventSkimming skims them with
// skimDeltas.
var skimSeeds = []struct {
	data    string
	skimmed bool
}{
	{decodeSeeds[0], true},
	{`{"type":"response.output_text.delta","delta":"a \"q\" \u00e9","x":[{"y":null},1e5,true]}`, true},
	{" {\"type\" : \"response.output_text.delta\" , \"delta\":\"\xff\"} ", true},
	{`{"type":"response.output_text.delta","output_index":1.5}`, true},
	{`{"type":"response.output_text.delta","delta":"x",}`, true}, // the rest is the client's to read
	{`{"type":"response.output_t\u0065xt.delta","delta":"x"}`, true},
	{decodeSeeds[1], false}, // another type
	{decodeSeeds[3], false},
	{`{"delta":"x","type":"response.output_text.delta"}`, false}, // type not first
	{`{"Type":"response.output_text.delta","delta":"x"}`, false},
	{`{"type":"response.output_text.delta"`, true},
	{`{"type":"response.output_text.del`, false},
	{`{"type":null,"delta":"x"}`, false},
	{`{"type":"\q"}`, false},
	{`{}`, false},
	{`null`, false},
}

// TestDecodeEventSkimming checks which events are skimmed, that a skimmed
// event has its type and nothing else, and that any other is decoded as
// DecodeEvent decodes it.
func TestDecodeEventSkimming(t *testing.T) {
	for i, s := range skimSeeds {
		_, ok := skimEvent([]byte(s.data), skimDeltas)
		if ok != s.skimmed {
			t.Errorf("seed %d skimmed=%v, want %v: %s", i, ok, s.skimmed, s.data)
		}
		ev := Event{Delta: "left over", ItemID: "old"}
		err := DecodeEventSkimming([]byte(s.data), &ev, skimDeltas)
		var want Event
		wantErr := DecodeEvent([]byte(s.data), &want)
		if s.skimmed {
			want, wantErr = Event{Type: EventTextDelta}, nil
		}
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(ev, want) {
			t.Errorf("seed %d: got %+v (%v), want %+v (%v)", i, ev, err, want, wantErr)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	for _, c := range []struct{ name, data string }{
		{"delta", decodeSeeds[0]}, {"created", decodeSeeds[3]}, {"item_added", decodeSeeds[4]},
		{"part_added", decodeSeeds[5]}, {"text_done", decodeSeeds[6]}, {"completed", decodeSeeds[11]},
	} {
		data := []byte(c.data)
		b.Run(c.name, func(b *testing.B) {
			var ev Event
			b.ReportAllocs()
			for b.Loop() {
				if err := DecodeEvent(data, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("delta-skimmed", func(b *testing.B) {
		data := []byte(decodeSeeds[0])
		var ev Event
		b.ReportAllocs()
		for b.Loop() {
			if err := DecodeEventSkimming(data, &ev, skimDeltas); err != nil || ev.Type != EventTextDelta {
				b.Fatal(err)
			}
		}
	})
}

// FuzzDecodeContents checks that whatever ContentFields takes as an array, it decodes
// as encoding/json does.
func FuzzDecodeContents(f *testing.F) {
	for _, s := range []string{`[{"type":"input_text","text":"a \"b\""}]`, `[]`, `null`,
		`[{"type":"input_image","image_url":"data:image/png;base64,AA==","detail":"high"},{"type":"output_text","text":"x","annotations":[{"type":"url_citation"}]}]`,
		`[{"type":"input_text","Text":"x"}]`, `[null]`, `[{}] x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast []Content
		if !jsonscan.DecodeSlice(data, &fast, ContentFields) {
			return
		}
		var slow []Content
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("took what encoding/json refuses (%v): %q", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: decoded %#v, encoding/json %#v", data, fast, slow)
		}
	})
}
