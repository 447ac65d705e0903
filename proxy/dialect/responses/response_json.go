package responses

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// The response object is written by hand, field by field, rather than with
// encoding/json: it goes out with response.created, before the client's
// first byte, and it echoes the request's tools (tens of kilobytes for a
// coding agent), which encoding/json re-validates and compacts on every
// marshal. The output is what encoding/json writes for Response, without
// HTML escaping (<, > and & stay as they are, as in the upstream request
// body); response_json_test.go holds the two side by side.
//
// Raw JSON values (tools, tool_choice, output items, a json_schema format's
// schema) are appended verbatim, so they must already be compact, valid
// JSON. Every Response is built from Plan.Echo, whose raw values echo()
// compacts once per request (they were validated by the request's
// decoding: encoding/json checks the whole body, and Translate decodes
// every tool and tool_choice again), and from output items that
// answer.clientItem compacts once as it records them (they were validated
// by codex.DecodeEvent, or written by json.Marshal).

// errEmptyRaw is encoding/json's refusal of an empty, non-nil raw value.
var errEmptyRaw = errors.New("response: empty raw JSON value")

// MarshalJSON writes the response object as AppendJSON does (encoding/json
// then HTML-escapes it as it does any Marshaler's output).
func (r *Response) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, r.sizeHint()))
}

// AppendJSON appends the response object to dst, as encoding/json would
// write it but without HTML escaping. Its raw JSON values must be compact
// and valid (see above); they are copied as they are. On error (a NaN or
// infinite float, an empty non-nil raw value) dst is returned as it was.
func (r *Response) AppendJSON(dst []byte) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.str(`{"id":`, r.ID)
	w.str(`,"object":`, r.Object)
	w.int(`,"created_at":`, r.CreatedAt)
	w.str(`,"status":`, r.Status)
	w.boolean(`,"background":`, r.Background)
	w.responseError(`,"error":`, r.Error)
	w.incomplete(`,"incomplete_details":`, r.IncompleteDetails)
	if r.Instructions != nil && r.instructions.of == r.Instructions {
		// An agent's instructions are tens of kilobytes, and the object is
		// written three or four times per request: escaped once, by echo.
		w.raw(`,"instructions":`)
		w.b = append(w.b, r.instructions.json...)
	} else {
		w.strPtr(`,"instructions":`, r.Instructions)
	}
	w.intPtr(`,"max_output_tokens":`, r.MaxOutputTokens)
	w.str(`,"model":`, r.Model)
	w.rawArray(`,"output":`, r.Output)
	w.boolean(`,"parallel_tool_calls":`, r.ParallelToolCalls)
	w.strPtr(`,"previous_response_id":`, r.PreviousResponseID)
	w.strPtr(`,"reasoning":{"effort":`, r.Reasoning.Effort)
	w.strPtr(`,"summary":`, r.Reasoning.Summary)
	w.raw(`}`)
	if r.ServiceTier != "" {
		w.str(`,"service_tier":`, r.ServiceTier)
	}
	w.boolean(`,"store":`, r.Store)
	w.float(`,"temperature":`, r.Temperature)
	w.text(`,"text":`, &r.Text)
	w.json(`,"tool_choice":`, r.ToolChoice)
	w.rawArray(`,"tools":`, r.Tools)
	w.float(`,"top_p":`, r.TopP)
	w.str(`,"truncation":`, r.Truncation)
	w.usage(`,"usage":`, r.Usage)
	w.strPtr(`,"user":`, r.User)
	w.metadata(`,"metadata":`, r.Metadata)
	w.raw(`}`)
	if w.err != nil {
		return dst, w.err
	}
	return w.b, nil
}

// escaped is a string's JSON, written once for the string at of. It is
// used while the response object's field still points there (a copy of
// the template keeps it; other instructions are written as they are),
// and never written by AppendJSON: copies of one template may be written
// at once. The string at of must not change.
type escaped struct {
	of   *string
	json []byte
}

// escapedOf returns s's JSON, or nothing for nil.
func escapedOf(s *string) escaped {
	if s == nil {
		return escaped{}
	}
	return escaped{of: s, json: codex.AppendString(make([]byte, 0, len(*s)+len(*s)/8+2), *s)}
}

// sizeHint is about the length of the response object's JSON.
func (r *Response) sizeHint() int {
	n := 640 + len(r.ToolChoice) + len(r.Text.Format.Schema) + len(r.Text.Format.Description)
	if r.Instructions != nil {
		n += len(*r.Instructions) // an agent's, tens of kilobytes
	}
	for _, raw := range r.Tools {
		n += len(raw) + 1
	}
	for _, raw := range r.Output {
		n += len(raw) + 1
	}
	for k, v := range r.Metadata {
		n += len(k) + len(v) + 6
	}
	return n
}

// jsonWriter appends JSON to b and keeps the first error.
type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// raw writes s as it is: punctuation and keys (literals such as `,"id":`).
func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

// str writes key and the string v.
func (w *jsonWriter) str(key, v string) {
	w.b = append(w.b, key...)
	w.b = codex.AppendString(w.b, v)
}

func (w *jsonWriter) strPtr(key string, v *string) {
	if v == nil {
		w.null(key)
		return
	}
	w.str(key, *v)
}

func (w *jsonWriter) null(key string) {
	w.b = append(w.b, key...)
	w.b = append(w.b, "null"...)
}

func (w *jsonWriter) int(key string, v int64) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) intPtr(key string, v *int64) {
	if v == nil {
		w.null(key)
		return
	}
	w.int(key, *v)
}

func (w *jsonWriter) boolean(key string, v bool) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendBool(w.b, v)
}

