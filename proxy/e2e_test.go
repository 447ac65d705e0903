package proxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

const testKey = proxytest.APIKey

// harness is our server (the real core with the tls-client upstream) in
// front of the fake Codex backend, plus an official OpenAI client.
type harness struct {
	*proxytest.Harness
	fake   *codextest.Server
	core   *proxy.Core
	client openai.Client
	base   string
	token  string
	// rejectionsOK is set by tests that send a request the backend must refuse.
	rejectionsOK bool
}

func newHarness(t *testing.T, env map[string]string, fakeOpts ...codextest.Option) *harness {
	t.Helper()
	ph := proxytest.New(t, env, fakeOpts...)
	h := &harness{Harness: ph, fake: ph.Fake, core: ph.Core, base: ph.BaseURL, token: ph.Token}
	h.client = openai.NewClient(option.WithBaseURL(h.base), option.WithAPIKey(testKey), option.WithMaxRetries(0))
	t.Cleanup(func() {
		if !h.rejectionsOK {
			h.AssertNoRejections(t)
		}
	})
	return h
}

func userMsg(s string) openai.ChatCompletionMessageParamUnion { return openai.UserMessage(s) }

func weatherTool() openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Weather for a city"),
		Parameters: shared.FunctionParameters{
			"type":       "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}},
			"required":   []string{"city"},
		},
	})
}

func namedTool(name string) openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:       name,
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{}},
	})
}

// apiError asserts err is an OpenAI API error with status and returns it.
func apiError(t *testing.T, err error, status int) *openai.Error {
	t.Helper()
	var ae *openai.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %d, got %v", status, err)
	}
	if ae.StatusCode != status {
		t.Fatalf("status = %d, want %d (%s)", ae.StatusCode, status, ae.Message)
	}
	return ae
}

// lastRec is the last /codex/responses request the fake received.
func lastRec(t *testing.T, fake *codextest.Server) codextest.Recorded {
	t.Helper()
	reqs := fake.ResponsesRequests()
	if len(reqs) == 0 {
		t.Fatal("the fake received no /responses request")
	}
	return reqs[len(reqs)-1]
}

func lastBody(t *testing.T, fake *codextest.Server) map[string]any {
	t.Helper()
	reqs := fake.ResponsesRequests()
	if len(reqs) == 0 {
		t.Fatal("the fake received no /responses request")
	}
	r := reqs[len(reqs)-1]
	if r.Rejection != "" {
		t.Fatalf("the fake rejected our request: %s", r.Rejection)
	}
	return r.JSON
}

func TestModels(t *testing.T) {
	h := newHarness(t, nil)
	page, err := h.client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range page.Data {
		ids[m.ID] = true
		if m.Object != "model" || m.OwnedBy == "" {
			t.Errorf("model entry %+v lacks object/owned_by", m)
		}
	}
	for _, want := range []string{"gpt-5.5", "gpt-5.4"} {
		if !ids[want] {
			t.Errorf("models lack %s: %v", want, ids)
		}
	}
	if ids["gpt-5.2"] || ids["codex-auto-review"] {
		t.Errorf("retired or hidden models listed: %v", ids)
	}
	m, err := h.client.Models.Get(context.Background(), "gpt-4o")
	if err != nil || m.ID != "gpt-4o" {
		t.Fatalf("alias lookup: %v %+v", err, m)
	}
	_, err = h.client.Models.Get(context.Background(), "no-such-model")
	apiError(t, err, 404)
}

func TestChatNonStreamTranslation(t *testing.T) {
	h := newHarness(t, nil)
	resp, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.DeveloperMessage("Answer in English."),
			userMsg("hello there"),
		},
		Temperature:         openai.Float(0.3),
		TopP:                openai.Float(0.9),
		MaxTokens:           openai.Int(100),
		MaxCompletionTokens: openai.Int(100),
		PresencePenalty:     openai.Float(0.1),
		FrequencyPenalty:    openai.Float(0.1),
		Seed:                openai.Int(7),
		User:                openai.String("someone"),
		Metadata:            shared.Metadata{"k": "v"},
		Stop:                openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("END")},
		ReasoningEffort:     shared.ReasoningEffortHigh,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "echo: hello there" {
		t.Errorf("content = %q", got)
	}
	if resp.Choices[0].FinishReason != "stop" || resp.Object != "chat.completion" || resp.Model != "gpt-5.5" {
		t.Errorf("envelope: finish=%q object=%q model=%q", resp.Choices[0].FinishReason, resp.Object, resp.Model)
	}
	if !strings.HasPrefix(resp.ID, "chatcmpl-") {
		t.Errorf("id = %q", resp.ID)
	}
	var raw struct {
		Choices []struct {
			Message struct {
				ReasoningContent string `json:"reasoning_content"`
			} `json:"message"`
		} `json:"choices"`
	}
	_ = json.Unmarshal([]byte(resp.RawJSON()), &raw)
	if !strings.Contains(raw.Choices[0].Message.ReasoningContent, "Reading the request") {
		t.Errorf("reasoning_content = %q", raw.Choices[0].Message.ReasoningContent)
	}
	if resp.Usage.PromptTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
		t.Errorf("usage = %+v", resp.Usage)
	}

	body := lastBody(t, h.fake)
	if body["instructions"] != "Be brief.\n\nAnswer in English." {
		t.Errorf("instructions = %q", body["instructions"])
	}
	if body["stream"] != true || body["store"] != false {
		t.Errorf("stream/store = %v/%v", body["stream"], body["store"])
	}
	for _, k := range []string{"temperature", "top_p", "max_tokens", "max_completion_tokens", "max_output_tokens", "presence_penalty", "frequency_penalty", "seed", "user", "metadata", "stop", "n", "stream_options"} {
		if _, ok := body[k]; ok {
			t.Errorf("forwarded rejected parameter %q", k)
		}
	}
	if r, _ := body["reasoning"].(map[string]any); r["effort"] != "high" || r["summary"] != "auto" {
		t.Errorf("reasoning = %v", body["reasoning"])
	}
	rec := lastRec(t, h.fake)
	if rec.Header.Get("ChatGPT-Account-ID") != "acct-123" || rec.Header.Get("Authorization") != "Bearer "+h.token {
		t.Errorf("auth headers: %v", rec.Header)
	}
	if rec.Header.Get("version") != codexcli.Version || rec.Header.Get("originator") != "codex_exec" ||
		rec.Header.Get("OpenAI-Beta") != "" || rec.Header.Get("x-codex-beta-features") != codexcli.BetaFeatures {
		t.Errorf("codex headers: version=%q originator=%q beta=%q features=%q", rec.Header.Get("version"), rec.Header.Get("originator"),
			rec.Header.Get("OpenAI-Beta"), rec.Header.Get("x-codex-beta-features"))
	}
	if !strings.HasPrefix(rec.Header.Get("User-Agent"), "codex_exec/"+codexcli.Version+" (") {
		t.Errorf("User-Agent = %q", rec.Header.Get("User-Agent"))
	}
	if sid := rec.Header.Get("session-id"); sid == "" || sid != body["prompt_cache_key"] || rec.Header.Get("thread-id") != sid {
		t.Errorf("session-id %q != prompt_cache_key %v", sid, body["prompt_cache_key"])
	}

	// The same conversation keeps its prompt cache key.
	if _, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."), openai.DeveloperMessage("Answer in English."), userMsg("hello there"),
			openai.AssistantMessage("echo: hello there"), userMsg("and again"),
		},
	}); err != nil {
		t.Fatal(err)
	}
	if k := lastBody(t, h.fake)["prompt_cache_key"]; k != body["prompt_cache_key"] {
		t.Errorf("prompt_cache_key changed within a conversation: %v vs %v", k, body["prompt_cache_key"])
	}
}

