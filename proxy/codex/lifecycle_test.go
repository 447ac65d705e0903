package codex

import (
	"encoding/json"
	"errors"
	"testing"
)

var lifecycleSeeds = []string{
	`{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1764000000,"status":"in_progress","model":"gpt-5.5","instructions":"You are Codex.\n\"quoted\"","output":[],"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"usage":null,"error":null}}`,
	`{"type":"response.in_progress","response":{"id":"resp_2","created_at":5,"status":"in_progress"},"sequence_number":1}`,
	`{"type":"response.created","response":{"ID":"x","id":"y"}}`,
	`{"type":"response.created","response":null}`,
	`{"type":"response.created","Response":{"id":"z"}}`,
	`{"type":"response.created","response":{"id":"a\u00e9"}}`,
	`{"type":"response.completed","response":{"id":"c"}}`,
}

// FuzzDecodeLifecycle checks that whenever the lifecycle fast path
// accepts an event it decodes the fields it claims exactly as
// encoding/json does.
func FuzzDecodeLifecycle(f *testing.F) {
	for _, s := range lifecycleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Event
		if !decodeLifecycle(data, &fast) {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("fast path accepted invalid JSON %q", data)
		}
		var slow Event
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal(data, &slow); err != nil && !errors.As(err, &te) {
			t.Fatalf("encoding/json: %v for %q", err, data)
		}
		if slow.Response == nil || fast.Type != slow.Type || fast.SequenceNumber != slow.SequenceNumber ||
			fast.Response.ID != slow.Response.ID || fast.Response.CreatedAt != slow.Response.CreatedAt ||
			fast.Response.Model != slow.Response.Model || fast.Response.Status != slow.Response.Status {
			t.Fatalf("fast %+v %+v != slow %+v %+v for %q", fast, fast.Response, slow, slow.Response, data)
		}
	})
}

func TestDecodeLifecycleSeeds(t *testing.T) {
	var ev Event
	if err := DecodeEvent([]byte(lifecycleSeeds[0]), &ev); err != nil || ev.Type != EventCreated || ev.Response == nil ||
		ev.Response.ID != "resp_1" || ev.Response.CreatedAt != 1764000000 || ev.Response.Model != "gpt-5.5" {
		t.Fatalf("%v %+v", err, ev)
	}
	accepted := map[int]bool{}
	for i, s := range lifecycleSeeds {
		var e Event
		accepted[i] = decodeLifecycle([]byte(s), &e)
	}
	if !accepted[0] || !accepted[1] || accepted[2] || accepted[3] || accepted[4] || accepted[6] {
		t.Errorf("accepted %v", accepted)
	}
}

func BenchmarkDecodeCreated(b *testing.B) {
	data := []byte(lifecycleSeeds[0])
	var ev Event
	b.ReportAllocs()
	for b.Loop() {
		_ = DecodeEvent(data, &ev)
	}
}
