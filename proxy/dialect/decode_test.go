package dialect

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// TestDecodeErrorsInOpenAIWords: a value of the wrong type names its
// field and both JSON kinds, without Go's type names.
func TestDecodeErrorsInOpenAIWords(t *testing.T) {
	type part struct {
		Text string `json:"text"`
	}
	type req struct {
		Temperature *float64 `json:"temperature"`
		Parts       []part   `json:"parts"`
		N           int      `json:"n"`
	}
	for _, c := range []struct{ body, param, msg, code string }{
		{`{"temperature":"hot"}`, "temperature", "Invalid type for 'temperature': expected a number, but got a string instead.", "invalid_type"},
		{`{"temperature":1e400}`, "temperature", "Invalid value for 'temperature': 1e400 is out of range for a number.", "invalid_value"},
		{`{"n":1.5}`, "n", "Invalid type for 'n': expected an integer, but got 1.5 instead.", "invalid_type"},
		{`{"n":99999999999999999999}`, "n", "Invalid value for 'n': 99999999999999999999 is out of range for an integer.", "invalid_value"},
		{`{"parts":[{"text":"a"}, {"text":true}]}`, "parts[1].text", "Invalid type for 'parts[1].text': expected a string, but got a boolean instead.", "invalid_type"},
		{`{"parts":[{"text":"a"},5]}`, "parts[1]", "Invalid type for 'parts[1]': expected an object, but got a number instead.", "invalid_type"},
		{`{"parts":[{"text":"a\"]},{"}, {"text":7}]}`, "parts[1].text", "Invalid type for 'parts[1].text': expected a string, but got a number instead.", "invalid_type"},
		{`{"parts":[{"text":"]["},{"text":{"x":[1]}}]}`, "parts[1].text", "Invalid type for 'parts[1].text': expected a string, but got an object instead.", "invalid_type"},
		{`[]`, "", "Invalid type for 'the request body': expected an object, but got an array instead.", "invalid_type"},
	} {
		var v req
		err := DecodeJSON(bytes.NewBufferString(c.body), &v, "a request") // has Bytes, as the server's body
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Message != c.msg || ae.Code == nil || *ae.Code != c.code || (c.param != "" && (ae.Param == nil || *ae.Param != c.param)) {
			t.Errorf("%s: %+v", c.body, err)
		}
		// The same under a parent field.
		err = DecodeField([]byte(c.body), &v, "input[3]")
		if !errors.As(err, &ae) || ae.Param == nil || (c.param != "" && *ae.Param != "input[3]."+c.param) {
			t.Errorf("%s under input[3]: %+v", c.body, err)
		}
	}
	if err := DecodeField([]byte(`{"temperature":0.5}`), new(req), "x"); err != nil {
		t.Fatal(err)
	}
	// An array decoded on its own (a message's content parts) keeps the
	// element's index.
	var parts []part
	err := DecodeField([]byte(`[{"text":"a"}, {"text":7}]`), &parts, "messages[0].content")
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Param == nil || *ae.Param != "messages[0].content[1].text" {
		t.Errorf("content parts: %+v, want param messages[0].content[1].text", err)
	}
}

// selfDecoded decodes itself, as chat's Tool does: encoding/json reports
// a type error inside it with an offset that counts from the value.
type selfDecoded struct {
	Strict *bool `json:"strict"`
}

func (s *selfDecoded) UnmarshalJSON(b []byte) error {
	type plain selfDecoded
	return json.Unmarshal(b, (*plain)(s))
}

