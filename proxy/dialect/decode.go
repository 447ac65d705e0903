package dialect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// ErrTooLarge is returned by DecodeJSON for a body over the size limit; the
// caller answers 413 in its own shape (the server's names the limit).
var ErrTooLarge = apierr.Errorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "The request body is too large (limit: CHATGPT_BODY_LIMIT).").WithCode("request_too_large")

// DecodeJSON decodes the request body into v. what names the expected
// request in the message for an empty body ("a JSON chat completion
// request"). Errors are *apierr.Error.
//
// A body the server has read already (one with a Bytes method, as the
// server's UTF-8 check leaves it: Bytes must return the whole body, none
// of it read yet) is decoded from its bytes: no second copy, and the
// whole body must be one JSON value.
func DecodeJSON(body io.Reader, v any, what string) error {
	_, err := DecodeJSONRaw(body, v, what)
	return err
}

// DecodeJSONRaw is DecodeJSON that also returns the body's bytes when the
// server had read them (nil otherwise), for NullElement.
func DecodeJSONRaw(body io.Reader, v any, what string) ([]byte, error) {
	b, ok := body.(interface{ Bytes() []byte })
	if !ok {
		return nil, decodeError(json.NewDecoder(body).Decode(v), nil, what)
	}
	raw := b.Bytes()
	return raw, decodeBytes(raw, v, what)
}

// DecodeBody is DecodeJSON for the dialects' requests, with f, a reader
// without reflection, tried first on a body the server has read: a request
// is decoded once per request, on the path to the first byte, where
// encoding/json's code runs cold (four times its time in a benchmark).
// Whatever f declines, encoding/json decodes, for its result or its error.
// It returns the body's bytes when the server had read them (nil
// otherwise), for NullElement to look at should the request be refused.
func DecodeBody[T any](body io.Reader, v *T, f *jsonscan.Fields[T], what string) ([]byte, error) {
	b, ok := body.(interface{ Bytes() []byte })
	if !ok {
		return nil, DecodeJSON(body, v, what)
	}
	raw := b.Bytes()
	if f.Decode(raw, v) {
		return raw, nil
	}
	var zero T
	*v = zero
	return raw, decodeBytes(raw, v, what)
}

// decodeBytes decodes raw, a whole body, into v.
func decodeBytes(raw []byte, v any, what string) error {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return decodeError(io.EOF, raw, what)
	case string(t) == "null":
		// encoding/json takes null for an object and leaves it empty:
		// the client would hear about a missing model instead.
		return (&Mismatch{Want: "an object", Got: "null"}).Error400()
	}
	return decodeError(json.Unmarshal(raw, v), raw, what)
}

// decodeError turns an error of encoding/json decoding the body raw (nil
// when it was read as a stream) into the client's 400 or 413.
func decodeError(err error, raw []byte, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return apierr.InvalidRequest("", "the request body is empty; send %s", what).WithCode("invalid_json")
	}
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	if errors.As(err, &mbe) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
		return ErrTooLarge
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return typeError("", raw, ute)
	}
	return apierr.InvalidRequest("", "the request body is not valid JSON: %v", err).WithCode("invalid_json")
}

// DecodeField decodes raw, a part of a body that was decoded as a whole
// (so valid JSON), into v. A value of the wrong type is a 400 on the field
// under param ("input[2]" and field "phase": 'input[2].phase'), in OpenAI's
// words and without Go's type names.
func DecodeField(raw []byte, v any, param string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return typeError(param, raw, ute)
	}
	return apierr.InvalidRequest(param, "Invalid value for '%s': %v", param, err).WithCode("invalid_value")
}

// DecodeFieldWith is DecodeField with f, a reader without reflection,
// tried first (see DecodeBody).
func DecodeFieldWith[T any](raw []byte, v *T, f *jsonscan.Fields[T], param string) error {
	if f.Decode(raw, v) {
		return nil
	}
	var zero T
	*v = zero
	return DecodeField(raw, v, param)
}

