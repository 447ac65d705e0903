package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// plainResponse is Response without its MarshalJSON method: encoding/json
// writes it by reflection, as it wrote Response before the hand-written
// encoder.
type plainResponse Response

// referenceJSON is what encoding/json writes for r, without HTML escaping
// (the one difference the hand-written encoder is allowed).
func referenceJSON(r *Response) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*plainResponse)(r)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkResponseJSON compares AppendJSON with encoding/json, and json.Marshal
// (through MarshalJSON) with encoding/json's HTML-escaped output.
func checkResponseJSON(t *testing.T, name string, r *Response) {
	t.Helper()
	want, err := referenceJSON(r)
	if err != nil {
		t.Fatalf("%s: encoding/json: %v", name, err)
	}
	got, err := r.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatalf("%s: AppendJSON: %v", name, err)
	}
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%s: AppendJSON differs from encoding/json\n got: %q\nwant: %q", name, got, want)
	}
	wantEscaped, err := json.Marshal((*plainResponse)(r))
	if err != nil {
		t.Fatalf("%s: json.Marshal: %v", name, err)
	}
	gotEscaped, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("%s: json.Marshal through MarshalJSON: %v", name, err)
	}
	if !bytes.Equal(gotEscaped, wantEscaped) {
		t.Fatalf("%s: json.Marshal through MarshalJSON differs\n got: %q\nwant: %q", name, gotEscaped, wantEscaped)
	}
}

func ptr[T any](v T) *T { return &v }

func TestResponseJSONZero(t *testing.T) {
	checkResponseJSON(t, "zero", &Response{})
	// Empty, non-nil collections are [] and {}, not null.
	checkResponseJSON(t, "empty", &Response{Output: []json.RawMessage{}, Tools: []json.RawMessage{}, Metadata: map[string]string{}})
	checkResponseJSON(t, "nil elements", &Response{Output: []json.RawMessage{nil}, Tools: []json.RawMessage{nil, json.RawMessage(`1`)}})
}

func TestResponseJSONFull(t *testing.T) {
	r := &Response{
		ID: "resp_1", Object: "response", CreatedAt: 1700000000, Status: "completed", Background: true,
		Error:              &ResponseError{Code: "server_error", Message: `"boom" <b> & \ done`},
		IncompleteDetails:  &codex.IncompleteDetails{Reason: "max_output_tokens"},
		Instructions:       ptr("be brief\n\t<tag>\u2028"),
		MaxOutputTokens:    ptr(int64(4096)),
		Model:              "gpt-5.5",
		Output:             []json.RawMessage{json.RawMessage(`{"type":"message","content":[{"type":"output_text","text":"a<b>&\u2028 \"q\""}]}`), json.RawMessage(`{"type":"reasoning","summary":[]}`)},
		ParallelToolCalls:  true,
		PreviousResponseID: ptr("resp_0"),
		Reasoning:          ReasoningEcho{Effort: ptr("high"), Summary: ptr("auto")},
		ServiceTier:        "priority",
		Store:              true,
		Temperature:        ptr(0.7),
		Text: TextEcho{Format: codex.TextFormat{Type: "json_schema", Name: "answer", Description: "the <answer>",
			Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: ptr(false)}, Verbosity: "low"},
		ToolChoice: json.RawMessage(`{"type":"function","name":"f"}`),
		Tools:      []json.RawMessage{json.RawMessage(`{"type":"function","name":"f","parameters":{"type":"object"}}`), json.RawMessage(`{"type":"web_search"}`)},
		TopP:       ptr(1.0),
		Truncation: "auto",
		Usage: &codex.Usage{InputTokens: 10, InputTokensDetails: codex.InputDetails{CachedTokens: 4},
			OutputTokens: 20, OutputTokensDetails: codex.OutputDetails{ReasoningTokens: 7}, TotalTokens: 30},
		User:     ptr("user-1"),
		Metadata: map[string]string{"zeta": "1", "alpha": "2", "mid": "<&>", "Alpha": "3", "": "empty", "é": "4"},
	}
	checkResponseJSON(t, "full", r)
	r.Error = &ResponseError{Code: "usage_limit_reached", Message: "limit", PlanType: "plus", ResetsAt: 1700003600, ResetsInSeconds: 3600}
	checkResponseJSON(t, "usage limit", r)
	r.Error.ResetsInSeconds = 0 // the reset is now
	checkResponseJSON(t, "usage limit resetting", r)
	for _, f := range []float64{0, math.Copysign(0, -1), 0.7, 1, 1e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e300, 123456789,
		-2.5, 1e-300, 5e-324, math.MaxFloat64, 0.1 + 0.2, 1e-10, 12345678912345678} {
		r.Temperature, r.TopP = ptr(f), ptr(-f)
		checkResponseJSON(t, fmt.Sprint(f), r)
	}
}

