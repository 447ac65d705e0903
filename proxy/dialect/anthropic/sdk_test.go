package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

const png1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

// harness is the real core in front of the fake backend, with the official
// Anthropic Go SDK pointed at it.
type harness struct {
	*proxytest.Harness
	client anthropic.Client
	root   string // http://127.0.0.1:port (the SDK adds /v1)
}

func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	ph := proxytest.New(t, env)
	root := strings.TrimSuffix(ph.BaseURL, "/v1")
	h := &harness{Harness: ph, root: root}
	h.client = anthropic.NewClient(option.WithBaseURL(root), option.WithAPIKey(proxytest.APIKey), option.WithMaxRetries(0))
	return h
}

func text(m *anthropic.Message) string {
	var sb strings.Builder
	for _, b := range m.Content {
		if b.Type == "text" {
			sb.WriteString(b.Text)
		}
	}
	return sb.String()
}

func user(s string) anthropic.MessageParam {
	return anthropic.NewUserMessage(anthropic.NewTextBlock(s))
}

func tool(name string) anthropic.ToolUnionParam {
	return anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
		Name: name, Description: anthropic.String("Looks " + name + " up."),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}},
	}}
}

func inputKinds(body map[string]any) string {
	in, _ := body["input"].([]any)
	var kinds []string
	for _, it := range in {
		m, _ := it.(map[string]any)
		kinds = append(kinds, m["type"].(string))
	}
	return strings.Join(kinds, ",")
}

func apiErr(t *testing.T, err error, status int, typ string) *anthropic.Error {
	t.Helper()
	var ae *anthropic.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error %d, got %v", status, err)
	}
	if ae.StatusCode != status || string(ae.Type()) != typ {
		t.Fatalf("error = %d %s (%s), want %d %s", ae.StatusCode, ae.Type(), ae.Message, status, typ)
	}
	return ae
}

func TestSDKText(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	p := anthropic.MessageNewParams{
		Model: "claude-sonnet-4-5", MaxTokens: 1024,
		System:        []anthropic.TextBlockParam{{Text: "Be brief."}, {Text: "Answer in English."}},
		Messages:      []anthropic.MessageParam{user("hi")},
		StopSequences: []string{"END"},
		Metadata:      anthropic.MetadataParam{UserID: anthropic.String("user_42_session_abc")},
	}
	m, err := h.client.Messages.New(ctx, p, option.WithJSONSet("temperature", 0.2), option.WithJSONSet("top_k", 5))
	if err != nil {
		t.Fatal(err)
	}
	if text(m) != "echo: hi" || m.StopReason != "end_turn" || m.Role != "assistant" || m.Model != "claude-sonnet-4-5" {
		t.Errorf("message = %+v", m)
	}
	if !strings.HasPrefix(m.ID, "msg_") || m.Usage.InputTokens <= 0 || m.Usage.OutputTokens <= 0 {
		t.Errorf("id %q usage %+v", m.ID, m.Usage)
	}
	body := h.LastResponses(t).JSON
	def := h.Core.Catalog().Default()
	if body["model"] != def || body["instructions"] != "Be brief.\n\nAnswer in English." {
		t.Errorf("upstream model %v (want %s), instructions %q", body["model"], def, body["instructions"])
	}
	for _, k := range []string{"max_tokens", "temperature", "top_k", "stop_sequences", "metadata", "system", "max_output_tokens"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s forwarded upstream", k)
		}
	}
	if _, ok := body["reasoning"].(map[string]any)["summary"]; ok {
		t.Errorf("summaries asked for without thinking: %v", body["reasoning"])
	}
	key := body["prompt_cache_key"]
	// The same user id keeps the cache key, so the second turn reads the cache.
	m2, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if h.LastResponses(t).JSON["prompt_cache_key"] != key {
		t.Error("metadata.user_id does not keep the prompt cache key")
	}
	u := m2.Usage
	if u.CacheReadInputTokens <= 0 || u.InputTokens != m.Usage.InputTokens-u.CacheReadInputTokens {
		t.Errorf("cached usage %+v after %+v: input_tokens must exclude the cached part", u, m.Usage)
	}
	h.AssertNoRejections(t)
}

func TestSDKModelMap(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_CLAUDE_MODELS": "opus=gpt-5.4:xhigh, haiku=mini, claude-3-5-haiku=gpt-5.5:low"})
	ctx := context.Background()
	for _, c := range []struct{ model, slug, effort string }{
		{"claude-opus-4-5", "gpt-5.4", "xhigh"},
		{"claude-haiku-4-5", "gpt-5.4-mini", "medium"},
		{"claude-3-5-haiku-latest", "gpt-5.5", "low"}, // the longest key wins
		{"claude-sonnet-4", h.Core.Catalog().Default(), "medium"},
		{"gpt-5.5-high", "gpt-5.5", "high"},
	} {
		if _, err := h.client.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(c.model), MaxTokens: 10, Messages: []anthropic.MessageParam{user("x")}}); err != nil {
			t.Fatal(err)
		}
		body := h.LastResponses(t).JSON
		if body["model"] != c.slug || body["reasoning"].(map[string]any)["effort"] != c.effort {
			t.Errorf("%s -> %v %v, want %s %s", c.model, body["model"], body["reasoning"], c.slug, c.effort)
		}
	}
	// The default table: opus is the best model at high effort.
	h2 := newHarness(t, nil)
	if _, err := h2.client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-opus-4-1", MaxTokens: 10, Messages: []anthropic.MessageParam{user("x")}}); err != nil {
		t.Fatal(err)
	}
	best := h2.Core.Catalog().Visible()[0].Slug
	if b := h2.LastResponses(t).JSON; b["model"] != best || b["reasoning"].(map[string]any)["effort"] != "high" {
		t.Errorf("opus -> %v %v, want %s high", b["model"], b["reasoning"], best)
	}
}

