package proxy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

func respParams(input string) responses.ResponseNewParams {
	return responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5.5"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(input)},
	}
}

func weatherFn() responses.ToolUnionParam {
	return responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
		Name:        "get_weather",
		Description: openai.String("Weather for a city"),
		Parameters:  map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
		Strict:      openai.Bool(false),
	}}
}

func applyPatchTool() responses.ToolUnionParam {
	return responses.ToolUnionParam{OfCustom: &responses.CustomToolParam{
		Name:        "ApplyPatch",
		Description: openai.String("Apply a patch"),
		Format: responses.CustomToolInputFormatUnionParam{OfGrammar: &responses.CustomToolInputFormatGrammarParam{
			Syntax: "lark", Definition: "start: /.+/s",
		}},
	}}
}

// sse is one parsed frame of a raw stream.
type sse struct {
	event string
	data  map[string]any
}

// rawResponses POSTs body to /v1/responses and parses the SSE answer.
func (h *harness) rawResponses(t *testing.T, body string, hdr map[string]string) (*http.Response, []sse) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/responses", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	}
	var out []sse
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var cur sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[len("data: "):]), &cur.data); err != nil {
				t.Fatalf("frame is not JSON: %s", line)
			}
		case line == "" && cur.data != nil:
			out = append(out, cur)
			cur = sse{}
		}
	}
	return resp, out
}

// checkGrammar asserts the frames follow the documented event grammar.
func checkGrammar(t *testing.T, frames []sse, terminal string) {
	t.Helper()
	if len(frames) < 3 {
		t.Fatalf("only %d frames", len(frames))
	}
	var id string
	open := map[string]bool{} // item ids added and not done
	for i, f := range frames {
		typ, _ := f.data["type"].(string)
		if typ != f.event {
			t.Errorf("frame %d: event %q carries type %q", i, f.event, typ)
		}
		if seq, _ := f.data["sequence_number"].(float64); int(seq) != i {
			t.Errorf("frame %d (%s): sequence_number %v", i, typ, f.data["sequence_number"])
		}
		if r, ok := f.data["response"].(map[string]any); ok {
			if id == "" {
				id, _ = r["id"].(string)
			}
			if r["id"] != id || r["model"] != "gpt-5.5" || r["object"] != "response" {
				t.Errorf("frame %d: response id=%v model=%v object=%v (want %s gpt-5.5 response)", i, r["id"], r["model"], r["object"], id)
			}
		}
		if strings.HasPrefix(typ, "codex.") {
			t.Errorf("the backend's own event %s reached the client", typ)
		}
		switch typ {
		case "response.output_item.added":
			it, _ := f.data["item"].(map[string]any)
			open[it["id"].(string)] = true
		case "response.output_item.done":
			it, _ := f.data["item"].(map[string]any)
			delete(open, it["id"].(string))
		case "response.output_text.delta", "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
			if !open[f.data["item_id"].(string)] {
				t.Errorf("frame %d: %s for an item that is not open", i, typ)
			}
		}
	}
	if frames[0].event != "response.created" || frames[1].event != "response.in_progress" {
		t.Errorf("stream starts with %s, %s", frames[0].event, frames[1].event)
	}
	if last := frames[len(frames)-1].event; last != terminal {
		t.Errorf("stream ends with %s, want %s", last, terminal)
	}
	if !strings.HasPrefix(id, "resp_") {
		t.Errorf("response id %q", id)
	}
}

func TestResponsesText(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	p := respParams("hello there")
	p.Instructions = openai.String("Be brief.")
	p.Metadata = shared.Metadata{"k": "v"}
	p.Temperature = openai.Float(0.2)
	p.MaxOutputTokens = openai.Int(100)
	r, err := h.client.Responses.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.OutputText() != "echo: hello there" || r.Status != "completed" || r.Model != "gpt-5.5" || !strings.HasPrefix(r.ID, "resp_") {
		t.Errorf("response: text=%q status=%q model=%q id=%q", r.OutputText(), r.Status, r.Model, r.ID)
	}
	if r.Usage.InputTokens == 0 || r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens || r.Metadata["k"] != "v" {
		t.Errorf("usage %+v metadata %v", r.Usage, r.Metadata)
	}
	body := lastBody(t, h.fake)
	if body["instructions"] != "Be brief." || body["store"] != false || body["stream"] != true {
		t.Errorf("upstream body: instructions=%v store=%v stream=%v", body["instructions"], body["store"], body["stream"])
	}
	for _, k := range []string{"metadata", "temperature", "max_output_tokens", "previous_response_id"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s was forwarded", k)
		}
	}

	// Without instructions the backend still gets the key.
	if _, err := h.client.Responses.New(ctx, respParams("hi")); err != nil {
		t.Fatal(err)
	}
	if v, ok := lastBody(t, h.fake)["instructions"]; !ok || v != "" {
		t.Errorf("instructions = %v, %v", v, ok)
	}
}