func TestResponseJSONErrors(t *testing.T) {
	for name, r := range map[string]*Response{
		"NaN":            {Temperature: ptr(math.NaN())},
		"infinity":       {TopP: ptr(math.Inf(-1))},
		"empty raw":      {ToolChoice: json.RawMessage{}},
		"empty raw item": {Output: []json.RawMessage{{}}},
		"empty raw tool": {Tools: []json.RawMessage{json.RawMessage(`{}`), {}}},
		"empty schema":   {Text: TextEcho{Format: codex.TextFormat{Schema: json.RawMessage{}}}}, // omitted
	} {
		_, refErr := referenceJSON(r)
		out, err := r.AppendJSON([]byte("x"))
		if (err != nil) != (refErr != nil) || string(out) != "x" && err != nil {
			t.Errorf("%s: AppendJSON = %q, %v; encoding/json: %v", name, out, err, refErr)
		}
	}
}

// TestResponseJSONRandom compares the encoder with encoding/json on
// responses with every field (found by reflection, so a field added later
// is covered too) randomly set or left empty.
func TestResponseJSONRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		var r Response
		fillRandom(t, rng, reflect.ValueOf(&r).Elem())
		checkResponseJSON(t, fmt.Sprintf("case %d", i), &r)
	}
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// fillRandom sets v, and what it holds, to random values. Raw JSON values
// are compact and valid, as the encoder requires.
func fillRandom(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	if v.Type() == rawMessageType {
		if rng.IntN(4) > 0 {
			v.SetBytes([]byte(randomJSON(rng, 0, false)))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randomString(rng))
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) - 1<<39)
	case reflect.Float64:
		v.SetFloat(randomFloat(rng))
	case reflect.Pointer:
		if rng.IntN(3) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fillRandom(t, rng, v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() { // not AppendJSON's own cache
				fillRandom(t, rng, v.Field(i))
			}
		}
	case reflect.Slice:
		fillSlice(t, rng, v)
	case reflect.Map:
		fillMap(t, rng, v)
	default:
		t.Fatalf("fillRandom: no values for %s", v.Type())
	}
}

func fillSlice(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	if rng.IntN(4) == 0 {
		return // nil
	}
	n := rng.IntN(4)
	s := reflect.MakeSlice(v.Type(), n, n)
	for i := range n {
		fillRandom(t, rng, s.Index(i))
	}
	v.Set(s)
}

func fillMap(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	if rng.IntN(4) == 0 {
		return // nil
	}
	m := reflect.MakeMap(v.Type())
	for range rng.IntN(8) {
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		fillRandom(t, rng, k)
		fillRandom(t, rng, e)
		m.SetMapIndex(k, e)
	}
	v.Set(m)
}

