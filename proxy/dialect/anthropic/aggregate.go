package anthropic

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

type aggItem struct {
	typ     string
	text    strings.Builder // deltas, used when no output_item.done arrives
	args    strings.Builder
	callID  string
	name    string
	sumIdx  int
	refusal bool
	done    *codex.Item
}

// Aggregator builds one message object from the upstream stream: from the
// output_item.done items, falling back to the deltas of items whose done
// event never came.
type Aggregator struct {
	plan   *Plan
	now    func() time.Time
	id     string
	items  map[int]*aggItem
	reason string
	usage  Usage
}

// NewAggregator returns an Aggregator for plan.
func NewAggregator(plan *Plan, now func() time.Time) *Aggregator {
	if now == nil {
		now = time.Now
	}
	return &Aggregator{plan: plan, now: now, items: map[int]*aggItem{}}
}

func (a *Aggregator) get(i int) *aggItem {
	it := a.items[i]
	if it == nil {
		it = &aggItem{}
		a.items[i] = it
	}
	return it
}

// Feed consumes one upstream event. A failure is returned as
// *relay.Failure.
func (a *Aggregator) Feed(ev *codex.Event) (relay.Signal, error) {
	switch ev.Type {
	case codex.EventCreated, codex.EventInProgress:
		if r := ev.Response; r != nil && a.id == "" && r.ID != "" {
			a.id = "msg_" + strings.TrimPrefix(r.ID, "resp_")
		}
		return relay.SigNone, nil
	case codex.EventItemAdded:
		if ev.Item != nil {
			it := a.get(ev.OutputIndex)
			it.typ, it.callID, it.name = ev.Item.Type, ev.Item.CallID, ev.Item.Name
		}
		return relay.SigOutput, nil
	case codex.EventTextDelta, codex.EventRefusalDelta, codex.EventSummaryDelta, codex.EventReasoningTextDelta:
		it := a.get(ev.OutputIndex)
		if (ev.Type == codex.EventSummaryDelta || ev.Type == codex.EventReasoningTextDelta) && ev.SummaryIndex > 0 && ev.SummaryIndex != it.sumIdx {
			it.text.WriteString("\n\n")
		}
		it.refusal = it.refusal || ev.Type == codex.EventRefusalDelta
		it.sumIdx = ev.SummaryIndex
		it.text.WriteString(ev.Delta)
		return relay.SigOutput, nil
	case codex.EventArgsDelta:
		a.get(ev.OutputIndex).args.WriteString(ev.Delta)
		return relay.SigOutput, nil
	case codex.EventItemDone:
		if ev.Item != nil {
			it := a.get(ev.OutputIndex)
			cp := *ev.Item
			it.done, it.typ = &cp, cp.Type
		}
		return relay.SigOutput, nil
	case codex.EventCompleted, codex.EventIncomplete:
		r := ev.Response
		if ev.Type == codex.EventIncomplete {
			reason, f := relay.Incomplete(r)
			if f != nil {
				return relay.SigNone, f
			}
			a.reason = reason
		}
		if r != nil {
			if len(a.items) == 0 {
				for i := range r.Output {
					cp := r.Output[i]
					a.items[i] = &aggItem{typ: cp.Type, done: &cp}
				}
			}
			if a.id == "" && r.ID != "" {
				a.id = "msg_" + strings.TrimPrefix(r.ID, "resp_")
			}
		}
		a.usage = usageOf(r)
		return relay.SigDone, nil
	case codex.EventFailed, codex.EventError:
		return relay.SigNone, relay.EventFailure(ev, a.now())
	}
	return relay.SigNone, nil
}

// Result returns the message object.
func (a *Aggregator) Result() any { return a.Message() }

// Message returns the aggregated message object.
func (a *Aggregator) Message() *Response {
	keys := make([]int, 0, len(a.items))
	for k := range a.items {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	content := []OutBlock{}
	tools, refusal := false, false
	for _, k := range keys {
		it := a.items[k]
		switch it.typ {
		case codex.ItemMessage:
			s := it.text.String()
			if it.done != nil {
				var sb strings.Builder
				for _, c := range it.done.Content {
					if c.Type == codex.PartRefusal {
						refusal = true
						sb.WriteString(c.Refusal)
					} else {
						sb.WriteString(c.Text)
					}
				}
				if sb.Len() > 0 {
					s = sb.String()
				}
			}
			refusal = refusal || it.refusal
			if s != "" {
				content = append(content, OutBlock{Type: "text", Text: &s})
			}
		case codex.ItemReasoning:
			if b, ok := a.thinking(it); ok {
				content = append(content, b)
			}
		case codex.ItemFunctionCall:
			tools = true
			content = append(content, a.toolUse(it))
		}
	}
	id := a.id
	if id == "" {
		id = "msg_" + strconv.FormatInt(a.now().UnixNano(), 36)
	}
	return &Response{ID: id, Type: "message", Role: "assistant", Model: a.plan.Model, Content: content,
		StopReason: stopReason(a.reason, tools, refusal), Usage: a.usage}
}

func (a *Aggregator) thinking(it *aggItem) (OutBlock, bool) {
	if !a.plan.Thinking {
		return OutBlock{}, false
	}
	s := it.text.String()
	enc, id := "", ""
	if it.done != nil {
		enc, id = it.done.EncryptedContent, it.done.ID
		if len(it.done.Summary) > 0 {
			parts := make([]string, 0, len(it.done.Summary))
			for _, p := range it.done.Summary {
				parts = append(parts, p.Text)
			}
			s = strings.Join(parts, "\n\n")
		}
	}
	switch {
	case s != "":
		sig := ""
		if enc != "" {
			sig = Signature(id, enc)
		}
		return OutBlock{Type: "thinking", Thinking: &s, Signature: &sig}, true
	case enc != "":
		return OutBlock{Type: "redacted_thinking", Data: Signature(id, enc)}, true
	}
	return OutBlock{}, false
}

func (a *Aggregator) toolUse(it *aggItem) OutBlock {
	id, name, args := it.callID, it.name, it.args.String()
	if it.done != nil {
		id, name = it.done.CallID, it.done.Name
		if it.done.Arguments != "" {
			args = it.done.Arguments
		}
	}
	if orig, ok := a.plan.ToolNames[name]; ok {
		name = orig
	}
	input := json.RawMessage(args)
	if !json.Valid(input) || strings.TrimSpace(args) == "" {
		input = json.RawMessage(`{}`)
	}
	return OutBlock{Type: "tool_use", ID: id, Name: name, Input: input}
}
