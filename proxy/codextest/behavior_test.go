package codextest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func catalog(t *testing.T, s *Server, query string, h http.Header) (*http.Response, []string) {
	t.Helper()
	resp := doRaw(t, t.Context(), s, http.MethodGet, "/backend-api/codex/models"+query, nil, h)
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	var out struct {
		Models []map[string]any `json:"models"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("catalog body %s: %v", body, err)
	}
	slugs := []string{}
	for _, m := range out.Models {
		slugs = append(slugs, m["slug"].(string))
		for _, k := range []string{"display_name", "visibility", "priority", "minimal_client_version",
			"default_reasoning_level", "supported_reasoning_levels", "supports_reasoning_summaries",
			"support_verbosity", "supports_parallel_tool_calls", "input_modalities", "context_window"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("model %v lacks %s", m["slug"], k)
			}
		}
	}
	return resp, slugs
}

func TestCatalogVersionGating(t *testing.T) {
	s := NewServer(t)
	h := goodHeaders()
	cases := []struct {
		version string
		want    []string
	}{
		{"0.134.0", []string{"gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.146.0", []string{"gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.152.0", []string{"gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.153.0", []string{"gpt-6-astra", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.153.3", []string{"gpt-6-astra", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.155.0", []string{"gpt-6-sol", "gpt-6-luna", "gpt-6-astra", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "codex-auto-review"}},
		{"0.0.0", []string{}},
	}
	for _, tc := range cases {
		resp, got := catalog(t, s, "?client_version="+tc.version, h)
		if resp.StatusCode != 200 || !slices.Equal(got, tc.want) {
			t.Fatalf("%s: status %d models %v, want %v", tc.version, resp.StatusCode, got, tc.want)
		}
		if resp.Header.Get("ETag") == "" {
			t.Fatal("no ETag")
		}
	}
	for _, retired := range []string{"gpt-5.2", "gpt-5.3-codex"} {
		_, got := catalog(t, s, "?client_version=0.155.0", h)
		if slices.Contains(got, retired) {
			t.Fatalf("%s listed", retired)
		}
	}
}

func TestCatalogErrorsAndETag(t *testing.T) {
	s := NewServer(t)
	resp := doRaw(t, t.Context(), s, http.MethodGet, "/backend-api/codex/models", nil, goodHeaders())
	body := readAll(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"msg":"Field required"`) {
		t.Fatalf("missing client_version: %d %s", resp.StatusCode, body)
	}
	if s.LastRequest().Rejection != "Field required" {
		t.Fatalf("rejection %q", s.LastRequest().Rejection)
	}

	noAuth := goodHeaders()
	noAuth.Del("Authorization")
	resp = doRaw(t, t.Context(), s, http.MethodGet, "/backend-api/codex/models?client_version=0.155.0", nil, noAuth)
	if body := readAll(t, resp); resp.StatusCode != 401 || string(body) != `{"detail":"Unauthorized"}` {
		t.Fatalf("no auth: %d %s", resp.StatusCode, body)
	}

	s.SetModelsETag(`W/"v2"`)
	resp, _ = catalog(t, s, "?client_version=0.155.0", goodHeaders())
	if resp.Header.Get("ETag") != `W/"v2"` {
		t.Fatalf("ETag %q", resp.Header.Get("ETag"))
	}
	h := goodHeaders()
	h.Set("If-None-Match", `W/"v2"`)
	resp = doRaw(t, t.Context(), s, http.MethodGet, "/backend-api/codex/models?client_version=0.155.0", nil, h)
	readAll(t, resp)
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sresp, _ := stream(t, s, baseBody())
	if sresp.Header.Get("x-models-etag") != `W/"v2"` {
		t.Fatalf("x-models-etag %q", sresp.Header.Get("x-models-etag"))
	}
	if r := s.Requests(); len(r) != 5 || r[0].Path != "/backend-api/codex/models" || r[0].Query != "" {
		t.Fatalf("recorded %d requests", len(r))
	}
}

func TestWithModels(t *testing.T) {
	m := DefaultModels()[len(DefaultModels())-2] // gpt-5.4-mini
	m.Slug = "custom-1"
	s := NewServer(t, WithModels(m), WithModelsETag(`"e1"`))
	_, got := catalog(t, s, "?client_version=0.155.0", goodHeaders())
	if !slices.Equal(got, []string{"custom-1"}) {
		t.Fatalf("models %v", got)
	}
	body := baseBody()
	resp := post(t, s, body, goodHeaders())
	if b := readAll(t, resp); resp.StatusCode != 400 || !strings.Contains(string(b), "'gpt-5.4' model is not supported") {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
	body["model"] = "custom-1"
	stream(t, s, body)
}

// lastResponse returns the response envelope of the last event.
func lastResponse(evs []sseEvent) map[string]any {
	r, _ := evs[len(evs)-1].Data["response"].(map[string]any)
	return r
}

func TestFail(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Fail("server_is_overloaded", "Selected model is at capacity."))
	_, evs := stream(t, s, baseBody())
	if got := types(evs); !slices.Equal(got, []string{"response.created", "response.in_progress", "response.failed"}) {
		t.Fatalf("events %v", got)
	}
	r := lastResponse(evs)
	e := r["error"].(map[string]any)
	if r["status"] != "failed" || e["code"] != "server_is_overloaded" || e["message"] != "Selected model is at capacity." || r["usage"] != nil {
		t.Fatalf("failed envelope %v", r)
	}
}