func TestChatStreamIncludeUsage(t *testing.T) {
	h := newHarness(t, nil)
	stream := h.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-5.5-low",
		Messages:      []openai.ChatCompletionMessageParamUnion{userMsg("stream me")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	ids := map[string]bool{}
	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		c := stream.Current()
		acc.AddChunk(c)
		ids[c.ID] = true
		chunks = append(chunks, c)
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Errorf("chunks carry %d ids, want one", len(ids))
	}
	if len(chunks) < 4 || chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Fatalf("first chunk must carry the role; got %d chunks", len(chunks))
	}
	last := chunks[len(chunks)-1]
	if len(last.Choices) != 0 || last.Usage.TotalTokens == 0 {
		t.Errorf("last chunk should be the usage chunk with choices: []; got %s", last.RawJSON())
	}
	fin := chunks[len(chunks)-2]
	if fin.Choices[0].FinishReason != "stop" {
		t.Errorf("finish chunk = %s", fin.RawJSON())
	}
	// As at OpenAI, every other chunk carries "usage": null.
	for _, c := range chunks[:len(chunks)-1] {
		if !strings.Contains(c.RawJSON(), `"usage":null`) {
			t.Errorf("chunk without usage null: %s", c.RawJSON())
		}
	}
	if got := acc.Choices[0].Message.Content; got != "echo: stream me" {
		t.Errorf("content = %q", got)
	}
	body := lastBody(t, h.fake)
	if r, _ := body["reasoning"].(map[string]any); r["effort"] != "low" {
		t.Errorf("effort suffix not applied: %v", body["reasoning"])
	}
	if body["model"] != "gpt-5.5" {
		t.Errorf("model = %v", body["model"])
	}
}

func TestStreamWithoutUsageHasNoUsageChunk(t *testing.T) {
	h := newHarness(t, nil)
	raw := h.rawStream(t, `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if strings.Contains(raw, `"usage"`) {
		t.Errorf("usage chunk sent without include_usage:\n%s", raw)
	}
	if !strings.HasSuffix(raw, "data: [DONE]\n\n") {
		t.Errorf("stream does not end with [DONE]:\n%s", raw)
	}
}

func (h *harness) rawStream(t *testing.T, body string) string {
	t.Helper()
	status, b := h.post(t, body)
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	return b
}

func TestToolRoundTrip(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		name := "non_stream"
		if streaming {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			msgs := []openai.ChatCompletionMessageParamUnion{userMsg(`call:get_weather {"city":"Paris"}`)}
			params := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weatherTool()}}
			msg, finish := h.complete(t, params, streaming)
			if finish != "tool_calls" || len(msg.ToolCalls) != 1 {
				t.Fatalf("finish=%q calls=%d", finish, len(msg.ToolCalls))
			}
			tc := msg.ToolCalls[0]
			if tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` || !strings.HasPrefix(tc.ID, "call_") {
				t.Fatalf("tool call = %+v", tc)
			}
			body := lastBody(t, h.fake)
			tools, _ := body["tools"].([]any)
			if len(tools) != 1 || tools[0].(map[string]any)["name"] != "get_weather" {
				t.Errorf("tools not flattened: %v", body["tools"])
			}
			if body["parallel_tool_calls"] != true || body["tool_choice"] != "auto" {
				t.Errorf("tool_choice/parallel = %v/%v", body["tool_choice"], body["parallel_tool_calls"])
			}
			params.Messages = append(msgs, msg.ToParam(), openai.ToolMessage(`{"temp":21}`, tc.ID))
			msg, finish = h.complete(t, params, streaming)
			if finish != "stop" || msg.Content != `tool said: {"temp":21}` {
				t.Fatalf("after tool: finish=%q content=%q", finish, msg.Content)
			}
			input, _ := lastBody(t, h.fake)["input"].([]any)
			var kinds []string
			for _, it := range input {
				kinds = append(kinds, it.(map[string]any)["type"].(string))
			}
			if strings.Join(kinds, ",") != "message,function_call,function_call_output" {
				t.Errorf("input items = %v (an empty assistant message must not be sent)", kinds)
			}
		})
	}
}

