package codex

import (
	"encoding/json"
	"sync"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// decodeEvent fills ev from data without reflection: every field of the
// event model, in any key order, unknown keys skipped. It reports false
// for anything it does not handle exactly as encoding/json would (see
// package jsonscan; also tool lists or tool outputs inside items);
// DecodeEvent then uses encoding/json. So it only has to be right, never
// complete. FuzzDecodeEvent holds it to that.
//
// prevItem is the previous event's item id: consecutive events of one item
// share the string instead of allocating it again.
func decodeEvent(data []byte, ev *Event, prevItem string) bool {
	p := scanners.Get().(*jsonscan.Scanner)
	p.Reset(data)
	p.Prev = prevItem
	p.WS()
	ok := eventFields.Read(p, ev) && p.AtEnd()
	p.Reset(nil)
	scanners.Put(p)
	return ok
}

// scanners are reused: a scanner reaches the field readers through func
// values, so it would otherwise be allocated for every event.
var scanners = sync.Pool{New: func() any { return new(jsonscan.Scanner) }}

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
	eventFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Event) bool { return p.InternString(&v.Type, eventTypes) }),
		jsonscan.Key("sequence_number", func(p *jsonscan.Scanner, v *Event) bool { return p.Int64(&v.SequenceNumber) }),
		jsonscan.Key("delta", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Delta) }),
		jsonscan.Key("item_id", func(p *jsonscan.Scanner, v *Event) bool { return p.SharedString(&v.ItemID) }),
		jsonscan.Key("output_index", func(p *jsonscan.Scanner, v *Event) bool { return p.Int(&v.OutputIndex) }),
		jsonscan.Key("content_index", func(p *jsonscan.Scanner, v *Event) bool { return p.Int(&v.ContentIndex) }),
		jsonscan.Key("summary_index", func(p *jsonscan.Scanner, v *Event) bool { return p.Int(&v.SummaryIndex) }),
		jsonscan.Key("text", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Text) }),
		jsonscan.Key("arguments", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Arguments) }),
		jsonscan.Key("input", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Input) }),
		jsonscan.Key("item", func(p *jsonscan.Scanner, v *Event) bool { return itemPtr(p, &v.Item) }),
		jsonscan.Key("part", func(p *jsonscan.Scanner, v *Event) bool { return contentPtr(p, &v.Part) }),
		jsonscan.Key("response", func(p *jsonscan.Scanner, v *Event) bool { return responsePtr(p, &v.Response) }),
		jsonscan.Key("error", func(p *jsonscan.Scanner, v *Event) bool { return errorPtr(p, &v.Error) }),
		jsonscan.Key("code", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Code) }),
		jsonscan.Key("message", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.Message) }),
		jsonscan.Key("param", func(p *jsonscan.Scanner, v *Event) bool { return p.StringPtr(&v.Param) }),
		jsonscan.Key("plan_type", func(p *jsonscan.Scanner, v *Event) bool { return p.String(&v.PlanType) }),
		jsonscan.Key("resets_at", func(p *jsonscan.Scanner, v *Event) bool { return p.Int64(&v.ResetsAt) }),
		jsonscan.Key("resets_in_seconds", func(p *jsonscan.Scanner, v *Event) bool { return p.Int64(&v.ResetsInSeconds) }),
	)
	// Items with tool lists, tool outputs or reasoning settings (rare in
	// events) are left to encoding/json.
	itemFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Item) bool { return p.InternString(&v.Type, commonValues) }),
		jsonscan.Key("id", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.ID) }),
		jsonscan.Key("status", func(p *jsonscan.Scanner, v *Item) bool { return p.InternString(&v.Status, commonValues) }),
		jsonscan.Key("role", func(p *jsonscan.Scanner, v *Item) bool { return p.InternString(&v.Role, commonValues) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *Item) bool { return contents(p, &v.Content) }),
		jsonscan.Key("phase", func(p *jsonscan.Scanner, v *Item) bool { return p.InternString(&v.Phase, commonValues) }),
		jsonscan.Key("call_id", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.CallID) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.Name) }),
		jsonscan.Key("namespace", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.Namespace) }),
		jsonscan.Key("arguments", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.Arguments) }),
		jsonscan.Key("input", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.Input) }),
		jsonscan.Key("summary", func(p *jsonscan.Scanner, v *Item) bool { return contents(p, &v.Summary) }),
		jsonscan.Key("encrypted_content", func(p *jsonscan.Scanner, v *Item) bool { return p.String(&v.EncryptedContent) }),
		jsonscan.Key("output", jsonscan.Declined[Item]),
		jsonscan.Key("tools", jsonscan.Declined[Item]),
		jsonscan.Key("reasoning", jsonscan.Declined[Item]),
	)
	// ContentFields reads a content part (also for the dialects' readers
	// of their input).
	ContentFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Content) bool { return p.InternString(&v.Type, commonValues) }),
		jsonscan.Key("text", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.Text) }),
		jsonscan.Key("refusal", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.Refusal) }),
		jsonscan.Key("image_url", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.ImageURL) }),
		jsonscan.Key("detail", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.Detail) }),
		jsonscan.Key("file_id", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.FileID) }),
		jsonscan.Key("file_data", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.FileData) }),
		jsonscan.Key("file_url", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.FileURL) }),
		jsonscan.Key("filename", func(p *jsonscan.Scanner, v *Content) bool { return p.String(&v.Filename) }),
		jsonscan.Key("annotations", func(p *jsonscan.Scanner, v *Content) bool { return p.RawArray(&v.Annotations) }),
	)
	responseFields = jsonscan.NewFields(
		jsonscan.Key("id", func(p *jsonscan.Scanner, v *Response) bool { return p.String(&v.ID) }),
		jsonscan.Key("object", func(p *jsonscan.Scanner, v *Response) bool { return p.InternString(&v.Object, commonValues) }),
		jsonscan.Key("created_at", func(p *jsonscan.Scanner, v *Response) bool { return p.Int64(&v.CreatedAt) }),
		jsonscan.Key("status", func(p *jsonscan.Scanner, v *Response) bool { return p.InternString(&v.Status, commonValues) }),
		jsonscan.Key("model", func(p *jsonscan.Scanner, v *Response) bool { return p.String(&v.Model) }),
		jsonscan.Key("output", func(p *jsonscan.Scanner, v *Response) bool { return items(p, &v.Output) }),
		jsonscan.Key("usage", func(p *jsonscan.Scanner, v *Response) bool { return usagePtr(p, &v.Usage) }),
		jsonscan.Key("error", func(p *jsonscan.Scanner, v *Response) bool { return errorPtr(p, &v.Error) }),
		jsonscan.Key("incomplete_details", func(p *jsonscan.Scanner, v *Response) bool { return incompletePtr(p, &v.IncompleteDetails) }),
	)
	usageFields = jsonscan.NewFields(
		jsonscan.Key("input_tokens", func(p *jsonscan.Scanner, v *Usage) bool { return p.Int64(&v.InputTokens) }),
		jsonscan.Key("input_tokens_details", func(p *jsonscan.Scanner, v *Usage) bool {
			return jsonscan.Value(p, inputDetailsFields, &v.InputTokensDetails)
		}),
		jsonscan.Key("output_tokens", func(p *jsonscan.Scanner, v *Usage) bool { return p.Int64(&v.OutputTokens) }),
		jsonscan.Key("output_tokens_details", func(p *jsonscan.Scanner, v *Usage) bool {
			return jsonscan.Value(p, outputDetailsFields, &v.OutputTokensDetails)
		}),
		jsonscan.Key("total_tokens", func(p *jsonscan.Scanner, v *Usage) bool { return p.Int64(&v.TotalTokens) }),
	)
	inputDetailsFields = jsonscan.NewFields(
		jsonscan.Key("cached_tokens", func(p *jsonscan.Scanner, v *InputDetails) bool { return p.Int64(&v.CachedTokens) }),
	)
	outputDetailsFields = jsonscan.NewFields(
		jsonscan.Key("reasoning_tokens", func(p *jsonscan.Scanner, v *OutputDetails) bool { return p.Int64(&v.ReasoningTokens) }),
	)
	errorFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.String(&v.Type) }),
		jsonscan.Key("code", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.String(&v.Code) }),
		jsonscan.Key("message", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.String(&v.Message) }),
		jsonscan.Key("param", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.StringPtr(&v.Param) }),
		jsonscan.Key("plan_type", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.String(&v.PlanType) }),
		jsonscan.Key("resets_at", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.Int64(&v.ResetsAt) }),
		jsonscan.Key("resets_in_seconds", func(p *jsonscan.Scanner, v *ErrorBody) bool { return p.Int64(&v.ResetsInSeconds) }),
	)
	incompleteFields = jsonscan.NewFields(
		jsonscan.Key("reason", func(p *jsonscan.Scanner, v *IncompleteDetails) bool { return p.String(&v.Reason) }),
	)
)