// DecodeSliceWith is DecodeField for an array of T's objects, with f tried
// first (see DecodeBody).
func DecodeSliceWith[T any](raw []byte, dst *[]T, f *jsonscan.Fields[T], param string) error {
	if jsonscan.DecodeSlice(raw, dst, f) {
		return nil
	}
	*dst = nil
	return DecodeField(raw, dst, param)
}

// TextFormatFields reads a structured-output format (text.format) without
// reflection, for the dialects' request readers.
var TextFormatFields = jsonscan.NewFields(
	jsonscan.Key("type", func(p *jsonscan.Scanner, v *codex.TextFormat) bool { return p.String(&v.Type) }),
	jsonscan.Key("name", func(p *jsonscan.Scanner, v *codex.TextFormat) bool { return p.String(&v.Name) }),
	jsonscan.Key("description", func(p *jsonscan.Scanner, v *codex.TextFormat) bool { return p.String(&v.Description) }),
	jsonscan.Key("schema", func(p *jsonscan.Scanner, v *codex.TextFormat) bool { return p.Raw(&v.Schema) }),
	jsonscan.Key("strict", func(p *jsonscan.Scanner, v *codex.TextFormat) bool { return p.BoolPtr(&v.Strict) }),
)

// typeError is the 400 for a value of the wrong JSON type at field ute.Field
// under param. raw, the JSON decoded (nil when unknown), gives the field's
// array indices, which ute.Field leaves out ("messages[2].role", not
// "messages.role").
func typeError(param string, raw []byte, ute *json.UnmarshalTypeError) *apierr.Error {
	field := ute.Field
	got, num, _ := strings.Cut(ute.Value, " ") // "number 1e400": a number that does not fit
	if raw != nil && ute.Offset > 0 {
		// The offset is the body's unless a type's own UnmarshalJSON
		// reported it (then it counts from that value): the path is used
		// only when it names the same field and a value of the kind
		// reported.
		full, first, ok := valueAt(raw, int(ute.Offset)-1)
		switch {
		case ok && sameField(full, field) && kindOf(first) == got:
			field = full
		case ok && strings.EqualFold(strings.TrimPrefix(withoutIndices(full), "."), field):
			// A key in other letters ("Messages"): named as encoding/json
			// names it.
		default:
			// A nested UnmarshalJSON's offset (chat's tools): every value
			// at the field of the kind reported fails, and encoding/json
			// reports the first.
			if full, ok := firstPath(raw, field, got); ok {
				field = full
			}
		}
	}
	p := param
	if field != "" {
		if p != "" && field[0] != '[' {
			p += "."
		}
		p += field
	}
	m := &Mismatch{Path: p, Want: jsonKind(ute.Type), Got: article(got)}
	if got == "number" && num != "" {
		// A number of the right kind that does not fit, or a fraction
		// (or an exponent) for an integer.
		m.Got = num
		m.OutOfRange = m.Want != "an integer" || !strings.ContainsAny(num, ".eE")
	}
	return m.Error400()
}

// Mismatch is a value of the wrong JSON type, or a number out of range, in
// a request body: the facts behind typeError's 400 in OpenAI's words, for
// a dialect that words them as its own API does (Anthropic's). It is the
// Cause of that *apierr.Error.
type Mismatch struct {
	// Path names the value as OpenAI does ("messages[0].content"); empty
	// for the body itself.
	Path string
	// Want is the kind expected, with its article: "an integer", "a
	// string", "a boolean", "a number", "an array", "an object".
	Want string
	// Got is the kind sent ("a string", "null", ...) or, for a number,
	// the number as sent ("1.5", "1e400").
	Got string
	// OutOfRange: Got is a number of the right kind that does not fit.
	OutOfRange bool
}

func (m *Mismatch) Error() string { return fmt.Sprintf("%s: want %s, got %s", m.Path, m.Want, m.Got) }