func TestResponsesStream(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.Enqueue(codextest.Reply(codextest.Reasoning("thinking about it"), codextest.Text("Hello, world")))
	resp, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi","reasoning":{"effort":"high","summary":"auto"}}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	checkGrammar(t, frames, "response.completed")
	var text strings.Builder
	for _, f := range frames {
		if f.event == "response.output_text.delta" {
			text.WriteString(f.data["delta"].(string))
		}
	}
	if text.String() != "Hello, world" {
		t.Errorf("deltas give %q", text.String())
	}
	done := frames[len(frames)-1].data["response"].(map[string]any)
	out, _ := done["output"].([]any)
	if len(out) != 2 || done["usage"] == nil || done["status"] != "completed" {
		t.Errorf("completed response: output=%d usage=%v status=%v", len(out), done["usage"], done["status"])
	}
	if rs, _ := out[0].(map[string]any); rs["type"] != "reasoning" || rs["encrypted_content"] == nil {
		t.Errorf("reasoning item %v", rs)
	}

	// The SDK's streaming client sees the same.
	s := h.client.Responses.NewStreaming(context.Background(), respParams("streamed"))
	var deltas strings.Builder
	var final responses.Response
	for s.Next() {
		ev := s.Current()
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if s.Err() != nil || deltas.String() != "echo: streamed" || final.OutputText() != "echo: streamed" {
		t.Errorf("sdk stream: err=%v deltas=%q final=%q", s.Err(), deltas.String(), final.OutputText())
	}
}

func TestResponsesToolRoundTrips(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	p := respParams(`call:get_weather {"city":"Paris"}`)
	p.Tools = []responses.ToolUnionParam{weatherFn(), applyPatchTool()}
	r, err := h.client.Responses.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	cs := calls(r)
	if len(cs) != 1 || cs[0].Type != "function_call" || cs[0].Name != "get_weather" || cs[0].Arguments.OfString != `{"city":"Paris"}` {
		t.Fatalf("output %s", r.RawJSON())
	}
	call := cs[0]
	// Answer through previous_response_id.
	p2 := responses.ResponseNewParams{
		Model:              shared.ResponsesModel("gpt-5.5"),
		PreviousResponseID: openai.String(r.ID),
		Tools:              p.Tools,
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{CallID: openai.String(call.CallID), Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String("sunny")}}},
		}},
	}
	r2, err := h.client.Responses.New(ctx, p2)
	if err != nil {
		t.Fatal(err)
	}
	if r2.OutputText() != "tool said: sunny" || r2.PreviousResponseID != r.ID {
		t.Errorf("second turn %q prev=%q", r2.OutputText(), r2.PreviousResponseID)
	}
	if got := inputTypes(lastBody(t, h.fake)); got != "message,reasoning,function_call,function_call_output" {
		t.Errorf("expanded input = %s", got)
	}

	// A custom tool: the raw patch comes back as the call's input, streamed.
	patch := "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n"
	p3 := respParams("call:ApplyPatch " + patch)
	p3.Tools = p.Tools
	s := h.client.Responses.NewStreaming(ctx, p3)
	var input strings.Builder
	var done responses.ResponseOutputItemUnion
	for s.Next() {
		ev := s.Current()
		switch ev.Type {
		case "response.custom_tool_call_input.delta":
			input.WriteString(ev.Delta)
		case "response.output_item.done":
			done = ev.Item
		}
	}
	if s.Err() != nil || done.Type != "custom_tool_call" || done.Name != "ApplyPatch" || done.Input != patch {
		t.Fatalf("custom call: err=%v item=%+v", s.Err(), done)
	}
	if input.Len() > 0 && input.String() != patch {
		t.Errorf("custom input deltas %q", input.String())
	}
	// Its output goes back as a custom_tool_call_output with the full history.
	r4, err := h.client.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5.5"),
		Tools: p.Tools,
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("call:ApplyPatch x", responses.EasyInputMessageRoleUser),
			{OfCustomToolCall: &responses.ResponseCustomToolCallParam{CallID: done.CallID, Name: "ApplyPatch", Input: patch}},
			{OfCustomToolCallOutput: &responses.ResponseCustomToolCallOutputParam{CallID: done.CallID, Output: responses.ResponseCustomToolCallOutputOutputUnionParam{OfString: openai.String("Done!")}}},
		}},
	})
	if err != nil || r4.OutputText() != "tool said: Done!" {
		t.Fatalf("custom output turn: %v %q", err, r4.OutputText())
	}
	tools, _ := lastBody(t, h.fake)["tools"].([]any)
	if ct, _ := tools[1].(map[string]any); ct["type"] != "custom" || ct["format"].(map[string]any)["syntax"] != "lark" {
		t.Errorf("custom tool upstream: %v", tools[1])
	}
}

