package codextest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Item is one output item of a scripted reply: build it with Text,
// Commentary, Reasoning, Call, CallID, CustomCall or CustomCallID.
type Item struct {
	kind      string // "message", "reasoning", "function_call" or "custom_tool_call"
	text      string
	phase     string
	summaries []string
	encrypted string
	noEnc     bool
	name      string
	args      string
	callID    string
}

// Text is an assistant message item with phase "final_answer".
func Text(s string) Item { return Item{kind: "message", text: s, phase: "final_answer"} }

// Commentary is an assistant message item with phase "commentary"
// (interim narration such as "I'll check the file…").
func Commentary(s string) Item { return Item{kind: "message", text: s, phase: "commentary"} }

// Reasoning is a reasoning item with one summary part per argument (none
// is fine) and a generated encrypted_content.
func Reasoning(summaries ...string) Item {
	return Item{kind: "reasoning", summaries: append([]string(nil), summaries...)}
}

// Call is a function_call item with a generated call_id; args is the JSON
// arguments string.
func Call(name, args string) Item { return Item{kind: "function_call", name: name, args: args} }

// CallID is a function_call item with the given call_id.
func CallID(id, name, args string) Item {
	return Item{kind: "function_call", name: name, args: args, callID: id}
}

// CustomCall is a custom_tool_call item with a generated call_id; input is
// the raw text input (a patch, say), streamed with
// response.custom_tool_call_input.delta/done.
func CustomCall(name, input string) Item {
	return Item{kind: "custom_tool_call", name: name, args: input}
}

// CustomCallID is a custom_tool_call item with the given call_id.
func CustomCallID(id, name, input string) Item {
	return Item{kind: "custom_tool_call", name: name, args: input, callID: id}
}

// WithPhase returns a copy of a message item with phase p ("" leaves the
// field out, like older models).
func (it Item) WithPhase(p string) Item { it.phase = p; return it }

// WithEncryptedContent returns a copy of a reasoning item whose
// encrypted_content is enc ("" leaves the field out).
func (it Item) WithEncryptedContent(enc string) Item {
	it.encrypted, it.noEnc = enc, enc == ""
	return it
}

// TokenUsage is the usage block of response.completed / incomplete.
type TokenUsage struct {
	InputTokens     int
	CachedTokens    int
	OutputTokens    int
	ReasoningTokens int
}

// Usage builds a TokenUsage; total_tokens is input + output.
func Usage(input, cached, output, reasoning int) TokenUsage {
	return TokenUsage{InputTokens: input, CachedTokens: cached, OutputTokens: output, ReasoningTokens: reasoning}
}

func (u TokenUsage) wire() map[string]any {
	return map[string]any{
		"input_tokens":          u.InputTokens,
		"input_tokens_details":  map[string]any{"cached_tokens": u.CachedTokens},
		"output_tokens":         u.OutputTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": u.ReasoningTokens},
		"total_tokens":          u.InputTokens + u.OutputTokens,
	}
}

// Stream writes one SSE answer of /codex/responses. Behaviors written
// outside this package can use it to script unusual sequences.
type Stream struct {
	w          http.ResponseWriter
	rc         *http.ResponseController
	req        *ResponsesRequest
	seq        int
	respID     string
	createdAt  int64
	model      string
	delay      time.Duration
	nextIndex  int
	done       []map[string]any
	outputToks int
	reasonToks int
	started    bool
}

// NewStream prepares an SSE answer for req. Headers may still be changed
// until the first event is written.
func NewStream(w http.ResponseWriter, req *ResponsesRequest) *Stream {
	st := &Stream{w: w, rc: http.NewResponseController(w), req: req, model: req.Model}
	if s := req.srv; s != nil {
		st.respID = s.nextID("resp_", 48)
		st.createdAt = s.now().Unix()
		s.mu.Lock()
		st.delay = s.eventDelay
		s.mu.Unlock()
	} else {
		st.respID = "resp_codextest"
		st.createdAt = time.Now().Unix()
	}
	return st
}

// SetModel changes the model reported in the envelope and in the
// openai-model header (for example to simulate safety routing).
func (st *Stream) SetModel(slug string) {
	st.model = slug
	st.w.Header().Set("openai-model", slug)
}

// ResponseID returns the resp_… id of the stream.
func (st *Stream) ResponseID() string { return st.respID }

func (st *Stream) start() {
	if st.started {
		return
	}
	st.started = true
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("x-reasoning-included", "true")
	st.w.WriteHeader(http.StatusOK)
}