// A type error inside a value that decodes itself is named with its index:
// the first value of the kind reported at that field, where encoding/json
// stopped.
func TestDecodeErrorsInsideSelfDecodedValues(t *testing.T) {
	type req struct {
		Tools []selfDecoded `json:"tools"`
	}
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	for body, param := range map[string]string{
		`{"tools":[{"strict":"x"}],"deep":` + deep + `}`:                                    "tools[0].strict", // the walk ends where it finds it
		`{"deep":` + deep + `,"tools":[{"strict":"x"}]}`:                                    "tools.strict",    // nesting deeper than the walk follows
		`{"tools":[{"strict":true}],"Tools":{}}`:                                            "tools",           // a key in other letters: not an element of tools
		`{"tools":[{"strict":true},{"strict":"yes"}]}`:                                      "tools[1].strict",
		`{"tools":[{"strict":null},{"strict":"a"},{"strict":"b"}]}`:                         "tools[1].strict",
		`{"x":{"tools":"strict"},"tools":[{"strict":false},{"strict":[1]},{"strict":"s"}]}`: "tools[1].strict",
		`{"tools":[{"str\u0069ct":"x"}]}`:                                                   "tools.strict", // not walked: as encoding/json names it
	} {
		err := DecodeJSON(bytes.NewBufferString(body), new(req), "a request")
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Param == nil || *ae.Param != param {
			t.Errorf("%s: %+v, want param %s", body, err, param)
		}
	}
}

