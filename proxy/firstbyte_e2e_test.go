package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

// A streamed answer whose model reasons, showing the client nothing, for
// longer than CHATGPT_FIRST_BYTE_TIMEOUT is not cut off with a 504: the
// backend started answering in time and is spending quota, so cutting it
// would waste that quota (and the client's retry would spend it again).
//
// The client is not left in silence meanwhile either: by the first-byte
// deadline the stream is committed (200, then keep-alives), so the time
// until the client's first byte is bounded by the one setting.
func TestLongReasoningOutlivesFirstByteTimeout(t *testing.T) {
	routes := []struct{ name, path, body, start, end string }{
		{"chat", "/chat/completions", `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`, ": keep-alive", "data: [DONE]"},
		{"responses", "/responses", `{"model":"gpt-5.5","stream":true,"input":"hi"}`, ": keep-alive", "event: response.completed"},
		{"messages", "/messages", `{"model":"gpt-5.5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "event: message_start", "event: message_stop"},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			headers := make(chan struct{})
			early := make(chan bool, 1)
			slowThinker := codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
				st := codextest.NewStream(w, req)
				_ = st.Begin()
				_ = st.Item(codextest.Reasoning())
				// Keep reasoning until the client has its response headers
				// (at the first-byte deadline), or give up after 5 s.
				select {
				case <-headers:
					early <- true
				case <-time.After(5 * time.Second):
					early <- false
				}
				_ = st.Item(codextest.Text("thought hard"))
				_ = st.Completed(st.EstimatedUsage(), false)
			})
			h := newHarness(t, map[string]string{"CHATGPT_FIRST_BYTE_TIMEOUT": "1s"})
			h.fake.Enqueue(slowThinker)
			req, _ := http.NewRequest("POST", h.base+rt.path, strings.NewReader(rt.body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			close(headers)
			b, _ := io.ReadAll(resp.Body)
			if !<-early {
				t.Error("the client got no byte while the model reasoned past the first-byte deadline")
			}
			if !strings.HasPrefix(string(b), rt.start) {
				t.Errorf("the stream starts with %.80q, want %q", b, rt.start)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), rt.end) || strings.Contains(string(b), "timeout") {
				t.Errorf("status %d:\n%s", resp.StatusCode, b)
			}
			if n := len(h.fake.ResponsesRequests()); n != 1 {
				t.Errorf("upstream requests = %d, want 1", n)
			}
		})
	}
}