// Error400 is m as the client's 400, in OpenAI's words, with m as its Cause.
func (m *Mismatch) Error400() *apierr.Error {
	name := m.Path
	if name == "" {
		name = "the request body"
	}
	var e *apierr.Error
	switch {
	case m.OutOfRange && m.Want == "an integer":
		e = apierr.InvalidRequest(m.Path, "Invalid value for '%s': %s is out of range for an integer.", name, m.Got).WithCode("invalid_value")
	case m.OutOfRange:
		e = apierr.InvalidRequest(m.Path, "Invalid value for '%s': %s is out of range for a number.", name, m.Got).WithCode("invalid_value")
	default:
		e = apierr.InvalidRequest(m.Path, "Invalid type for '%s': expected %s, but got %s instead.", name, m.Want, m.Got).WithCode("invalid_type")
	}
	e.Cause = m
	return e
}

// NullElement turns err, a 400 about a value at or under an array element
// ("messages[1].role", or Anthropic's "messages.1.role"), into the type
// error for that element when the request body raw holds null there: a
// null where an object belongs decodes as an empty object, whose missing
// fields would be reported instead ("messages[1] has no role"), where
// OpenAI's and Anthropic's APIs name the null. Other errors are returned
// as they are. It costs nothing until a request is refused.
func NullElement(raw []byte, err error) error {
	var ae *apierr.Error
	if raw == nil || !errors.As(err, &ae) || ae.Param == nil || ae.Status != http.StatusBadRequest {
		return err
	}
	path := bracketed(*ae.Param)
	for i := 0; i < len(path); i++ {
		if path[i] != ']' {
			continue
		}
		if at := path[:i+1]; firstByteAt(raw, at) == 'n' {
			return (&Mismatch{Path: at, Want: "an object", Got: "null"}).Error400()
		}
	}
	return err
}

// bracketed writes a dotted path's numeric segments as indices:
// "messages.1.content.0.type" is "messages[1].content[0].type".
func bracketed(p string) string {
	segs := strings.Split(p, ".")
	var b strings.Builder
	for i, s := range segs {
		switch _, err := strconv.Atoi(s); {
		case err == nil && i > 0:
			b.WriteString("[" + s + "]")
		case i > 0:
			b.WriteString("." + s)
		default:
			b.WriteString(s)
		}
	}
	return b.String()
}

// firstByteAt returns the first byte of the value at path in raw
// ("messages[1].content[0]": keys and indices), or 0 when valueAt finds
// none there.
func firstByteAt(raw []byte, path string) byte {
	if v := valueOf(raw, path); len(v) > 0 {
		return v[0]
	}
	return 0
}

// valueOf returns the value at path in raw ("messages[1].content[0]":
// keys and indices), from its first byte, or nil when raw has none there,
// cannot be read that far (an escaped key, nesting past the scanner's
// depth), or names the key more than once or in other letters
// (encoding/json would take the last one, or another spelling).
func valueOf(raw []byte, path string) []byte {
	var p jsonscan.Scanner
	p.Reset(raw)
	p.WS()
	if path == "" {
		if v := raw[p.Pos():]; len(v) > 0 {
			return v
		}
		return nil
	}
	var val json.RawMessage
	var rest string
	switch c := p.Peek(); {
	case path[0] == '[' && c == '[':
		end := strings.IndexByte(path, ']')
		if end < 0 {
			return nil
		}
		n, err := strconv.Atoi(path[1:end])
		if err != nil || n < 0 {
			return nil
		}
		i := -1
		p.Array(func() bool {
			if i++; i == n {
				return p.Raw(&val)
			}
			return p.Skip()
		})
		rest = path[end+1:]
	case path[0] != '[' && c == '{':
		key := strings.TrimPrefix(path, ".")
		if j := strings.IndexAny(key, ".["); j >= 0 {
			key, rest = key[:j], key[j:]
		}
		matches, exact := 0, false
		ok := p.Object(func(k []byte) bool {
			if !bytes.EqualFold(k, []byte(key)) {
				return p.Skip()
			}
			matches++
			exact = string(k) == key
			return p.Raw(&val)
		})
		if !ok || matches != 1 || !exact {
			return nil
		}
	}
	if val == nil {
		return nil
	}
	return valueOf(val, rest)
}