func TestErrorEvent(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(ErrorEvent("rate_limit_exceeded", "slow down"))
	_, evs := stream(t, s, baseBody())
	if len(evs) != 1 || evs[0].typ() != "error" || evs[0].Data["code"] != "rate_limit_exceeded" ||
		evs[0].Data["message"] != "slow down" {
		t.Fatalf("events %v", evs)
	}
	if _, ok := evs[0].Data["param"]; !ok {
		t.Fatal("param missing")
	}
}

func TestFailAfterText(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(FailAfterText("partial answer", "upstream_error", "boom"))
	_, evs := stream(t, s, baseBody())
	got := collapse(types(evs))
	want := []string{"response.created", "response.in_progress", "response.output_item.added",
		"response.content_part.added", "response.output_text.delta", "response.failed"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v", got)
	}
	deltas, _ := textsByItem(evs, "response.output_text.delta", "")
	for _, d := range deltas {
		if d != "partial answer" {
			t.Fatalf("deltas %q", d)
		}
	}
}

func TestCut(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Cut("half"))
	_, evs := stream(t, s, baseBody())
	for _, e := range evs {
		if strings.HasSuffix(e.typ(), ".done") || e.typ() == "response.completed" {
			t.Fatalf("unexpected %s", e.typ())
		}
	}
	if got := collapse(types(evs)); got[len(got)-1] != "response.output_text.delta" {
		t.Fatalf("events %v", got)
	}
}

func TestCutAbruptly(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(CutAbruptly("half"))
	resp := post(t, s, baseBody(), goodHeaders())
	defer resp.Body.Close()
	_, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatal("want a read error")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("read error: %v", err)
	}
}

func TestIncomplete(t *testing.T) {
	for _, reason := range []string{"max_output_tokens", "content_filter"} {
		s := NewServer(t)
		s.Enqueue(Incomplete(reason, "truncated"))
		_, evs := stream(t, s, baseBody())
		r := lastResponse(evs)
		if evs[len(evs)-1].typ() != "response.incomplete" || r["status"] != "incomplete" ||
			r["incomplete_details"].(map[string]any)["reason"] != reason || r["usage"] == nil {
			t.Fatalf("%s: %v", reason, r)
		}
		if finalText(evs) != "truncated" {
			t.Fatalf("text %q", finalText(evs))
		}
	}
}

func TestStall(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Stall("thinking"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b, _ := json.Marshal(baseBody())
	resp := doRaw(t, ctx, s, http.MethodPost, "/backend-api/codex/responses", b, goodHeaders())
	defer resp.Body.Close()
	// Read until the partial text delta has arrived, then hang up.
	br := bufio.NewReader(resp.Body)
	var text string
	for text != "thinking" {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var ev map[string]any
		if data, ok := strings.CutPrefix(line, "data: "); ok && json.Unmarshal([]byte(data), &ev) == nil &&
			ev["type"] == "response.output_text.delta" {
			text += ev["delta"].(string)
		}
	}
	cancel()
	<-s.Disconnected()
	if s.Disconnects() != 1 {
		t.Fatalf("disconnects %d", s.Disconnects())
	}
}

func TestStallReleasedByClose(t *testing.T) {
	s := New()
	s.Start()
	s.Enqueue(Stall(""))
	b, _ := json.Marshal(baseBody())
	resp := doRaw(t, t.Context(), s, http.MethodPost, "/backend-api/codex/responses", b, goodHeaders())
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, br)
		close(done)
	}()
	s.Close() // must not hang on the stalled handler
	<-done
	resp.Body.Close()
}

func TestUsageLimit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := NewServer(t, WithClock(func() time.Time { return now }))
	s.Enqueue(UsageLimit("plus", 13872*time.Second))
	resp := post(t, s, baseBody(), goodHeaders())
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := `{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","plan_type":"plus","resets_at":1800013872,"eligible_promo":null,"resets_in_seconds":13872}}`
	if !jsonEqual(t, body, []byte(want)) {
		t.Fatalf("body %s", body)
	}
	h := resp.Header
	if h.Get("x-codex-primary-used-percent") != "100" || h.Get("x-codex-primary-reset-after-seconds") != "13872" ||
		h.Get("x-codex-primary-reset-at") != strconv.Itoa(1800013872) || h.Get("x-codex-plan-type") != "plus" ||
		h.Get("x-codex-active-limit") != "codex" {
		t.Fatalf("headers %v", h)
	}
	if r := s.LastRequest(); r.Status != 429 || r.Rejection != "" {
		t.Fatalf("recorded %d %q", r.Status, r.Rejection)
	}
}