func TestSDKStreamAccumulator(t *testing.T) {
	h := newHarness(t, nil)
	s := h.client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{
		Model: "gpt-5.5", MaxTokens: 100, Messages: []anthropic.MessageParam{user("stream me")},
	})
	var acc anthropic.Message
	var kinds []string
	for s.Next() {
		ev := s.Current()
		kinds = append(kinds, ev.Type)
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if text(&acc) != "echo: stream me" || acc.StopReason != "end_turn" || acc.Usage.OutputTokens <= 0 || acc.Model != "gpt-5.5" {
		t.Errorf("accumulated %+v", acc)
	}
	got := strings.Join(kinds, ",")
	if !strings.HasPrefix(got, "message_start,content_block_start,content_block_delta") || !strings.HasSuffix(got, "content_block_stop,message_delta,message_stop") {
		t.Errorf("event order: %s", got)
	}
}

func TestSDKBetaRoute(t *testing.T) {
	h := newHarness(t, nil)
	m, err := h.client.Beta.Messages.New(context.Background(), anthropic.BetaMessageNewParams{
		Model: "gpt-5.5", MaxTokens: 100, Messages: []anthropic.BetaMessageParam{anthropic.NewBetaUserMessage(anthropic.NewBetaTextBlock("beta"))},
		Betas: []anthropic.AnthropicBeta{"interleaved-thinking-2025-05-14"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Content) != 1 || m.Content[0].Text != "echo: beta" {
		t.Errorf("beta message %+v", m.Content)
	}
	// And with the Bearer scheme (ANTHROPIC_AUTH_TOKEN) instead of x-api-key.
	c := anthropic.NewClient(option.WithBaseURL(h.root), option.WithAuthToken(proxytest.APIKey), option.WithMaxRetries(0))
	if _, err := c.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 5, Messages: []anthropic.MessageParam{user("x")}}); err != nil {
		t.Fatalf("bearer: %v", err)
	}
}

func TestSDKToolRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	p := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100, Tools: []anthropic.ToolUnionParam{tool("get_weather")},
		Messages: []anthropic.MessageParam{user(`call:get_weather {"city":"Paris"}`)}}
	m, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.StopReason != "tool_use" || len(m.Content) != 1 || m.Content[0].Type != "tool_use" {
		t.Fatalf("first turn %+v", m)
	}
	tu := m.Content[0]
	if tu.Name != "get_weather" || tu.ID == "" || string(tu.Input) != `{"city":"Paris"}` {
		t.Errorf("tool_use %+v input %s", tu, tu.Input)
	}
	body := h.LastResponses(t).JSON
	tools := body["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "get_weather" || tools[0].(map[string]any)["type"] != "function" || body["parallel_tool_calls"] != true {
		t.Errorf("upstream tools %v parallel %v", tools, body["parallel_tool_calls"])
	}
	p.Messages = append(p.Messages, m.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, `{"temp":21}`, false)))
	m2, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if text(m2) != `tool said: {"temp":21}` || m2.StopReason != "end_turn" {
		t.Errorf("second turn %+v", m2)
	}
	if k := inputKinds(h.LastResponses(t).JSON); k != "message,function_call,function_call_output" {
		t.Errorf("second request input = %s", k)
	}
	// An error result is marked as one; tool_choice any and no parallel use.
	p.Messages[2] = anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, "city not found", true))
	p.ToolChoice = anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{DisableParallelToolUse: anthropic.Bool(true)}}
	if m3, err := h.client.Messages.New(ctx, p); err != nil || text(m3) != "tool said: Error: city not found" {
		t.Fatalf("error result: %v %+v", err, m3)
	}
	body = h.LastResponses(t).JSON
	if body["tool_choice"] != "required" || body["parallel_tool_calls"] != false {
		t.Errorf("tool_choice %v parallel %v", body["tool_choice"], body["parallel_tool_calls"])
	}
	p.ToolChoice = anthropic.ToolChoiceParamOfTool("get_weather")
	if _, err := h.client.Messages.New(ctx, p); err != nil {
		t.Fatal(err)
	}
	if tc, _ := h.LastResponses(t).JSON["tool_choice"].(map[string]any); tc["name"] != "get_weather" || tc["type"] != "function" {
		t.Errorf("named tool_choice %v", tc)
	}
	h.AssertNoRejections(t)
}