func TestFunctionParameters(t *testing.T) {
	for _, raw := range []string{``, ` null `} {
		if got, err := FunctionParameters("p", []byte(raw)); err != nil || string(got) != `{"type":"object","properties":{}}` {
			t.Errorf("%q: %s %v", raw, got, err)
		}
	}
	if got, err := FunctionParameters("p", []byte(` {"type":"object"} `)); err != nil || string(got) != `{"type":"object"}` {
		t.Errorf("object: %s %v", got, err)
	}
	for raw, kind := range map[string]string{`"x"`: "a string", `[1]`: "an array", `7`: "a number", `true`: "a boolean"} {
		_, err := FunctionParameters("tools[0].parameters", []byte(raw))
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Message != "Invalid type for 'tools[0].parameters': expected an object, but got "+kind+" instead." {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestValueAt walks to the value under an offset.
func TestValueAt(t *testing.T) {
	b := []byte(` {"a":[1, {"b\u0031":"x\"]"}, [true]], "c" : null} `)
	for _, c := range []struct {
		at   string // the text whose first byte is the position
		path string
		ok   bool
	}{
		{`1,`, "a[0]", true},
		{`{"b`, "a[1]", true},
		{`"x`, `a[1].b1`, true},
		{`]"}`, `a[1].b1`, true},
		{`true`, "a[2][0]", true},
		{`null`, "c", true},
		{`, "c"`, "", false}, // between values
	} {
		pos := bytes.Index(b, []byte(c.at))
		path, _, ok := valueAt(b, pos)
		if path != c.path || ok != c.ok {
			t.Errorf("at %q: %q %v, want %q %v", c.at, path, ok, c.path, c.ok)
		}
	}
	if _, _, ok := valueAt(b, len(b)+5); ok {
		t.Error("a position past the text was found")
	}
}

// BenchmarkValueAt is the walk on an adversarial body: long keys and a
// long array before the error (it must stay linear in the body's size).
func BenchmarkValueAt(b *testing.B) {
	for _, size := range []int{1 << 17, 1 << 20} {
		body := []byte(`{"` + strings.Repeat("k", size/16) + `":[` + strings.Repeat("0,", size/2) + `0],"model":5}`)
		pos := bytes.LastIndexByte(body, '5')
		b.Run(strconv.Itoa(len(body)), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if path, _, ok := valueAt(body, pos); !ok || path != "model" {
					b.Fatal(path, ok)
				}
			}
		})
	}
}

// TestNullElement: a refusal under an array element that is null becomes
// the type error for the element, found by its path in either dialect's
// spelling; anything else is left alone.
func TestNullElement(t *testing.T) {
	raw := []byte(` {"a" : [ {"b":[1, null]}, null ], "c":{"d":[null]}, "e":[{"f":1}] } `)
	for _, c := range []struct{ param, want string }{
		{"a[1].role", "a[1]"},
		{"a.1.role", "a[1]"},            // Anthropic's spelling
		{"a[0].b[1].type", "a[0].b[1]"}, // the first null on the way
		{"c.d[0]", "c.d[0]"},
		{"e[0].f", ""}, // not null
		{"a[5].x", ""}, // no such element
		{"a", ""},      // no element at all
		{"x[0]", ""},
	} {
		in := apierr.InvalidRequest(c.param, "something about %s", c.param)
		err := NullElement(raw, in)
		var ae *apierr.Error
		if !errors.As(err, &ae) {
			t.Fatalf("%s: %v", c.param, err)
		}
		if c.want == "" {
			if ae != in {
				t.Errorf("%s: replaced by %v", c.param, ae)
			}
			continue
		}
		var m *Mismatch
		if *ae.Param != c.want || !errors.As(ae, &m) || m.Got != "null" || !strings.Contains(ae.Message, "expected an object, but got null") {
			t.Errorf("%s: %v (param %s), want the null at %s", c.param, ae, *ae.Param, c.want)
		}
	}
	// A key given twice, or in other letters, is not followed: encoding/json
	// takes the last one (or the other spelling), which may not be null.
	for _, c := range []struct {
		body  string
		named bool
	}{
		{`{"a":[null],"a":[{"b":1}]}`, false},
		{`{"A":[null]}`, false},
		{`{"a":[{}],"A":[null]}`, false},
		{`{"a":[null,{}]}`, true},
	} {
		in := apierr.InvalidRequest("a[0].role", "x")
		if named := NullElement([]byte(c.body), in) != error(in); named != c.named {
			t.Errorf("%s: null named %v, want %v", c.body, named, c.named)
		}
	}
	// Not a 400, no param, or no body: as it was.
	for _, err := range []error{apierr.Errorf(502, "upstream_error", "x").WithParam("a[1]"), apierr.Errorf(400, "invalid_request_error", "x")} {
		if got := NullElement(raw, err); got != err {
			t.Errorf("%v replaced by %v", err, got)
		}
	}
	if in := apierr.InvalidRequest("a[1]", "x"); NullElement(nil, in) != in {
		t.Error("no body: replaced")
	}
}

// TestWholeInt: an integer may be written with a zero fraction (1024.0);
// a fraction, a number out of range or another kind is the type error an
// int64 gets.
func TestWholeInt(t *testing.T) {
	type req struct {
		N *WholeInt `json:"n"`
		M WholeInt  `json:"m"`
	}
	for body, want := range map[string]int64{`{"n":1024}`: 1024, `{"n":1024.0}`: 1024, `{"n":1e3}`: 1000, `{"n":-0.0}`: 0, `{"n":-9223372036854775808}`: -1 << 63} {
		var v req
		if err := DecodeJSON(bytes.NewBufferString(body), &v, "a request"); err != nil || v.N == nil || int64(*v.N) != want {
			t.Errorf("%s: %v %v, want %d", body, v.N, err, want)
		}
	}
	v := req{M: 7}
	if err := DecodeJSON(bytes.NewBufferString(`{"n":null,"m":null}`), &v, "a request"); err != nil || v.N != nil || v.M != 7 {
		t.Errorf("null: %+v %v", v, err)
	}
	for body, msg := range map[string]string{
		`{"n":1024.5}`:                "Invalid type for 'n': expected an integer, but got 1024.5 instead.",
		`{"n":99999999999999999999}`:  "Invalid value for 'n': 99999999999999999999 is out of range for an integer.",
		`{"n":9223372036854775808.0}`: "Invalid type for 'n': expected an integer, but got 9223372036854775808.0 instead.",
		`{"n":"1024"}`:                "Invalid type for 'n': expected an integer, but got a string instead.",
		`{"m":true}`:                  "Invalid type for 'm': expected an integer, but got a boolean instead.",
	} {
		err := DecodeJSON(bytes.NewBufferString(body), new(req), "a request")
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Message != msg {
			t.Errorf("%s: %v, want %q", body, err, msg)
		}
	}
}

// TestTexts tells a required text left out, or null, from one sent
// empty, and reads an array of many parts in one walk.
func TestTexts(t *testing.T) {
	raw := []byte(` [ {"type":"text"}, {"type":"text","text":null}, {"type":"text","text":""}, {"type":"text","Text":""}, {"text":1,"TEXT":null}, 5 ] `)
	texts := NewTexts(raw, "")
	for _, c := range []struct {
		i               int
		omitted, isNull bool
	}{
		{0, true, false},
		{1, false, true},
		{2, false, false},
		{3, false, false}, // sent, in other letters
		{4, false, false}, // twice: encoding/json's choice
		{5, false, false}, // not an object
		{9, false, false}, // no such element
	} {
		if omitted, isNull := texts.Missing(c.i); omitted != c.omitted || isNull != c.isNull {
			t.Errorf("part %d: omitted %v null %v, want %v %v", c.i, omitted, isNull, c.omitted, c.isNull)
		}
	}
	item := []byte(`{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"x"},{"type":"input_text"}]}`)
	if omitted, _ := NewTexts(item, "output").Missing(1); !omitted {
		t.Error("a tool output's part: not omitted")
	}
	// An element that cannot be read (an escaped key) stops the walk: the
	// parts before it are still answered, those from it on taken as sent.
	unreadable := NewTexts([]byte(`[{"type":"text"},{"type":"image","d\u0061ta":"x"},{"type":"text"}]`), "")
	if omitted, _ := unreadable.Missing(0); !omitted {
		t.Error("a part before an unreadable one: not omitted")
	}
	if omitted, _ := unreadable.Missing(2); omitted {
		t.Error("a part after an unreadable one was answered")
	}
	if omitted, _ := NewTexts([]byte(`[{"type":"text"},`), "").Missing(0); !omitted {
		t.Error("a part read before the array broke off: not omitted")
	}
	// Thousands of parts with empty texts: every question after the first
	// is a lookup (this took seconds when each walked the array again).
	many := []byte("[" + strings.Repeat(`{"type":"text","text":""},`, 20000) + `{"type":"text"}]`)
	texts = NewTexts(many, "")
	allocs := testing.AllocsPerRun(1, func() {
		for i := 0; i < 20000; i++ {
			if err := texts.Required(i, "p"); err != nil {
				t.Fatal(err)
			}
		}
	})
	if err := texts.Required(20000, "messages[0].content[20000].text"); err == nil || !strings.Contains(err.Error(), "Missing required parameter: 'messages[0].content[20000].text'.") {
		t.Errorf("the last part: %v", err)
	}
	if allocs > 0 {
		t.Errorf("%v allocations for 20,000 lookups after the walk", allocs)
	}
}

// TestRanges words a number out of range as OpenAI does.
func TestRanges(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int64) *int64 { return &v }
	for _, c := range []struct {
		err       error
		msg, code string
	}{
		{DecimalRange("temperature", f(5), 0, 2), "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 instead.", "decimal_above_max_value"},
		{DecimalRange("temperature", f(-1), 0, 2), "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 instead.", "decimal_below_min_value"},
		{DecimalRange("top_p", f(1.5), 0, 1), "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.", "decimal_above_max_value"},
		{DecimalRange("top_p", f(1e300), 0, 1), "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1e+300 instead.", "decimal_above_max_value"},
		{IntegerMin("max_tokens", f(-1), 1), "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -1 instead.", "integer_below_min_value"},
		{IntegerMin("max_output_tokens", n(5), 16), "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead.", "integer_below_min_value"},
	} {
		var ae *apierr.Error
		if !errors.As(c.err, &ae) || ae.Message != c.msg || *ae.Code != c.code || ae.Status != 400 {
			t.Errorf("%v, want %q (%s)", c.err, c.msg, c.code)
		}
	}
	for _, err := range []error{DecimalRange("t", nil, 0, 2), DecimalRange("t", f(2), 0, 2), DecimalRange("t", f(0), 0, 2), IntegerMin[int64]("m", nil, 16), IntegerMin("m", n(16), 16)} {
		if err != nil {
			t.Errorf("in range: %v", err)
		}
	}
}
