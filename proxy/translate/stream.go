package translate

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/openai"
)

// Signal tells the caller what an upstream event meant.
type Signal int

// The signals.
const (
	// SigNone: bookkeeping only (created, in_progress, unknown events).
	SigNone Signal = iota
	// SigOutput: the model started producing output; from here on an
	// upstream failure can no longer become an HTTP error.
	SigOutput
	// SigDone: the response completed; the final chunks were written.
	SigDone
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
	plan *Plan
	opts StreamOptions

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
	ev         event
}

// NewTranslator returns a Translator for plan.
func NewTranslator(plan *Plan, opts StreamOptions) *Translator {
	return &Translator{plan: plan, opts: opts.withDefaults(), lastText: -1, lastReason: -1}
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

func (t *Translator) setResponse(r *response) {
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
	b = appendString(b, t.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, t.created, 10)
	b = append(b, `,"model":`...)
	b = appendString(b, t.modelName())
	b = append(b, `,"system_fingerprint":null,"choices":[{"index":0,"delta":`...)
	t.prefix = b
}

// chunkTail closes a content chunk.
const chunkTail = `,"logprobs":null,"finish_reason":null}]}` + "\n\n"

func (t *Translator) content(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	dst = t.roleOnly(dst)
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"content":`...)
	dst = appendString(dst, s)
	dst = append(dst, '}')
	return append(dst, chunkTail...)
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
	dst = appendString(dst, s)
	dst = append(dst, '}')
	return append(dst, chunkTail...)
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
	return append(dst, chunkTail...)
}

func (t *Translator) toolStart(dst []byte, idx int, id, name string) []byte {
	dst = t.closeThink(dst)
	dst = t.roleOnly(dst)
	if orig, ok := t.plan.ToolNames[name]; ok {
		name = orig
	}
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(idx), 10)
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"type":"function","function":{"name":`...)
	dst = appendString(dst, name)
	dst = append(dst, `,"arguments":""}}]}`...)
	return append(dst, chunkTail...)
}

func (t *Translator) toolArgs(dst []byte, idx int, args string) []byte {
	if args == "" {
		return dst
	}
	dst = t.roleOnly(dst)
	dst = append(dst, t.prefix...)
	dst = append(dst, `{"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(idx), 10)
	dst = append(dst, `,"function":{"arguments":`...)
	dst = appendString(dst, args)
	dst = append(dst, `}}]}`...)
	return append(dst, chunkTail...)
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

func (t *Translator) startTool(dst []byte, idx int, it *item) []byte {
	st := t.item(idx)
	if st.started {
		return dst
	}
	st.started = true
	st.typ = "function_call"
	st.toolIdx = t.tools
	t.tools++
	return t.toolStart(dst, st.toolIdx, it.CallID, it.Name)
}

// Feed translates one upstream event (the SSE data) and appends the
// resulting SSE frames to dst. A failure is returned as *Failure.
func (t *Translator) Feed(dst []byte, data []byte) ([]byte, Signal, error) {
	ev := &t.ev
	if err := decode(data, ev); err != nil {
		return dst, SigNone, nil // the Codex CLI skips frames it cannot parse
	}
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
		case "function_call":
			dst = t.startTool(dst, ev.OutputIndex, ev.Item)
		}
		return dst, SigOutput, nil
	case "response.output_text.delta", "response.refusal.delta":
		return t.text(dst, ev.OutputIndex, ev.Delta), SigOutput, nil
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		return t.reason(dst, ev.OutputIndex, ev.SummaryIndex, ev.Delta), SigOutput, nil
	case "response.function_call_arguments.delta":
		st := t.item(ev.OutputIndex)
		if st.toolIdx < 0 {
			return dst, SigOutput, nil
		}
		st.argsSent = st.argsSent || ev.Delta != ""
		return t.toolArgs(dst, st.toolIdx, ev.Delta), SigOutput, nil
	case "response.function_call_arguments.done":
		st := t.item(ev.OutputIndex)
		if st.toolIdx >= 0 && !st.argsSent && ev.Arguments != "" {
			st.argsSent = true
			dst = t.toolArgs(dst, st.toolIdx, ev.Arguments)
		}
		return dst, SigOutput, nil
	case "response.output_item.done":
		it := ev.Item
		if it == nil {
			return dst, SigNone, nil
		}
		st := t.item(ev.OutputIndex)
		switch it.Type {
		case "function_call":
			dst = t.startTool(dst, ev.OutputIndex, it)
			if !st.argsSent && it.Arguments != "" {
				st.argsSent = true
				dst = t.toolArgs(dst, st.toolIdx, it.Arguments)
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
	case "response.completed":
		dst = t.fromCompletedOutput(dst, ev.Response)
		return t.finish(dst, ev.Response, "")
	case "response.incomplete":
		reason, f := incompleteFinish(ev.Response)
		if f != nil {
			return dst, SigNone, f
		}
		return t.finish(dst, ev.Response, reason)
	case "response.failed", "error":
		return dst, SigNone, failure(ev, t.opts.Now())
	}
	return dst, SigNone, nil
}

// fromCompletedOutput emits the completed envelope's output items when the
// stream carried no item events at all (this backend normally sends them
// and leaves the envelope empty; another may do the opposite).
func (t *Translator) fromCompletedOutput(dst []byte, r *response) []byte {
	if r == nil || len(r.Output) == 0 || len(t.items) > 0 {
		return dst
	}
	for i := range r.Output {
		it := &r.Output[i]
		switch it.Type {
		case "function_call":
			dst = t.startTool(dst, i, it)
			st := t.item(i)
			st.argsSent = true
			dst = t.toolArgs(dst, st.toolIdx, it.Arguments)
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

func (t *Translator) finish(dst []byte, r *response, reason string) ([]byte, Signal, error) {
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
	dst = appendString(dst, reason)
	dst = append(dst, "}]}\n\n"...)
	if t.plan.IncludeUsage {
		u := mapUsage(r)
		dst = append(dst, `data: {"id":`...)
		dst = appendString(dst, t.id)
		dst = append(dst, `,"object":"chat.completion.chunk","created":`...)
		dst = strconv.AppendInt(dst, t.created, 10)
		dst = append(dst, `,"model":`...)
		dst = appendString(dst, t.modelName())
		dst = append(dst, `,"system_fingerprint":null,"choices":[],"usage":`...)
		dst = appendUsage(dst, u)
		dst = append(dst, "}\n\n"...)
	}
	return dst, SigDone, nil
}

// ErrorChunk is the in-band error frame sent when a stream fails after
// output started.
func ErrorChunk(dst []byte, e *openai.Error) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, e.Body()...)
	return append(dst, "\n\n"...)
}

// Done is the stream terminator.
const Done = "data: [DONE]\n\n"

func messageText(it *item) string {
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

func mapUsage(r *response) openai.Usage {
	var u openai.Usage
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

func appendUsage(dst []byte, u openai.Usage) []byte {
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

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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