func TestResponsesParallelCalls(t *testing.T) {
	h := newHarness(t, nil)
	p := respParams(`call-parallel:get_weather,get_time {"city":"Oslo"}`)
	p.Tools = []responses.ToolUnionParam{weatherFn(), {OfFunction: &responses.FunctionToolParam{Name: "get_time", Parameters: map[string]any{"type": "object"}, Strict: openai.Bool(false)}}}
	p.ParallelToolCalls = openai.Bool(true)
	r, err := h.client.Responses.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	cs := calls(r)
	if len(cs) != 2 || cs[0].Name != "get_weather" || cs[1].Name != "get_time" || cs[0].CallID == cs[1].CallID {
		t.Fatalf("output %s", r.RawJSON())
	}
	if lastBody(t, h.fake)["parallel_tool_calls"] != true {
		t.Error("parallel_tool_calls not forwarded")
	}
}

// calls returns the tool calls of a response's output.
func calls(r *responses.Response) []responses.ResponseOutputItemUnion {
	var out []responses.ResponseOutputItemUnion
	for _, it := range r.Output {
		if it.Type == "function_call" || it.Type == "custom_tool_call" {
			out = append(out, it)
		}
	}
	return out
}

func inputTypes(body map[string]any) string {
	in, _ := body["input"].([]any)
	var ts []string
	for _, it := range in {
		m, _ := it.(map[string]any)
		ts = append(ts, m["type"].(string))
	}
	return strings.Join(ts, ",")
}

