package responses

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// listStream answers with a fixed list of events.
type listStream struct{ events []string }

func (s *listStream) Next() (upstream.Event, error) {
	if len(s.events) == 0 {
		return upstream.Event{}, io.EOF
	}
	ev := s.events[0]
	s.events = s.events[1:]
	return upstream.Event{Data: []byte(ev)}, nil
}
func (s *listStream) Close() error        { return nil }
func (s *listStream) Header() http.Header { return http.Header{} }

// listUpstream answers every request with its events and counts them.
type listUpstream struct {
	events []string
	asked  *int
}

func (u listUpstream) Responses(context.Context, upstream.Request) (relay.Stream, error) {
	*u.asked++
	return &listStream{events: append([]string(nil), u.events...)}, nil
}

// TestMalformedDeltaRelayedAsItCame pins what the Responses route does
// with a delta the backend garbled, now that it relays deltas without
// decoding them: the delta goes to the client as it came (renumbered),
// where a decoder used to drop it and the client lost its text without a
// word; it counts as output, so the request is not sent again (the
// backend was answering: quota is spent), and the failure that follows
// ends the stream in band.
func TestMalformedDeltaRelayedAsItCame(t *testing.T) {
	events := []string{
		evCreated,
		`{"type":"response.output_text.delta","sequence_number":2,"delta":"x",}`,
		`{"type":"response.failed","sequence_number":3,"response":{"id":"resp_up","status":"failed","error":{"code":"server_error","message":"boom"}}}`,
	}
	plan, _ := translate(t, `{"model":"m","input":"hi","stream":true}`)
	asked := 0
	r := &relay.Relay{Upstream: listUpstream{events, &asked}, Auth: auth.NewStatic("tok", "acct"), Status: status.NewRecorder(time.Now),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now, Sleep: func(context.Context, time.Duration) {}, MaxRetries: 3}
	w := httptest.NewRecorder()
	err := r.Serve(w, httptest.NewRequest(http.MethodPost, "/v1/responses", nil), &relay.Turn{Request: &plan.Body, Encoder: NewEncoder(plan, "resp_x", fixedNow, nil)})
	body := w.Body.String()
	if err != nil || w.Code != http.StatusOK || asked != 1 {
		t.Fatalf("Serve: %v, status %d, upstream asked %d times (want 200, once)", err, w.Code, asked)
	}
	delta := "event: response.output_text.delta\ndata: " + `{"type":"response.output_text.delta","sequence_number":1,"delta":"x",}` + "\n\n"
	if !strings.Contains(body, delta) || !strings.Contains(body, "event: response.failed\n") || strings.Index(body, delta) > strings.Index(body, "response.failed") {
		t.Errorf("the client got:\n%s\nwant the delta as it came, then response.failed", body)
	}
}
