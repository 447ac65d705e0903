package anthropic

import (
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Ping is Anthropic's keep-alive event, sent while the backend is quiet.
var Ping = []byte("event: ping\ndata: {\"type\": \"ping\"}\n\n")

// Block kinds of the open content block.
const (
	kindNone = iota
	kindText
	kindThinking
	kindTool
)

// Encoder turns the upstream events of one request into Anthropic's event
// stream: message_start, content blocks (text, thinking, tool_use), one
// message_delta with the stop reason and usage, message_stop. It is not
// safe for concurrent use.
type Encoder struct {
	plan *Plan
	now  func() time.Time

	id      string
	started bool // message_start sent

	open      int // kind of the open block
	openItem  int // output_index of the open block's item
	index     int // index of the next block
	sentArgs  bool
	summary   int // summary index of the open thinking block
	tools     int
	refusal   bool
	doneItems map[int]bool // items whose block was closed
}

// NewEncoder returns an Encoder for plan.
func NewEncoder(plan *Plan, now func() time.Time) *Encoder {
	if now == nil {
		now = time.Now
	}
	return &Encoder{plan: plan, now: now, openItem: -1}
}

func (e *Encoder) setID(r *codex.Response) {
	if r != nil && r.ID != "" && e.id == "" {
		e.id = "msg_" + strings.TrimPrefix(r.ID, "resp_")
	}
}

// start appends message_start (and a ping, as Anthropic sends one) once.
func (e *Encoder) start(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	if e.id == "" {
		e.id = "msg_" + strconv.FormatInt(e.now().UnixNano(), 36)
	}
	dst = append(dst, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"...)
	dst = codex.AppendString(dst, e.id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = codex.AppendString(dst, e.plan.Model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}`+"\n\n"...)
	return append(dst, Ping...)
}

// closeBlock ends the open block.
func (e *Encoder) closeBlock(dst []byte) []byte {
	if e.open == kindNone {
		return dst
	}
	if e.doneItems == nil {
		e.doneItems = map[int]bool{}
	}
	e.doneItems[e.openItem] = true
	e.open, e.openItem = kindNone, -1
	dst = append(dst, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.index-1), 10)
	return append(dst, "}\n\n"...)
}

// openBlock starts a block of kind for item idx; head is the JSON of the
// content_block object.
func (e *Encoder) openBlock(dst []byte, kind, idx int, head func([]byte) []byte) []byte {
	dst = e.start(dst)
	dst = e.closeBlock(dst)
	e.open, e.openItem, e.sentArgs, e.summary = kind, idx, false, 0
	dst = append(dst, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.index), 10)
	e.index++
	dst = append(dst, `,"content_block":`...)
	dst = head(dst)
	return append(dst, "}\n\n"...)
}

// delta appends a content_block_delta of the open block.
func (e *Encoder) delta(dst []byte, typ, field, s string) []byte {
	dst = append(dst, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	dst = strconv.AppendInt(dst, int64(e.index-1), 10)
	dst = append(dst, `,"delta":{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","`...)
	dst = append(dst, field...)
	dst = append(dst, `":`...)
	dst = codex.AppendString(dst, s)
	return append(dst, "}}\n\n"...)
}

func textHead(dst []byte) []byte { return append(dst, `{"type":"text","text":""}`...) }

func thinkingHead(dst []byte) []byte {
	return append(dst, `{"type":"thinking","thinking":"","signature":""}`...)
}

// text appends text of item idx.
func (e *Encoder) text(dst []byte, idx int, s string) []byte {
	if s == "" || e.doneItems[idx] {
		return dst
	}
	if e.open != kindText || e.openItem != idx {
		dst = e.openBlock(dst, kindText, idx, textHead)
	}
	return e.delta(dst, "text_delta", "text", s)
}

// thinking appends summary text of reasoning item idx.
func (e *Encoder) thinking(dst []byte, idx, sum int, s string) []byte {
	if !e.plan.Thinking || s == "" || e.doneItems[idx] {
		return dst
	}
	if e.open != kindThinking || e.openItem != idx {
		dst = e.openBlock(dst, kindThinking, idx, thinkingHead)
		e.summary = sum
	} else if sum != e.summary {
		e.summary = sum
		s = "\n\n" + s
	}
	return e.delta(dst, "thinking_delta", "thinking", s)
}

// toolStart opens the tool_use block of a function call item.
func (e *Encoder) toolStart(dst []byte, idx int, it *codex.Item) []byte {
	if (e.open == kindTool && e.openItem == idx) || e.doneItems[idx] {
		return dst
	}
	e.tools++
	name := it.Name
	if orig, ok := e.plan.ToolNames[name]; ok {
		name = orig
	}
	return e.openBlock(dst, kindTool, idx, func(b []byte) []byte {
		b = append(b, `{"type":"tool_use","id":`...)
		b = codex.AppendString(b, it.CallID)
		b = append(b, `,"name":`...)
		b = codex.AppendString(b, name)
		return append(b, `,"input":{}}`...)
	})
}

// args appends a piece of the open tool call's arguments.
func (e *Encoder) args(dst []byte, idx int, s string) []byte {
	if e.open != kindTool || e.openItem != idx || s == "" {
		return dst
	}
	e.sentArgs = true
	return e.delta(dst, "input_json_delta", "partial_json", s)
}

// Feed translates one upstream event. A failure is returned as
// *relay.Failure.
func (e *Encoder) Feed(dst []byte, ev *codex.Event) ([]byte, relay.Signal, error) {
	switch ev.Type {
	case codex.EventTextDelta:
		return e.text(dst, ev.OutputIndex, ev.Delta), relay.SigOutput, nil
	case codex.EventSummaryDelta, codex.EventReasoningTextDelta:
		return e.thinking(dst, ev.OutputIndex, ev.SummaryIndex, ev.Delta), relay.SigOutput, nil
	case codex.EventArgsDelta:
		return e.args(dst, ev.OutputIndex, ev.Delta), relay.SigOutput, nil
	case codex.EventRefusalDelta:
		e.refusal = true
		return e.text(dst, ev.OutputIndex, ev.Delta), relay.SigOutput, nil
	case codex.EventCreated, codex.EventInProgress:
		e.setID(ev.Response)
		return dst, relay.SigNone, nil
	case codex.EventItemAdded:
		if ev.Item != nil && ev.Item.Type == codex.ItemFunctionCall {
			dst = e.toolStart(dst, ev.OutputIndex, ev.Item)
		}
		return dst, relay.SigOutput, nil
	case codex.EventArgsDone:
		if !e.sentArgs {
			dst = e.args(dst, ev.OutputIndex, ev.Arguments)
		}
		return dst, relay.SigOutput, nil
	case codex.EventItemDone:
		if ev.Item == nil {
			return dst, relay.SigNone, nil
		}
		return e.itemDone(dst, ev.OutputIndex, ev.Item), relay.SigOutput, nil
	case codex.EventCompleted:
		return e.finish(dst, ev.Response, "")
	case codex.EventIncomplete:
		reason, f := relay.Incomplete(ev.Response)
		if f != nil {
			return dst, relay.SigNone, f
		}
		return e.finish(dst, ev.Response, reason)
	case codex.EventFailed, codex.EventError:
		return dst, relay.SigNone, relay.EventFailure(ev, e.now())
	}
	return dst, relay.SigNone, nil
}

// itemDone completes an item: whatever its deltas did not carry is sent
// now, then its block is closed.
func (e *Encoder) itemDone(dst []byte, idx int, it *codex.Item) []byte {
	if e.doneItems[idx] {
		return dst
	}
	switch it.Type {
	case codex.ItemMessage:
		if e.open != kindText || e.openItem != idx {
			for _, c := range it.Content {
				if c.Type == codex.PartRefusal {
					e.refusal = true
					dst = e.text(dst, idx, c.Refusal)
				} else {
					dst = e.text(dst, idx, c.Text)
				}
			}
		}
		if e.openItem == idx {
			dst = e.closeBlock(dst)
		}
	case codex.ItemFunctionCall:
		dst = e.toolStart(dst, idx, it)
		if !e.sentArgs {
			dst = e.args(dst, idx, it.Arguments)
		}
		dst = e.closeBlock(dst)
	case codex.ItemReasoning:
		dst = e.reasoningDone(dst, idx, it)
	}
	return dst
}

// reasoningDone ends a reasoning item: its thinking block gets the
// signature that carries the encrypted reasoning; reasoning without any
// summary text becomes a redacted_thinking block.
func (e *Encoder) reasoningDone(dst []byte, idx int, it *codex.Item) []byte {
	if !e.plan.Thinking {
		return dst
	}
	if e.open != kindThinking || e.openItem != idx {
		for i, s := range it.Summary {
			dst = e.thinking(dst, idx, i, s.Text)
		}
	}
	if e.open == kindThinking && e.openItem == idx {
		if it.EncryptedContent != "" {
			dst = e.delta(dst, "signature_delta", "signature", Signature(it.ID, it.EncryptedContent))
		}
		return e.closeBlock(dst)
	}
	if it.EncryptedContent == "" {
		return dst
	}
	dst = e.openBlock(dst, kindThinking, idx, func(b []byte) []byte {
		b = append(b, `{"type":"redacted_thinking","data":`...)
		b = codex.AppendString(b, Signature(it.ID, it.EncryptedContent))
		return append(b, '}')
	})
	return e.closeBlock(dst)
}

// finish ends the message: message_delta with the stop reason and usage,
// then message_stop.
func (e *Encoder) finish(dst []byte, r *codex.Response, reason string) ([]byte, relay.Signal, error) {
	e.setID(r)
	if r != nil && len(r.Output) > 0 && e.index == 0 {
		// No item events at all: use the envelope's output.
		for i := range r.Output {
			dst = e.itemDone(dst, i, &r.Output[i])
		}
	}
	dst = e.start(dst)
	dst = e.closeBlock(dst)
	dst = append(dst, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	dst = append(dst, stopReason(reason, e.tools > 0, e.refusal)...)
	dst = append(dst, `","stop_sequence":null},"usage":`...)
	dst = appendUsage(dst, usageOf(r))
	dst = append(dst, "}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	return dst, relay.SigDone, nil
}

// stopReason maps how the response ended.
func stopReason(incomplete string, tools, refusal bool) string {
	switch {
	case incomplete == "max_output_tokens":
		return "max_tokens"
	case incomplete == "content_filter" || refusal:
		return "refusal"
	case tools:
		return "tool_use"
	}
	return "end_turn"
}

// usageOf maps the backend's usage: input_tokens counts only the part not
// read from the cache.
func usageOf(r *codex.Response) Usage {
	var u Usage
	if r == nil || r.Usage == nil {
		return u
	}
	cached := r.Usage.InputTokensDetails.CachedTokens
	u.InputTokens = max(r.Usage.InputTokens-cached, 0)
	u.CacheReadInputTokens = cached
	u.OutputTokens = r.Usage.OutputTokens
	return u
}

func appendUsage(dst []byte, u Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, u.InputTokens, 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, u.OutputTokens, 10)
	dst = append(dst, `,"cache_creation_input_tokens":`...)
	dst = strconv.AppendInt(dst, u.CacheCreationInputTokens, 10)
	dst = append(dst, `,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, u.CacheReadInputTokens, 10)
	return append(dst, '}')
}

// Fail appends the error event that ends a stream which already started.
func (e *Encoder) Fail(dst []byte, err *apierr.Error) []byte {
	dst = append(dst, "event: error\ndata: "...)
	dst = append(dst, ErrorBody(err, "")...)
	return append(dst, "\n\n"...)
}

// Open starts the stream (message_start and a ping) when the relay commits
// it before the model shows anything, as Anthropic's own streams begin.
func (e *Encoder) Open(dst []byte) []byte { return e.start(dst) }