func TestResponsesStoreChain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	p := respParams("first")
	p.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffortHigh}
	r1, err := h.client.Responses.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p2 := respParams("second")
	p2.PreviousResponseID = openai.String(r1.ID)
	r2, err := h.client.Responses.New(ctx, p2)
	if err != nil || r2.OutputText() != "echo: second" {
		t.Fatalf("%v %q", err, r2.OutputText())
	}
	body := lastBody(t, h.fake)
	if got := inputTypes(body); got != "message,reasoning,message,message" {
		t.Errorf("chained input = %s", got)
	}
	in := body["input"].([]any)
	if rs := in[1].(map[string]any); rs["encrypted_content"] == nil || rs["id"] != nil {
		t.Errorf("replayed reasoning item %v (needs encrypted_content, no id)", rs)
	}
	got, err := h.client.Responses.Get(ctx, r2.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != r2.ID || got.OutputText() != "echo: second" {
		t.Fatalf("get: %v %+v", err, got)
	}
	// Listing input items and cancelling are refused in words, through
	// the SDK's own calls; an unknown id is a 404 as for GET.
	_, err = h.client.Responses.InputItems.List(ctx, r2.ID, responses.InputItemListParams{})
	if ae := apiError(t, err, 400); ae.Code != "unsupported_endpoint" || !strings.Contains(ae.Message, "previous_response_id") {
		t.Errorf("input_items: %q %q", ae.Code, ae.Message)
	}
	_, err = h.client.Responses.Cancel(ctx, r2.ID)
	if ae := apiError(t, err, 400); !strings.Contains(ae.Message, "background") {
		t.Errorf("cancel: %q", ae.Message)
	}
	_, err = h.client.Responses.InputItems.List(ctx, "resp_unknown", responses.InputItemListParams{})
	apiError(t, err, 404)
	if err := h.client.Responses.Delete(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.Responses.Get(ctx, r2.ID, responses.ResponseGetParams{})
	apiError(t, err, 404)
	_, err = h.client.Responses.Cancel(ctx, r2.ID)
	apiError(t, err, 404)

	// An unknown (or expired, or deleted) previous id: OpenAI's 404.
	p3 := respParams("third")
	p3.PreviousResponseID = openai.String(r2.ID)
	_, err = h.client.Responses.New(ctx, p3)
	ae := apiError(t, err, 404)
	if ae.Message != "Previous response with id '"+r2.ID+"' not found." || ae.Param != "previous_response_id" {
		t.Errorf("message %q param %q", ae.Message, ae.Param)
	}

	// store:false keeps nothing; another key sees nothing.
	p4 := respParams("unstored")
	p4.Store = openai.Bool(false)
	r4, err := h.client.Responses.New(ctx, p4)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client.Responses.Get(ctx, r4.ID, responses.ResponseGetParams{})
	apiError(t, err, 404)
}

// TestResponsesItemReference: an item_reference to an output item of a
// response the app stored is that item upstream (the backend keeps
// nothing); one the app does not have goes as it came, and the backend's
// answer is the client's.
func TestResponsesItemReference(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.rejectionsOK = true // the references the app does not have
	r1, err := h.client.Responses.New(ctx, respParams("first"))
	if err != nil {
		t.Fatal(err)
	}
	var msgID string
	for _, it := range r1.Output {
		if it.Type == "message" {
			msgID = it.ID
		}
	}
	if msgID == "" {
		t.Fatalf("no message id in %s", r1.RawJSON())
	}
	ref := func(id string) (int, string) {
		resp, _ := h.rawResponses(t, `{"model":"gpt-5.5","input":[{"type":"item_reference","id":"`+id+`"},{"role":"user","content":"next"}]}`, nil)
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := ref(msgID); st != 200 || !strings.Contains(b, "echo: next") {
		t.Fatalf("reference to a stored item: %d %s", st, b)
	}
	body := lastBody(t, h.fake)
	in, _ := body["input"].([]any)
	first, _ := in[0].(map[string]any)
	if got := inputTypes(body); got != "message,message" || first["role"] != "assistant" || !strings.Contains(fmt.Sprint(first["content"]), "echo: first") || first["id"] != nil {
		t.Errorf("upstream input %s: %v", got, in)
	}
	// Its type is optional, as at OpenAI; its id is not.
	resp, _ := h.rawResponses(t, `{"model":"gpt-5.5","input":[{"id":"`+msgID+`"},{"role":"user","content":"again"}]}`, nil)
	if resp.StatusCode != 200 || inputTypes(lastBody(t, h.fake)) != "message,message" {
		t.Errorf("type-less reference: %d, upstream %s", resp.StatusCode, inputTypes(lastBody(t, h.fake)))
	}
	n := len(h.fake.ResponsesRequests())
	if st, b := h.rawResponses(t, `{"model":"gpt-5.5","input":[{"type":"item_reference"}]}`, nil); st.StatusCode != 400 || len(h.fake.ResponsesRequests()) != n {
		t.Errorf("reference without an id: %d %v", st.StatusCode, b)
	}
	if st, b := ref("msg_unknown"); st != 400 || !strings.Contains(b, "msg_unknown") {
		t.Errorf("reference to an unknown item: %d %s", st, b)
	}
	if err := h.client.Responses.Delete(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := ref(msgID); st != 400 {
		t.Errorf("reference to a deleted response's item: %d", st)
	}
}

func TestResponsesStoreExpires(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_RESPONSES_KEEP": "1s"})
	r, err := h.client.Responses.New(context.Background(), respParams("soon gone"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	p := respParams("again")
	p.PreviousResponseID = openai.String(r.ID)
	_, err = h.client.Responses.New(context.Background(), p)
	apiError(t, err, 404)
}

func TestResponsesImageAndSchema(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	r, err := h.client.Responses.New(ctx, responses.ResponseNewParams{
		Model: shared.ResponsesModel("gpt-5.5"),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
				{OfInputText: &responses.ResponseInputTextParam{Text: "what is this?"}},
				{OfInputImage: &responses.ResponseInputImageParam{ImageURL: openai.String(png), Detail: responses.ResponseInputImageDetailAuto}},
			}, responses.EasyInputMessageRoleUser),
		}},
	})
	if err != nil || r.OutputText() != "echo: what is this?\nimage received: 1" {
		t.Fatalf("%v %q", err, r.OutputText())
	}
	p := respParams("a person")
	p.Text = responses.ResponseTextConfigParam{Format: responses.ResponseFormatTextConfigUnionParam{OfJSONSchema: &responses.ResponseFormatTextJSONSchemaConfigParam{
		Name:   "person",
		Schema: map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer"}}, "required": []string{"name", "age"}},
		Strict: openai.Bool(true),
	}}}
	r, err = h.client.Responses.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	var person struct {
		Name *string `json:"name"`
		Age  *int    `json:"age"`
	}
	if err := json.Unmarshal([]byte(r.OutputText()), &person); err != nil || person.Name == nil || person.Age == nil {
		t.Errorf("%q: %v", r.OutputText(), err)
	}
	if r.Text.Format.Type != "json_schema" || r.Text.Format.Name != "person" {
		t.Errorf("echoed text.format %+v", r.Text.Format)
	}
}

func TestResponsesUpstreamFaults(t *testing.T) {
	ctx := context.Background()
	basic := respParams("hi")
	t.Run("401", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Unauthorized())
		_, err := h.client.Responses.New(ctx, basic)
		apiError(t, err, 401)
	})
	t.Run("usage_limit_429", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.UsageLimit("plus", 3*time.Hour))
		_, err := h.client.Responses.New(ctx, basic)
		ae := apiError(t, err, 429)
		if ae.Code != "usage_limit_reached" || ae.Type != "usage_limit_reached" || ae.Response.Header.Get("Retry-After") == "" {
			t.Errorf("code=%q type=%q", ae.Code, ae.Type)
		}
		// The backend's own fields, which the Codex CLI reads to say when
		// to try again.
		var extra struct {
			PlanType        string `json:"plan_type"`
			ResetsAt        int64  `json:"resets_at"`
			ResetsInSeconds int64  `json:"resets_in_seconds"`
		}
		if err := json.Unmarshal([]byte(ae.RawJSON()), &extra); err != nil || extra.PlanType != "plus" || extra.ResetsAt < time.Now().Unix() || extra.ResetsInSeconds < 3*3600-60 {
			t.Errorf("usage-limit fields %+v (%v) in %s", extra, err, ae.RawJSON())
		}
		if n := len(h.fake.ResponsesRequests()); n != 1 {
			t.Errorf("usage limit sent %d requests", n)
		}
	})
	t.Run("5xx_is_retried", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Status(500, `{"detail":"Internal Server Error"}`), codextest.Status(502, "bad gateway"))
		r, err := h.client.Responses.New(ctx, basic)
		if err != nil || r.OutputText() != "echo: hi" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("failed_before_output_is_http_error", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Fail("server_is_overloaded", "busy"))
		resp, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
		if resp.StatusCode != 503 || frames != nil {
			t.Errorf("status %d, %d frames", resp.StatusCode, len(frames))
		}
	})
	t.Run("error_event_before_output", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.ErrorEvent("context_length_exceeded", "Your input exceeds the context window"))
		_, err := h.client.Responses.New(ctx, basic)
		if ae := apiError(t, err, 400); ae.Code != "context_length_exceeded" || ae.Param != "input" {
			t.Errorf("code %q, param %q (the Responses API has no 'messages')", ae.Code, ae.Param)
		}
	})
	t.Run("failed_after_output_is_response_failed", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.FailAfterText("partial answer", "server_error", "boom"))
		resp, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		checkGrammar(t, frames, "response.failed")
		r := frames[len(frames)-1].data["response"].(map[string]any)
		if e, _ := r["error"].(map[string]any); r["status"] != "failed" || !strings.Contains(e["message"].(string), "boom") {
			t.Errorf("failed response %v", r)
		}
		for _, f := range frames {
			if f.event == "response.completed" {
				t.Error("a failed stream reported response.completed")
			}
		}
	})
	t.Run("usage_limit_after_output", func(t *testing.T) {
		// A usage limit that comes mid-stream keeps the backend's plan
		// and reset fields in the failed response, as its 429 does.
		h := newHarness(t, nil)
		resets := time.Now().Add(2 * time.Hour).Unix()
		h.fake.Enqueue(codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
			st := codextest.NewStream(w, req)
			if st.Begin() != nil || st.PartialText("partial answer") != nil {
				return
			}
			env := st.Envelope("failed")
			env["error"] = map[string]any{"code": "usage_limit_reached", "message": "The usage limit has been reached", "plan_type": "plus", "resets_at": resets}
			_ = st.Event("response.failed", map[string]any{"response": env})
		}))
		_, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
		checkGrammar(t, frames, "response.failed")
		r, _ := frames[len(frames)-1].data["response"].(map[string]any)
		e, _ := r["error"].(map[string]any)
		if e["code"] != "usage_limit_reached" || e["plan_type"] != "plus" || e["resets_at"] != float64(resets) {
			t.Errorf("failed response's error %v", e)
		}
		if in, _ := e["resets_in_seconds"].(float64); in < 2*3600-60 || in > 2*3600 {
			t.Errorf("resets_in_seconds %v", e["resets_in_seconds"])
		}
	})
	t.Run("cut_after_output", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Cut("half an answer"))
		_, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
		checkGrammar(t, frames, "response.failed")
	})
	t.Run("cut_non_stream_retries_then_502", func(t *testing.T) {
		// Cut before any output: nothing was spent, so it is retried.
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Repeat(codextest.Cut(""), 3)...)
		_, err := h.client.Responses.New(ctx, basic)
		apiError(t, err, 502)
		if n := len(h.fake.ResponsesRequests()); n != 3 {
			t.Errorf("requests = %d, want 1 + 2 retries", n)
		}
	})
	// Once the backend produced output (text not yet complete, or a
	// reasoning item the client does not see yet) the request has spent
	// quota: a failure after that is answered, never sent again.
	t.Run("failure_after_output_is_not_retried", func(t *testing.T) {
		hiddenReasoning := codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
			st := codextest.NewStream(w, req)
			_ = st.Begin()
			_ = st.Item(codextest.Reasoning())
		})
		cases := []struct {
			name   string
			b      codextest.Behavior
			stream bool
		}{
			{"cut_non_stream", codextest.Cut("half"), false},
			{"failed_non_stream", codextest.FailAfterText("partial answer", "server_error", "boom"), false},
			{"cut_after_hidden_reasoning_non_stream", hiddenReasoning, false},
			{"cut_after_hidden_reasoning_stream", hiddenReasoning, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := newHarness(t, nil)
				h.fake.Enqueue(codextest.Repeat(c.b, 3)...)
				if c.stream {
					resp, _ := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
					if resp.StatusCode == http.StatusOK {
						t.Log("answered in band")
					}
				} else if _, err := h.client.Responses.New(ctx, basic); err == nil {
					t.Fatal("a failed answer succeeded")
				}
				if n := len(h.fake.ResponsesRequests()); n != 1 {
					t.Errorf("requests = %d, want 1: output was produced, a retry would spend the quota again", n)
				}
			})
		}
	})
	// The app's own retries of a failure before any output are the only
	// ones: an SDK that retries 5xx by itself would multiply them.
	t.Run("retries_are_not_multiplied_by_the_sdk", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Repeat(codextest.Cut(""), 9)...)
		sdk := openai.NewClient(option.WithBaseURL(h.base), option.WithAPIKey(testKey), option.WithMaxRetries(2))
		_, err := sdk.Responses.New(ctx, basic)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Response.Header.Get("X-Should-Retry") != "false" {
			t.Fatalf("%v, want a 502 with X-Should-Retry: false", err)
		}
		if n := len(h.fake.ResponsesRequests()); n != 3 {
			t.Errorf("requests = %d, want 1 + the app's 2 retries", n)
		}
	})
	// A failure after the message started but before its first text (held
	// back with created and in_progress, so answered with a status): the
	// quota is spent, so the answer tells the client's SDK not to send the
	// request again, and an SDK that retries 5xx by itself does not.
	t.Run("failure_after_message_start_is_not_retried_by_the_sdk", func(t *testing.T) {
		messageStartThenFailure := codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
			st := codextest.NewStream(w, req)
			_ = st.Begin()
			_ = st.PartialText("")
			_ = st.Failed("server_error", "boom")
		})
		for _, stream := range []bool{true, false} {
			h := newHarness(t, nil)
			h.fake.Enqueue(codextest.Repeat(messageStartThenFailure, 3)...)
			sdk := openai.NewClient(option.WithBaseURL(h.base), option.WithAPIKey(testKey), option.WithMaxRetries(2))
			var err error
			if stream {
				s := sdk.Responses.NewStreaming(ctx, basic)
				for s.Next() {
				}
				err = s.Err()
			} else {
				_, err = sdk.Responses.New(ctx, basic)
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode < 500 || apiErr.Response.Header.Get("X-Should-Retry") != "false" {
				t.Fatalf("stream %v: %v, want a 5xx with X-Should-Retry: false", stream, err)
			}
			if n := len(h.fake.ResponsesRequests()); n != 1 {
				t.Errorf("stream %v: requests = %d, want 1: the SDK sent the request again and spent the quota twice", stream, n)
			}
		}
	})
	// A non-streamed answer whose first item takes longer than the
	// first-byte timeout to finish is not cut off: the backend started
	// answering in time. Nor is a stream whose model reasons, showing
	// nothing, for longer than that.
	t.Run("slow_answer_outlives_first_byte_timeout", func(t *testing.T) {
		slowThinker := codextest.BehaviorFunc(func(w http.ResponseWriter, _ *http.Request, req *codextest.ResponsesRequest) {
			st := codextest.NewStream(w, req)
			_ = st.Begin()
			_ = st.Item(codextest.Reasoning())
			time.Sleep(1500 * time.Millisecond)
			_ = st.Item(codextest.Text("thought hard"))
			_ = st.Completed(st.EstimatedUsage(), false)
		})
		t.Run("non_stream_slow_text", func(t *testing.T) {
			h := newHarness(t, map[string]string{"CHATGPT_FIRST_BYTE_TIMEOUT": "1s"}, codextest.WithEventDelay(150*time.Millisecond))
			h.fake.Enqueue(codextest.Reply(codextest.Text(strings.Repeat("word ", 40))))
			r, err := h.client.Responses.New(ctx, basic)
			if err != nil || r.Status != "completed" {
				t.Fatalf("%v %+v", err, r)
			}
		})
		t.Run("stream_long_reasoning", func(t *testing.T) {
			h := newHarness(t, map[string]string{"CHATGPT_FIRST_BYTE_TIMEOUT": "1s"})
			h.fake.Enqueue(slowThinker)
			_, frames := h.rawResponses(t, `{"model":"gpt-5.5","stream":true,"input":"hi"}`, nil)
			checkGrammar(t, frames, "response.completed")
			if n := len(h.fake.ResponsesRequests()); n != 1 {
				t.Errorf("requests = %d", n)
			}
		})
	})
	t.Run("incomplete", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Incomplete("max_output_tokens", "truncat"))
		r, err := h.client.Responses.New(ctx, basic)
		if err != nil || r.Status != "incomplete" || r.IncompleteDetails.Reason != "max_output_tokens" || r.OutputText() != "truncat" {
			t.Fatalf("%v %+v", err, r)
		}
	})
	t.Run("stall_then_abort_cancels_upstream", func(t *testing.T) {
		h := newHarness(t, nil)
		h.fake.Enqueue(codextest.Stall("thinking"))
		cctx, cancel := context.WithCancel(ctx)
		s := h.client.Responses.NewStreaming(cctx, basic)
		for s.Next() {
			if s.Current().Type == "response.output_text.delta" {
				break
			}
		}
		cancel()
		s.Close()
		select {
		case <-h.fake.Disconnected():
		case <-time.After(20 * time.Second):
			t.Fatal("the upstream request was not cancelled after the client went away")
		}
	})
}