func TestParallelToolCalls(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		h := newHarness(t, nil)
		params := openai.ChatCompletionNewParams{
			Model:    "gpt-5.5",
			Messages: []openai.ChatCompletionMessageParamUnion{userMsg(`call-parallel:lookup_a,lookup_b {"q":1}`)},
			Tools:    []openai.ChatCompletionToolUnionParam{namedTool("lookup_a"), namedTool("lookup_b")},
		}
		msg, finish := h.complete(t, params, streaming)
		if finish != "tool_calls" || len(msg.ToolCalls) != 2 {
			t.Fatalf("stream=%v finish=%q calls=%+v", streaming, finish, msg.ToolCalls)
		}
		if msg.ToolCalls[0].Function.Name != "lookup_a" || msg.ToolCalls[1].Function.Name != "lookup_b" || msg.ToolCalls[0].ID == msg.ToolCalls[1].ID {
			t.Errorf("calls = %+v", msg.ToolCalls)
		}
		// Answer both and continue.
		params.Messages = append(params.Messages, msg.ToParam(),
			openai.ToolMessage("A", msg.ToolCalls[0].ID), openai.ToolMessage("B", msg.ToolCalls[1].ID))
		msg, _ = h.complete(t, params, streaming)
		if msg.Content != "tool said: A\ntool said: B" {
			t.Errorf("content = %q", msg.Content)
		}
	}
}

// complete runs one request, streamed (accumulated) or not.
func (h *harness) complete(t *testing.T, p openai.ChatCompletionNewParams, streaming bool) (openai.ChatCompletionMessage, string) {
	t.Helper()
	if !streaming {
		r, err := h.client.Chat.Completions.New(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return r.Choices[0].Message, string(r.Choices[0].FinishReason)
	}
	s := h.client.Chat.Completions.NewStreaming(context.Background(), p)
	var acc openai.ChatCompletionAccumulator
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return acc.Choices[0].Message, string(acc.Choices[0].FinishReason)
}

// TestFileInput: a PDF in a file part (OpenAI's shape, through the SDK)
// goes upstream as an input_file part, as the other routes send it; a
// file id (there is no files API) is a clear 400.
func TestFileInput(t *testing.T) {
	h := newHarness(t, nil)
	pdf := "data:application/pdf;base64,JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDw+PgplbmRvYmoKdHJhaWxlcgo8PD4+CiUlRU9GCg=="
	ask := func(f openai.ChatCompletionContentPartFileFileParam) (*openai.ChatCompletion, error) {
		return h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-5.5",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
				openai.TextContentPart("summarize"), openai.FileContentPart(f),
			})},
		})
	}
	if _, err := ask(openai.ChatCompletionContentPartFileFileParam{FileData: openai.String(pdf), Filename: openai.String("paper.pdf")}); err != nil {
		t.Fatal(err)
	}
	parts := lastBody(t, h.fake)["input"].([]any)[0].(map[string]any)["content"].([]any)
	if f, _ := parts[1].(map[string]any); f["type"] != "input_file" || f["file_data"] != pdf || f["filename"] != "paper.pdf" {
		t.Errorf("file part upstream: %v", parts[1])
	}
	n := len(h.fake.ResponsesRequests())
	_, err := ask(openai.ChatCompletionContentPartFileFileParam{FileID: openai.String("file-abc")})
	if ae := apiError(t, err, 400); ae.Param != "messages[0].content[1].file.file_id" {
		t.Errorf("file id: param %q: %s", ae.Param, ae.Message)
	}
	_, err = ask(openai.ChatCompletionContentPartFileFileParam{FileData: openai.String("data:text/plain;base64,aGk=")})
	if ae := apiError(t, err, 400); ae.Param != "messages[0].content[1].file.file_data" {
		t.Errorf("not a PDF: param %q: %s", ae.Param, ae.Message)
	}
	if len(h.fake.ResponsesRequests()) != n {
		t.Error("a refused file part went upstream")
	}
}

func TestImageInput(t *testing.T) {
	h := newHarness(t, nil)
	png := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	resp, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.TextContentPart("what is this?"),
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: png}),
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/cat.png"}),
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Choices[0].Message.Content, "image received: 2") {
		t.Errorf("content = %q", resp.Choices[0].Message.Content)
	}
	input := lastBody(t, h.fake)["input"].([]any)
	parts := input[0].(map[string]any)["content"].([]any)
	if parts[1].(map[string]any)["type"] != "input_image" || parts[1].(map[string]any)["image_url"] != png {
		t.Errorf("image part = %v", parts[1])
	}
	// A broken data URL is refused locally with a clear 400.
	_, err = h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "data:image/png;base64,@@@"}),
		})},
	})
	ae := apiError(t, err, 400)
	if ae.Param != "messages[0].content[0].image_url.url" {
		t.Errorf("param = %q", ae.Param)
	}
}

