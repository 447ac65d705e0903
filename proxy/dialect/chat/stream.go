package chat

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Signal is the relay's signal for an event.
type Signal = relay.Signal

// The signals.
const (
	SigNone   = relay.SigNone
	SigOutput = relay.SigOutput
	SigDone   = relay.SigDone
)

// ReasoningMode says how reasoning summaries reach the client.
type ReasoningMode string

// The reasoning modes.
const (
	ReasoningContent ReasoningMode = "reasoning_content"
	ReasoningThink   ReasoningMode = "think"
	ReasoningOff     ReasoningMode = "off"
)

// StreamOptions steer the response translation.
type StreamOptions struct {
	Reasoning      ReasoningMode
	DropCommentary bool
	Now            func() time.Time
}

// withDefaults fills in the clock and the reasoning mode.
func (o StreamOptions) withDefaults() StreamOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Reasoning == "" {
		o.Reasoning = ReasoningContent
	}
	return o
}

type itemState struct {
	typ        string
	style      CallStyle // of a custom tool call
	skip       bool
	started    bool
	toolIdx    int
	argsSent   bool
	hasText    bool
	lastSumIdx int
	hasReason  bool
}

// Translator turns Codex SSE events into Chat Completions chunks. It is not
// safe for concurrent use; one Translator serves one request.
type Translator struct {
	plan      *Plan
	opts      StreamOptions
	tail, end string // chunkTail and chunkEnd, or their usage forms

	id       string
	created  int64
	model    string // the model the backend says answered
	prefix   []byte
	roleSent bool

	items      map[int]*itemState // by output_index, which upstream controls
	lastText   int
	lastReason int
	reasonOut  bool
	thinkOpen  bool
	tools      int
}

// NewTranslator returns a Translator for plan.
func NewTranslator(plan *Plan, opts StreamOptions) *Translator {
	t := &Translator{plan: plan, opts: opts.withDefaults(), lastText: -1, lastReason: -1, tail: chunkTail, end: chunkEnd}
	if plan.IncludeUsage {
		t.tail, t.end = chunkTailUsage, chunkEndUsage
	}
	return t
}

// ID returns the chat.completion id (known after response.created).
func (t *Translator) ID() string { return t.id }

func (t *Translator) item(i int) *itemState {
	if i < 0 {
		i = 0
	}
	st := t.items[i]
	if st == nil {
		if t.items == nil {
			t.items = map[int]*itemState{}
		}
		st = &itemState{toolIdx: -1, lastSumIdx: -1}
		t.items[i] = st
	}
	return st
}

func (t *Translator) setResponse(r *codex.Response) {
	if r == nil || t.id != "" {
		return
	}
	if r.ID != "" {
		t.id = "chatcmpl-" + strings.TrimPrefix(r.ID, "resp_")
	}
	t.created = r.CreatedAt
	t.model = r.Model
}

// modelName is the model that answers: the one the backend names in its
// response (it may route a request to another model), else the one asked.
func (t *Translator) modelName() string {
	if t.model != "" {
		return t.model
	}
	return t.plan.Model
}

func (t *Translator) ensurePrefix() {
	if t.prefix != nil {
		return
	}
	if t.id == "" {
		t.id = "chatcmpl-" + strconv.FormatInt(t.opts.Now().UnixNano(), 36)
	}
	if t.created == 0 {
		t.created = t.opts.Now().Unix()
	}
	b := make([]byte, 0, 128)
	b = append(b, `data: {"id":`...)
	b = codex.AppendString(b, t.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, t.created, 10)
	b = append(b, `,"model":`...)
	b = codex.AppendString(b, t.modelName())
	b = append(b, `,"system_fingerprint":null,"choices":[{"index":0,"delta":`...)
	t.prefix = b
}