func TestResponsesBadInput(t *testing.T) {
	h := newHarness(t, nil)
	post := func(body string, hdr map[string]string) (int, map[string]any) {
		resp, _ := h.rawResponses(t, body, hdr)
		var e struct {
			Error map[string]any `json:"error"`
		}
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error
	}
	for _, c := range []struct{ name, body, param string }{
		{"unknown_item_type", `{"model":"gpt-5.5","input":[{"type":"bogus"}]}`, "input[0].type"},
		{"malformed_item", `{"model":"gpt-5.5","input":[42]}`, "input[0]"},
		{"message_without_role", `{"model":"gpt-5.5","input":[{"type":"message","content":"x"}]}`, "input[0].role"},
		{"unpaired_output", `{"model":"gpt-5.5","input":[{"type":"function_call_output","call_id":"c1","output":"x"}]}`, "input"},
		{"hosted_tool", `{"model":"gpt-5.5","input":"x","tools":[{"type":"file_search","vector_store_ids":["v"]}]}`, "tools[0].type"},
		{"no_input", `{"model":"gpt-5.5"}`, "input"},
		{"background", `{"model":"gpt-5.5","input":"x","background":true}`, "background"},
		{"bad_verbosity", `{"model":"gpt-5.5","input":"x","text":{"verbosity":"bogus"}}`, "text.verbosity"},
		{"bad_summary", `{"model":"gpt-5.5","input":"x","reasoning":{"summary":"bogus"}}`, "reasoning.summary"},
		{"bad_generate_summary", `{"model":"gpt-5.5","input":"x","reasoning":{"generate_summary":"bogus"}}`, "reasoning.generate_summary"},
		{"namespace_tool_without_name", `{"model":"gpt-5.5","input":"x","tools":[{"type":"namespace","name":"ns","description":"d","tools":[{"type":"function"}]}]}`, "tools[0].tools[0].name"},
		{"namespace_hosted_tool", `{"model":"gpt-5.5","input":"x","tools":[{"type":"namespace","name":"ns","description":"d","tools":[{"type":"web_search"}]}]}`, "tools[0].tools[0].type"},
		// A null where an object belongs is named as such.
		{"null_namespace_tool", `{"model":"gpt-5.5","input":"x","tools":[{"type":"namespace","name":"ns","description":"d","tools":[null]}]}`, "tools[0].tools[0]"},
		{"null_tool", `{"model":"gpt-5.5","input":"x","tools":[{"type":"function","name":"f"},null]}`, "tools[1]"},
		{"null_content_part", `{"model":"gpt-5.5","input":[{"role":"user","content":[null]}]}`, "input[0].content[0]"},
	} {
		status, e := post(c.body, nil)
		if status != 400 || e["param"] != c.param || e["message"] == "" {
			t.Errorf("%s: %d %v", c.name, status, e)
		}
		if strings.HasPrefix(c.name, "null_") && (e["code"] != "invalid_type" || !strings.Contains(fmt.Sprint(e["message"]), "expected an object, but got null")) {
			t.Errorf("%s: %v, want a null named", c.name, e)
		}
	}
	if n := len(h.fake.ResponsesRequests()); n != 0 {
		t.Errorf("bad input reached upstream %d times", n)
	}

	// Compressed bodies: zstd and gzip decode; a bomb is refused with 413.
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	_, _ = zw.Write([]byte(`{"model":"gpt-5.5","input":"compressed"}`))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", h.base+"/responses", &zb)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Encoding", "zstd")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "echo: compressed") {
		t.Errorf("zstd body: %d %s", resp.StatusCode, b)
	}
}

