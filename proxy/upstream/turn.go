package upstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// turn holds the ids and metadata of one /codex/responses request, as the
// Codex CLI derives them for one turn of a thread.
type turn struct {
	thread   string // session-id = thread-id = x-client-request-id = prompt_cache_key
	window   string // x-codex-window-id, "<thread>:0"
	id       string // turn_id (and root_turn_id), a fresh UUIDv7
	metadata string // x-codex-turn-metadata JSON
}

// newTurn builds the ids and metadata of a turn of thread (a new UUIDv7
// thread when empty) at now.
func (c *Client) newTurn(thread, model, effort string, now time.Time) turn {
	if thread == "" {
		thread = newUUIDv7At(now)
	}
	t := turn{thread: thread, window: thread + ":0", id: newUUIDv7At(now)}
	t.metadata = string(c.appendTurnMetadata(make([]byte, 0, 768), t, model, effort, now))
	return t
}

// appendTurnMetadata appends x-codex-turn-metadata for t: the CLI's keys in
// its order (docs/protocol.md §2; the captures in proxy/upstream/testdata),
// model and reasoning_effort only when set. It is written by hand, not with
// encoding/json, because it is built for every request.
func (c *Client) appendTurnMetadata(b []byte, t turn, model, effort string, now time.Time) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		return codex.AppendString(b, v)
	}
	b = append(b, `{"installation_id":`...)
	b = codex.AppendString(b, c.installID)
	b = str(b, "session_id", t.thread)
	b = str(b, "thread_id", t.thread)
	b = str(b, "agent_name", "/root")
	b = str(b, "turn_id", t.id)
	b = str(b, "window_id", t.window)
	b = append(b, `,"window_number":0`...)
	b = str(b, "context_window_id", contextWindowID(t.thread))
	b = str(b, "request_kind", "turn")
	b = str(b, "history_initialization", "new")
	b = str(b, "root_turn_id", t.id)
	b = str(b, "thread_source", "user")
	b = str(b, "turn_trigger", "exec")
	b = str(b, "sandbox", sandboxName)
	b = str(b, "sandbox_mode", "read-only")
	b = append(b, `,"auto_review_enabled":false,"node_repl_auto_review_required":true,"node_repl_disabled":false,"turn_started_at_unix_ms":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"analytics_enabled":true`...)
	if model != "" {
		b = str(b, "model", model)
	}
	if effort != "" {
		b = str(b, "reasoning_effort", effort)
	}
	return append(b, '}')
}

// withClientMetadata returns body with "client_metadata" for t as the last
// key of its JSON object, where the CLI puts it: the CLI's nine string keys
// (their order is a hash map's in the CLI). A body that is not an object is
// returned as it is.
func (c *Client) withClientMetadata(body []byte, t turn) []byte {
	end := bytes.LastIndexByte(body, '}')
	if end < 0 {
		return body
	}
	head := bytes.TrimRight(body[:end], " \t\r\n")
	kv := [...][2]string{
		{"x-codex-turn-metadata", t.metadata},
		{"x-codex-installation-id", c.installID},
		{"root_turn_id", t.id},
		{"x-codex-window-id", t.window},
		{"turn_id", t.id},
		{"guardian_credits_requested", "true"},
		{"session_id", t.thread},
		{"thread_id", t.thread},
		{"mcp_attribution", `{"status":"none"}`},
	}
	out := make([]byte, 0, len(head)+2*len(t.metadata)+512)
	out = append(out, head...)
	if len(head) > 0 && head[len(head)-1] != '{' {
		out = append(out, ',')
	}
	out = append(out, `"client_metadata":{`...)
	for i, p := range kv {
		if i > 0 {
			out = append(out, ',')
		}
		out = codex.AppendString(out, p[0])
		out = append(out, ':')
		out = codex.AppendString(out, p[1])
	}
	return append(out, "}}"...)
}

// contextWindowID derives the thread's context window id: a UUIDv7 a few
// milliseconds after the thread's own, stable for the thread, so that
// every turn of a conversation reports the same one without extra state.
func contextWindowID(thread string) string {
	sum := sha256.Sum256([]byte("context-window:" + thread))
	var b [16]byte
	copy(b[:], sum[:16])
	ms := uuidMillis(thread)
	if ms == 0 {
		// A thread id that is not a UUIDv7 (a client's own session id)
		// carries no time: a moment of the day before today, picked by
		// the id, keeps the window id the same for every turn of the day
		// (the current time gave each turn another).
		const day = uint64(24 * time.Hour / time.Millisecond)
		today := uint64(time.Now().UnixMilli()) / day * day
		ms = today - day + binary.BigEndian.Uint64(sum[20:28])%(day-200) // - 200: never after now
	}
	ms += 20 + uint64(sum[16])%180
	putUUIDv7(&b, ms)
	return formatUUID(b)
}

// uuidMillis returns the timestamp of a UUIDv7 string (its first 12 hex
// digits, dashes skipped), or 0.
func uuidMillis(id string) uint64 {
	if len(id) != 36 || id[14] != '7' {
		return 0
	}
	var ms uint64
	n := 0
	for i := 0; i < len(id) && n < 12; i++ {
		ch := id[i]
		var v byte
		switch {
		case ch == '-':
			continue
		case ch >= '0' && ch <= '9':
			v = ch - '0'
		case ch >= 'a' && ch <= 'f':
			v = ch - 'a' + 10
		default:
			return 0
		}
		ms = ms<<4 | uint64(v)
		n++
	}
	return ms
}

// putUUIDv7 writes the timestamp and the version and variant bits.
func putUUIDv7(b *[16]byte, ms uint64) {
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
}

// formatUUID writes b in the 8-4-4-4-12 lowercase hex form.
func formatUUID(b [16]byte) string {
	const digits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, v := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = digits[v>>4], digits[v&0x0f]
		j += 2
	}
	return string(out[:])
}