func TestSDKParallelTools(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	p := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100, Tools: []anthropic.ToolUnionParam{tool("lookup_a"), tool("lookup_b")},
		Messages: []anthropic.MessageParam{user(`call-parallel:lookup_a,lookup_b {"q":1}`)}}
	m, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Content) != 2 || m.Content[0].Name != "lookup_a" || m.Content[1].Name != "lookup_b" || m.Content[0].ID == m.Content[1].ID {
		t.Fatalf("calls %+v", m.Content)
	}
	p.Messages = append(p.Messages, m.ToParam(), anthropic.NewUserMessage(
		anthropic.NewToolResultBlock(m.Content[0].ID, "A", false), anthropic.NewToolResultBlock(m.Content[1].ID, "B", false)))
	m2, err := h.client.Messages.New(ctx, p)
	if err != nil || text(m2) != "tool said: A\ntool said: B" {
		t.Fatalf("after the tools: %v %+v", err, m2)
	}
	if k := inputKinds(h.LastResponses(t).JSON); k != "message,function_call,function_call,function_call_output,function_call_output" {
		t.Errorf("input = %s", k)
	}
}

func TestSDKStreamedToolInput(t *testing.T) {
	h := newHarness(t, nil)
	args := `{"city":"Paris","days":[1,2,3],"note":"a long enough argument string to be split"}`
	h.Fake.Enqueue(codextest.Reply(codextest.Text("Let me check."), codextest.CallID("call_x1", "get_weather", args)))
	s := h.client.Messages.NewStreaming(context.Background(), anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100,
		Tools: []anthropic.ToolUnionParam{tool("get_weather")}, Messages: []anthropic.MessageParam{user("weather?")}})
	var acc anthropic.Message
	jsonDeltas := 0
	for s.Next() {
		ev := s.Current()
		if ev.Type == "content_block_delta" && ev.Delta.Type == "input_json_delta" {
			jsonDeltas++
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Content) != 2 || acc.Content[0].Text != "Let me check." || acc.Content[1].Type != "tool_use" || acc.StopReason != "tool_use" {
		t.Fatalf("accumulated %+v", acc)
	}
	tu := acc.Content[1]
	var got, want any
	_ = json.Unmarshal(tu.Input, &got)
	_ = json.Unmarshal([]byte(args), &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if tu.ID != "call_x1" || tu.Name != "get_weather" || string(gb) != string(wb) || jsonDeltas < 2 {
		t.Errorf("tool_use %s %s %s after %d input_json_delta events", tu.ID, tu.Name, tu.Input, jsonDeltas)
	}
}

func TestSDKImages(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m, err := h.client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100, Messages: []anthropic.MessageParam{
		anthropic.NewUserMessage(anthropic.NewImageBlockBase64("image/png", png1x1),
			anthropic.NewImageBlock(anthropic.URLImageSourceParam{URL: "https://example.com/cat.png"}), anthropic.NewTextBlock("what is this")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if text(m) != "echo: what is this\nimage received: 2" {
		t.Errorf("text %q", text(m))
	}
	content := h.LastResponses(t).JSON["input"].([]any)[0].(map[string]any)["content"].([]any)
	if u := content[0].(map[string]any)["image_url"]; u != "data:image/png;base64,"+png1x1 {
		t.Errorf("image_url %v", u)
	}
	if u := content[1].(map[string]any)["image_url"]; u != "https://example.com/cat.png" {
		t.Errorf("image url %v", u)
	}
	// An image inside a tool result.
	h.Fake.Enqueue(codextest.Reply(codextest.CallID("call_s", "screenshot", "{}")))
	p := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100, Tools: []anthropic.ToolUnionParam{tool("screenshot")}, Messages: []anthropic.MessageParam{user("shoot")}}
	m, err = h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	img := anthropic.ImageBlockParam{Source: anthropic.ImageBlockParamSourceUnion{OfBase64: &anthropic.Base64ImageSourceParam{MediaType: "image/png", Data: png1x1}}}
	res := anthropic.ToolResultBlockParam{ToolUseID: m.Content[0].ID, Content: []anthropic.ToolResultBlockParamContentUnion{
		{OfText: &anthropic.TextBlockParam{Text: "the screen"}}, {OfImage: &img}}}
	p.Messages = append(p.Messages, m.ToParam(), anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{OfToolResult: &res}))
	if _, err := h.client.Messages.New(ctx, p); err != nil {
		t.Fatal(err)
	}
	in := h.LastResponses(t).JSON["input"].([]any)
	out := in[len(in)-1].(map[string]any)["output"].([]any)
	if len(out) != 2 || out[0].(map[string]any)["type"] != "input_text" || out[1].(map[string]any)["type"] != "input_image" {
		t.Errorf("tool output %v", out)
	}
	h.AssertNoRejections(t)
}

func TestSDKThinkingRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	p := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 20000, Thinking: anthropic.ThinkingConfigParamOfEnabled(8000),
		Tools: []anthropic.ToolUnionParam{tool("get_weather")}, Messages: []anthropic.MessageParam{user(`call:get_weather {"city":"Oslo"}`)}}
	m, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	body := h.LastResponses(t).JSON
	if r := body["reasoning"].(map[string]any); r["effort"] != "medium" || r["summary"] != "auto" {
		t.Errorf("budget 8000 -> reasoning %v", r)
	}
	if len(m.Content) != 2 || m.Content[0].Type != "thinking" || m.Content[1].Type != "tool_use" {
		t.Fatalf("content %+v", m.Content)
	}
	th := m.Content[0]
	if !strings.Contains(th.Thinking, "Reading the request") || !strings.HasPrefix(th.Signature, "c2a1.") {
		t.Errorf("thinking %q signature %q", th.Thinking, th.Signature)
	}
	// Turn 2 (streamed): the signature replays the encrypted reasoning.
	p.Messages = append(p.Messages, m.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(m.Content[1].ID, "cold", false)))
	s := h.client.Messages.NewStreaming(ctx, p)
	var acc anthropic.Message
	sigDeltas := 0
	for s.Next() {
		ev := s.Current()
		if ev.Delta.Type == "signature_delta" {
			sigDeltas++
		}
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	in := h.LastResponses(t).JSON["input"].([]any)
	if k := inputKinds(h.LastResponses(t).JSON); k != "message,reasoning,function_call,function_call_output" {
		t.Fatalf("turn 2 input %s", k)
	}
	first := h.Fake.ResponsesRequests()[0]
	_ = first
	r := in[1].(map[string]any)
	enc, _ := r["encrypted_content"].(string)
	if enc == "" || r["id"] != nil || !strings.Contains(r["summary"].([]any)[0].(map[string]any)["text"].(string), "Reading the request") {
		t.Errorf("replayed reasoning %v", r)
	}
	if len(acc.Content) != 2 || acc.Content[0].Type != "thinking" || acc.Content[0].Signature == "" || sigDeltas != 1 || text(&acc) != "tool said: cold" {
		t.Errorf("streamed turn 2 %+v (signature deltas %d)", acc.Content, sigDeltas)
	}
	// Turn 3: the streamed signature replays too, and a foreign signature
	// (a real Anthropic one) is dropped, never sent upstream.
	foreign := anthropic.NewAssistantMessage(anthropic.NewThinkingBlock("EqQBCkgIARABGAIiQNotOurs", "old thoughts"), anthropic.NewTextBlock("earlier"))
	p.Messages = append([]anthropic.MessageParam{user("before"), foreign}, append(p.Messages, acc.ToParam(), user("thanks"))...)
	if _, err := h.client.Messages.New(ctx, p); err != nil {
		t.Fatal(err)
	}
	b3 := h.LastResponses(t).JSON
	if k := inputKinds(b3); k != "message,message,message,reasoning,function_call,function_call_output,reasoning,message,message" {
		t.Errorf("turn 3 input %s", k)
	}
	raw, _ := json.Marshal(b3)
	if strings.Contains(string(raw), "NotOurs") || strings.Contains(string(raw), "old thoughts") {
		t.Error("a foreign thinking block reached the backend")
	}
	// Thinking disabled asks for the least reasoning and no summaries.
	p.Thinking = anthropic.ThinkingConfigParamUnion{OfDisabled: &anthropic.ThinkingConfigDisabledParam{}}
	m4, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.LastResponses(t).JSON["reasoning"].(map[string]any); r["effort"] != "low" || r["summary"] != nil {
		t.Errorf("disabled -> %v", r)
	}
	for _, b := range m4.Content {
		if b.Type == "thinking" || b.Type == "redacted_thinking" {
			t.Errorf("thinking block without thinking: %+v", b)
		}
	}
	h.AssertNoRejections(t)
}

