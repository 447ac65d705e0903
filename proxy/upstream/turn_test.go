package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// turnMetadataJSON is the turn metadata as encoding/json writes it: the
// reference for the hand-written appendTurnMetadata.
type turnMetadataJSON struct {
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

func TestTurnMetadataMatchesEncodingJSON(t *testing.T) {
	c := &Client{installID: newUUIDv4()}
	now := time.UnixMilli(1764000000123)
	for _, tc := range []struct{ thread, model, effort string }{
		{"", "gpt-5.4", "high"},
		{"019a0000-0000-7000-8000-000000000001", "", ""},
		{`thread "quoted" <&> ` + "\u2028\x01", `model\with"escapes`, "xhigh"},
	} {
		tn := c.newTurn(tc.thread, tc.model, tc.effort, now)
		// Without HTML escaping, as serde_json writes it in the CLI.
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		err := enc.Encode(turnMetadataJSON{
			InstallationID: c.installID, SessionID: tn.thread, ThreadID: tn.thread, AgentName: "/root",
			TurnID: tn.id, WindowID: tn.window, ContextWindowID: contextWindowID(tn.thread), RequestKind: "turn",
			HistoryInitialization: "new", RootTurnID: tn.id, ThreadSource: "user", TurnTrigger: "exec",
			Sandbox: sandboxName, SandboxMode: "read-only", NodeReplAutoReviewRequired: true,
			TurnStartedAtUnixMS: now.UnixMilli(), AnalyticsEnabled: true, Model: tc.model, ReasoningEffort: tc.effort,
		})
		if err != nil {
			t.Fatal(err)
		}
		if tn.metadata+"\n" != want.String() {
			t.Errorf("turn metadata\n got %s\nwant %s", tn.metadata, want.String())
		}
		if tc.thread != "" && tn.thread != tc.thread {
			t.Errorf("thread %q, want %q", tn.thread, tc.thread)
		}
	}
}

func TestUUIDFormatAndMillis(t *testing.T) {
	for i := 0; i < 100; i++ {
		var b [16]byte
		for j := range b {
			b[j] = byte(i*31 + j*17)
		}
		want := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		if got := formatUUID(b); got != want {
			t.Fatalf("formatUUID = %s, want %s", got, want)
		}
	}
	at := time.UnixMilli(1764000000123)
	id := newUUIDv7At(at)
	if got := uuidMillis(id); got != uint64(at.UnixMilli()) {
		t.Errorf("uuidMillis(%s) = %d, want %d", id, got, at.UnixMilli())
	}
	// Dashes are skipped wherever they are (a client's session id need
	// not be a UUID), as before the hand-written parser.
	if got := uuidMillis("019ab697e-87b-74f8-a355-5e9e4ae23b1f"); got != 0x019ab697e87b {
		t.Errorf("uuidMillis with a moved dash = %x", got)
	}
	for _, bad := range []string{"", newUUIDv4(), "019a0000x0000-7000-8000-000000000001", "019A0000-0000-7000-8000-00000000000g"[:35]} {
		if got := uuidMillis(bad); got != 0 {
			t.Errorf("uuidMillis(%q) = %d, want 0", bad, got)
		}
	}
}

// TestContextWindowIDStable: a thread id that is not a UUIDv7 (a client's
// own session id) gets the same context window id on every turn, and one
// of the last two days; another thread gets another.
func TestContextWindowIDStable(t *testing.T) {
	a := contextWindowID("client-session-42")
	time.Sleep(3 * time.Millisecond)
	if b := contextWindowID("client-session-42"); b != a {
		t.Fatalf("the window id changed between two turns: %s, %s", a, b)
	}
	if contextWindowID("client-session-43") == a {
		t.Fatal("two threads share a window id")
	}
	ms := uuidMillis(a)
	if age := time.Since(time.UnixMilli(int64(ms))); age < 0 || age > 48*time.Hour+time.Second {
		t.Fatalf("window id %s is %v old", a, age)
	}
}