// Texts tells, for the parts of one array (content parts, blocks), how a
// part whose text decoded empty came to: omitted when it has no "text"
// key, in any letters; null when the key holds null; neither when the
// text was sent (an empty string is sent), or the part or array cannot be
// read (see valueOf). Callers ask only once a text decoded empty, so the
// usual request never pays for it; the first question walks the array
// once and later ones look the answer up, so that a request of thousands
// of parts with empty texts costs one walk, not one per part.
type Texts struct {
	raw    []byte // the JSON text that holds the array
	at     string // the array's path in raw ("" for raw itself)
	walked bool
	states []textState // per element; nil when the array could not be read
}

type textState uint8

const (
	textSent textState = iota
	textOmitted
	textNull
)

// NewTexts returns the Texts of the array at path at in raw ("" for raw
// itself, "output" for a tool output's parts).
func NewTexts(raw []byte, at string) *Texts { return &Texts{raw: raw, at: at} }

// Missing tells whether the "text" of part i was omitted or is null.
func (t *Texts) Missing(i int) (omitted, null bool) {
	if !t.walked {
		t.walked = true
		t.states = textStates(valueOf(t.raw, t.at))
	}
	if i < 0 || i >= len(t.states) {
		return false, false
	}
	return t.states[i] == textOmitted, t.states[i] == textNull
}

// Required answers the "text" of part i, named param in the request, as
// OpenAI does when it was omitted ("Missing required parameter:
// 'messages[0].content[0].text'.") or is null (the type error); nil when
// it was sent, empty or not.
func (t *Texts) Required(i int, param string) error {
	switch omitted, null := t.Missing(i); {
	case omitted:
		return apierr.InvalidRequest(param, "Missing required parameter: '%s'.", param).WithCode("missing_required_parameter")
	case null:
		return (&Mismatch{Path: param, Want: "a string", Got: "null"}).Error400()
	}
	return nil
}

// textStates walks the array arr and tells how each element holds "text"
// (see Texts): the key spelled exactly and once to be null, since
// encoding/json takes the last of several and matches other spellings.
// Where an element cannot be read (an escaped key, deep nesting), the
// walk stops: the elements before it are answered, those from it on are
// taken as sent.
func textStates(arr []byte) []textState {
	if len(arr) == 0 || arr[0] != '[' {
		return nil
	}
	var p jsonscan.Scanner
	p.Reset(arr)
	var states []textState
	p.Array(func() bool {
		if p.Peek() != '{' {
			if !p.Skip() {
				return false
			}
			states = append(states, textSent)
			return true
		}
		matches, exact := 0, false
		var first byte
		if !p.Object(func(k []byte) bool {
			if bytes.EqualFold(k, []byte("text")) {
				matches++
				exact = string(k) == "text"
				first = p.Peek()
			}
			return p.Skip()
		}) {
			return false
		}
		st := textSent
		switch {
		case matches == 0:
			st = textOmitted
		case matches == 1 && exact && first == 'n':
			st = textNull
		}
		states = append(states, st)
		return true
	})
	return states
}