func TestSDKRedactedThinking(t *testing.T) {
	// Reasoning without summary text comes back as redacted_thinking and
	// replays from its data.
	h := newHarness(t, map[string]string{"CHATGPT_REASONING_SUMMARY": "none"})
	ctx := context.Background()
	// A budget over max_tokens needs interleaved thinking (the SDK wants a
	// stream for a larger max_tokens).
	h.client = anthropic.NewClient(option.WithBaseURL(h.root), option.WithAPIKey(proxytest.APIKey), option.WithMaxRetries(0),
		option.WithHeader("anthropic-beta", "interleaved-thinking-2025-05-14"))
	p := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 20000, Thinking: anthropic.ThinkingConfigParamOfEnabled(40000), Messages: []anthropic.MessageParam{user("deep")}}
	m, err := h.client.Messages.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.LastResponses(t).JSON["reasoning"].(map[string]any); r["effort"] != "xhigh" {
		t.Errorf("budget 40000 -> %v", r)
	}
	if len(m.Content) != 2 || m.Content[0].Type != "redacted_thinking" || !strings.HasPrefix(m.Content[0].Data, "c2a1.") {
		t.Fatalf("content %+v", m.Content)
	}
	p.Messages = append(p.Messages, m.ToParam(), user("more"))
	if _, err := h.client.Messages.New(ctx, p); err != nil {
		t.Fatal(err)
	}
	if k := inputKinds(h.LastResponses(t).JSON); k != "message,reasoning,message,message" {
		t.Errorf("input %s", k)
	}
}