// chunkEnd closes a chunk after its choice, chunkTail a content chunk
// (its choice not finished); their usage forms close them when the client
// asked for usage (stream_options.include_usage): then, as at OpenAI,
// every chunk carries "usage", null until the last one.
const (
	chunkEnd       = "}]}\n\n"
	chunkEndUsage  = `}],"usage":null}` + "\n\n"
	chunkTail      = `,"logprobs":null,"finish_reason":null` + chunkEnd
	chunkTailUsage = `,"logprobs":null,"finish_reason":null` + chunkEndUsage
)

func (t *Translator) content(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	dst = t.roleOnly(dst)
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"content":`...)
	dst = codex.AppendString(dst, s)
	dst = append(dst, '}')
	return append(dst, t.tail...)
}

func (t *Translator) closeThink(dst []byte) []byte {
	if t.thinkOpen {
		t.thinkOpen = false
		dst = t.content(dst, "</think>\n\n")
	}
	return dst
}

func (t *Translator) reasoning(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	if t.opts.Reasoning == ReasoningThink {
		if !t.thinkOpen {
			t.thinkOpen = true
			s = "<think>" + s
		}
		return t.content(dst, s)
	}
	dst = t.roleOnly(dst)
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"reasoning_content":`...)
	dst = codex.AppendString(dst, s)
	dst = append(dst, '}')
	return append(dst, t.tail...)
}