// The pointer readers (functions, because the tables refer to each other).
func contentPtr(p *jsonscan.Scanner, dst **Content) bool {
	return jsonscan.Ptr(p, ContentFields, dst)
}
func responsePtr(p *jsonscan.Scanner, dst **Response) bool {
	return jsonscan.Ptr(p, responseFields, dst)
}
func usagePtr(p *jsonscan.Scanner, dst **Usage) bool { return jsonscan.Ptr(p, usageFields, dst) }
func errorPtr(p *jsonscan.Scanner, dst **ErrorBody) bool {
	return jsonscan.Ptr(p, errorFields, dst)
}
func incompletePtr(p *jsonscan.Scanner, dst **IncompleteDetails) bool {
	return jsonscan.Ptr(p, incompleteFields, dst)
}

// itemPtr reads an item object, or null.
func itemPtr(p *jsonscan.Scanner, dst **Item) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	if p.Peek() != '{' {
		return false // Item.UnmarshalJSON takes non-objects as an empty item
	}
	it := new(Item)
	*dst = it
	return item(p, it)
}

// item reads an item object with Item.UnmarshalJSON's rule: an item of an
// unknown type keeps its JSON in Raw.
func item(p *jsonscan.Scanner, it *Item) bool {
	start := p.Pos()
	if !itemFields.Read(p, it) {
		return false
	}
	if !Known(it.Type) {
		it.Raw = append(json.RawMessage(nil), p.Since(start)...)
	}
	return true
}