// Event writes one SSE event of type typ; fields are added after "type"
// and "sequence_number". It returns the write error, if any (a gone client).
func (st *Stream) Event(typ string, fields map[string]any) error {
	st.start()
	if st.seq > 0 && st.delay > 0 {
		st.req.sleep(st.delay)
	}
	var buf bytes.Buffer
	tb, _ := json.Marshal(typ)
	fmt.Fprintf(&buf, "event: %s\ndata: {\"type\":%s,\"sequence_number\":%d", typ, tb, st.seq)
	st.seq++
	if len(fields) > 0 {
		rest, err := json.Marshal(fields)
		if err != nil {
			return fmt.Errorf("marshal %s event: %w", typ, err)
		}
		buf.WriteByte(',')
		buf.Write(rest[1:])
	} else {
		buf.WriteByte('}')
	}
	buf.WriteString("\n\n")
	if _, err := st.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write %s event: %w", typ, err)
	}
	if err := st.rc.Flush(); err != nil {
		return fmt.Errorf("flush %s event: %w", typ, err)
	}
	return nil
}

// Envelope returns the "response" object with the given status and an
// empty output.
func (st *Stream) Envelope(status string) map[string]any {
	req := st.req
	reasoning := map[string]any{"effort": nil, "summary": nil}
	if req.ReasoningEffort != "" {
		reasoning["effort"] = req.ReasoningEffort
	} else if req.HasReasoning {
		reasoning["effort"] = req.Catalog.DefaultReasoningLevel
	}
	if req.ReasoningSummary != "" {
		reasoning["summary"] = req.ReasoningSummary
	}
	text := map[string]any{"format": map[string]any{"type": "text"}, "verbosity": "medium"}
	if req.TextFormat != nil {
		text["format"] = req.TextFormat
	}
	if req.Verbosity != "" {
		text["verbosity"] = req.Verbosity
	}
	tools := []any{}
	for _, t := range req.Tools {
		tools = append(tools, t)
	}
	toolChoice := req.ToolChoice
	if toolChoice == nil {
		toolChoice = "auto"
	}
	tier := req.ServiceTier
	if tier == "" {
		tier = "auto"
	}
	var cacheKey any
	if req.PromptCacheKey != "" {
		cacheKey = req.PromptCacheKey
	}
	return map[string]any{
		"id":                   st.respID,
		"object":               "response",
		"created_at":           st.createdAt,
		"status":               status,
		"background":           false,
		"error":                nil,
		"incomplete_details":   nil,
		"instructions":         req.Instructions,
		"max_output_tokens":    nil,
		"model":                st.model,
		"output":               []any{},
		"parallel_tool_calls":  req.ParallelToolCalls,
		"previous_response_id": nil,
		"prompt_cache_key":     cacheKey,
		"reasoning":            reasoning,
		"service_tier":         tier,
		"store":                false,
		"text":                 text,
		"tool_choice":          toolChoice,
		"tools":                tools,
		"usage":                nil,
		"metadata":             map[string]any{},
	}
}

// Created writes response.created.
func (st *Stream) Created() error {
	return st.Event("response.created", map[string]any{"response": st.Envelope("in_progress")})
}

// InProgress writes response.in_progress.
func (st *Stream) InProgress() error {
	return st.Event("response.in_progress", map[string]any{"response": st.Envelope("in_progress")})
}

// Begin writes response.created and response.in_progress.
func (st *Stream) Begin() error {
	if err := st.Created(); err != nil {
		return err
	}
	return st.InProgress()
}

// splitChunks splits s into up to four non-empty pieces on rune
// boundaries, so that every delta stream has several deltas.
func splitChunks(s string) []string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return nil
	}
	parts := 4
	if n < parts {
		parts = n
	}
	size := (n + parts - 1) / parts
	var out []string
	runes := []rune(s)
	for i := 0; i < n; i += size {
		end := min(i+size, n)
		out = append(out, string(runes[i:end]))
	}
	return out
}

func approxTokens(s string) int { return (len(s) + 3) / 4 }

func (st *Stream) id(prefix string) string {
	if st.req.srv != nil {
		return st.req.srv.nextID(prefix, 48)
	}
	return prefix + fmt.Sprint(st.nextIndex)
}

func (st *Stream) encrypted(it Item) string {
	if it.noEnc {
		return ""
	}
	if it.encrypted != "" {
		return it.encrypted
	}
	blob := "codextest:" + st.respID + ":" + strings.Join(it.summaries, "|")
	return "gAAAAAB" + base64.StdEncoding.EncodeToString([]byte(blob))
}

// Item writes the full event sequence of one output item.
func (st *Stream) Item(it Item) error {
	_, err := st.item(it, -1)
	return err
}