func TestStatusBehaviors(t *testing.T) {
	s := NewServer(t)
	cases := []struct {
		b      Behavior
		status int
		ct     string
		body   string
	}{
		{Unauthorized(), 401, "application/json", `{"detail":"Unauthorized"}`},
		{Status(500, "internal"), 500, "text/plain", "internal"},
		{Overloaded(), 503, "application/json", "server_is_overloaded"},
		{CloudflareBlock(), 403, "text/html", "Just a moment..."},
		{UsageNotIncluded(), 429, "application/json", "usage_not_included"},
	}
	for _, c := range cases {
		s.Enqueue(c.b)
	}
	for _, c := range cases {
		resp := post(t, s, baseBody(), goodHeaders())
		body := readAll(t, resp)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ct) ||
			!strings.Contains(string(body), c.body) {
			t.Fatalf("got %d %q %s, want %d %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status, c.body)
		}
		if s.LastRequest().Status != c.status {
			t.Fatalf("recorded %d", s.LastRequest().Status)
		}
		if c.status == 403 && resp.Header.Get("x-codex-plan-type") != "" {
			t.Fatal("cloudflare page carries x-codex headers")
		}
	}
}

func TestRateLimitedStream(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(RateLimitedStream(1500 * time.Millisecond))
	_, evs := stream(t, s, baseBody())
	e := lastResponse(evs)["error"].(map[string]any)
	if e["code"] != "rate_limit_exceeded" || !strings.Contains(e["message"].(string), "try again in 1.500s") {
		t.Fatalf("error %v", e)
	}
}

func TestWhamUsage(t *testing.T) {
	s := NewServer(t)
	resp := doRaw(t, t.Context(), s, http.MethodGet, "/backend-api/wham/usage", nil, goodHeaders())
	body := readAll(t, resp)
	var u map[string]any
	if err := json.Unmarshal(body, &u); err != nil || u["plan_type"] != "plus" {
		t.Fatalf("usage %s", body)
	}
}

// RequestsSince returns only the requests after the first n, as Requests
// records them.
func TestRequestsSince(t *testing.T) {
	s := New()
	s.Start()
	defer s.Close()
	for _, model := range []string{"gpt-5.4", "gpt-5.5", "gpt-5.4-mini"} {
		body := baseBody()
		body["model"] = model
		readAll(t, post(t, s, body, goodHeaders()))
	}
	got := s.RequestsSince(1)
	if len(got) != 2 || got[0].JSON["model"] != "gpt-5.5" || got[1].JSON["model"] != "gpt-5.4-mini" {
		t.Fatalf("RequestsSince(1) = %d requests: %+v", len(got), got)
	}
	if all := s.Requests(); !reflect.DeepEqual(all[1:], got) {
		t.Fatal("RequestsSince(1) differs from Requests()[1:]")
	}
	if got := s.RequestsSince(3); got != nil {
		t.Fatalf("RequestsSince(3) = %+v, want none", got)
	}
}

// WithKeep: a long-running fake remembers its last requests only, numbered
// in the order they came, and still records the status of a kept one.
func TestWithKeep(t *testing.T) {
	s := New(WithKeep(3))
	s.Start()
	defer s.Close()
	for i := range 8 {
		body := baseBody()
		body["prompt_cache_key"] = fmt.Sprintf("conversation-%d", i)
		readAll(t, post(t, s, body, goodHeaders()))
	}
	all := s.Requests()
	if len(all) < 3 || len(all) > 6 {
		t.Fatalf("kept %d requests, want 3 to 6", len(all))
	}
	for i, r := range all {
		want := 8 - len(all) + i
		if r.Index != want || r.JSON["prompt_cache_key"] != fmt.Sprintf("conversation-%d", want) || r.Status != http.StatusOK {
			t.Errorf("kept request %d: index %d, key %v, status %d (%s); want index %d", i, r.Index, r.JSON["prompt_cache_key"], r.Status, r.Rejection, want)
		}
	}
	if got := s.RequestsSince(0); !reflect.DeepEqual(got, all) {
		t.Error("RequestsSince(0) is not what is kept")
	}
	if got := s.RequestsSince(7); len(got) != 1 || got[0].Index != 7 {
		t.Errorf("RequestsSince(7) = %+v", got)
	}
	if got := s.RequestsSince(8); got != nil {
		t.Errorf("RequestsSince(8) = %+v, want none", got)
	}
	s.mu.Lock()
	keys := len(s.cache)
	s.mu.Unlock()
	if keys == 0 || keys > 3 {
		t.Errorf("%d cache keys kept, want 1 to 3", keys)
	}
}