// items reads an array of items, or null.
func items(p *jsonscan.Scanner, dst *[]Item) bool {
	return jsonscan.Slice(p, dst, func(p *jsonscan.Scanner, it *Item) bool { return p.Peek() == '{' && item(p, it) })
}

// contents reads an array of content parts, or null.
func contents(p *jsonscan.Scanner, dst *[]Content) bool {
	return jsonscan.Slice(p, dst, ContentFields.Read)
}

// DecodeEventSkimming decodes data into ev as DecodeEvent does, except an
// event whose type skim accepts: of such an event only the type is read,
// and ev gets its Type and nothing else. The type must be the event's
// first key, as the backend writes it; otherwise the event is decoded in
// full. The rest of a skimmed event is not read, so not checked either
// (nor a second "type" key, which encoding/json would let win): its
// caller relays it as it came, as a byte relay would, and a client's JSON
// parser meets what the backend sent, where a decoder would have dropped
// an event it could not read and the client lost that text silently.
// The Responses dialect relays most events so: a delta costs it little
// more than a byte relay's copy.
func DecodeEventSkimming(data []byte, ev *Event, skim func(typ string) bool) error {
	if typ, ok := skimEvent(data, skim); ok {
		*ev = Event{Type: typ}
		return nil
	}
	return DecodeEvent(data, ev)
}

// skimEvent returns the type of the event data when it is the first key
// and skim accepts it.
func skimEvent(data []byte, skim func(typ string) bool) (typ string, ok bool) {
	var p jsonscan.Scanner
	p.Reset(data)
	p.WS()
	ok = p.FirstKey("type") && p.Peek() == '"' && p.InternString(&typ, eventTypes) && skim(typ)
	return typ, ok
}
