package codex

import "unicode/utf8"

// decodeLifecycle fills ev from a response.created or response.in_progress
// event without reflection. These events echo the whole request's
// instructions and tools (tens of kilobytes for an agent), of which the
// translation needs only the response's id, creation time, model and
// status; everything else is skipped. It reports false for anything it
// does not understand, which then goes through encoding/json.
func decodeLifecycle(data []byte, ev *Event) bool {
	p := scanner{b: data}
	var typ []byte
	seq := 0
	var r Response
	hasResp := false
	ok := p.object(func(key []byte) bool {
		var esc, good bool
		switch string(key) {
		case "type":
			typ, esc, good = p.str()
			return good && !esc
		case "sequence_number":
			seq, good = p.int()
			return good
		case "response":
			hasResp = true
			return p.lifecycleResponse(&r)
		}
		return !foldsTo(key, "type", "sequence_number", "response") && p.skip()
	})
	if !ok || p.i != len(p.b) || !hasResp {
		return false
	}
	switch string(typ) {
	case EventCreated:
		*ev = Event{Type: EventCreated}
	case EventInProgress:
		*ev = Event{Type: EventInProgress}
	default:
		return false
	}
	ev.SequenceNumber = int64(seq)
	ev.Response = &r
	return true
}

// lifecycleResponse reads the response object of a lifecycle event.
func (p *scanner) lifecycleResponse(r *Response) bool {
	p.ws()
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return p.plainString(&r.ID)
		case "model":
			return p.plainString(&r.Model)
		case "status":
			return p.plainString(&r.Status)
		case "created_at":
			n, ok := p.int()
			r.CreatedAt = int64(n)
			return ok
		}
		return !foldsTo(key, "id", "model", "status", "created_at") && p.skip()
	})
}

// plainString reads a string without escapes and with valid UTF-8.
func (p *scanner) plainString(dst *string) bool {
	raw, esc, ok := p.str()
	if !ok || esc || !utf8.Valid(raw) {
		return false
	}
	*dst = string(raw)
	return true
}

// object reads a JSON object, calling field for each key with the scanner
// at the value; field reads or skips the value and reports success.
func (p *scanner) object(field func(key []byte) bool) bool {
	if !p.expect('{') {
		return false
	}
	for first := true; ; first = false {
		p.ws()
		if p.peek() == '}' {
			p.i++
			p.ws()
			return true
		}
		if !first && !p.expect(',') {
			return false
		}
		p.ws()
		key, esc, ok := p.str()
		if !ok || esc || !p.expect(':') {
			return false
		}
		p.ws()
		if !field(key) {
			return false
		}
	}
}

// foldsTo reports whether key equals one of names ignoring case. The
// callers read those names exactly; another spelling of one would be
// decoded into that field by encoding/json, so the fast path declines it.
func foldsTo(key []byte, names ...string) bool {
	for _, k := range names {
		if len(k) == len(key) && equalFold(k, key) {
			return true
		}
	}
	return false
}

func equalFold(a string, b []byte) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
