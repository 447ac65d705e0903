package codex

import (
	"bytes"
	"encoding/json"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeEvent fills ev from data without reflection: every field of the
// event model, in any key order, unknown keys skipped. It reports false
// for anything it does not handle exactly as encoding/json would (keys
// that differ from a field's name only in case, repeated keys, type
// mismatches, floats in integer fields, invalid UTF-8, tool lists or tool
// outputs inside items); DecodeEvent then uses encoding/json. So it only
// has to be right, never complete. FuzzDecodeEvent holds it to that.
//
// prevItem is the previous event's item id: consecutive events of one item
// share the string instead of allocating it again.
func decodeEvent(data []byte, ev *Event, prevItem string) bool {
	p := scanners.Get().(*scanner)
	*p = scanner{b: data, prevItem: prevItem}
	p.ws()
	ok := eventFields.read(p, ev) && p.i == len(p.b)
	*p = scanner{}
	scanners.Put(p)
	return ok
}

// scanners are reused: a scanner reaches the field readers through func
// values, so it would otherwise be allocated for every event.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// fields reads the JSON objects of one struct type T: a reader per key.
type fields[T any] struct {
	names   []string
	readers []func(p *scanner, v *T) bool
	index   map[string]int
}

// field is one key of T and how to read its value.
type field[T any] struct {
	name string
	read func(p *scanner, v *T) bool
}

func newFields[T any](defs ...field[T]) *fields[T] {
	f := &fields[T]{index: make(map[string]int, len(defs))}
	for i, d := range defs {
		f.names = append(f.names, d.name)
		f.readers = append(f.readers, d.read)
		f.index[d.name] = i
	}
	return f
}

// read reads an object into v. A key read twice, or another spelling of a
// known key, declines.
func (f *fields[T]) read(p *scanner, v *T) bool {
	if !p.expect('{') {
		return false
	}
	var seen fieldSet
	for first := true; ; first = false {
		key, more, ok := p.nextKey(first)
		if !ok || !more {
			return ok
		}
		i, known := f.index[string(key)]
		if !known {
			if !p.unknown(key, f.names) {
				return false
			}
			continue
		}
		if !seen.once(uint(i)) || !f.readers[i](p, v) {
			return false
		}
	}
}

// eventTypes are the event types kept as constants instead of allocated.
var eventTypes = []string{EventTextDelta, EventSummaryDelta, EventArgsDelta, EventReasoningTextDelta,
	EventCustomInputDelta, EventRefusalDelta, EventCreated, EventInProgress, EventCompleted, EventIncomplete,
	EventFailed, EventError, EventItemAdded, EventItemDone, EventPartAdded, EventPartDone, EventTextDone,
	EventRefusalDone, EventArgsDone, EventCustomInputDone, EventSummaryPartAdded, EventSummaryPartDone,
	EventSummaryDone, EventReasoningTextDone, EventRateLimitsUpdated, EventOutputTextAnnotated}

// commonValues are other frequent values kept as constants.
var commonValues = []string{"in_progress", "completed", "incomplete", "failed", "response", "assistant",
	"final_answer", "commentary", ItemMessage, ItemFunctionCall, ItemCustomToolCall, ItemReasoning,
	PartOutputText, PartSummaryText, PartRefusal, PartReasoning}

// The readers of the model's structs. (Event's embedded ErrorBody gives it
// the flat fields of error events; its "type" is the event's.)
var (
	eventFields = newFields(
		field[Event]{"type", func(p *scanner, v *Event) bool { return p.internString(&v.Type, eventTypes) }},
		field[Event]{"sequence_number", func(p *scanner, v *Event) bool { return p.int64(&v.SequenceNumber) }},
		field[Event]{"delta", func(p *scanner, v *Event) bool { return p.string(&v.Delta) }},
		field[Event]{"item_id", func(p *scanner, v *Event) bool { return p.itemID(&v.ItemID) }},
		field[Event]{"output_index", func(p *scanner, v *Event) bool { return p.intField(&v.OutputIndex) }},
		field[Event]{"content_index", func(p *scanner, v *Event) bool { return p.intField(&v.ContentIndex) }},
		field[Event]{"summary_index", func(p *scanner, v *Event) bool { return p.intField(&v.SummaryIndex) }},
		field[Event]{"text", func(p *scanner, v *Event) bool { return p.string(&v.Text) }},
		field[Event]{"arguments", func(p *scanner, v *Event) bool { return p.string(&v.Arguments) }},
		field[Event]{"input", func(p *scanner, v *Event) bool { return p.string(&v.Input) }},
		field[Event]{"item", func(p *scanner, v *Event) bool { return p.itemPtr(&v.Item) }},
		field[Event]{"part", func(p *scanner, v *Event) bool { return contentPtr(p, &v.Part) }},
		field[Event]{"response", func(p *scanner, v *Event) bool { return responsePtr(p, &v.Response) }},
		field[Event]{"error", func(p *scanner, v *Event) bool { return errorPtr(p, &v.Error) }},
		field[Event]{"code", func(p *scanner, v *Event) bool { return p.string(&v.Code) }},
		field[Event]{"message", func(p *scanner, v *Event) bool { return p.string(&v.Message) }},
		field[Event]{"param", func(p *scanner, v *Event) bool { return p.stringPtr(&v.Param) }},
		field[Event]{"plan_type", func(p *scanner, v *Event) bool { return p.string(&v.PlanType) }},
		field[Event]{"resets_at", func(p *scanner, v *Event) bool { return p.int64(&v.ResetsAt) }},
		field[Event]{"resets_in_seconds", func(p *scanner, v *Event) bool { return p.int64(&v.ResetsInSeconds) }},
	)
	// Items with tool lists, tool outputs or reasoning settings (rare in
	// events) are left to encoding/json.
	itemFields = newFields(
		field[Item]{"type", func(p *scanner, v *Item) bool { return p.internString(&v.Type, commonValues) }},
		field[Item]{"id", func(p *scanner, v *Item) bool { return p.string(&v.ID) }},
		field[Item]{"status", func(p *scanner, v *Item) bool { return p.internString(&v.Status, commonValues) }},
		field[Item]{"role", func(p *scanner, v *Item) bool { return p.internString(&v.Role, commonValues) }},
		field[Item]{"content", func(p *scanner, v *Item) bool { return p.contents(&v.Content) }},
		field[Item]{"phase", func(p *scanner, v *Item) bool { return p.internString(&v.Phase, commonValues) }},
		field[Item]{"call_id", func(p *scanner, v *Item) bool { return p.string(&v.CallID) }},
		field[Item]{"name", func(p *scanner, v *Item) bool { return p.string(&v.Name) }},
		field[Item]{"namespace", func(p *scanner, v *Item) bool { return p.string(&v.Namespace) }},
		field[Item]{"arguments", func(p *scanner, v *Item) bool { return p.string(&v.Arguments) }},
		field[Item]{"input", func(p *scanner, v *Item) bool { return p.string(&v.Input) }},
		field[Item]{"summary", func(p *scanner, v *Item) bool { return p.contents(&v.Summary) }},
		field[Item]{"encrypted_content", func(p *scanner, v *Item) bool { return p.string(&v.EncryptedContent) }},
		field[Item]{"output", declined[Item]},
		field[Item]{"tools", declined[Item]},
		field[Item]{"reasoning", declined[Item]},
	)
	contentFields = newFields(
		field[Content]{"type", func(p *scanner, v *Content) bool { return p.internString(&v.Type, commonValues) }},
		field[Content]{"text", func(p *scanner, v *Content) bool { return p.string(&v.Text) }},
		field[Content]{"refusal", func(p *scanner, v *Content) bool { return p.string(&v.Refusal) }},
		field[Content]{"image_url", func(p *scanner, v *Content) bool { return p.string(&v.ImageURL) }},
		field[Content]{"detail", func(p *scanner, v *Content) bool { return p.string(&v.Detail) }},
		field[Content]{"file_id", func(p *scanner, v *Content) bool { return p.string(&v.FileID) }},
		field[Content]{"file_data", func(p *scanner, v *Content) bool { return p.string(&v.FileData) }},
		field[Content]{"file_url", func(p *scanner, v *Content) bool { return p.string(&v.FileURL) }},
		field[Content]{"filename", func(p *scanner, v *Content) bool { return p.string(&v.Filename) }},
		field[Content]{"annotations", func(p *scanner, v *Content) bool { return p.rawArray(&v.Annotations) }},
	)
	responseFields = newFields(
		field[Response]{"id", func(p *scanner, v *Response) bool { return p.string(&v.ID) }},
		field[Response]{"object", func(p *scanner, v *Response) bool { return p.internString(&v.Object, commonValues) }},
		field[Response]{"created_at", func(p *scanner, v *Response) bool { return p.int64(&v.CreatedAt) }},
		field[Response]{"status", func(p *scanner, v *Response) bool { return p.internString(&v.Status, commonValues) }},
		field[Response]{"model", func(p *scanner, v *Response) bool { return p.string(&v.Model) }},
		field[Response]{"output", func(p *scanner, v *Response) bool { return p.items(&v.Output) }},
		field[Response]{"usage", func(p *scanner, v *Response) bool { return usagePtr(p, &v.Usage) }},
		field[Response]{"error", func(p *scanner, v *Response) bool { return errorPtr(p, &v.Error) }},
		field[Response]{"incomplete_details", func(p *scanner, v *Response) bool { return incompletePtr(p, &v.IncompleteDetails) }},
	)
	usageFields = newFields(
		field[Usage]{"input_tokens", func(p *scanner, v *Usage) bool { return p.int64(&v.InputTokens) }},
		field[Usage]{"input_tokens_details", func(p *scanner, v *Usage) bool { return structValue(p, inputDetailsFields, &v.InputTokensDetails) }},
		field[Usage]{"output_tokens", func(p *scanner, v *Usage) bool { return p.int64(&v.OutputTokens) }},
		field[Usage]{"output_tokens_details", func(p *scanner, v *Usage) bool { return structValue(p, outputDetailsFields, &v.OutputTokensDetails) }},
		field[Usage]{"total_tokens", func(p *scanner, v *Usage) bool { return p.int64(&v.TotalTokens) }},
	)
	inputDetailsFields = newFields(
		field[InputDetails]{"cached_tokens", func(p *scanner, v *InputDetails) bool { return p.int64(&v.CachedTokens) }},
	)
	outputDetailsFields = newFields(
		field[OutputDetails]{"reasoning_tokens", func(p *scanner, v *OutputDetails) bool { return p.int64(&v.ReasoningTokens) }},
	)
	errorFields = newFields(
		field[ErrorBody]{"type", func(p *scanner, v *ErrorBody) bool { return p.string(&v.Type) }},
		field[ErrorBody]{"code", func(p *scanner, v *ErrorBody) bool { return p.string(&v.Code) }},
		field[ErrorBody]{"message", func(p *scanner, v *ErrorBody) bool { return p.string(&v.Message) }},
		field[ErrorBody]{"param", func(p *scanner, v *ErrorBody) bool { return p.stringPtr(&v.Param) }},
		field[ErrorBody]{"plan_type", func(p *scanner, v *ErrorBody) bool { return p.string(&v.PlanType) }},
		field[ErrorBody]{"resets_at", func(p *scanner, v *ErrorBody) bool { return p.int64(&v.ResetsAt) }},
		field[ErrorBody]{"resets_in_seconds", func(p *scanner, v *ErrorBody) bool { return p.int64(&v.ResetsInSeconds) }},
	)
	incompleteFields = newFields(
		field[IncompleteDetails]{"reason", func(p *scanner, v *IncompleteDetails) bool { return p.string(&v.Reason) }},
	)
)

// The pointer readers (functions, because the tables refer to each other).
func contentPtr(p *scanner, dst **Content) bool   { return readPtr(p, contentFields, dst) }
func responsePtr(p *scanner, dst **Response) bool { return readPtr(p, responseFields, dst) }
func usagePtr(p *scanner, dst **Usage) bool       { return readPtr(p, usageFields, dst) }
func errorPtr(p *scanner, dst **ErrorBody) bool   { return readPtr(p, errorFields, dst) }
func incompletePtr(p *scanner, dst **IncompleteDetails) bool {
	return readPtr(p, incompleteFields, dst)
}

// readPtr reads an object into a new T, or null into nil.
func readPtr[T any](p *scanner, f *fields[T], dst **T) bool {
	if p.null() {
		*dst = nil
		return true
	}
	v := new(T)
	*dst = v
	return f.read(p, v)
}

// declined leaves a field to encoding/json.
func declined[T any](*scanner, *T) bool { return false }

// structValue reads an object into a struct held by value (null leaves it
// alone, as encoding/json does).
func structValue[T any](p *scanner, f *fields[T], v *T) bool {
	if p.null() {
		return true
	}
	return f.read(p, v)
}

// itemID reads an event's item id, sharing the previous event's string
// when it is the same.
func (p *scanner) itemID(dst *string) bool {
	if p.null() {
		return true
	}
	raw, esc, ok := p.str()
	if !ok || esc || !utf8.Valid(raw) {
		return false
	}
	if string(raw) == p.prevItem {
		*dst = p.prevItem
	} else {
		*dst = string(raw)
	}
	return true
}

// itemPtr reads an item object, or null.
func (p *scanner) itemPtr(dst **Item) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if p.peek() != '{' {
		return false // Item.UnmarshalJSON takes non-objects as an empty item
	}
	it := new(Item)
	*dst = it
	return p.item(it)
}

