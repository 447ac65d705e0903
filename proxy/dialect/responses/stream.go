package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Finished is told about every response that completed (or ended
// incomplete): the response object and the conversation so far (the
// input sent upstream plus the output, ready to be sent again), and the
// ids the client saw of the conversation's items ("" where it saw none:
// the items themselves go upstream without them).
type Finished func(r *Response, conversation []codex.Item, ids []string)

// NewID returns a new response id.
func NewID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "resp_" + hex.EncodeToString(b[:])
}

// outItem is one output item, from its response.output_item.done event.
type outItem struct {
	index int
	raw   json.RawMessage // as the client sees it
	item  codex.Item      // as the backend sent it
}

// answer is the response being built from the upstream events; the stream
// encoder and the aggregator share it.
type answer struct {
	plan      *Plan
	id        string
	now       func() time.Time
	createdAt int64
	items     []outItem
	finished  Finished
}

func newAnswer(plan *Plan, id string, now func() time.Time, done Finished) answer {
	if now == nil {
		now = time.Now
	}
	return answer{plan: plan, id: id, now: now, finished: done}
}

// reset starts over for a new upstream attempt.
func (a *answer) reset(r *codex.Response) {
	a.items = a.items[:0]
	a.createdAt = 0
	if r != nil {
		a.createdAt = r.CreatedAt
	}
	if a.createdAt == 0 {
		a.createdAt = a.now().Unix()
	}
}

// response returns the response object with status and the output so far.
func (a *answer) response(status string) *Response {
	r := a.plan.Echo
	if a.createdAt == 0 {
		a.createdAt = a.now().Unix()
	}
	r.ID, r.CreatedAt, r.Status = a.id, a.createdAt, status
	sort.SliceStable(a.items, func(i, j int) bool { return a.items[i].index < a.items[j].index })
	r.Output = make([]json.RawMessage, len(a.items))
	for i, it := range a.items {
		r.Output[i] = it.raw
	}
	return &r
}

// clientName returns the client's name of an upstream tool name.
func (a *answer) clientName(name string) (string, bool) {
	orig, ok := a.plan.ToolNames[name]
	return orig, ok
}

// renamed reports whether it is a tool call whose name the client knows
// by another name.
func (a *answer) renamed(it *codex.Item) bool {
	if it == nil || len(a.plan.ToolNames) == 0 || (it.Type != codex.ItemFunctionCall && it.Type != codex.ItemCustomToolCall) {
		return false
	}
	_, ok := a.clientName(it.Name)
	return ok
}

// clientItem returns the JSON of an item as the client must see it,
// compact (the response object's encoder copies it as it is): written by
// json.Marshal, or the backend's raw item, which codex.DecodeEvent found
// valid, compacted as it is copied.
func (a *answer) clientItem(it *codex.Item, raw []byte) json.RawMessage {
	if a.renamed(it) || raw == nil {
		cp := *it
		if orig, ok := a.clientName(cp.Name); ok {
			cp.Name = orig
		}
		b, _ := json.Marshal(cp)
		return b
	}
	return appendCompact(make(json.RawMessage, 0, len(raw)), raw)
}

// record keeps the item of a response.output_item.done event.
func (a *answer) record(ev *codex.Event) {
	if ev.Item == nil {
		return
	}
	o := outItem{index: ev.OutputIndex, item: *ev.Item}
	o.raw = a.clientItem(ev.Item, field(ev.Raw, "item"))
	for i := range a.items {
		if a.items[i].index == o.index {
			a.items[i] = o
			return
		}
	}
	a.items = append(a.items, o)
}

// finish builds the final response of a completed or incomplete event, or
// returns the failure an incomplete reason means.
func (a *answer) finish(ev *codex.Event) (*Response, error) {
	status := "completed"
	var details *codex.IncompleteDetails
	if ev.Type == codex.EventIncomplete {
		reason, f := relay.Incomplete(ev.Response)
		if f != nil {
			return nil, f
		}
		status, details = "incomplete", &codex.IncompleteDetails{Reason: reason}
	}
	up := ev.Response
	if up != nil && len(a.items) == 0 {
		// No item events: use the envelope's output instead.
		for i := range up.Output {
			it := up.Output[i]
			a.items = append(a.items, outItem{index: i, item: it, raw: a.clientItem(&it, nil)})
		}
	}
	r := a.response(status)
	r.IncompleteDetails = details
	if up != nil && up.Usage != nil {
		u := *up.Usage
		if u.TotalTokens == 0 {
			u.TotalTokens = u.InputTokens + u.OutputTokens
		}
		r.Usage = &u
	}
	if a.finished != nil {
		conv := make([]codex.Item, 0, len(a.plan.Body.Input)+len(a.items))
		conv = append(conv, a.plan.Body.Input...)
		ids := make([]string, len(conv), cap(conv))
		for _, o := range a.items {
			it := o.item
			if Sanitize(&it) {
				conv = append(conv, it)
				ids = append(ids, o.item.ID)
			}
		}
		a.finished(r, conv, ids)
	}
	return r, nil
}