func TestJSONSchema(t *testing.T) {
	h := newHarness(t, nil)
	resp, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-5.5",
		Messages: []openai.ChatCompletionMessageParamUnion{userMsg("give me a person")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
				Name:   "person",
				Strict: openai.Bool(true),
				Schema: map[string]any{
					"type":                 "object",
					"properties":           map[string]any{"name": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer"}},
					"required":             []string{"name", "age"},
					"additionalProperties": false,
				},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var person struct {
		Name *string `json:"name"`
		Age  *int    `json:"age"`
	}
	if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &person); err != nil || person.Name == nil || person.Age == nil {
		t.Fatalf("content %q is not the schema's JSON: %v", resp.Choices[0].Message.Content, err)
	}
	f := lastBody(t, h.fake)["text"].(map[string]any)["format"].(map[string]any)
	if f["type"] != "json_schema" || f["name"] != "person" || f["strict"] != true || f["schema"] == nil {
		t.Errorf("text.format = %v", f)
	}
}

func TestLocalErrors(t *testing.T) {
	h := newHarness(t, nil)
	post := func(key, body string, hdr ...string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", h.base+"/chat/completions", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "Host" {
				req.Host = hdr[i+1] // net/http takes Host from the request, not the map
				continue
			}
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	ok := `{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name, key, body string
		hdr             []string
		status          int
		code            string
	}{
		{"missing_key", "", ok, nil, 401, "invalid_api_key"},
		{"wrong_key", "nope", ok, nil, 401, "invalid_api_key"},
		{"not_json", testKey, `{"model":`, nil, 400, "invalid_json"},
		{"empty_body", testKey, ``, nil, 400, "invalid_json"},
		{"blank_body", testKey, " \n\t", nil, 400, "invalid_json"},
		{"null_body", testKey, "null", nil, 400, "invalid_type"},
		{"trailing_data", testKey, ok + `{"model":"gpt-5.5"}`, nil, 400, "invalid_json"},
		{"no_messages", testKey, `{"model":"gpt-5.5","messages":[]}`, nil, 400, "missing_required_parameter"},
		{"no_model", testKey, `{"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "missing_required_parameter"},
		{"bad_role", testKey, `{"model":"gpt-5.5","messages":[{"role":"robot","content":"hi"}]}`, nil, 400, "invalid_value"},
		{"messages_not_array", testKey, `{"model":"gpt-5.5","messages":"hi"}`, nil, 400, "invalid_type"},
		{"n_2", testKey, `{"model":"gpt-5.5","n":2,"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "unsupported_value"},
		{"bad_effort", testKey, `{"model":"gpt-5.5","reasoning_effort":"turbo","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "unsupported_value"},
		{"orphan_tool_result", testKey, `{"model":"gpt-5.5","messages":[{"role":"tool","tool_call_id":"x","content":"r"}]}`, nil, 400, "invalid_value"},
		{"foreign_host", testKey, ok, []string{"Host", "evil.example:8100"}, 403, "host_not_allowed"},
		{"raw_invalid_utf8", testKey, "{\"model\":\"gpt-5.5\",\"messages\":[{\"role\":\"user\",\"content\":\"h\xffi\"}]}", nil, 400, "invalid_utf8"},
		{"lone_high_surrogate", testKey, `{"model":"gpt-5.5","messages":[{"role":"user","content":"a\ud800b"}]}`, nil, 400, "invalid_utf8"},
		{"lone_low_surrogate", testKey, `{"model":"gpt-5.5","messages":[{"role":"user","content":"\udc00"}]}`, nil, 400, "invalid_utf8"},
		{"foreign_origin", testKey, ok, []string{"Origin", "https://evil.example"}, 403, "origin_not_allowed"},
		// Dropped parameters are still typed, as at OpenAI.
		{"temperature_string", testKey, `{"model":"gpt-5.5","temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		{"max_tokens_string", testKey, `{"model":"gpt-5.5","max_tokens":"10","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		{"second_tool_name_number", testKey, `{"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":          5}}],"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		{"second_role_number", testKey, `{"model":"gpt-5.5","messages":[{"role":"user","content":"a"},{"role":5,"content":"b"}]}`, nil, 400, "invalid_type"},
		{"blank_model", testKey, `{"model":"  ","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "missing_required_parameter"},
		{"control_in_model", testKey, `{"model":"gpt-5.5\u0000","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_value"},
		// Anthropic's system prompt is not silently dropped.
		{"anthropic_system", testKey, `{"model":"gpt-5.5","system":"be brief","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "unknown_parameter"},
		{"metadata_string", testKey, `{"model":"gpt-5.5","metadata":"x","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		{"store_string", testKey, `{"model":"gpt-5.5","store":"x","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		{"max_tokens_fraction", testKey, `{"model":"gpt-5.5","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_type"},
		// Values the backend would refuse are refused here, under the
		// client's own parameter names.
		{"bad_verbosity", testKey, `{"model":"gpt-5.5","verbosity":"bogus","messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_value"},
		{"bad_summary", testKey, `{"model":"gpt-5.5","reasoning":{"summary":"bogus"},"messages":[{"role":"user","content":"hi"}]}`, nil, 400, "invalid_value"},
		// A null where an object belongs is named as such, as at OpenAI,
		// not as an object without its role or name.
		{"null_message", testKey, `{"model":"gpt-5.5","messages":[{"role":"user","content":"a"},null]}`, nil, 400, "invalid_type"},
		{"null_tool", testKey, `{"model":"gpt-5.5","tools":[null],"messages":[{"role":"user","content":"a"}]}`, nil, 400, "invalid_type"},
		{"null_content_part", testKey, `{"model":"gpt-5.5","messages":[{"role":"user","content":[null]}]}`, nil, 400, "invalid_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n0 := len(h.fake.ResponsesRequests())
			defer func() {
				if n := len(h.fake.ResponsesRequests()); n != n0 {
					t.Errorf("the invalid request reached upstream")
				}
			}()
			resp, m := post(c.key, c.body, c.hdr...)
			if resp.StatusCode != c.status {
				t.Fatalf("status = %d, want %d: %v", resp.StatusCode, c.status, m)
			}
			e, _ := m["error"].(map[string]any)
			if e == nil || e["message"] == "" || e["type"] == nil {
				t.Fatalf("not an OpenAI error: %v", m)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error lacks %q: %v", k, e)
				}
			}
			if e["code"] != c.code {
				t.Errorf("code = %v, want %s (%v)", e["code"], c.code, e["message"])
			}
			if want := map[string]string{"null_message": "messages[1]", "null_tool": "tools[0]", "null_content_part": "messages[0].content[0]"}[c.name]; want != "" &&
				(e["param"] != want || !strings.Contains(fmt.Sprint(e["message"]), "expected an object, but got null")) {
				t.Errorf("param %v, message %q; want %s and a null named", e["param"], e["message"], want)
			}
			if want := map[string]string{"anthropic_system": "system", "metadata_string": "metadata", "store_string": "store", "max_tokens_fraction": "max_tokens", "bad_verbosity": "verbosity", "bad_summary": "reasoning.summary"}[c.name]; want != "" && e["param"] != want {
				t.Errorf("param %v, want %s", e["param"], want)
			}
			if c.name == "second_role_number" && e["param"] != "messages[1].role" {
				t.Errorf("param = %v, want messages[1].role", e["param"])
			}
			// A tool's own decoder counts its offsets from the tool: the
			// index is then left out rather than guessed.
			if p := e["param"]; c.name == "second_tool_name_number" && p != "tools[1].function.name" && p != "tools.function.name" {
				t.Errorf("param = %v, want tools[1].function.name", p)
			}
		})
	}
	// What the dropped parameters take is still answered.
	resp, m := post(testKey, `{"model":"gpt-5.5","temperature":0.2,"top_p":1,"max_tokens":100,"max_completion_tokens":4096.0,"stop":["\n"],"seed":1,"logit_bias":{"50256":-100},"presence_penalty":0,"frequency_penalty":0,"logprobs":false,"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 {
		t.Errorf("dropped parameters: %d %v", resp.StatusCode, m)
	}
	// A byte order mark before the JSON is not an error, and offsets
	// count it, as the client sent it.
	if resp, m := post(testKey, "\ufeff"+ok); resp.StatusCode != 200 {
		t.Errorf("body with a byte order mark: %d %v", resp.StatusCode, m)
	}
	if resp, m := post(testKey, "\ufeff{\"model\":\"\xff\"}"); resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(m), "at byte 13") {
		t.Errorf("invalid UTF-8 after a byte order mark: %d %v", resp.StatusCode, m)
	}
	// Verbosity is read in any letters, as efforts are.
	if resp, m := post(testKey, `{"model":"gpt-5.5","verbosity":"High","messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Errorf("verbosity High: %d %v", resp.StatusCode, m)
	} else if tx, _ := lastBody(t, h.fake)["text"].(map[string]any); tx["verbosity"] != "high" {
		t.Errorf("verbosity upstream: %v", tx)
	}
	// Health needs no key; unknown routes are OpenAI-shaped 404s.
	resp, err := http.Get(strings.TrimSuffix(h.base, "/v1") + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	if resp, err = http.Head(strings.TrimSuffix(h.base, "/v1") + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	// A known path with the wrong method is a 405, on every route.
	for _, mp := range [][2]string{{"GET", "/chat/completions"}, {"PUT", "/messages"}, {"GET", "/messages"}, {"DELETE", "/responses"}, {"GET", "/messages/count_tokens"}, {"POST", "/models"}} {
		req, _ := http.NewRequest(mp[0], h.base+mp[1], nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 405 {
			t.Fatalf("%s %s: %v %v", mp[0], mp[1], err, resp)
		}
		resp.Body.Close()
	}
	// The health check applies the Host check too (a DNS-rebinding page
	// must not learn that the app runs); containers and proxies name
	// their host in CHATGPT_ALLOWED_HOSTS.
	req, _ := http.NewRequest("GET", strings.TrimSuffix(h.base, "/v1")+"/healthz", nil)
	req.Host = "service-name:8100"
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("healthz with a foreign Host: %v %v", err, resp)
	}
	resp.Body.Close()
	h2 := newHarness(t, map[string]string{"CHATGPT_ALLOWED_HOSTS": "service-name"})
	req, _ = http.NewRequest("GET", strings.TrimSuffix(h2.base, "/v1")+"/healthz", nil)
	req.Host = "service-name:8100"
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz with an allowed extra Host: %v %v", err, resp)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", h.base+"/nothing", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown route: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestUpstreamErrors(t *testing.T) {
	ctx := context.Background()
	basic := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}}

	t.Run("retired_model_gets_backend_400", func(t *testing.T) {
		h := newHarness(t, nil)
		h.rejectionsOK = true
		_, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-5.2", Messages: basic.Messages})
		ae := apiError(t, err, 400)
		if !strings.Contains(ae.Message, "The 'gpt-5.2' model is not supported when using Codex with a ChatGPT account.") || ae.Param != "model" {
			t.Errorf("error = %q param=%q", ae.Message, ae.Param)
		}
		if m := lastRec(t, h.fake).JSON["model"]; m != "gpt-5.2" {
			t.Errorf("a rejected slug was replaced by %v", m)
		}
	})
	t.Run("made_up_slugs_go_upstream_as_they_are", func(t *testing.T) {
		h := newHarness(t, nil)
		h.rejectionsOK = true
		for _, name := range []string{"gpt-foo", "gpt-nonexistent-9"} {
			_, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: name, Messages: basic.Messages})
			ae := apiError(t, err, 400)
			if !strings.Contains(ae.Message, "The '"+name+"' model is not supported") {
				t.Errorf("%s: error = %q, want the backend's", name, ae.Message)
			}
			if m := lastRec(t, h.fake).JSON["model"]; m != name {
				t.Errorf("%s was sent upstream as %v", name, m)
			}
		}
	})
	t.Run("model_names_the_model_that_answered", func(t *testing.T) {
		h := newHarness(t, nil)
		for _, stream := range []bool{false, true} {
			h.fake.Enqueue(codextest.Reply(codextest.Text("rerouted")).WithModel("gpt-5.4-mini"))
			if stream {
				body := h.rawStream(t, `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
				if strings.Contains(body, `"model":"gpt-5.5"`) || !strings.Contains(body, `"model":"gpt-5.4-mini"`) {
					t.Errorf("stream chunks do not name the model that answered:\n%s", body)
				}
				continue
			}
			r, err := h.client.Chat.Completions.New(ctx, basic)
			if err != nil {
				t.Fatal(err)
			}
			if r.Model != "gpt-5.4-mini" {
				t.Errorf("completion model = %q, want the model that answered", r.Model)
			}
		}
	})
	t.Run("alias_maps_to_default", func(t *testing.T) {
		h := newHarness(t, nil)
		r, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o", Messages: basic.Messages})
		if err != nil {
			t.Fatal(err)
		}
		def := h.core.Catalog().Default()
		if r.Model != def || lastBody(t, h.fake)["model"] != def {
			t.Errorf("alias -> %q / %v, want default %q", r.Model, lastBody(t, h.fake)["model"], def)
		}
	})
	t.Run("upstream_401", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Unauthorized())
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 401)
		if !strings.Contains(ae.Message, "sign in") && !strings.Contains(ae.Message, "CHATGPT_ACCESS_TOKEN") {
			t.Errorf("401 does not say how to fix it: %q", ae.Message)
		}
	})
	t.Run("usage_limit_429", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.UsageLimit("plus", 3*time.Hour+51*time.Minute))
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 429)
		ra := ae.Response.Header.Get("Retry-After")
		if ra == "" || !strings.Contains(ae.Message, "plus plan") || !strings.Contains(ae.Message, "resets") || !strings.Contains(ae.Message, "3 h 5") {
			t.Errorf("message=%q Retry-After=%q", ae.Message, ra)
		}
		if st := h.core.Status().Snapshot(); st.Quota.LimitedUntil().IsZero() {
			t.Error("status does not record the usage limit")
		}
		if n := len(h.fake.ResponsesRequests()); n != 1 {
			t.Errorf("usage limit was retried: %d requests", n)
		}
	})
	t.Run("failed_before_content_is_http_error", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Fail("server_is_overloaded", "Our servers are busy"))
		s := h.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: basic.Messages})
		for s.Next() {
		}
		apiError(t, s.Err(), 503)
	})
	t.Run("failure_after_invisible_reasoning_is_http_error", func(t *testing.T) {
		// An empty reasoning item shows the client nothing, so a failure
		// after it still gets its own status rather than a 200.
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *codextest.ResponsesRequest) {
			st := codextest.NewStream(w, req)
			if st.Begin() != nil || st.Item(codextest.Reasoning()) != nil {
				return
			}
			_ = st.Failed("server_is_overloaded", "busy after thinking")
		}))
		s := h.client.Chat.Completions.NewStreaming(ctx, basic)
		for s.Next() {
		}
		apiError(t, s.Err(), 503)
	})
	t.Run("error_event_before_content", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.ErrorEvent("context_length_exceeded", "Your input exceeds the context window"))
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 400)
		if ae.Code != "context_length_exceeded" || ae.Param != "messages" {
			t.Errorf("code = %q, param = %q", ae.Code, ae.Param)
		}
	})
	t.Run("context_length_as_a_400", func(t *testing.T) {
		// The backend's own 400 names its input; the chat client's is messages.
		h := newHarness(t, nil)
		tooLong := codextest.Status(400, `{"error":{"message":"Your input exceeds the context window of this model.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}`)
		h.fake.Enqueue(tooLong)
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 400)
		if ae.Code != "context_length_exceeded" || ae.Param != "messages" {
			t.Errorf("code = %q, param = %q", ae.Code, ae.Param)
		}
		// Cursor's agent bodies on this route carry input, not messages.
		h.fake.Enqueue(tooLong)
		req, _ := http.NewRequest("POST", h.base+"/chat/completions", strings.NewReader(`{"model":"gpt-5.5","input":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct{ Error struct{ Param, Code string } }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != 400 || e.Error.Code != "context_length_exceeded" || e.Error.Param != "input" {
			t.Errorf("Cursor body: %d %+v", resp.StatusCode, e.Error)
		}
	})
	t.Run("failure_after_content_is_in_band", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.FailAfterText("partial answer", "server_error", "boom"))
		s := h.client.Chat.Completions.NewStreaming(ctx, basic)
		var acc openai.ChatCompletionAccumulator
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		var se *ssestream.StreamError
		if !errors.As(s.Err(), &se) || !strings.Contains(se.Message, "boom") {
			t.Fatalf("want an in-band stream error, got %v", s.Err())
		}
		if len(acc.Choices) > 0 && acc.Choices[0].FinishReason == "stop" {
			t.Error("a failed stream ended with finish_reason stop")
		}
	})
	t.Run("cut_before_output_non_stream_retries_then_502", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Repeat(codextest.Cut(""), 3)...)
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 502)
		if !strings.Contains(ae.Message, "before the response completed") {
			t.Errorf("message = %q", ae.Message)
		}
		if n := len(h.fake.ResponsesRequests()); n != 3 {
			t.Errorf("requests = %d, want 1 + 2 retries", n)
		}
	})
	// Once the backend produced output the request has spent quota: a
	// failure after that is answered, never sent again (streamed or not,
	// visible to the client or not).
	t.Run("failure_after_output_is_not_retried", func(t *testing.T) {
		cases := []struct {
			name   string
			b      codextest.Behavior
			stream bool
		}{
			{"cut_non_stream", codextest.Cut("half"), false},
			{"failed_non_stream", codextest.FailAfterText("partial answer", "server_error", "boom"), false},
			{"cut_after_hidden_reasoning_stream", codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
				st := codextest.NewStream(w, req)
				_ = st.Begin()
				_ = st.Item(codextest.Reasoning())
			}), true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := newHarness(t, nil)
				h.fake.Enqueue(codextest.Repeat(c.b, 3)...)
				if c.stream {
					req, _ := http.NewRequest("POST", h.base+"/chat/completions", strings.NewReader(`{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
					req.Header.Set("Authorization", "Bearer "+testKey)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				} else if _, err := h.client.Chat.Completions.New(ctx, basic); err == nil {
					t.Fatal("a failed answer succeeded")
				}
				if n := len(h.fake.ResponsesRequests()); n != 1 {
					t.Errorf("requests = %d, want 1: output was produced, a retry would spend the quota again", n)
				}
			})
		}
	})
	t.Run("first_byte_deadline_spans_retries", func(t *testing.T) {
		h := newHarness(t, map[string]string{"CHATGPT_FIRST_BYTE_TIMEOUT": "1s", "CHATGPT_IDLE_TIMEOUT": "4s"})
		h.fake.Enqueue(codextest.Repeat(codextest.Stall(""), 3)...)
		start := time.Now()
		_, err := h.client.Chat.Completions.New(ctx, basic, option.WithMaxRetries(0))
		ae := apiError(t, err, 504)
		if ae.Code != "upstream_timeout" {
			t.Errorf("code = %q", ae.Code)
		}
		// Without the one deadline, each of the 3 attempts waits for the
		// idle timeout (4 s): 12 s of silence.
		if d := time.Since(start); d >= 4*time.Second {
			t.Errorf("the client waited %v for an error; the first-byte deadline is 1 s", d)
		}
	})
	t.Run("cut_after_content_streams_error", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Cut("half an answer"))
		raw := h.rawStream(t, `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		if !strings.Contains(raw, `"error"`) || strings.Contains(raw, `"finish_reason":"stop"`) || strings.Contains(raw, "[DONE]") {
			t.Errorf("a cut stream must end with an error chunk:\n%s", raw)
		}
	})
	t.Run("5xx_is_retried", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Status(500, `{"detail":"Internal Server Error"}`), codextest.Status(502, "bad gateway"))
		r, err := h.client.Chat.Completions.New(ctx, basic)
		if err != nil || r.Choices[0].Message.Content != "echo: hi" {
			t.Fatalf("after retries: %v %+v", err, r)
		}
	})
	t.Run("cloudflare_403", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.CloudflareBlock())
		_, err := h.client.Chat.Completions.New(ctx, basic)
		ae := apiError(t, err, 403)
		if ae.Code != "blocked_by_cloudflare" {
			t.Errorf("code = %q", ae.Code)
		}
	})
	t.Run("incomplete_max_tokens_is_length", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Incomplete("max_output_tokens", "truncat"))
		r, err := h.client.Chat.Completions.New(ctx, basic)
		if err != nil || r.Choices[0].FinishReason != "length" || r.Choices[0].Message.Content != "truncat" {
			t.Fatalf("incomplete: %v %+v", err, r)
		}
	})
}

func TestClientAbortCancelsUpstream(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.Enqueue(codextest.Stall("thinking"))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.base+"/chat/completions",
		strings.NewReader(`{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Read until the first content arrives, then walk away.
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, `"content":"`) && !strings.Contains(line, `"content":""`) {
			break // the first content delta
		}
	}
	cancel()
	resp.Body.Close()
	select {
	case <-h.fake.Disconnected():
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client went away")
	}
}

func TestEffortClamping(t *testing.T) {
	ctx := context.Background()
	p := openai.ChatCompletionNewParams{Model: "gpt-5.5", ReasoningEffort: shared.ReasoningEffortMinimal,
		Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}}
	h := newHarness(t, nil)
	var resp *http.Response
	if _, err := h.client.Chat.Completions.New(ctx, p, option.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Reasoning-Effort") != "low" {
		t.Errorf("X-Reasoning-Effort = %q", resp.Header.Get("X-Reasoning-Effort"))
	}
	if r := lastBody(t, h.fake)["reasoning"].(map[string]any); r["effort"] != "low" {
		t.Errorf("upstream effort = %v, want the nearest supported level", r["effort"])
	}
	strict := newHarness(t, map[string]string{"CHATGPT_UNSUPPORTED_EFFORT": "reject"})
	_, err := strict.client.Chat.Completions.New(ctx, p)
	ae := apiError(t, err, 400)
	if !strings.Contains(ae.Message, "'minimal' is not supported with the 'gpt-5.5' model") {
		t.Errorf("message = %q", ae.Message)
	}
}

func TestUsageLimitIsNotRetried(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.Enqueue(codextest.Repeat(codextest.UsageLimit("plus", time.Hour), 5)...)
	// The official client with its default retries: the limit must not be
	// retried, and our own fail-fast keeps repeats away from ChatGPT.
	client := openai.NewClient(option.WithBaseURL(h.base), option.WithAPIKey(testKey))
	for i := 0; i < 3; i++ {
		var resp *http.Response
		_, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-5.5",
			Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}}, option.WithResponseInto(&resp))
		apiError(t, err, 429)
		if resp.Header.Get("X-Should-Retry") != "false" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("headers: %v", resp.Header)
		}
	}
	if n := len(h.fake.ResponsesRequests()); n != 1 {
		t.Errorf("the backend saw %d requests during a known usage limit, want 1", n)
	}
}

func TestStatusCounts(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 3; i++ {
		if _, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}}); err != nil {
			t.Fatal(err)
		}
	}
	// The relay records a request once its answer is out.
	waitUntil(t, "three requests counted", func() bool { return h.core.Status().Snapshot().Requests.Total >= 3 })
	st := h.core.Status().Snapshot()
	if st.Requests.Total != 3 || st.Requests.Today != 3 || len(st.Requests.Clients) != 1 || st.Requests.Clients[0].Name != "OpenAI/Go" {
		t.Errorf("requests = %+v", st.Requests)
	}
	q := st.Quota.Main()
	if q == nil || q.Primary == nil || q.Primary.WindowMinutes != 300 || q.Secondary == nil {
		t.Errorf("quota not recorded: %+v", st.Quota)
	}
}

func TestCatalogFollowsModelsETag(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	basic := openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}}
	waitFor(t, func() bool { return h.core.Catalog().Live() })
	for i := 0; i < 3; i++ {
		if _, err := h.client.Chat.Completions.New(ctx, basic); err != nil {
			t.Fatal(err)
		}
	}
	if n := countPath(h.fake, "/backend-api/codex/models"); n != 1 {
		t.Errorf("catalog fetched %d times with an unchanged etag", n)
	}
	if q := h.fake.Requests()[0].Query; !strings.Contains(q, "client_version="+codexcli.Version) {
		t.Errorf("catalog query = %q", q)
	}
	// A new model appears upstream together with a new etag.
	models := append(h.fake.Models(), codextest.DefaultModels()[0])
	models[len(models)-1].Slug = "gpt-7-preview"
	models[len(models)-1].Priority = -1
	h.fake.SetModels(models...)
	h.fake.SetModelsETag(`W/"new"`)
	if _, err := h.client.Chat.Completions.New(ctx, basic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.core.Catalog().Default() == "gpt-7-preview" })
	page, err := h.client.Models.List(ctx)
	if err != nil || page.Data[0].ID != "gpt-7-preview" {
		t.Fatalf("models after the etag change: %v %+v", err, page)
	}
}

