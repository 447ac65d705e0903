package codex

import "encoding/json"

// Event types the translation acts on.
const (
	EventCreated             = "response.created"
	EventInProgress          = "response.in_progress"
	EventCompleted           = "response.completed"
	EventIncomplete          = "response.incomplete"
	EventFailed              = "response.failed"
	EventError               = "error"
	EventItemAdded           = "response.output_item.added"
	EventItemDone            = "response.output_item.done"
	EventPartAdded           = "response.content_part.added"
	EventPartDone            = "response.content_part.done"
	EventTextDelta           = "response.output_text.delta"
	EventTextDone            = "response.output_text.done"
	EventRefusalDelta        = "response.refusal.delta"
	EventRefusalDone         = "response.refusal.done"
	EventArgsDelta           = "response.function_call_arguments.delta"
	EventArgsDone            = "response.function_call_arguments.done"
	EventCustomInputDelta    = "response.custom_tool_call_input.delta"
	EventCustomInputDone     = "response.custom_tool_call_input.done"
	EventSummaryPartAdded    = "response.reasoning_summary_part.added"
	EventSummaryPartDone     = "response.reasoning_summary_part.done"
	EventSummaryDelta        = "response.reasoning_summary_text.delta"
	EventSummaryDone         = "response.reasoning_summary_text.done"
	EventReasoningTextDelta  = "response.reasoning_text.delta"
	EventReasoningTextDone   = "response.reasoning_text.done"
	EventRateLimitsUpdated   = "codex.rate_limits"
	EventOutputTextAnnotated = "response.output_text.annotation.added"
)

// Event is one decoded server-sent event of the upstream stream. Only the
// fields some translation needs are decoded.
type Event struct {
	Type           string    `json:"type"`
	SequenceNumber int64     `json:"sequence_number"`
	Delta          string    `json:"delta"`
	ItemID         string    `json:"item_id"`
	OutputIndex    int       `json:"output_index"`
	ContentIndex   int       `json:"content_index"`
	SummaryIndex   int       `json:"summary_index"`
	Text           string    `json:"text"`
	Arguments      string    `json:"arguments"`
	Input          string    `json:"input"`
	Item           *Item     `json:"item"`
	Part           *Content  `json:"part"`
	Response       *Response `json:"response"`
	// Top-level error events carry their fields either flat,
	// {"type":"error","code","message",…} (the embedded ErrorBody; its own
	// "type" is shadowed by the event's), or nested, {"type":"error","error":{…}}.
	ErrorBody
	Error *ErrorBody `json:"error"`
	// Raw is the event's JSON as it came, set by the relay; it aliases the
	// stream's buffer and is valid only until the next event is read.
	Raw []byte `json:"-"`
}

// Response is the response object of created, completed, incomplete and
// failed events.
type Response struct {
	ID                string             `json:"id"`
	Object            string             `json:"object,omitempty"`
	CreatedAt         int64              `json:"created_at"`
	Status            string             `json:"status"`
	Model             string             `json:"model"`
	Output            []Item             `json:"output"`
	Usage             *Usage             `json:"usage"`
	Error             *ErrorBody         `json:"error"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
}

// IncompleteDetails says why a response is incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// Usage is the token usage of a response.
type Usage struct {
	InputTokens         int64         `json:"input_tokens"`
	InputTokensDetails  InputDetails  `json:"input_tokens_details"`
	OutputTokens        int64         `json:"output_tokens"`
	OutputTokensDetails OutputDetails `json:"output_tokens_details"`
	TotalTokens         int64         `json:"total_tokens"`
}

// InputDetails breaks down input tokens.
type InputDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
}

// OutputDetails breaks down output tokens.
type OutputDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// ErrorBody is the error of a failed response or an error event, and the
// error object of the backend's non-2xx answers.
type ErrorBody struct {
	Type            string  `json:"type"`
	Code            string  `json:"code"`
	Message         string  `json:"message"`
	Param           *string `json:"param"`
	PlanType        string  `json:"plan_type"`
	ResetsAt        int64   `json:"resets_at"`
	ResetsInSeconds int64   `json:"resets_in_seconds"`
}

// DecodeEvent decodes one event's data into ev, as encoding/json would.
// Events go through a decoder without reflection (decode.go); the rare
// event it declines goes through encoding/json.
func DecodeEvent(data []byte, ev *Event) error {
	prevItem := ev.ItemID
	*ev = Event{}
	if decodeEvent(data, ev, prevItem) {
		return nil
	}
	*ev = Event{}
	return json.Unmarshal(data, ev)
}

// Err returns the error an error or response.failed event carries.
func (ev *Event) Err() *ErrorBody {
	switch {
	case ev.Type == EventFailed:
		if ev.Response != nil && ev.Response.Error != nil {
			return ev.Response.Error
		}
		return &ErrorBody{Code: "upstream_error", Message: "the response failed"}
	case ev.Error != nil:
		return ev.Error
	}
	return &ev.ErrorBody
}

// Terminal reports whether the event ends a response.
func (ev *Event) Terminal() bool {
	switch ev.Type {
	case EventCompleted, EventIncomplete, EventFailed, EventError:
		return true
	}
	return false
}
