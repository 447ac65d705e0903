package upstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
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

// turnMetadata is x-codex-turn-metadata with the CLI's keys in its order
// (docs/protocol.md §2; the captures in proxy/upstream/testdata).
type turnMetadata struct {
	InstallationID             string `json:"installation_id"`
	SessionID                  string `json:"session_id"`
	ThreadID                   string `json:"thread_id"`
	AgentName                  string `json:"agent_name"`
	TurnID                     string `json:"turn_id"`
	WindowID                   string `json:"window_id"`
	WindowNumber               int    `json:"window_number"`
	ContextWindowID            string `json:"context_window_id"`
	RequestKind                string `json:"request_kind"`
	HistoryInitialization      string `json:"history_initialization"`
	RootTurnID                 string `json:"root_turn_id"`
	ThreadSource               string `json:"thread_source"`
	TurnTrigger                string `json:"turn_trigger"`
	Sandbox                    string `json:"sandbox"`
	SandboxMode                string `json:"sandbox_mode"`
	AutoReviewEnabled          bool   `json:"auto_review_enabled"`
	NodeReplAutoReviewRequired bool   `json:"node_repl_auto_review_required"`
	NodeReplDisabled           bool   `json:"node_repl_disabled"`
	TurnStartedAtUnixMS        int64  `json:"turn_started_at_unix_ms"`
	AnalyticsEnabled           bool   `json:"analytics_enabled"`
	Model                      string `json:"model,omitempty"`
	ReasoningEffort            string `json:"reasoning_effort,omitempty"`
}

// newTurn builds the ids and metadata of a turn of thread (a new UUIDv7
// thread when empty) at now.
func (c *Client) newTurn(thread, model, effort string, now time.Time) turn {
	if thread == "" {
		thread = newUUIDv7At(now)
	}
	t := turn{thread: thread, window: thread + ":0", id: newUUIDv7At(now)}
	md := turnMetadata{
		InstallationID:             c.installID,
		SessionID:                  thread,
		ThreadID:                   thread,
		AgentName:                  "/root",
		TurnID:                     t.id,
		WindowID:                   t.window,
		ContextWindowID:            contextWindowID(thread),
		RequestKind:                "turn",
		HistoryInitialization:      "new",
		RootTurnID:                 t.id,
		ThreadSource:               "user",
		TurnTrigger:                "exec",
		Sandbox:                    sandboxName,
		SandboxMode:                "read-only",
		NodeReplAutoReviewRequired: true,
		TurnStartedAtUnixMS:        now.UnixMilli(),
		AnalyticsEnabled:           true,
		Model:                      model,
		ReasoningEffort:            effort,
	}
	b, _ := json.Marshal(md) // strings and numbers only: never fails
	t.metadata = string(b)
	return t
}

// clientMetadata renders the body's client_metadata object for t: the
// CLI's nine string keys (their order is a hash map's in the CLI).
func (c *Client) clientMetadata(t turn) []byte {
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
	b := make([]byte, 0, 2*len(t.metadata)+512)
	b = append(b, '{')
	for i, p := range kv {
		if i > 0 {
			b = append(b, ',')
		}
		b = codex.AppendString(b, p[0])
		b = append(b, ':')
		b = codex.AppendString(b, p[1])
	}
	return append(b, '}')
}

// withClientMetadata appends "client_metadata" as the last key of the JSON
// object body, where the CLI puts it, unless the body already has one.
func withClientMetadata(body, md []byte) []byte {
	end := bytes.LastIndexByte(body, '}')
	if end < 0 || bytes.Contains(body, []byte(`"client_metadata":`)) {
		return body
	}
	head := bytes.TrimRight(body[:end], " \t\r\n")
	out := make([]byte, 0, len(body)+len(md)+24)
	out = append(out, head...)
	if len(head) > 0 && head[len(head)-1] != '{' {
		out = append(out, ',')
	}
	out = append(out, `"client_metadata":`...)
	out = append(out, md...)
	out = append(out, '}')
	return out
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
		ms = uint64(time.Now().UnixMilli())
	}
	ms += 20 + uint64(sum[16])%180
	putUUIDv7(&b, ms)
	return formatUUID(b)
}

// uuidMillis returns the timestamp of a UUIDv7 string, or 0.
func uuidMillis(id string) uint64 {
	var hex []byte
	for i := 0; i < len(id) && len(hex) < 12; i++ {
		if id[i] != '-' {
			hex = append(hex, id[i])
		}
	}
	if len(hex) < 12 || len(id) != 36 || id[14] != '7' {
		return 0
	}
	var ms uint64
	for _, ch := range hex {
		var v byte
		switch {
		case ch >= '0' && ch <= '9':
			v = ch - '0'
		case ch >= 'a' && ch <= 'f':
			v = ch - 'a' + 10
		default:
			return 0
		}
		ms = ms<<4 | uint64(v)
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

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
