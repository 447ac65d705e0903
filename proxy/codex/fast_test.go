package codex

import (
	"encoding/json"
	"errors"
	"testing"
)

var fastSeeds = []string{
	`{"type":"response.output_text.delta","sequence_number":12,"item_id":"msg_1","output_index":1,"content_index":0,"delta":"Hel"}`,
	`{"type":"response.reasoning_summary_text.delta","item_id":"rs","output_index":0,"summary_index":2,"delta":"a \"quoted\" \u00e9\n"}`,
	`{ "type" : "response.function_call_arguments.delta" , "output_index" : 3 , "delta" : "{\"city\":" , "obfuscation":"x"}`,
	`{"type":"response.output_text.delta","logprobs":[{"a":[1,2,{"b":"]"}]}],"delta":"","output_index":0}`,
	`{"type":"response.output_text.delta","output_index":1.5,"delta":"x"}`,
	`{"type":"response.created","response":{"id":"resp_1"}}`,
	`{"type":"response.output_text.delta","delta":"x"} trailing`,
	`{"delta":"no type"}`,
	`{"type":"response.output_text.delta","delta":"\ud83c\udf89 \\ \/"}`,
	`{"type":"response.output_text.delta","output_index":-1,"delta":"neg"}`,
}

// FuzzDecodeFast checks that whenever the fast path accepts an event it
// decodes it exactly as encoding/json does.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Event
		if !decodeFast(data, &fast) {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("fast path accepted invalid JSON %q", data)
		}
		// A type mismatch in a field the fast path skips (e.g. "item":0)
		// still leaves encoding/json's other fields filled in.
		var slow Event
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal(data, &slow); err != nil && !errors.As(err, &te) {
			t.Fatalf("encoding/json: %v for %q", err, data)
		}
		if fast.Type != slow.Type || fast.Delta != slow.Delta || fast.OutputIndex != slow.OutputIndex || fast.SummaryIndex != slow.SummaryIndex ||
			fast.ItemID != slow.ItemID || fast.ContentIndex != slow.ContentIndex || fast.SequenceNumber != slow.SequenceNumber {
			t.Fatalf("fast %+v != slow %+v for %q", fast, slow, data)
		}
	})
}

func TestDecodeFastSeeds(t *testing.T) {
	accepted := 0
	for _, s := range fastSeeds {
		var ev Event
		if decodeFast([]byte(s), &ev) {
			accepted++
		}
	}
	if accepted < 5 {
		t.Errorf("the fast path accepted only %d of the ordinary delta events", accepted)
	}
}
