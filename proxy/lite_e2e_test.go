package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

// objectKeys returns the keys of a JSON object in order.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %.200s", b)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// capturedLiteBody is the Codex CLI 0.171.0 body of a Responses-Lite
// request, committed with the upstream fingerprint captures.
func capturedLiteBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("upstream/testdata/codex-cli-" + codexcli.Version + "/exec-rustls-responses-" + codexcli.Version + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLiteBodyFromChat sends a chat completion with tools, a system
// message and a tool round trip to a Luna model (lite only) and checks the
// body the fake accepted against the CLI's captured lite body: top-level
// keys in the CLI's order, the additional_tools item first with the
// "functions" namespace, the developer message, configuration_update
// last, and the lite and routing-hint headers.
func TestLiteBodyFromChat(t *testing.T) {
	// The CLI sends the model's default verbosity; the app only a
	// configured one.
	h := newHarness(t, map[string]string{"CHATGPT_VERBOSITY": "low"})
	h.fake.Enqueue(codextest.Reply(codextest.Call("get_weather", `{"city":"Oslo"}`)), codextest.Reply(codextest.Text("Sunny.")))
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:           "gpt-6-luna",
		Messages:        []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer briefly."), userMsg("Weather in Oslo?")},
		Tools:           []openai.ChatCompletionToolUnionParam{weatherTool()},
		ReasoningEffort: "low",
	}
	first, err := h.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Choices) == 0 || len(first.Choices[0].Message.ToolCalls) != 1 || first.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("no tool call: %+v", first)
	}
	call := first.Choices[0].Message.ToolCalls[0]
	params.Messages = append(params.Messages, first.Choices[0].Message.ToParam(), openai.ToolMessage("sunny, 21 C", call.ID))
	second, err := h.client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if second.Choices[0].Message.Content != "Sunny." {
		t.Fatalf("answer %q", second.Choices[0].Message.Content)
	}

	rec := lastRec(t, h.fake)
	if rec.Rejection != "" {
		t.Fatalf("the fake refused the lite body: %s", rec.Rejection)
	}
	if rec.Header.Get(codextest.LiteHeader) != "true" || rec.Header.Get("x-codex-routing-hint") != "model=gpt-6-luna" {
		t.Errorf("lite headers missing: %v", rec.Header)
	}
	// The app's body keys are the CLI's, in its order (service_tier is
	// absent in both here).
	want := objectKeys(t, capturedLiteBody(t))
	if got := objectKeys(t, rec.Body); !slices.Equal(got, want) {
		t.Errorf("top-level keys\n got %v\nwant %v", got, want)
	}
	var body struct {
		Input []struct {
			Type      string `json:"type"`
			Role      string `json:"role"`
			Namespace string `json:"namespace"`
			Tools     []struct {
				Type, Name string
				Tools      []struct{ Type, Name string }
			} `json:"tools"`
			Reasoning map[string]string `json:"reasoning"`
		} `json:"input"`
		Reasoning         map[string]string `json:"reasoning"`
		ParallelToolCalls bool              `json:"parallel_tool_calls"`
		ToolChoice        string            `json:"tool_choice"`
	}
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, it := range body.Input {
		types = append(types, it.Type+"/"+it.Role)
	}
	wantTypes := []string{"additional_tools/developer", "message/developer", "message/user", "function_call/", "function_call_output/", "configuration_update/"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("items %v, want %v", types, wantTypes)
	}
	at := body.Input[0]
	if len(at.Tools) != 1 || at.Tools[0].Type != "namespace" || at.Tools[0].Name != "functions" || len(at.Tools[0].Tools) != 1 || at.Tools[0].Tools[0].Name != "get_weather" {
		t.Errorf("additional_tools %+v", at.Tools)
	}
	if body.Input[3].Namespace != "functions" {
		t.Errorf("the history call lost its namespace: %+v", body.Input[3])
	}
	if body.Input[5].Reasoning["effort"] != "low" || body.Reasoning["context"] != "all_turns" || body.Reasoning["effort"] != "low" {
		t.Errorf("effort not carried as the CLI does: %+v %+v", body.Input[5], body.Reasoning)
	}
	if body.ParallelToolCalls || body.ToolChoice != "auto" {
		t.Errorf("parallel %v, tool_choice %q", body.ParallelToolCalls, body.ToolChoice)
	}
}

// TestClassicBodyFromChat: a model the catalog does not mark lite gets the
// classic body and no lite headers, accepted by the fake.
func TestClassicBodyFromChat(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Answer briefly."), userMsg("hi")},
		Tools: []openai.ChatCompletionToolUnionParam{weatherTool()},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := lastRec(t, h.fake)
	if rec.Header.Get(codextest.LiteHeader) != "" || rec.Header.Get("x-codex-routing-hint") != "" {
		t.Errorf("lite headers on a classic model: %v", rec.Header)
	}
	keys := objectKeys(t, rec.Body)
	if !slices.Contains(keys, "instructions") || !slices.Contains(keys, "tools") || strings.Contains(string(rec.Body), "additional_tools") {
		t.Errorf("not the classic body: %s", rec.Body)
	}
}

// TestLiteOff: with CHATGPT_RESPONSES_LITE=false a Luna model gets the
// classic body, which the backend refuses with 404 (proving the setting
// reaches the relay), and a hosted tool on a lite model is refused locally
// with 400 before any upstream request.
func TestLiteOff(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_RESPONSES_LITE": "false"})
	h.rejectionsOK = true
	_, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-6-luna", Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")},
	})
	apiError(t, err, http.StatusNotFound)
	if rec := lastRec(t, h.fake); rec.Header.Get(codextest.LiteHeader) != "" || !strings.Contains(rec.Rejection, "Model not found gpt-6-luna") {
		t.Errorf("classic body expected: %v %s", rec.Header, rec.Rejection)
	}
}

func TestLiteRefusesHostedTools(t *testing.T) {
	h := newHarness(t, nil)
	body := `{"model":"gpt-6-luna","messages":[{"role":"user","content":"search"}],"tools":[{"type":"web_search"}]}`
	req, _ := http.NewRequest("POST", h.base+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	var e struct {
		Error struct{ Message, Code string }
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if !strings.Contains(e.Error.Message, "web_search") || e.Error.Code != "unsupported_value" {
		t.Errorf("error %+v", e.Error)
	}
	if n := len(h.fake.ResponsesRequests()); n != 0 {
		t.Errorf("%d upstream requests for a request refused locally", n)
	}
}
