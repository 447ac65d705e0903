package chat

import (
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

type aggItem struct {
	typ    string
	phase  string
	text   strings.Builder // deltas, used when no output_item.done arrives
	args   strings.Builder
	callID string
	name   string
	sumIdx int
	done   *codex.Item
}

// Aggregator builds one chat.completion from the upstream stream. The
// result is built from response.output_item.done items (the completed
// event's output is often empty on this backend), falling back to the
// deltas of items whose done event never came.
type Aggregator struct {
	plan     *Plan
	opts     StreamOptions
	id       string
	created  int64
	model    string // the model the backend says answered
	items    map[int]*aggItem
	finish   string
	usage    Usage
	hasUsage bool
}

// NewAggregator returns an Aggregator for plan.
func NewAggregator(plan *Plan, opts StreamOptions) *Aggregator {
	return &Aggregator{plan: plan, opts: opts.withDefaults(), items: map[int]*aggItem{}}
}

func (a *Aggregator) get(i int) *aggItem {
	it := a.items[i]
	if it == nil {
		it = &aggItem{}
		a.items[i] = it
	}
	return it
}

// Feed consumes one upstream event. A failure is returned as *relay.Failure.
func (a *Aggregator) Feed(ev *codex.Event) (Signal, error) {
	switch ev.Type {
	case "response.created", "response.in_progress":
		if r := ev.Response; r != nil && a.id == "" {
			a.id = "chatcmpl-" + strings.TrimPrefix(r.ID, "resp_")
			a.created = r.CreatedAt
			a.model = r.Model
		}
		return SigNone, nil
	case "response.output_item.added":
		if ev.Item != nil {
			it := a.get(ev.OutputIndex)
			it.typ, it.phase, it.callID, it.name = ev.Item.Type, ev.Item.Phase, ev.Item.CallID, ev.Item.Name
		}
		return SigOutput, nil
	case "response.output_text.delta", "response.refusal.delta", "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		it := a.get(ev.OutputIndex)
		if strings.HasPrefix(ev.Type, "response.reasoning") && ev.SummaryIndex > 0 && ev.SummaryIndex != it.sumIdx {
			it.text.WriteString("\n\n") // a new summary part starts a paragraph
		}
		it.sumIdx = ev.SummaryIndex
		it.text.WriteString(ev.Delta)
		return SigOutput, nil
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		a.get(ev.OutputIndex).args.WriteString(ev.Delta)
		return SigOutput, nil
	case "response.output_item.done":
		if ev.Item != nil {
			it := a.get(ev.OutputIndex)
			cp := *ev.Item
			it.done = &cp
			it.typ = cp.Type
		}
		return SigOutput, nil
	case "response.completed", "response.incomplete":
		r := ev.Response
		if ev.Type == "response.incomplete" {
			reason, f := finishReason(r)
			if f != nil {
				return SigNone, f
			}
			a.finish = reason
		}
		if r != nil {
			if len(a.items) == 0 {
				// No item events: use the envelope's output instead.
				for i := range r.Output {
					cp := r.Output[i]
					a.items[i] = &aggItem{typ: cp.Type, phase: cp.Phase, done: &cp}
				}
			}
			if a.id == "" && r.ID != "" {
				a.id = "chatcmpl-" + strings.TrimPrefix(r.ID, "resp_")
				a.created = r.CreatedAt
			}
			if r.Usage != nil {
				a.usage, a.hasUsage = mapUsage(r), true
			}
		}
		return SigDone, nil
	case "response.failed", "error":
		return SigNone, relay.EventFailure(ev, a.opts.Now())
	}
	return SigNone, nil
}

// Result returns the aggregated chat.completion.
func (a *Aggregator) Result() any { return a.Completion() }

// Completion returns the aggregated chat.completion.
func (a *Aggregator) Completion() *Completion {
	var text, reasoning []string
	var calls []ToolCall
	for _, idx := range sortedKeys(a.items) {
		it := a.items[idx]
		switch it.typ {
		case "message":
			phase := it.phase
			s := it.text.String()
			if it.done != nil {
				phase = it.done.Phase
				if t := messageText(it.done); t != "" {
					s = t
				}
			}
			if a.opts.DropCommentary && phase == "commentary" {
				continue
			}
			if s != "" {
				text = append(text, s)
			}
		case "reasoning":
			if it.done != nil && len(it.done.Summary) > 0 {
				for _, p := range it.done.Summary {
					if p.Text != "" {
						reasoning = append(reasoning, p.Text)
					}
				}
			} else if s := it.text.String(); s != "" {
				reasoning = append(reasoning, s)
			}
		case "function_call", "custom_tool_call":
			calls = append(calls, a.toolCall(it))
		}
	}
	msg := ResponseMessage{Role: "assistant", ToolCalls: calls, Annotations: []any{}}
	body := strings.Join(text, "\n\n")
	r := strings.Join(reasoning, "\n\n")
	switch a.opts.Reasoning {
	case ReasoningContent:
		msg.ReasoningContent = r
	case ReasoningThink:
		if r != "" {
			body = "<think>" + r + "</think>\n\n" + body
		}
	}
	if body != "" || len(calls) == 0 {
		msg.Content = &body
	}
	finish := a.finish
	if finish == "" {
		finish = "stop"
		if len(calls) > 0 {
			finish = "tool_calls"
		}
	}
	id, created := a.id, a.created
	if id == "" {
		id = "chatcmpl-local"
	}
	if created == 0 {
		created = a.opts.Now().Unix()
	}
	model := a.model
	if model == "" {
		model = a.plan.Model
	}
	c := &Completion{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []Choice{{Index: 0, Message: msg, FinishReason: finish}},
	}
	u := a.usage
	c.Usage = &u
	return c
}

// toolCall builds the tool call of a function or custom tool call item: a
// custom tool's raw input in the shape its definition asked for (see
// CallStyle).
func (a *Aggregator) toolCall(it *aggItem) ToolCall {
	id, name, args := it.callID, it.name, it.args.String()
	if d := it.done; d != nil {
		id, name = d.CallID, d.Name
		if s := callArgs(d); s != "" {
			args = s
		}
	}
	style := StyleEnvelope
	if it.typ == codex.ItemCustomToolCall {
		style = a.plan.Custom[name]
	}
	if orig, ok := a.plan.ToolNames[name]; ok {
		name = orig
	}
	if style == StyleCustom {
		return ToolCall{ID: id, Type: "custom", Custom: &CustomCall{Name: name, Input: args}}
	}
	return ToolCall{ID: id, Type: "function", Function: &FunctionCall{Name: name, Arguments: args}}
}