// stringPieces are what random strings are made of: everything the string
// escaping treats specially, and runs of plain text for its fast path.
var stringPieces = []string{"a", "plain text ", "0123456789abcdef", "<", ">", "&", `"`, `\`, "/", "\x00", "\x01", "\x1f", "\b", "\f",
	"\n", "\r", "\t", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x80", "\xed\xa0\x80", "é", "日本", "\U0001F600", "\ufffd", "</script>"}

func randomString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteString(stringPieces[rng.IntN(len(stringPieces))])
	}
	return b.String()
}

var interestingFloats = []float64{0, math.Copysign(0, -1), 0.7, 1, -1, 1e-7, 1e-6, 9.999999e-7, 1e21, 9.99e20, 123456789,
	1e100, 5e-324, math.MaxFloat64, -math.SmallestNonzeroFloat64, 0.1, 2.5e-8}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(3) {
	case 0:
		return interestingFloats[rng.IntN(len(interestingFloats))]
	case 1:
		return (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(60)-30))
	}
	for {
		f := math.Float64frombits(rng.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

// rawStringPieces make the insides of random JSON strings: escapes, white
// space, and bytes encoding/json copies as they are in raw values
// (U+2028, invalid UTF-8, <, > and &).
var rawStringPieces = []string{"a", " ", "  x ", "<", ">", "&", `\"`, `\\`, `\/`, `\n`, `\t`, `\u00e9`, `\ud83d\ude00`,
	"\u2028", "\xff", "é", "{", "}", "[", "]", ",", ":", `\\\"`}

// randomJSON returns a random valid JSON value; with spaced, white space
// is put between its tokens.
func randomJSON(rng *rand.Rand, depth int, spaced bool) string {
	var b strings.Builder
	writeRandomJSON(&b, rng, depth, spaced)
	return b.String()
}

func writeRandomJSON(b *strings.Builder, rng *rand.Rand, depth int, spaced bool) {
	space := func() {
		if spaced && rng.IntN(2) == 0 {
			for range 1 + rng.IntN(3) {
				b.WriteByte(" \t\n\r"[rng.IntN(4)])
			}
		}
	}
	kind := rng.IntN(7)
	if depth > 3 {
		kind %= 5
	}
	switch kind {
	case 0:
		b.WriteString([]string{"null", "true", "false"}[rng.IntN(3)])
	case 1:
		b.WriteString([]string{"0", "-1", "1.5e-7", "12345678901234567890", "1E+2", "-0.25"}[rng.IntN(6)])
	case 2, 3, 4:
		writeRandomJSONString(b, rng)
	case 5:
		b.WriteByte('[')
		for i := range rng.IntN(4) {
			if i > 0 {
				space()
				b.WriteByte(',')
			}
			space()
			writeRandomJSON(b, rng, depth+1, spaced)
			space()
		}
		b.WriteByte(']')
	case 6:
		b.WriteByte('{')
		for i := range rng.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			space()
			writeRandomJSONString(b, rng)
			space()
			b.WriteByte(':')
			space()
			writeRandomJSON(b, rng, depth+1, spaced)
			space()
		}
		b.WriteByte('}')
	}
}

func writeRandomJSONString(b *strings.Builder, rng *rand.Rand) {
	b.WriteByte('"')
	for range rng.IntN(6) {
		b.WriteString(rawStringPieces[rng.IntN(len(rawStringPieces))])
	}
	b.WriteByte('"')
}