func countPath(f *codextest.Server, path string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds; it fails the test after a generous
// deadline (this is a liveness wait, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never became true")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestValidEscapesPass checks that the UTF-8 check lets surrogate pairs and
// an escaped backslash before "ud800" through unchanged.
func TestValidEscapesPass(t *testing.T) {
	h := newHarness(t, nil)
	body := h.rawStream(t, `{"model":"gpt-5.5","stream":true,"messages":[{"role":"user","content":"\ud83d\ude00 \\ud800 é"}]}`)
	if !strings.Contains(body, "[DONE]") {
		t.Fatalf("no complete stream: %s", body)
	}
	got := lastRec(t, h.fake).Body
	if !strings.Contains(string(got), `😀 \\ud800 é`) {
		t.Errorf("the text went upstream changed: %s", got)
	}
}

// TestUpstreamConnectionReused checks that answered requests leave their
// upstream connection for the next one (the fake speaks HTTP/1.1, where a
// response body closed before its end takes the connection with it), on
// every route, streamed or not. The fake ends each body a moment after its
// last event, as a network may; each request starts once the app has
// recorded the previous one (after it finished the upstream stream). The
// app's own background reads would take a connection of their own when
// they overlap a request, so the quota is not polled and the counting
// starts once the start-up catalog read has ended (a response seen before
// it would also kick a second one for its ETag).
func TestUpstreamConnectionReused(t *testing.T) {
	late := codextest.BehaviorFunc(func(w http.ResponseWriter, r *http.Request, req *codextest.ResponsesRequest) {
		codextest.DefaultResponder(w, r, req)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(5 * time.Millisecond)
	})
	h := newHarness(t, map[string]string{"CHATGPT_QUOTA_REFRESH": "0"}, codextest.WithResponder(late))
	waitFor(t, h.core.Catalog().Live)
	bodies := map[string]string{
		"/chat/completions": `{"model":"gpt-5.4","stream":%v,"messages":[{"role":"user","content":"hi"}]}`,
		"/responses":        `{"model":"gpt-5.4","stream":%v,"input":"hi"}`,
		"/messages":         `{"model":"gpt-5.4","max_tokens":100,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`,
	}
	sent := h.core.Status().Snapshot().Requests.Total
	ask := func(path string, stream bool) {
		t.Helper()
		if status, b := h.postTo(t, path, fmt.Sprintf(bodies[path], stream)); status != 200 {
			t.Fatalf("%s: %d %s", path, status, b)
		}
		sent++
		deadline := time.Now().Add(10 * time.Second)
		for h.core.Status().Snapshot().Requests.Total < sent {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the app never recorded the request", path)
			}
			time.Sleep(time.Millisecond)
		}
	}
	ask("/chat/completions", false)
	base := h.fake.Connections()
	for i := 0; i < 2; i++ {
		for _, path := range []string{"/chat/completions", "/responses", "/messages"} {
			ask(path, false)
			ask(path, true)
		}
	}
	if n := h.fake.Connections() - base; n > 0 {
		t.Errorf("12 sequential requests opened %d new upstream connections, want none", n)
	}
}