// PartialText writes the start of an assistant message (output_item.added,
// content_part.added and text deltas) without any .done event.
func (st *Stream) PartialText(text string) error {
	_, err := st.item(Text(text), 0)
	return err
}

// item writes it; when partial >= 0 it stops after the deltas.
func (st *Stream) item(it Item, partial int) (map[string]any, error) {
	idx := st.nextIndex
	st.nextIndex++
	var done map[string]any
	switch it.kind {
	case "message":
		id := st.id("msg_")
		added := map[string]any{"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []any{}}
		if it.phase != "" {
			added["phase"] = it.phase
		}
		if err := st.Event("response.output_item.added", map[string]any{"output_index": idx, "item": added}); err != nil {
			return nil, err
		}
		base := map[string]any{"item_id": id, "output_index": idx, "content_index": 0}
		with := func(k string, v any) map[string]any {
			m := map[string]any{k: v}
			for bk, bv := range base {
				m[bk] = bv
			}
			return m
		}
		if err := st.Event("response.content_part.added", with("part", map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": ""})); err != nil {
			return nil, err
		}
		for _, c := range splitChunks(it.text) {
			ev := with("delta", c)
			ev["logprobs"] = []any{}
			if err := st.Event("response.output_text.delta", ev); err != nil {
				return nil, err
			}
		}
		st.outputToks += approxTokens(it.text)
		if partial >= 0 {
			return nil, nil
		}
		ev := with("text", it.text)
		ev["logprobs"] = []any{}
		if err := st.Event("response.output_text.done", ev); err != nil {
			return nil, err
		}
		part := map[string]any{"type": "output_text", "annotations": []any{}, "logprobs": []any{}, "text": it.text}
		if err := st.Event("response.content_part.done", with("part", part)); err != nil {
			return nil, err
		}
		done = map[string]any{"id": id, "type": "message", "status": "completed", "role": "assistant", "content": []any{part}}
		if it.phase != "" {
			done["phase"] = it.phase
		}
	case "reasoning":
		var err error
		if done, err = st.reasoning(it, idx); err != nil {
			return nil, err
		}
	case "function_call", "custom_tool_call":
		var err error
		if done, err = st.toolCall(it, idx, partial); done == nil || err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown item kind %q", it.kind)
	}
	if err := st.Event("response.output_item.done", map[string]any{"output_index": idx, "item": done}); err != nil {
		return nil, err
	}
	st.done = append(st.done, done)
	return done, nil
}

// reasoning writes the events of a reasoning item up to (not including)
// output_item.done and returns the done item.
func (st *Stream) reasoning(it Item, idx int) (map[string]any, error) {
	id := st.id("rs_")
	if err := st.Event("response.output_item.added", map[string]any{"output_index": idx,
		"item": map[string]any{"id": id, "type": "reasoning", "summary": []any{}}}); err != nil {
		return nil, err
	}
	summary := []any{}
	for si, text := range it.summaries {
		base := func() map[string]any {
			return map[string]any{"item_id": id, "output_index": idx, "summary_index": si}
		}
		ev := base()
		ev["part"] = map[string]any{"type": "summary_text", "text": ""}
		if err := st.Event("response.reasoning_summary_part.added", ev); err != nil {
			return nil, err
		}
		for _, c := range splitChunks(text) {
			ev := base()
			ev["delta"] = c
			if err := st.Event("response.reasoning_summary_text.delta", ev); err != nil {
				return nil, err
			}
		}
		ev = base()
		ev["text"] = text
		if err := st.Event("response.reasoning_summary_text.done", ev); err != nil {
			return nil, err
		}
		part := map[string]any{"type": "summary_text", "text": text}
		ev = base()
		ev["part"] = part
		if err := st.Event("response.reasoning_summary_part.done", ev); err != nil {
			return nil, err
		}
		summary = append(summary, part)
		st.reasonToks += approxTokens(text)
	}
	st.reasonToks += 16
	done := map[string]any{"id": id, "type": "reasoning", "summary": summary}
	if enc := st.encrypted(it); enc != "" {
		done["encrypted_content"] = enc
	}
	return done, nil
}

// toolCall writes a function_call item (arguments streamed with
// response.function_call_arguments.delta/done) or a custom_tool_call item
// (raw input streamed with response.custom_tool_call_input.delta/done) up
// to, not including, its output_item.done, and returns the done item; nil
// when partial.
func (st *Stream) toolCall(it Item, idx, partial int) (map[string]any, error) {
	prefix, field, events := "fc_", "arguments", "response.function_call_arguments."
	if it.kind == "custom_tool_call" {
		prefix, field, events = "ctc_", "input", "response.custom_tool_call_input."
	}
	id := st.id(prefix)
	callID := it.callID
	if callID == "" {
		callID = st.id("call_")[:29]
	}
	added := map[string]any{"id": id, "type": it.kind, "status": "in_progress", "name": it.name, "call_id": callID, field: ""}
	ns := st.req.toolNamespace(it.name)
	setNamespace(added, ns)
	if err := st.Event("response.output_item.added", map[string]any{"output_index": idx, "item": added}); err != nil {
		return nil, err
	}
	for _, c := range splitChunks(it.args) {
		if err := st.Event(events+"delta", map[string]any{"item_id": id, "output_index": idx, "delta": c}); err != nil {
			return nil, err
		}
	}
	st.outputToks += approxTokens(it.args) + 4
	if partial >= 0 {
		return nil, nil
	}
	if err := st.Event(events+"done", map[string]any{"item_id": id, "output_index": idx, field: it.args}); err != nil {
		return nil, err
	}
	done := map[string]any{"id": id, "type": it.kind, "status": "completed", "name": it.name, "call_id": callID, field: it.args}
	setNamespace(done, ns)
	return done, nil
}

// Prompt-cache model of EstimatedUsage.
const (
	// CacheBlockTokens is the granularity of cached tokens.
	CacheBlockTokens = 16
	// cachePromptsPerKey bounds the earlier prompts kept per key.
	cachePromptsPerKey = 8
)

// EstimatedUsage returns a deterministic usage for what was streamed so
// far. Input is a quarter of the body size. Cached tokens model the
// backend's prefix cache: per prompt_cache_key, the longest common prefix
// of this request's prompt (instructions, tools, then input, serialized)
// with the earlier prompts of that key, at 4 bytes a token, rounded down
// to CacheBlockTokens. Without a key nothing is cached.
func (st *Stream) EstimatedUsage() TokenUsage {
	in := max(1, st.req.BodySize/4)
	cached := 0
	if s := st.req.srv; s != nil && st.req.PromptCacheKey != "" {
		prompt := promptBytes(st.req)
		s.mu.Lock()
		best := 0
		for _, p := range s.cache[st.req.PromptCacheKey] {
			best = max(best, commonPrefix(p, prompt))
		}
		list, known := s.cache[st.req.PromptCacheKey]
		list = append(list, prompt)
		if len(list) > cachePromptsPerKey {
			list = list[len(list)-cachePromptsPerKey:]
		}
		s.cache[st.req.PromptCacheKey] = list
		if s.keep > 0 && !known {
			// Forget the oldest key's prompts past the last keep keys.
			if s.cacheKeys = append(s.cacheKeys, st.req.PromptCacheKey); len(s.cacheKeys) > s.keep {
				delete(s.cache, s.cacheKeys[0])
				s.cacheKeys = s.cacheKeys[1:]
			}
		}
		s.mu.Unlock()
		cached = min(best/4, in) / CacheBlockTokens * CacheBlockTokens
	}
	return TokenUsage{
		InputTokens:     in,
		CachedTokens:    cached,
		OutputTokens:    st.outputToks + st.reasonToks,
		ReasoningTokens: st.reasonToks,
	}
}

// promptBytes serializes what the model reads first to last.
func promptBytes(r *ResponsesRequest) []byte {
	b, _ := json.Marshal([]any{r.Raw["instructions"], r.Raw["tools"], r.Raw["input"]})
	return b
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// Completed writes response.completed with usage u. When fillOutput is
// false output is empty, as the real backend usually sends it.
func (st *Stream) Completed(u TokenUsage, fillOutput bool) error {
	env := st.Envelope("completed")
	if fillOutput {
		out := make([]any, len(st.done))
		for i, d := range st.done {
			out[i] = d
		}
		env["output"] = out
	}
	env["usage"] = u.wire()
	return st.Event("response.completed", map[string]any{"response": env})
}

// Incomplete writes response.incomplete with incomplete_details.reason.
func (st *Stream) Incomplete(reason string, u TokenUsage) error {
	env := st.Envelope("incomplete")
	env["incomplete_details"] = map[string]any{"reason": reason}
	env["usage"] = u.wire()
	return st.Event("response.incomplete", map[string]any{"response": env})
}

// Failed writes response.failed with error {code, message}.
func (st *Stream) Failed(code, message string) error {
	env := st.Envelope("failed")
	env["error"] = map[string]any{"code": code, "message": message}
	return st.Event("response.failed", map[string]any{"response": env})
}

// Error writes a top-level {"type":"error","code","message","param"} event.
func (st *Stream) Error(code, message string) error {
	return st.Event("error", map[string]any{"code": code, "message": message, "param": nil})
}