// item reads an item object with Item.UnmarshalJSON's rule: an item of an
// unknown type keeps its JSON in Raw.
func (p *scanner) item(it *Item) bool {
	start := p.i
	if !itemFields.read(p, it) {
		return false
	}
	if !Known(it.Type) {
		it.Raw = append(json.RawMessage(nil), trimWS(p.b[start:p.i])...)
	}
	return true
}

// items reads an array of items, or null.
func (p *scanner) items(dst *[]Item) bool {
	return readArray(p, dst, func(p *scanner, it *Item) bool { return p.peek() == '{' && p.item(it) })
}

// contents reads an array of content parts, or null.
func (p *scanner) contents(dst *[]Content) bool {
	return readArray(p, dst, contentFields.read)
}

// readArray reads an array of objects, or null (an empty array is an
// empty slice, not nil, as encoding/json makes it).
func readArray[T any](p *scanner, dst *[]T, read func(p *scanner, v *T) bool) bool {
	if p.null() {
		*dst = nil
		return true
	}
	out := []T{}
	ok := p.array(func() bool {
		var zero T
		out = append(out, zero)
		return read(p, &out[len(out)-1])
	})
	*dst = out
	return ok
}

// rawArray reads an array whose elements are kept as raw JSON, or null.
func (p *scanner) rawArray(dst *[]json.RawMessage) bool {
	if p.null() {
		*dst = nil
		return true
	}
	out := []json.RawMessage{}
	ok := p.array(func() bool {
		start := p.i
		if p.null() || !p.skip() {
			return false
		}
		out = append(out, append(json.RawMessage(nil), trimWS(p.b[start:p.i])...))
		return true
	})
	*dst = out
	return ok
}