// roleOnly appends the role chunk if it was not sent yet.
func (t *Translator) roleOnly(dst []byte) []byte {
	t.ensurePrefix()
	if t.roleSent {
		return dst
	}
	t.roleSent = true
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"role":"assistant","content":""}`...)
	return append(dst, t.tail...)
}

func (t *Translator) toolStart(dst []byte, idx int, id, name string, style CallStyle) []byte {
	dst = t.closeThink(dst)
	dst = t.roleOnly(dst)
	if orig, ok := t.plan.ToolNames[name]; ok {
		name = orig
	}
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(idx), 10)
	dst = append(dst, `,"id":`...)
	dst = codex.AppendString(dst, id)
	if style == StyleCustom {
		dst = append(dst, `,"type":"custom","custom":{"name":`...)
		dst = codex.AppendString(dst, name)
		dst = append(dst, `,"input":""}}]}`...)
	} else {
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = codex.AppendString(dst, name)
		dst = append(dst, `,"arguments":""}}]}`...)
	}
	return append(dst, t.tail...)
}

// toolArgs appends a chunk with more arguments of a function call, or
// more raw input of a custom tool call (in the function envelope or the
// custom shape, see CallStyle).
func (t *Translator) toolArgs(dst []byte, idx int, args string, style CallStyle) []byte {
	if args == "" {
		return dst
	}
	dst = t.roleOnly(dst)
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(idx), 10)
	if style == StyleCustom {
		dst = append(dst, `,"custom":{"input":`...)
	} else {
		dst = append(dst, `,"function":{"arguments":`...)
	}
	dst = codex.AppendString(dst, args)
	dst = append(dst, `}}]}`...)
	return append(dst, t.tail...)
}

func (t *Translator) text(dst []byte, idx int, s string) []byte {
	st := t.item(idx)
	if st.skip || s == "" {
		return dst
	}
	dst = t.closeThink(dst)
	if !st.hasText && t.lastText >= 0 && t.lastText != idx {
		s = "\n\n" + s
	}
	st.hasText = true
	t.lastText = idx
	return t.content(dst, s)
}

func (t *Translator) reason(dst []byte, idx, sumIdx int, s string) []byte {
	if t.opts.Reasoning == ReasoningOff || s == "" {
		return dst
	}
	st := t.item(idx)
	if t.reasonOut && (t.lastReason != idx || st.lastSumIdx != sumIdx) {
		s = "\n\n" + s
	}
	st.lastSumIdx = sumIdx
	st.hasReason = true
	t.lastReason = idx
	t.reasonOut = true
	return t.reasoning(dst, s)
}

func (t *Translator) startTool(dst []byte, idx int, it *codex.Item) []byte {
	st := t.item(idx)
	if st.started {
		return dst
	}
	st.started = true
	st.typ = it.Type
	st.style = StyleEnvelope
	if it.Type == codex.ItemCustomToolCall {
		st.style = t.plan.Custom[it.Name]
	}
	st.toolIdx = t.tools
	t.tools++
	return t.toolStart(dst, st.toolIdx, it.CallID, it.Name, st.style)
}

// callArgs returns the arguments of a function call item or the raw input
// of a custom tool call item.
func callArgs(it *codex.Item) string {
	if it.Type == codex.ItemCustomToolCall {
		return it.Input
	}
	return it.Arguments
}

// Feed translates one upstream event and appends the resulting SSE frames
// to dst. A failure is returned as *relay.Failure.
func (t *Translator) Feed(dst []byte, ev *codex.Event) ([]byte, Signal, error) {
	switch ev.Type {
	case "response.created", "response.in_progress":
		t.setResponse(ev.Response)
		return dst, SigNone, nil
	case "response.output_item.added":
		if ev.Item == nil {
			return dst, SigNone, nil
		}
		st := t.item(ev.OutputIndex)
		st.typ = ev.Item.Type
		switch ev.Item.Type {
		case "message":
			st.skip = t.opts.DropCommentary && ev.Item.Phase == "commentary"
		case "function_call", "custom_tool_call":
			dst = t.startTool(dst, ev.OutputIndex, ev.Item)
		}
		return dst, SigOutput, nil
	case "response.output_text.delta", "response.refusal.delta":
		return t.text(dst, ev.OutputIndex, ev.Delta), SigOutput, nil
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		return t.reason(dst, ev.OutputIndex, ev.SummaryIndex, ev.Delta), SigOutput, nil
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		st := t.item(ev.OutputIndex)
		if st.toolIdx < 0 {
			return dst, SigOutput, nil
		}
		st.argsSent = st.argsSent || ev.Delta != ""
		return t.toolArgs(dst, st.toolIdx, ev.Delta, st.style), SigOutput, nil
	case "response.function_call_arguments.done", "response.custom_tool_call_input.done":
		st := t.item(ev.OutputIndex)
		args := ev.Arguments
		if ev.Type == codex.EventCustomInputDone {
			args = ev.Input
		}
		if st.toolIdx >= 0 && !st.argsSent && args != "" {
			st.argsSent = true
			dst = t.toolArgs(dst, st.toolIdx, args, st.style)
		}
		return dst, SigOutput, nil
	case "response.output_item.done":
		return t.itemDone(dst, ev)
	case "response.completed":
		dst = t.fromCompletedOutput(dst, ev.Response)
		return t.finish(dst, ev.Response, "")
	case "response.incomplete":
		reason, f := finishReason(ev.Response)
		if f != nil {
			return dst, SigNone, f
		}
		return t.finish(dst, ev.Response, reason)
	case "response.failed", "error":
		return dst, SigNone, relay.EventFailure(ev, t.opts.Now())
	}
	return dst, SigNone, nil
}

// fromCompletedOutput emits the completed envelope's output items when the
// stream carried no item events at all (this backend normally sends them
// and leaves the envelope empty; another may do the opposite).
func (t *Translator) fromCompletedOutput(dst []byte, r *codex.Response) []byte {
	if r == nil || len(r.Output) == 0 || len(t.items) > 0 {
		return dst
	}
	for i := range r.Output {
		it := &r.Output[i]
		switch it.Type {
		case "function_call", "custom_tool_call":
			dst = t.startTool(dst, i, it)
			st := t.item(i)
			st.argsSent = true
			dst = t.toolArgs(dst, st.toolIdx, callArgs(it), st.style)
		case "message":
			if !(t.opts.DropCommentary && it.Phase == "commentary") {
				dst = t.text(dst, i, messageText(it))
			}
		case "reasoning":
			for j, s := range it.Summary {
				dst = t.reason(dst, i, j, s.Text)
			}
		}
	}
	return dst
}

func (t *Translator) finish(dst []byte, r *codex.Response, reason string) ([]byte, Signal, error) {
	t.setResponse(r)
	dst = t.closeThink(dst)
	dst = t.roleOnly(dst)
	if reason == "" {
		reason = "stop"
		if t.tools > 0 {
			reason = "tool_calls"
		}
	}
	dst = append(dst, t.prefix...)
	dst = append(dst, `{},"logprobs":null,"finish_reason":`...)
	dst = codex.AppendString(dst, reason)
	dst = append(dst, t.end...)
	if t.plan.IncludeUsage {
		u := mapUsage(r)
		dst = append(dst, `data: {"id":`...)
		dst = codex.AppendString(dst, t.id)
		dst = append(dst, `,"object":"chat.completion.chunk","created":`...)
		dst = strconv.AppendInt(dst, t.created, 10)
		dst = append(dst, `,"model":`...)
		dst = codex.AppendString(dst, t.modelName())
		dst = append(dst, `,"system_fingerprint":null,"choices":[],"usage":`...)
		dst = appendUsage(dst, u)
		dst = append(dst, "}\n\n"...)
	}
	return dst, SigDone, nil
}

// ErrorChunk is the in-band error frame sent when a stream fails after
// output started.
func ErrorChunk(dst []byte, e *apierr.Error) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, e.Body()...)
	return append(dst, "\n\n"...)
}

// Done is the stream terminator.
const Done = "data: [DONE]\n\n"

func messageText(it *codex.Item) string {
	var sb strings.Builder
	for _, c := range it.Content {
		switch c.Type {
		case "output_text", "text":
			sb.WriteString(c.Text)
		case "refusal":
			sb.WriteString(c.Refusal)
		}
	}
	return sb.String()
}

func mapUsage(r *codex.Response) Usage {
	var u Usage
	if r == nil || r.Usage == nil {
		return u
	}
	u.PromptTokens = r.Usage.InputTokens
	u.CompletionTokens = r.Usage.OutputTokens
	u.TotalTokens = r.Usage.TotalTokens
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	u.PromptTokensDetails.CachedTokens = r.Usage.InputTokensDetails.CachedTokens
	u.CompletionTokensDetails.ReasoningTokens = r.Usage.OutputTokensDetails.ReasoningTokens
	return u
}

func appendUsage(dst []byte, u Usage) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, u.PromptTokens, 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, u.CompletionTokens, 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, u.TotalTokens, 10)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, u.PromptTokensDetails.CachedTokens, 10)
	dst = append(dst, `},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = strconv.AppendInt(dst, u.CompletionTokensDetails.ReasoningTokens, 10)
	return append(dst, `}}`...)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// finishReason maps a response.incomplete to its finish_reason, or to a