func TestSDKCountTokens(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	count := func(p anthropic.MessageCountTokensParams) int64 {
		t.Helper()
		r, err := h.client.Messages.CountTokens(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return r.InputTokens
	}
	base := anthropic.MessageCountTokensParams{Model: "claude-sonnet-4-5", Messages: []anthropic.MessageParam{user("Hello, world")}}
	n := count(base)
	// "Hello, world" is 3 o200k tokens; "user" 1; 4 per item, 3 per request.
	if n != 11 {
		t.Errorf("count = %d, want 11", n)
	}
	withImage := base
	withImage.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello, world"), anthropic.NewImageBlockBase64("image/png", png1x1))}
	if d := count(withImage) - n; d != 255 {
		t.Errorf("a 1×1 image counts %d, want 85+170", d)
	}
	withSystem := base
	withSystem.System = anthropic.MessageCountTokensParamsSystemUnion{OfString: anthropic.String("You are terse.")}
	if d := count(withSystem) - n; d != 4 {
		t.Errorf("system adds %d, want 4", d)
	}
	withTool := base
	withTool.Tools = []anthropic.MessageCountTokensToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{}}}}}
	if d := count(withTool) - n; d < 10 {
		t.Errorf("a tool adds %d tokens", d)
	}
	if got := len(h.Fake.ResponsesRequests()); got != 0 {
		t.Errorf("count_tokens went upstream %d times", got)
	}
}

func TestSDKModels(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	page, err := h.client.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range page.Data {
		ids[m.ID] = true
		if m.Type != "model" || m.DisplayName == "" || m.CreatedAt.IsZero() {
			t.Errorf("model %+v", m)
		}
	}
	if !ids["gpt-5.5"] {
		t.Errorf("models %v", ids)
	}
	mi, err := h.client.Models.Get(ctx, "claude-opus-4-5", anthropic.ModelGetParams{})
	if err != nil || mi.ID != "claude-opus-4-5" || !strings.Contains(mi.DisplayName, h.Core.Catalog().Visible()[0].Slug) {
		t.Errorf("get: %v %+v", err, mi)
	}
	_, err = h.client.Models.Get(ctx, "no-such-model", anthropic.ModelGetParams{})
	apiErr(t, err, 404, "not_found_error")
}