func TestCompacted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []string{``, `1`, ` 1 `, `"a\\" `, `["\\\"" , "x"]`, `{"a" : "b\" c" }`, "[\n\t1,\r\n2]", `" "`}
	for range 2000 {
		cases = append(cases, randomJSON(rng, 0, rng.IntN(2) == 0))
	}
	for _, c := range cases {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(c)); err != nil && c != "" {
			t.Fatalf("%q: %v", c, err)
		}
		if got := compacted(json.RawMessage(c)); string(got) != want.String() {
			t.Fatalf("compacted(%q) = %q, want %q", c, got, want.String())
		}
		if got := appendCompact([]byte("p"), []byte(c)); string(got) != "p"+want.String() {
			t.Fatalf("appendCompact(%q) = %q, want %q", c, got, want.String())
		}
	}
	// Compact input is returned as it is, not copied.
	in := json.RawMessage(`{"a":[1,"b c"]}`)
	if got := compacted(in); &got[0] != &in[0] {
		t.Error("a compact value was copied")
	}
	tools := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{ "b": 2 }`)}
	got := compactedAll(tools)
	if string(got[1]) != `{"b":2}` || string(tools[1]) != `{ "b": 2 }` || &got[0][0] != &tools[0][0] {
		t.Errorf("compactedAll = %q (input now %q)", got, tools)
	}
	if got := compactedAll(tools[:1]); &got[0] != &tools[0] {
		t.Error("compactedAll copied compact values")
	}
}

// TestEncoderLifecycleCompact checks that the lifecycle events carry the
// request's tools and the backend's items compacted, and that the stored
// response object is the completed event's.
func TestEncoderLifecycleCompact(t *testing.T) {
	plan, err := translate(t, `{"model":"m","input":"hi","tools":[ {"type": "function", "name": "f", "parameters": {"type": "object"}, "description": "a <b> & \"c\""} ],
		"tool_choice": {"type": "function", "name": "f"}, "metadata": {"b": "1", "a": "2"}, "temperature": 1e-7,
		"text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object", "properties": {}}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	store := NewStore(time.Hour, 1<<20, 10, fixedNow)
	e := NewEncoder(plan, "resp_x", fixedNow, func(r *Response, conv []codex.Item, ids []string) {
		store.Put("k", r, conv, ids)
		stored, _ = store.Response("k", r.ID)
	})
	out, _, _ := feed(e, nil, []byte(evCreated))
	out, _, _ = feed(e, out, []byte(`{"type":"response.in_progress","response":{"id":"resp_up"}}`))
	out, _, _ = feed(e, out, []byte(`{"type": "response.output_item.done", "output_index": 0, "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": [ {"type": "output_text", "text": "x < y", "annotations": [ ]} ]}}`))
	out, _, _ = feed(e, out, []byte(evDoneAll))
	frames := strings.Split(strings.TrimSpace(string(out)), "\n\n")
	if len(frames) != 4 {
		t.Fatalf("%d frames:\n%s", len(frames), out)
	}
	for i, f := range frames {
		_, data, _ := strings.Cut(f, "\ndata: ")
		if !json.Valid([]byte(data)) {
			t.Fatalf("frame %d is not valid JSON: %s", i, data)
		}
		if i == 2 {
			continue // the backend's event, relayed as it came
		}
		var m struct{ Response *Response }
		_ = json.Unmarshal([]byte(data), &m)
		var want bytes.Buffer
		_ = json.Compact(&want, []byte(data))
		if want.String() != data || m.Response == nil || m.Response.ID != "resp_x" {
			t.Errorf("frame %d is not compact or has no response: %s", i, data)
		}
		for _, s := range []string{`"tools":[{"type":"function","name":"f","parameters":{"type":"object"},"description":"a <b> & \"c\""}]`,
			`"tool_choice":{"type":"function","name":"f"}`, `"metadata":{"a":"2","b":"1"}`, `"temperature":1e-7`,
			`"format":{"type":"json_schema","name":"s","schema":{"type":"object","properties":{}}}`} {
			if !strings.Contains(data, s) {
				t.Errorf("frame %d lacks %s: %s", i, s, data)
			}
		}
	}
	if !strings.Contains(frames[3], `"output":[{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"x < y","annotations":[]}]}]`) {
		t.Errorf("completed frame: %s", frames[3])
	}
	if _, data, _ := strings.Cut(frames[3], "\ndata: "); !strings.Contains(data, `"response":`+string(stored)+"}") {
		t.Errorf("stored response differs from the completed event's:\n%s\n%s", stored, data)
	}
}