// Failure when the reason is not one a client can act on.
func finishReason(r *codex.Response) (string, *relay.Failure) {
	reason, f := relay.Incomplete(r)
	if reason == "max_output_tokens" {
		reason = "length"
	}
	return reason, f
}

// Fail appends the in-band error frame that ends a failed stream.
func (t *Translator) Fail(dst []byte, e *apierr.Error) []byte {
	return ErrorChunk(dst, e)
}

// itemDone emits what a finished item carries that its deltas did not.
func (t *Translator) itemDone(dst []byte, ev *codex.Event) ([]byte, Signal, error) {
	it := ev.Item
	if it == nil {
		return dst, SigNone, nil
	}
	st := t.item(ev.OutputIndex)
	switch it.Type {
	case "function_call", "custom_tool_call":
		dst = t.startTool(dst, ev.OutputIndex, it)
		if args := callArgs(it); !st.argsSent && args != "" {
			st.argsSent = true
			dst = t.toolArgs(dst, st.toolIdx, args, st.style)
		}
	case "message":
		if st.typ == "" {
			st.skip = t.opts.DropCommentary && it.Phase == "commentary"
		}
		if !st.hasText {
			dst = t.text(dst, ev.OutputIndex, messageText(it))
		}
	case "reasoning":
		if !st.hasReason {
			for i, s := range it.Summary {
				dst = t.reason(dst, ev.OutputIndex, i, s.Text)
			}
		}
	}
	st.typ = it.Type
	return dst, SigOutput, nil
}