func TestSDKErrors(t *testing.T) {
	ctx := context.Background()
	basic := anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 100, Messages: []anthropic.MessageParam{user("hi")}}
	t.Run("400", func(t *testing.T) {
		h := newHarness(t, nil)
		_, err := h.client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 0, Messages: basic.Messages})
		apiErr(t, err, 400, "invalid_request_error")
	})
	t.Run("401", func(t *testing.T) {
		h := newHarness(t, nil)
		c := anthropic.NewClient(option.WithBaseURL(h.root), option.WithAPIKey("wrong"), option.WithMaxRetries(0))
		_, err := c.Messages.New(ctx, basic)
		apiErr(t, err, 401, "authentication_error")
		h.Fake.Enqueue(codextest.Unauthorized(), codextest.Unauthorized())
		_, err = h.client.Messages.New(ctx, basic)
		apiErr(t, err, 401, "authentication_error")
		// Without a key, the answer names the header Anthropic's clients send.
		req, _ := http.NewRequest(http.MethodPost, h.root+"/v1/messages", strings.NewReader(`{}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(string(b), "x-api-key") {
			t.Errorf("no key: %d %s", resp.StatusCode, b)
		}
	})
	t.Run("403", func(t *testing.T) {
		h := newHarness(t, nil)
		h.Fake.Enqueue(codextest.CloudflareBlock())
		_, err := h.client.Messages.New(ctx, basic)
		apiErr(t, err, 403, "permission_error")
	})
	t.Run("404", func(t *testing.T) {
		h := newHarness(t, map[string]string{"CHATGPT_UNKNOWN_MODEL": "reject"})
		_, err := h.client.Messages.New(ctx, anthropic.MessageNewParams{Model: "mystery-model", MaxTokens: 10, Messages: basic.Messages})
		apiErr(t, err, 404, "not_found_error")
	})
	t.Run("413", func(t *testing.T) {
		h := newHarness(t, map[string]string{"CHATGPT_BODY_LIMIT": "2K"})
		_, err := h.client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 10, Messages: []anthropic.MessageParam{user(strings.Repeat("x", 4000))}})
		apiErr(t, err, 413, "request_too_large")
	})
	t.Run("429_usage_limit", func(t *testing.T) {
		h := newHarness(t, nil)
		// The SDK's default retries stay on: the answer says not to retry.
		c := anthropic.NewClient(option.WithBaseURL(h.root), option.WithAPIKey(proxytest.APIKey))
		h.Fake.Enqueue(codextest.UsageLimit("plus", 2*time.Hour+10*time.Minute+30*time.Second))
		_, err := c.Messages.New(ctx, basic)
		ae := apiErr(t, err, 429, "rate_limit_error")
		if ra := ae.Response.Header.Get("Retry-After"); ra == "" || !strings.Contains(ae.Message, "resets") || !strings.Contains(ae.Message, "2 h 1") {
			t.Errorf("message %q retry-after %q", ae.Message, ra)
		}
		if n := len(h.Fake.ResponsesRequests()); n != 1 {
			t.Errorf("usage limit sent upstream %d times", n)
		}
	})
	t.Run("500", func(t *testing.T) {
		h := newHarness(t, map[string]string{"CHATGPT_MAX_RETRIES": "0"})
		h.Fake.Enqueue(codextest.Status(500, `{"detail":"Internal Server Error"}`))
		_, err := h.client.Messages.New(ctx, basic)
		apiErr(t, err, 500, "api_error")
	})
	t.Run("529", func(t *testing.T) {
		h := newHarness(t, nil)
		h.Fake.Enqueue(codextest.Overloaded())
		_, err := h.client.Messages.New(ctx, basic)
		apiErr(t, err, 529, "overloaded_error")
	})
	t.Run("in_band_after_output", func(t *testing.T) {
		h := newHarness(t, nil)
		h.Fake.Enqueue(codextest.FailAfterText("partial answer", "server_error", "boom"))
		s := h.client.Messages.NewStreaming(ctx, basic)
		var acc anthropic.Message
		for s.Next() {
			_ = acc.Accumulate(s.Current())
		}
		if s.Err() == nil || !strings.Contains(s.Err().Error(), "boom") {
			t.Fatalf("stream error = %v", s.Err())
		}
		if acc.StopReason == "end_turn" {
			t.Error("a failed stream ended cleanly")
		}
	})
	t.Run("max_tokens_stop", func(t *testing.T) {
		h := newHarness(t, nil)
		h.Fake.Enqueue(codextest.Incomplete("max_output_tokens", "truncat"))
		m, err := h.client.Messages.New(ctx, basic)
		if err != nil || m.StopReason != "max_tokens" || text(m) != "truncat" {
			t.Fatalf("incomplete: %v %+v", err, m)
		}
	})
}

// post sends a raw body to /v1/messages.
func (h *harness) post(t *testing.T, path, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.root+path, strings.NewReader(body))
	req.Header.Set("x-api-key", proxytest.APIKey)
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_BODY_LIMIT": "4K"})
	cases := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"missing max_tokens", `{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens"},
		{"unknown block", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video","url":"x"}]}]}`, 400, "video"},
		{"tool_use from the user", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}]}`, 400, "assistant"},
		{"unknown role in messages", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"tool","content":"x"}]}`, 400, "role"},
		{"image in a system message", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]}`, 400, "only text"},
		{"tool_result without tool_use", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"x"}]}]}`, 400, "toolu_1"},
		{"invalid JSON", `{"model":"gpt-5.5","max_tokens":5,"messages":[`, 400, "JSON"},
		// Values of the wrong type are named as the route's own checks
		// and Anthropic's API name them: dotted path, "Input should be".
		{"wrong type", `{"model":"gpt-5.5","max_tokens":"many","messages":[]}`, 400, "max_tokens: Input should be a valid integer"},
		{"fraction for an integer", `{"model":"gpt-5.5","max_tokens":1.5,"messages":[]}`, 400, "max_tokens: Input should be a valid integer, got a number with a fractional part"},
		{"fraction for max_tokens written as a float", `{"model":"gpt-5.5","max_tokens":1024.5,"messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens: Input should be a valid integer, got a number with a fractional part"},
		{"fraction for top_k", `{"model":"gpt-5.5","max_tokens":5,"top_k":4.5,"messages":[{"role":"user","content":"hi"}]}`, 400, "top_k: Input should be a valid integer, got a number with a fractional part"},
		{"thinking budget over max_tokens", `{"model":"gpt-5.5","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"hi"}]}`, 400, "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size"},
		{"thinking budget under 1024", `{"model":"gpt-5.5","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1000},"messages":[{"role":"user","content":"hi"}]}`, 400, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"},
		{"thinking without a budget", `{"model":"gpt-5.5","max_tokens":5,"thinking":{"type":"enabled"},"messages":[{"role":"user","content":"hi"}]}`, 400, "thinking.enabled.budget_tokens: Field required"},
		{"text block without text", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text"}]}]}`, 400, "messages.0.content.0.text.text: Field required"},
		{"text block with null text", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"text","text":"b"},{"type":"text","text":null}]}]}`, 400, "messages.1.content.1.text.text: Input should be a valid string"},
		{"text block without text in a tool result", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text"}]}]}]}`, 400, "messages.1.content.0.content.0.text.text: Field required"},
		{"max_tokens below 1", `{"model":"gpt-5.5","max_tokens":-1,"messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens: Input should be greater than or equal to 1"},
		{"temperature over 1", `{"model":"gpt-5.5","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"hi"}]}`, 400, "temperature: Input should be less than or equal to 1"},
		{"temperature below 0", `{"model":"gpt-5.5","max_tokens":5,"temperature":-0.5,"messages":[{"role":"user","content":"hi"}]}`, 400, "temperature: Input should be greater than or equal to 0"},
		{"top_p over 1", `{"model":"gpt-5.5","max_tokens":5,"top_p":2,"messages":[{"role":"user","content":"hi"}]}`, 400, "top_p: Input should be less than or equal to 1"},
		{"top_k below 0", `{"model":"gpt-5.5","max_tokens":5,"top_k":-2,"messages":[{"role":"user","content":"hi"}]}`, 400, "top_k: Input should be greater than or equal to 0"},
		{"top_p below 0", `{"model":"gpt-5.5","max_tokens":5,"top_p":-0.5,"messages":[{"role":"user","content":"hi"}]}`, 400, "top_p: Input should be greater than or equal to 0"},
		{"system block without text", `{"model":"gpt-5.5","max_tokens":5,"system":[{"type":"text","text":"a"},{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "system.1.text: Field required"},
		{"system block with null text", `{"model":"gpt-5.5","max_tokens":5,"system":[{"type":"text","text":null}],"messages":[{"role":"user","content":"hi"}]}`, 400, "system.0.text: Input should be a valid string"},
		{"integer out of range", `{"model":"gpt-5.5","max_tokens":99999999999999999999,"messages":[]}`, 400, "max_tokens: Input should be a valid integer, got 99999999999999999999, which is out of range"},
		{"wrong type in the second message", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":5,"content":"b"}]}`, 400, "messages.1.role: Input should be a valid string"},
		{"messages not a list", `{"model":"gpt-5.5","max_tokens":5,"messages":"hi"}`, 400, "messages: Input should be a valid list"},
		{"metadata not an object", `{"model":"gpt-5.5","max_tokens":5,"metadata":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "metadata: Input should be a valid dictionary"},
		{"stream not a boolean", `{"model":"gpt-5.5","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"hi"}]}`, 400, "stream: Input should be a valid boolean"},
		{"temperature not a number", `{"model":"gpt-5.5","max_tokens":5,"temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, 400, "temperature: Input should be a valid number"},
		{"body not an object", `[]`, 400, "request body: Input should be a valid dictionary"},
		{"body null", `null`, 400, "request body: Input should be a valid dictionary"},
		{"blank model", `{"model":"  ","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "model: a model name is required"},
		{"control in model", `{"model":"gpt-5.5\u0000","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "model: the name holds a control character"},
		{"null message", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":"hi"},null]}`, 400, "messages.1: Input should be a valid dictionary"},
		{"null block", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[null]}]}`, 400, "messages.0.content.0: Input should be a valid dictionary"},
		{"mcp servers", `{"model":"gpt-5.5","max_tokens":5,"mcp_servers":[{"type":"url","url":"https://mcp.example/sse","name":"x"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "mcp_servers: remote MCP servers"},
		{"null system block", `{"model":"gpt-5.5","max_tokens":5,"system":[null],"messages":[{"role":"user","content":"hi"}]}`, 400, "system.0: Input should be a valid dictionary"},
		{"null tool", `{"model":"gpt-5.5","max_tokens":5,"tools":[null],"messages":[{"role":"user","content":"hi"}]}`, 400, "tools.0: Input should be a valid dictionary"},
		{"input_schema not an object", `{"model":"gpt-5.5","max_tokens":5,"tools":[{"name":"f","input_schema":"x"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "tools.0.custom.input_schema: Input should be a valid dictionary"},
		{"input_schema null", `{"model":"gpt-5.5","max_tokens":5,"tools":[{"name":"f","input_schema":null}],"messages":[{"role":"user","content":"hi"}]}`, 400, "tools.0.custom.input_schema: Input should be a valid dictionary"},
		{"tool without input_schema", `{"model":"gpt-5.5","max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object"}},{"type":"custom","name":"g"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "tools.1.custom.input_schema: Field required"},
		{"tool without name", `{"model":"gpt-5.5","max_tokens":5,"tools":[{"input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`, 400, "tools.0.custom.name: Field required"},
		{"no messages", `{"model":"gpt-5.5","max_tokens":5,"messages":[]}`, 400, "messages"},
		{"text document in a PDF's clothes", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/html","data":"PGI+"}}]}]}`, 400, "application/pdf"},
		{"oversized", `{"model":"gpt-5.5","max_tokens":5,"messages":[{"role":"user","content":"` + strings.Repeat("y", 5000) + `"}]}`, 413, "too large: the limit is 4 KiB"},
	}
	for _, c := range cases {
		status, _, body := h.post(t, "/v1/messages", c.body)
		var e struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != c.status || e.Type != "error" || e.Error.Type == "" || !strings.Contains(e.Error.Message, c.msg) {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
		want := "invalid_request_error"
		if c.status == 413 {
			want = "request_too_large"
		}
		if e.Error.Type != want {
			t.Errorf("%s: type %q, want %q", c.name, e.Error.Type, want)
		}
	}
	// count_tokens translates as /v1/messages does, and refuses alike.
	if status, _, body := h.post(t, "/v1/messages/count_tokens", `{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"},null]}`); status != 400 || !strings.Contains(body, "messages.1: Input should be a valid dictionary") {
		t.Errorf("count_tokens with a null message: %d %s", status, body)
	}
	// The Host guard answers in Anthropic's shape too, and the app still serves.
	status, _, body := h.post(t, "/v1/messages?beta=true", `{}`, "Host", "evil.example")
	if status != 403 || !strings.Contains(body, `"permission_error"`) {
		t.Errorf("host guard: %d %s", status, body)
	}
	status, _, body = h.post(t, "/v1/messages?beta=true", `{"model":"gpt-5.5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"still here"}]}`)
	if status != 200 || !strings.Contains(body, "event: ping") || !strings.Contains(body, "event: message_stop") || !strings.Contains(body, `"text":"ill "`) {
		t.Errorf("after bad input: %d %s", status, body)
	}
	if len(h.Fake.ResponsesRequests()) != 1 {
		t.Errorf("bad input went upstream")
	}
	// With interleaved thinking the budget spans the turn and may exceed
	// max_tokens.
	if status, _, body := h.post(t, "/v1/messages", `{"model":"gpt-5.5","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":4000},"messages":[{"role":"user","content":"hi"}]}`,
		"anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14"); status != 200 {
		t.Errorf("interleaved thinking over max_tokens: %d %s", status, body)
	}
	// An empty list of MCP servers, however written, asks for nothing.
	if status, _, body := h.post(t, "/v1/messages", `{"model":"gpt-5.5","max_tokens":5,"mcp_servers":[ ],"messages":[{"role":"user","content":"hi"}]}`); status != 200 {
		t.Errorf("empty mcp_servers: %d %s", status, body)
	}
}

func TestPDFDocument(t *testing.T) {
	h := newHarness(t, nil)
	pdf := "JVBERi0xLjQKMSAwIG9iago8PC9UeXBlIC9QYWdlPj4KZW5kb2JqCg=="
	m, err := h.client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: "gpt-5.5", MaxTokens: 10, Messages: []anthropic.MessageParam{
		anthropic.NewUserMessage(anthropic.NewDocumentBlock(anthropic.Base64PDFSourceParam{Data: pdf}), anthropic.NewTextBlock("summarise")),
	}})
	if err != nil || text(m) != "echo: summarise" {
		t.Fatalf("%v %+v", err, m)
	}
	part := h.LastResponses(t).JSON["input"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)
	if part["type"] != "input_file" || part["file_data"] != "data:application/pdf;base64,"+pdf || part["filename"] != "document.pdf" {
		t.Errorf("pdf part %v", part)
	}
}

// Claude Code (per-turn-control beta) puts system messages inside
// messages; they reach the backend as developer messages in place.
func TestSystemMessagesInMessages(t *testing.T) {
	h := newHarness(t, nil)
	status, _, body := h.post(t, "/v1/messages", `{"model":"gpt-5.5","max_tokens":5,"messages":[
		{"role":"user","content":"hi"},
		{"role":"system","content":[{"type":"text","text":"be brief"}]}]}`)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	in := h.LastResponses(t).JSON["input"].([]any)
	last := in[len(in)-1].(map[string]any)
	part := last["content"].([]any)[0].(map[string]any)
	if last["role"] != "developer" || part["text"] != "be brief" || inputKinds(h.LastResponses(t).JSON) != "message,message" {
		t.Errorf("input %v", in)
	}
}

// Integers written with a zero fraction (1024.0), as Python clients write
// floats, are integers to Anthropic's API (pydantic's lax mode), and so
// here.
func TestWholeNumbers(t *testing.T) {
	h := newHarness(t, nil)
	for _, body := range []string{
		`{"model":"gpt-5.5","max_tokens":1024.0,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"gpt-5.5","max_tokens":1e4,"top_k":40.0,"thinking":{"type":"enabled","budget_tokens":2048.0},"messages":[{"role":"user","content":"hi"}]}`,
		// -1 is "unset" for top_p and top_k, as the old Text Completions
		// API wrote it, and an empty system text is sent.
		`{"model":"gpt-5.5","max_tokens":4096,"top_p":-1,"top_k":-1.0,"system":[{"type":"text","text":""}],"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":2048.0}}`,
	} {
		if status, _, resp := h.post(t, "/v1/messages", body); status != 200 {
			t.Errorf("%s: %d %s", body, status, resp)
		}
	}
	if r := h.LastResponses(t).JSON["reasoning"].(map[string]any); r["effort"] != "low" {
		t.Errorf("budget 2048.0 -> %v", r)
	}
}