func TestCompressedBodies(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_BODY_LIMIT": "1M"})
	send := func(path, enc string, body []byte) (int, string) {
		req, _ := http.NewRequest("POST", h.base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Encoding", enc)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(b)
		_ = w.Close()
		return buf.Bytes()
	}
	chat := []byte(`{"model":"gpt-5.5","messages":[{"role":"user","content":"gzipped"}]}`)
	if st, b := send("/chat/completions", "gzip", gz(chat)); st != 200 || !strings.Contains(b, "echo: gzipped") {
		t.Errorf("gzip chat: %d %s", st, b)
	}
	// 64 MiB of spaces compress to about 64 KiB: far over the 1M limit.
	bomb := gz(append([]byte(`{"model":"gpt-5.5","input":"x"`), bytes.Repeat([]byte(" "), 64<<20)...))
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	if st, b := send("/responses", "gzip", bomb); st != 413 || !strings.Contains(b, "too large") {
		t.Errorf("bomb: %d %s", st, b)
	}
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	_, _ = zw.Write(append([]byte(`{"model":"gpt-5.5","input":"x"`), bytes.Repeat([]byte(" "), 64<<20)...))
	_ = zw.Close()
	if st, _ := send("/responses", "zstd", zb.Bytes()); st != 413 {
		t.Errorf("zstd bomb: %d", st)
	}
	if st, b := send("/responses", "br", []byte("x")); st != 415 || !strings.Contains(b, "zstd, gzip or deflate") {
		t.Errorf("unknown encoding: %d %s", st, b)
	}
	if st, _ := send("/responses", "gzip", []byte("not gzip")); st != 400 {
		t.Errorf("corrupt gzip: %d", st)
	}
	// One limit for plain and compressed bodies: 1M is 1,048,576 bytes
	// either way (echo alone read it as 1,000,000 for plain bodies).
	pad := func(n int) []byte {
		b := []byte(`{"model":"gpt-5.5","messages":[{"role":"user","content":"padded"}]`)
		b = append(b, bytes.Repeat([]byte(" "), n-len(b)-1)...)
		return append(b, '}')
	}
	for _, n := range []int{1_040_000, 1<<20 + 1} {
		want := 200
		if n > 1<<20 {
			want = 413
		}
		if st, b := send("/chat/completions", "identity", pad(n)); st != want {
			t.Errorf("plain body of %d bytes: %d, want %d: %.200s", n, st, want, b)
		}
		if st, b := send("/chat/completions", "gzip", gz(pad(n))); st != want {
			t.Errorf("gzip body of %d bytes: %d, want %d: %.200s", n, st, want, b)
		}
	}
	if n := len(h.fake.ResponsesRequests()); n != 3 {
		t.Errorf("%d upstream requests, want 3 (the gzip chat, the padded ones within the limit)", n)
	}
}

func TestResponsesWebSocketUpgradeIs426(t *testing.T) {
	h := newHarness(t, nil)
	req, _ := http.NewRequest("GET", h.base+"/responses", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestClientMetadataPassesThrough: a client's own client_metadata (the
// Codex CLI sends one) goes upstream as it is, with no second key beside
// it; without one, the app's (the CLI's nine keys) is added.
func TestClientMetadataPassesThrough(t *testing.T) {
	h := newHarness(t, nil)
	last := func() map[string]any {
		reqs := h.fake.ResponsesRequests()
		if len(reqs) == 0 {
			t.Fatal("no upstream request")
		}
		body := reqs[len(reqs)-1].Body
		if n := bytes.Count(body, []byte(`"client_metadata":`)); n != 1 {
			t.Errorf("client_metadata %d times in the upstream body", n)
		}
		md, _ := reqs[len(reqs)-1].JSON["client_metadata"].(map[string]any)
		return md
	}
	if st, b := h.postTo(t, "/responses", `{"model":"gpt-5.5","input":"hi","client_metadata":{"turn_id":"t1"}}`); st != 200 {
		t.Fatalf("status %d: %s", st, b)
	}
	if md := last(); len(md) != 1 || md["turn_id"] != "t1" {
		t.Errorf("client_metadata upstream = %v, want the client's own", md)
	}
	if st, b := h.postTo(t, "/responses", `{"model":"gpt-5.5","input":"hi"}`); st != 200 {
		t.Fatalf("status %d: %s", st, b)
	}
	if md := last(); len(md) != 9 || md["x-codex-turn-metadata"] == nil {
		t.Errorf("client_metadata upstream = %v, want the CLI's nine keys", md)
	}
}

// TestResponsesCodexLiteBody: the Codex CLI's own Responses-Lite body (its
// tools in an additional_tools item) is answered for a Lite model and for
// a classic one, each sent upstream in the shape its model needs, which
// the fake checks.
func TestResponsesCodexLiteBody(t *testing.T) {
	raw, err := os.ReadFile("upstream/testdata/codex-cli-0.171.0/exec-rustls-responses-0.171.0.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"gpt-5.6-luna", "gpt-5.5"} {
		t.Run(model, func(t *testing.T) {
			h := newHarness(t, nil)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			m["model"] = model
			// A turn that called the CLI's exec tool, in its namespace:
			// the Lite backend refuses the call without it.
			m["input"] = append(m["input"].([]any),
				map[string]any{"type": "custom_tool_call", "call_id": "call_1", "name": "exec", "namespace": "functions", "input": "text(1)"},
				map[string]any{"type": "custom_tool_call_output", "call_id": "call_1", "output": "1"})
			body, _ := json.Marshal(m)
			resp, frames := h.rawResponses(t, string(body), nil)
			if resp.StatusCode != 200 || len(frames) == 0 || frames[len(frames)-1].event != "response.completed" {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, %d frames: %s", resp.StatusCode, len(frames), b)
			}
			up := lastBody(t, h.fake)
			lite := false
			for _, it := range up["input"].([]any) {
				if it.(map[string]any)["type"] == "additional_tools" {
					lite = true
				}
			}
			if lite != strings.HasSuffix(model, "-luna") || (!lite && len(up["tools"].([]any)) != 3) {
				t.Errorf("upstream: lite=%v tools=%v", lite, up["tools"])
			}
		})
	}
}