// trimWS drops the white space a value was read with.
func trimWS(b []byte) []byte { return bytes.TrimRight(b, " \t\r\n") }

// fieldSet remembers which fields of an object were read: a repeated key
// (which encoding/json merges or overwrites) is left to encoding/json.
type fieldSet uint32

func (s *fieldSet) once(i uint) bool {
	if *s&(1<<i) != 0 {
		return false
	}
	*s |= 1 << i
	return true
}

// unknown skips the value of a key the caller does not read, unless the
// key is another spelling of one of names (encoding/json matches keys
// without regard to case, Unicode folding included).
func (p *scanner) unknown(key []byte, names []string) bool {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for _, n := range names {
		// The names are ASCII: an ASCII key folds only to one of its length.
		if (!ascii || len(n) == len(key)) && bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return p.skip()
}

// null reads a null literal if one is next.
func (p *scanner) null() bool {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) && p.delimited(p.i+4) {
		p.i += 4
		return true
	}
	return false
}

// delimited reports whether a literal ending at i is followed by the end
// of a value.
func (p *scanner) delimited(i int) bool {
	if i >= len(p.b) {
		return true
	}
	switch p.b[i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// array reads a JSON array, calling elem for each element with the
// scanner at it.
func (p *scanner) array(elem func() bool) bool {
	if !p.expect('[') {
		return false
	}
	for first := true; ; first = false {
		p.ws()
		if p.peek() == ']' {
			p.i++
			p.ws()
			return true
		}
		if !first && !p.expect(',') {
			return false
		}
		p.ws()
		if !elem() {
			return false
		}
		p.ws()
	}
}

// string reads a string (null leaves dst alone).
func (p *scanner) string(dst *string) bool {
	if p.null() {
		return true
	}
	raw, esc, ok := p.str()
	if !ok {
		return false
	}
	if !esc {
		if !utf8.Valid(raw) {
			return false // encoding/json replaces invalid bytes
		}
		*dst = string(raw)
		return true
	}
	s, ok := unescape(raw)
	*dst = s
	return ok
}

// internString reads a string, using one of common instead of a new
// string when it is one of them.
func (p *scanner) internString(dst *string, common []string) bool {
	if p.null() {
		return true
	}
	raw, esc, ok := p.str()
	if !ok || esc {
		if ok {
			s, good := unescape(raw)
			*dst = s
			return good
		}
		return false
	}
	for _, c := range common {
		if string(raw) == c {
			*dst = c
			return true
		}
	}
	if !utf8.Valid(raw) {
		return false
	}
	*dst = string(raw)
	return true
}

// stringPtr reads a string into a new pointer, or null.
func (p *scanner) stringPtr(dst **string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	s := new(string)
	*dst = s
	return p.string(s)
}

// int64 reads an integer (null leaves dst alone). Fractions, exponents
// and numbers of more than 18 digits are left to encoding/json.
func (p *scanner) int64(dst *int64) bool {
	if p.null() {
		return true
	}
	neg := p.peek() == '-'
	if neg {
		p.i++
	}
	start := p.i
	var n int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		n = n*10 + int64(p.b[p.i]-'0')
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') || !p.delimited(p.i) {
		return false
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

// intField reads an integer into an int.
func (p *scanner) intField(dst *int) bool {
	n := int64(*dst)
	if !p.int64(&n) || int64(int(n)) != n {
		return false
	}
	*dst = int(n)
	return true
}

// unescape decodes the contents of a JSON string with escapes as
// encoding/json does (a lone surrogate becomes U+FFFD). Invalid UTF-8 and
// invalid escapes report false.
func unescape(raw []byte) (string, bool) {
	if !utf8.Valid(raw) {
		return "", false
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		// Copy up to the next escape in one go.
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			out = append(out, raw[i:]...)
			break
		}
		out = append(out, raw[i:i+j]...)
		i += j
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw[min(i+2, len(raw)):]); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanner reads JSON from b at i.
type scanner struct {
	b        []byte
	i        int
	prevItem string // see decodeEvent
}

func (p *scanner) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) expect(c byte) bool {
	p.ws()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string and returns its raw contents and whether it holds
// escapes.
func (p *scanner) str() (raw []byte, escaped, ok bool) {
	if p.peek() != '"' {
		return nil, false, false
	}
	p.i++
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw = p.b[start:p.i]
			p.i++
			return raw, escaped, true
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return nil, false, false
		default:
			p.i++
		}
	}
	return nil, false, false
}

// object reads a JSON object, calling field for each key with the scanner
// at the value; field reads or skips the value and reports success.
func (p *scanner) object(field func(key []byte) bool) bool {
	if !p.expect('{') {
		return false
	}
	for first := true; ; first = false {
		key, more, ok := p.nextKey(first)
		if !ok || !more {
			return ok
		}
		if !field(key) {
			return false
		}
	}
}

// nextKey reads the next key of an object and its colon, leaving the
// scanner at the value; more is false at the object's end (which it
// reads, with the white space after it).
func (p *scanner) nextKey(first bool) (key []byte, more, ok bool) {
	p.ws()
	if p.peek() == '}' {
		p.i++
		p.ws()
		return nil, false, true
	}
	if !first && !p.expect(',') {
		return nil, false, false
	}
	p.ws()
	key, esc, ok := p.str()
	if !ok || esc || !p.expect(':') {
		return nil, false, false
	}
	p.ws()
	return key, true, true
}

// skip passes over any JSON value, checking its syntax as encoding/json
// would (which refuses a whole event with one bad value anywhere).
func (p *scanner) skip() bool {
	return p.skipDepth(0)
}

func (p *scanner) skipDepth(depth int) bool {
	p.ws()
	if depth > maxDepth {
		return false
	}
	switch c := p.peek(); {
	case c == '"':
		return p.skipString()
	case c == '{':
		return p.object(func([]byte) bool { return p.skipDepth(depth + 1) })
	case c == '[':
		return p.array(func() bool { return p.skipDepth(depth + 1) })
	case c == '-' || ('0' <= c && c <= '9'):
		return p.skipNumber()
	}
	for _, lit := range [...]string{"null", "true", "false"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) && p.delimited(p.i+len(lit)) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

// maxDepth bounds the nesting skip follows; deeper values go to
// encoding/json.
const maxDepth = 200

// skipString passes over a string, checking its escapes.
func (p *scanner) skipString() bool {
	raw, esc, ok := p.str()
	if !ok || !esc {
		return ok
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		switch raw[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if _, ok := hex4(raw[i+2:]); !ok {
				return false
			}
			i += 5
		default:
			return false
		}
	}
	return true
}

// skipNumber passes over a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *scanner) skipNumber() bool {
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.peek() == '.' {
		p.i++
		if p.digits() == 0 {
			return false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if p.digits() == 0 {
			return false
		}
	}
	return p.delimited(p.i)
}

func (p *scanner) digits() int {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// UnquoteString decodes raw, a JSON string literal (surrounding white
// space allowed), as encoding/json would. ok is false when raw is not one
// exactly, or when it holds bytes that are not UTF-8 (which encoding/json
// replaces): the caller then falls back to encoding/json, for its result
// or its error.
func UnquoteString(raw []byte) (s string, ok bool) {
	p := scanner{b: raw}
	p.ws()
	if p.peek() != '"' || !p.string(&s) {
		return "", false
	}
	p.ws()
	if p.i != len(p.b) {
		return "", false
	}
	return s, true
}