// benchResponse is a response.created object echoing about 20 KB of tools,
// as a coding agent sends them.
func benchResponse(b *testing.B) *Response {
	b.Helper()
	var tools []json.RawMessage
	size := 0
	for i := 0; size < 20<<10; i++ {
		props := map[string]any{}
		for j := range 6 {
			props[fmt.Sprintf("param_%d", j)] = map[string]any{"type": "string", "description": strings.Repeat("What this parameter is for, with <details> & examples. ", 2)}
		}
		tool := map[string]any{"type": "function", "name": fmt.Sprintf("tool_%d", i), "strict": false,
			"description": strings.Repeat("Runs a command in the workspace and returns its output. ", 6),
			"parameters":  map[string]any{"type": "object", "properties": props, "required": []string{"param_0"}, "additionalProperties": false}}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as agents send them
		if err := enc.Encode(tool); err != nil {
			b.Fatal(err)
		}
		raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		tools = append(tools, raw)
		size += len(raw)
	}
	var req Request
	body, _ := json.Marshal(map[string]any{"model": "gpt-5.5", "input": "hi", "tools": tools, "reasoning": map[string]any{"effort": "high"}, "temperature": 0.7})
	if err := json.Unmarshal(body, &req); err != nil {
		b.Fatal(err)
	}
	r := echo(&req, &codex.Request{})
	r.ID, r.CreatedAt, r.Status, r.Output = "resp_0123456789abcdef0123456789abcdef0123456789abcdef", 1700000000, "in_progress", []json.RawMessage{}
	return &r
}

func BenchmarkResponseJSON(b *testing.B) {
	r := benchResponse(b)
	want, _ := json.Marshal((*plainResponse)(r))
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			if _, err := json.Marshal((*plainResponse)(r)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalJSON-via-json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(want)))
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = r.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEchoCompact measures the once-per-request compaction of the
// tools (here with the white space of Python's json.dumps) against
// json.Compact.
func BenchmarkEchoCompact(b *testing.B) {
	r := benchResponse(b)
	var spaced []json.RawMessage
	n := 0
	for _, t := range r.Tools {
		var buf bytes.Buffer
		_ = json.Indent(&buf, t, "", "")
		s := bytes.ReplaceAll(buf.Bytes(), []byte("\n"), []byte(" "))
		spaced = append(spaced, s)
		n += len(s)
	}
	b.Run("json.Compact", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, t := range spaced {
				var buf bytes.Buffer
				buf.Grow(len(t))
				_ = json.Compact(&buf, t)
			}
		}
	})
	b.Run("compactedAll", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(n))
		for b.Loop() {
			_ = compactedAll(spaced)
		}
	})
	b.Run("compactedAll-compact", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(n))
		for b.Loop() {
			_ = compactedAll(r.Tools)
		}
	})
}

// The template's instructions are escaped once, by echo, and every copy of
// it writes them from there; a copy given other instructions writes those.
func TestResponseJSONInstructionsKept(t *testing.T) {
	a, b := "first \"one\"", "second"
	tmpl := echo(&Request{Model: "m", Instructions: &a}, &codex.Request{})
	if string(tmpl.instructions.json) != `"first \"one\""` {
		t.Fatalf("echo kept %q", tmpl.instructions.json)
	}
	tmpl.instructions.json = []byte(`"from the template"`) // to see where the bytes come from
	var wg sync.WaitGroup
	for range 4 { // copies written at once (-race)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := tmpl
			out, err := r.AppendJSON(nil)
			if err != nil || !strings.Contains(string(out), `"instructions":"from the template"`) {
				t.Errorf("got %s (%v), want the template's instructions", out, err)
			}
		}()
	}
	wg.Wait()
	r := tmpl
	r.Instructions = &b
	if out, _ := r.AppendJSON(nil); !strings.Contains(string(out), `"instructions":"second"`) {
		t.Fatalf("other instructions not written: %s", out)
	}
	r.Instructions = nil
	if out, _ := r.AppendJSON(nil); !strings.Contains(string(out), `"instructions":null`) {
		t.Fatalf("no instructions not written as null: %s", out)
	}
}