// failed is the response of a stream that failed after output started.
func (a *answer) failed(e *apierr.Error) *Response {
	r := a.response("failed")
	code := e.Type
	if e.Code != nil {
		code = *e.Code
	}
	r.Error = &ResponseError{Code: code, Message: e.Message, PlanType: e.PlanType, ResetsAt: e.ResetsAt, ResetsInSeconds: e.ResetsInSeconds}
	return r
}

// Encoder relays the upstream events of one request as the client's
// Responses stream. It holds back the lifecycle events until the first
// event the client would see, so that a failure before any output still
// gets its own HTTP status (and a retry) rather than a 200 stream.
type Encoder struct {
	answer
	seq     int64
	pending []byte
	shown   bool
	started []byte // the response object of created and in_progress
}

// NewEncoder returns the stream encoder of one request; id is the response
// id the client sees, done is told about the finished response.
func NewEncoder(plan *Plan, id string, now func() time.Time, done Finished) *Encoder {
	return &Encoder{answer: newAnswer(plan, id, now, done)}
}

// Feed appends the client frames for ev to dst.
func (e *Encoder) Feed(dst []byte, ev *codex.Event) ([]byte, relay.Signal, error) {
	switch ev.Type {
	case codex.EventCreated:
		// The first event of every upstream attempt: whatever an earlier
		// attempt produced was never sent.
		e.reset(ev.Response)
		e.seq, e.shown = 0, false
		e.start()
		e.pending = e.lifecycleJSON(e.pending[:0], codex.EventCreated, e.started)
		return dst, relay.SigNone, nil
	case codex.EventInProgress:
		// The same response object as response.created's.
		if len(e.started) == 0 {
			e.start()
		}
		e.pending = e.lifecycleJSON(e.pending, codex.EventInProgress, e.started)
		return dst, relay.SigNone, nil
	case codex.EventCompleted, codex.EventIncomplete:
		r, err := e.finish(ev)
		if err != nil {
			return dst, relay.SigNone, err
		}
		dst = e.flush(dst)
		return e.lifecycle(dst, ev.Type, r), relay.SigDone, nil
	case codex.EventFailed, codex.EventError:
		return dst, relay.SigNone, relay.EventFailure(ev, e.now())
	}
	if strings.HasPrefix(ev.Type, "codex.") {
		return dst, relay.SigNone, nil // the backend's own bookkeeping
	}
	if ev.Type == codex.EventItemDone {
		e.record(ev)
	}
	if !e.shown && !shows(ev) {
		// Nothing the client sees yet, but the backend is answering (an
		// empty reasoning item): quota is spent, so the relay must not send
		// the request again.
		e.pending = e.frame(e.pending, ev)
		return dst, relay.SigOutput, nil
	}
	e.shown = true
	dst = e.flush(dst)
	return e.frame(dst, ev), relay.SigOutput, nil
}

// Skims reports whether Feed relays events of type typ as they came,
// needing nothing of them but their type and raw bytes: the deltas and
// most other events. The lifecycle events, items and content parts are
// read (relay.Skimmer).
func (e *Encoder) Skims(typ string) bool {
	switch typ {
	case codex.EventCreated, codex.EventInProgress, codex.EventCompleted, codex.EventIncomplete,
		codex.EventFailed, codex.EventError, codex.EventItemAdded, codex.EventItemDone, codex.EventPartAdded:
		return false
	}
	return true
}

// Fail appends the response.failed event that ends a committed stream.
func (e *Encoder) Fail(dst []byte, err *apierr.Error) []byte {
	dst = e.flush(dst)
	return e.lifecycle(dst, codex.EventFailed, e.failed(err))
}

// flush appends the events held back. Their buffers are let go then: the
// response object of an agent's request (its instructions and tools
// echoed) is tens of kilobytes, and the stream may stay open for minutes;
// a retry's response.created writes them again.
func (e *Encoder) flush(dst []byte) []byte {
	if len(e.pending) > 0 {
		if len(dst) == 0 && cap(e.pending) >= cap(dst) {
			dst = e.pending // the first burst goes out in the buffer it was held in
		} else {
			dst = append(dst, e.pending...)
		}
		e.pending, e.started = nil, nil
	}
	return dst
}

// frame appends ev as it came, renumbered.
func (e *Encoder) frame(dst []byte, ev *codex.Event) []byte {
	if (ev.Type == codex.EventItemAdded || ev.Type == codex.EventItemDone) && e.renamed(ev.Item) {
		dst = appendFrameHead(dst, ev.Type)
		dst = append(dst, `{"type":"`...)
		dst = append(dst, ev.Type...)
		dst = append(dst, `","sequence_number":`...)
		dst = strconv.AppendInt(dst, e.seq, 10)
		dst = append(dst, `,"output_index":`...)
		dst = strconv.AppendInt(dst, int64(ev.OutputIndex), 10)
		dst = append(dst, `,"item":`...)
		dst = append(dst, e.clientItem(ev.Item, nil)...)
		e.seq++
		return append(dst, "}\n\n"...)
	}
	if out, ok := appendFrame(dst, ev.Type, ev.Raw, e.seq); ok {
		e.seq++
		return out
	}
	return dst // not an object: nothing a client could use
}