// float writes a float64 as encoding/json does: like ES6's number to
// string conversion, the shortest representation in 'f' format, or in 'e'
// format (with the exponent's leading zero dropped) below 1e-6 and from
// 1e21 up. NaN and the infinities are an error, as there.
func (w *jsonWriter) float(key string, v *float64) {
	if v == nil {
		w.null(key)
		return
	}
	f := *v
	if math.IsInf(f, 0) || math.IsNaN(f) {
		w.fail(errors.New("response: unsupported float value " + strconv.FormatFloat(f, 'g', -1, 64)))
		return
	}
	w.b = append(w.b, key...)
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if n := len(w.b); format == 'e' && n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
		// e-07 becomes e-7.
		w.b[n-2] = w.b[n-1]
		w.b = w.b[:n-1]
	}
}

// json writes key and the compact, valid raw value v verbatim (null when
// nil, as json.RawMessage marshals).
func (w *jsonWriter) json(key string, v json.RawMessage) {
	w.b = append(w.b, key...)
	w.value(v)
}

func (w *jsonWriter) value(v json.RawMessage) {
	switch {
	case v == nil:
		w.b = append(w.b, "null"...)
	case len(v) == 0:
		w.fail(errEmptyRaw)
	default:
		w.b = append(w.b, v...)
	}
}

// rawArray writes key and an array of compact, valid raw values (null
// when nil).
func (w *jsonWriter) rawArray(key string, vs []json.RawMessage) {
	w.b = append(w.b, key...)
	if vs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.value(v)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) responseError(key string, e *ResponseError) {
	if e == nil {
		w.null(key)
		return
	}
	w.b = append(w.b, key...)
	w.str(`{"code":`, e.Code)
	w.str(`,"message":`, e.Message)
	if e.PlanType != "" {
		w.str(`,"plan_type":`, e.PlanType)
	}
	if e.ResetsAt != 0 {
		w.int(`,"resets_at":`, e.ResetsAt)
	}
	if e.ResetsInSeconds != 0 {
		w.int(`,"resets_in_seconds":`, e.ResetsInSeconds)
	}
	w.raw(`}`)
}

func (w *jsonWriter) incomplete(key string, d *codex.IncompleteDetails) {
	if d == nil {
		w.null(key)
		return
	}
	w.b = append(w.b, key...)
	w.str(`{"reason":`, d.Reason)
	w.raw(`}`)
}

// text writes the text settings; the format is in every response.
func (w *jsonWriter) text(key string, t *TextEcho) {
	w.b = append(w.b, key...)
	f := &t.Format
	w.str(`{"format":{"type":`, f.Type)
	if f.Name != "" {
		w.str(`,"name":`, f.Name)
	}
	if f.Description != "" {
		w.str(`,"description":`, f.Description)
	}
	if len(f.Schema) > 0 {
		w.json(`,"schema":`, f.Schema)
	}
	if f.Strict != nil {
		w.boolean(`,"strict":`, *f.Strict)
	}
	w.raw(`}`)
	if t.Verbosity != "" {
		w.str(`,"verbosity":`, t.Verbosity)
	}
	w.raw(`}`)
}

func (w *jsonWriter) usage(key string, u *codex.Usage) {
	if u == nil {
		w.null(key)
		return
	}
	w.b = append(w.b, key...)
	w.int(`{"input_tokens":`, u.InputTokens)
	w.int(`,"input_tokens_details":{"cached_tokens":`, u.InputTokensDetails.CachedTokens)
	w.int(`},"output_tokens":`, u.OutputTokens)
	w.int(`,"output_tokens_details":{"reasoning_tokens":`, u.OutputTokensDetails.ReasoningTokens)
	w.int(`},"total_tokens":`, u.TotalTokens)
	w.raw(`}`)
}

// metadata writes a string map with its keys sorted, as encoding/json
// does (null when nil).
func (w *jsonWriter) metadata(key string, m map[string]string) {
	w.b = append(w.b, key...)
	switch {
	case m == nil:
		w.b = append(w.b, "null"...)
		return
	case len(m) == 0:
		w.b = append(w.b, "{}"...)
		return
	}
	var buf [16]string // requests have at most 16 keys
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sep := byte('{')
	for _, k := range keys {
		w.b = append(w.b, sep)
		sep = ','
		w.b = codex.AppendString(w.b, k)
		w.b = append(w.b, ':')
		w.b = codex.AppendString(w.b, m[k])
	}
	w.b = append(w.b, '}')
}

// compacted returns the valid JSON value v without insignificant white
// space: v itself when it has none (the usual case), else a compacted copy.
// It is json.Compact for input already known to be valid (it does not
// check the syntax again), and much faster.
func compacted(v json.RawMessage) json.RawMessage {
	if i := firstSpace(v); i >= 0 {
		out := make(json.RawMessage, 0, len(v))
		return appendCompact(append(out, v[:i]...), v[i:])
	}
	return v
}

// appendCompact appends the valid JSON text src (a value or the remainder
// of one, starting outside any string) to dst without insignificant white
// space.
func appendCompact(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"':
			i = stringEnd(src, i) - 1
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// firstSpace returns the index of the first white space outside strings in
// the valid JSON text b, or -1.
func firstSpace(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i) - 1
		case ' ', '\t', '\n', '\r':
			return i
		}
	}
	return -1
}

// stringEnd returns the index after the string starting at b[i] == '"'
// (len(b) if it is not closed).
func stringEnd(b []byte, i int) int {
	if end, ok := dialect.StringEnd(b, i); ok {
		return end
	}
	return len(b)
}