// firstPath returns the path of the first value of JSON kind kind whose
// path without indices is field ("tools[1].strict" for "tools.strict"),
// walking raw up to it; ok is false when there is none or raw cannot be
// walked that far (a key with escapes, nesting deeper than 200).
func firstPath(raw []byte, field, kind string) (path string, ok bool) {
	if field == "" {
		return "", false
	}
	var p jsonscan.Scanner
	p.Reset(raw)
	var walk func(at string, depth int) bool
	walk = func(at string, depth int) bool {
		if depth > 200 {
			return false // nested deeper than it follows
		}
		p.WS()
		c := p.Peek()
		if at != "" && kindOf(c) == kind && sameField(at, field) {
			path, ok = at, true
			return false // found: the walk ends here
		}
		switch c {
		case '{':
			return p.Object(func(key []byte) bool {
				if at == "" {
					return walk(string(key), depth+1)
				}
				return walk(at+"."+string(key), depth+1)
			})
		case '[':
			i := 0
			return p.Array(func() bool {
				i++
				return walk(at+"["+strconv.Itoa(i-1)+"]", depth+1)
			})
		}
		return p.Skip()
	}
	walk("", 0)
	return path, ok
}

// article names a JSON kind as encoding/json reports it ("number",
// "string", "object", "array", "bool") with its article.
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "bool":
		return "a boolean"
	case "null", "":
		return "null"
	}
	return "a " + kind
}

// UnmarshalString decodes the JSON string raw into s, as json.Unmarshal
// does, but without reflection or a second validity scan for the usual
// string (message contents may be most of a large request).
func UnmarshalString(raw []byte, s *string) error {
	if v, ok := jsonscan.UnquoteString(raw); ok {
		*s = v
		return nil
	}
	return json.Unmarshal(raw, s)
}

// WholeInt is an integer a client may also write as a number whose
// fraction is zero (1024.0, as Python clients write floats), which
// Anthropic's API takes as pydantic's lax integers do. A fraction, an
// integer out of int64's range or a value of another kind is the type
// error encoding/json reports for an int64, so that typeError words it;
// the error carries no offset, so the path it names has no array
// indices: WholeInt is for fields outside arrays.
type WholeInt int64

// UnmarshalJSON reads an integer, or a number with a zero fraction; null
// leaves n alone, as it leaves an int64.
func (n *WholeInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = WholeInt(i)
		return nil
	}
	kind := kindOf(s[0])
	if kind == "number" {
		// 2⁶³ is exact in a float64: below it, every whole float64 is an
		// int64.
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			*n = WholeInt(f)
			return nil
		}
		kind += " " + s
	}
	return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[int64]()}
}

// jsonKind names the JSON kind a Go type decodes from, for messages that
// must not leak Go type names.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another JSON type"
}

// emptyObjectSchema is the parameters of a function tool that declares none.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// FunctionParameters checks a function tool's parameters (the JSON Schema
// at param): none or null is the empty object schema the backend wants,
// anything but an object is a 400, as OpenAI answers it.
func FunctionParameters(param string, raw json.RawMessage) (json.RawMessage, error) {
	if Absent(raw) {
		return emptyObjectSchema, nil
	}
	if err := RequireObject(param, raw); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(raw), nil
}

// RequireObject answers a JSON value at param that must be an object (a
// JSON Schema) and is not, as OpenAI does; nil for an object.
func RequireObject(param string, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		return nil
	}
	got := "null"
	if !Absent(raw) {
		got = article(kindOf(raw[0]))
	}
	return apierr.InvalidRequest(param, "Invalid type for '%s': expected an object, but got %s instead.", param, got).WithCode("invalid_type")
}

// Absent reports whether a raw JSON value is missing or null.
func Absent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// withoutIndices drops the array indices from a path ("a[0].b[1]" is
// "a.b"), as encoding/json names fields.
func withoutIndices(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '[' {
			for i < len(path) && path[i] != ']' {
				i++
			}
			continue
		}
		b.WriteByte(path[i])
	}
	return b.String()
}

// sameField reports whether path ("messages[2].role", or "[1].text" in an
// array decoded on its own) is field, as encoding/json names it without
// indices ("messages.role", "text").
func sameField(path, field string) bool {
	return strings.TrimPrefix(withoutIndices(path), ".") == field
}

// kindOf names the kind of a JSON value by its first byte, as
// encoding/json names kinds ("number", "string", "object", "array",
// "bool", "null").
func kindOf(first byte) string {
	switch first {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