// start writes the response object of response.created and
// response.in_progress into e.started (left empty if it cannot be
// written), reusing its buffer.
func (e *Encoder) start() {
	r := e.response("in_progress")
	if cap(e.started) == 0 {
		e.started = make([]byte, 0, r.sizeHint())
	}
	var err error
	if e.started, err = r.AppendJSON(e.started[:0]); err != nil {
		e.started = e.started[:0]
	}
	if cap(e.pending) == 0 {
		// Room for created and in_progress, and the frames that follow
		// them in the first burst.
		e.pending = make([]byte, 0, 2*len(e.started)+1024)
	}
}

// lifecycle appends a response.* event carrying the response object,
// written straight into dst; nothing if it cannot be written.
func (e *Encoder) lifecycle(dst []byte, typ string, r *Response) []byte {
	dst = slices.Grow(dst, r.sizeHint()+128)
	out, err := r.AppendJSON(e.lifecycleHead(dst, typ))
	if err != nil {
		return dst
	}
	e.seq++
	return append(out, "}\n\n"...)
}

// lifecycleJSON appends a response.* event carrying the response object
// body (JSON); nothing if body is empty.
func (e *Encoder) lifecycleJSON(dst []byte, typ string, body []byte) []byte {
	if len(body) == 0 {
		return dst
	}
	dst = append(e.lifecycleHead(dst, typ), body...)
	e.seq++
	return append(dst, "}\n\n"...)
}

// lifecycleHead appends a response.* event up to its response object.
func (e *Encoder) lifecycleHead(dst []byte, typ string) []byte {
	dst = appendFrameHead(dst, typ)
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","sequence_number":`...)
	dst = strconv.AppendInt(dst, e.seq, 10)
	return append(dst, `,"response":`...)
}

// shows reports whether the client would see anything of ev: an empty
// reasoning item or summary part shows nothing yet, and neither does a
// message's start (its item without content) or any empty content part:
// the text follows at once. Until something shows, the events wait and go out
// with the first that does, in one write: each write wakes the client, and
// a failure before any text still gets its own status.
func shows(ev *codex.Event) bool {
	switch ev.Type {
	case codex.EventItemAdded, codex.EventItemDone:
		it := ev.Item
		if it != nil && it.Type == codex.ItemReasoning {
			for _, s := range it.Summary {
				if s.Text != "" {
					return true
				}
			}
			return false
		}
		if ev.Type == codex.EventItemAdded && it != nil && it.Type == codex.ItemMessage && len(it.Content) == 0 {
			return false
		}
	case codex.EventSummaryPartAdded:
		return false
	case codex.EventPartAdded:
		return ev.Part != nil && (ev.Part.Text != "" || ev.Part.Refusal != "")
	}
	return true
}

// Aggregator builds the one response object of a non-streamed request.
type Aggregator struct {
	answer
	result *Response
}

// NewAggregator returns the aggregator of one request.
func NewAggregator(plan *Plan, id string, now func() time.Time, done Finished) *Aggregator {
	return &Aggregator{answer: newAnswer(plan, id, now, done)}
}

// Feed consumes one upstream event.
func (a *Aggregator) Feed(ev *codex.Event) (relay.Signal, error) {
	switch ev.Type {
	case codex.EventCreated:
		a.reset(ev.Response)
		return relay.SigNone, nil
	case codex.EventItemDone:
		a.record(ev)
		return relay.SigOutput, nil
	case codex.EventCompleted, codex.EventIncomplete:
		r, err := a.finish(ev)
		if err != nil {
			return relay.SigNone, err
		}
		a.result = r
		return relay.SigDone, nil
	case codex.EventFailed, codex.EventError:
		return relay.SigNone, relay.EventFailure(ev, a.now())
	case codex.EventInProgress:
		return relay.SigNone, nil
	}
	if strings.HasPrefix(ev.Type, "response.") {
		// An item, part or delta: the backend is answering, so quota is
		// spent and the request must not be sent again.
		return relay.SigOutput, nil
	}
	return relay.SigNone, nil
}

// Skims reports whether Feed needs nothing of events of type typ but
// their type: all but the lifecycle events and finished items
// (relay.Skimmer).
func (a *Aggregator) Skims(typ string) bool {
	switch typ {
	case codex.EventCreated, codex.EventCompleted, codex.EventIncomplete, codex.EventFailed,
		codex.EventError, codex.EventItemDone:
		return false
	}
	return true
}

// Result returns the response object.
func (a *Aggregator) Result() any { return a.result }
