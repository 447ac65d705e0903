package codex

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// The reference: the request model written with encoding/json, as it was
// before the hand-written encoder (encode.go). The hand-written output,
// HTML-escaped, must be byte for byte what encoding/json writes.

type refContent Content

func (c refContent) MarshalJSON() ([]byte, error) {
	switch c.Type {
	case PartInputImage:
		return json.Marshal(struct {
			Type     string `json:"type"`
			ImageURL string `json:"image_url,omitempty"`
			FileID   string `json:"file_id,omitempty"`
			Detail   string `json:"detail,omitempty"`
		}{c.Type, c.ImageURL, c.FileID, c.Detail})
	case PartInputFile:
		return json.Marshal(struct {
			Type     string `json:"type"`
			FileID   string `json:"file_id,omitempty"`
			FileData string `json:"file_data,omitempty"`
			FileURL  string `json:"file_url,omitempty"`
			Filename string `json:"filename,omitempty"`
		}{c.Type, c.FileID, c.FileData, c.FileURL, c.Filename})
	case PartRefusal:
		return json.Marshal(struct {
			Type    string `json:"type"`
			Refusal string `json:"refusal"`
		}{c.Type, c.Refusal})
	case PartOutputText:
		return json.Marshal(struct {
			Type        string            `json:"type"`
			Text        string            `json:"text"`
			Annotations []json.RawMessage `json:"annotations,omitempty"`
		}{c.Type, c.Text, c.Annotations})
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{c.Type, c.Text})
}

func refParts(c []Content, emptyArray bool) []refContent {
	return asRef(c, emptyArray, func(c Content) refContent { return refContent(c) })
}

// asRef converts a slice to a reference type; a nil slice stays nil
// unless emptyArray is set.
func asRef[T, R any](in []T, emptyArray bool, conv func(T) R) []R {
	if in == nil {
		if emptyArray {
			return []R{}
		}
		return nil
	}
	out := make([]R, len(in))
	for i := range in {
		out[i] = conv(in[i])
	}
	return out
}

type refTool Tool

func refTools(ts []Tool) []refTool {
	return asRef(ts, false, func(t Tool) refTool { return refTool(t) })
}

func (t refTool) MarshalJSON() ([]byte, error) {
	if len(t.Raw) > 0 {
		return t.Raw, nil
	}
	if t.Type == ToolNamespace {
		return json.Marshal(struct {
			Type        string    `json:"type"`
			Name        string    `json:"name"`
			Description string    `json:"description"`
			Tools       []refTool `json:"tools"`
		}{t.Type, t.Name, t.Description, refTools(t.Tools)})
	}
	return json.Marshal(struct {
		Type        string          `json:"type"`
		Name        string          `json:"name,omitempty"`
		Description string          `json:"description,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		Format      *ToolFormat     `json:"format,omitempty"`
		Tools       []refTool       `json:"tools,omitempty"`
	}{t.Type, t.Name, t.Description, t.Strict, t.Parameters, t.Format, refTools(t.Tools)})
}

type refChoice ToolChoice

func (c refChoice) MarshalJSON() ([]byte, error) {
	if c.Type == "" {
		m := c.Mode
		if m == "" {
			m = "auto"
		}
		return json.Marshal(m)
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}{c.Type, c.Name})
}

type refOutput Output

func (o refOutput) MarshalJSON() ([]byte, error) {
	if o.Parts != nil {
		return json.Marshal(refParts(o.Parts, true))
	}
	return json.Marshal(o.Text)
}

type refItem Item

func refItems(its []Item, emptyArray bool) []refItem {
	return asRef(its, emptyArray, func(it Item) refItem { return refItem(it) })
}

func (it refItem) MarshalJSON() ([]byte, error) {
	switch it.Type {
	case ItemMessage:
		return json.Marshal(struct {
			Type    string       `json:"type"`
			ID      string       `json:"id,omitempty"`
			Role    string       `json:"role"`
			Content []refContent `json:"content"`
			Phase   string       `json:"phase,omitempty"`
			Status  string       `json:"status,omitempty"`
		}{it.Type, it.ID, it.Role, refParts(it.Content, true), it.Phase, it.Status})
	case ItemFunctionCall:
		return json.Marshal(struct {
			Type      string `json:"type"`
			ID        string `json:"id,omitempty"`
			Status    string `json:"status,omitempty"`
			Name      string `json:"name"`
			Namespace string `json:"namespace,omitempty"`
			Arguments string `json:"arguments"`
			CallID    string `json:"call_id"`
		}{it.Type, it.ID, it.Status, it.Name, it.Namespace, it.Arguments, it.CallID})
	case ItemCustomToolCall:
		return json.Marshal(struct {
			Type      string `json:"type"`
			ID        string `json:"id,omitempty"`
			Status    string `json:"status,omitempty"`
			Name      string `json:"name"`
			Namespace string `json:"namespace,omitempty"`
			Input     string `json:"input"`
			CallID    string `json:"call_id"`
		}{it.Type, it.ID, it.Status, it.Name, it.Namespace, it.Input, it.CallID})
	case ItemFunctionCallOutput, ItemCustomToolCallOutput:
		return json.Marshal(struct {
			Type   string    `json:"type"`
			ID     string    `json:"id,omitempty"`
			CallID string    `json:"call_id"`
			Output refOutput `json:"output"`
		}{it.Type, it.ID, it.CallID, refOutput(it.Output)})
	case ItemReasoning:
		return json.Marshal(struct {
			Type             string       `json:"type"`
			ID               string       `json:"id,omitempty"`
			Summary          []refContent `json:"summary"`
			Content          []refContent `json:"content,omitempty"`
			EncryptedContent string       `json:"encrypted_content,omitempty"`
		}{it.Type, it.ID, refParts(it.Summary, true), refParts(it.Content, false), it.EncryptedContent})
	case ItemAdditionalTools:
		return json.Marshal(struct {
			Type  string    `json:"type"`
			ID    string    `json:"id,omitempty"`
			Role  string    `json:"role"`
			Tools []refTool `json:"tools"`
		}{it.Type, it.ID, it.Role, refTools(it.Tools)})
	case ItemConfigurationUpdate:
		return json.Marshal(struct {
			Type      string     `json:"type"`
			Reasoning *Reasoning `json:"reasoning,omitempty"`
		}{it.Type, it.Reasoning})
	}
	if len(it.Raw) > 0 {
		return it.Raw, nil
	}
	return nil, errUnknownRef
}

var errUnknownRef = json.Unmarshal([]byte("x"), new(any))

// refRequest is the classic body as encoding/json wrote it.
func refRequest(r *Request) ([]byte, error) {
	include := r.Include
	if include == nil {
		include = []string{}
	}
	tools := refTools(r.Tools)
	if tools == nil {
		tools = []refTool{}
	}
	return json.Marshal(&struct {
		Model             string            `json:"model"`
		Instructions      string            `json:"instructions"`
		Input             []refItem         `json:"input"`
		Tools             []refTool         `json:"tools"`
		ToolChoice        refChoice         `json:"tool_choice"`
		ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
		Reasoning         *Reasoning        `json:"reasoning,omitempty"`
		Store             bool              `json:"store"`
		Stream            bool              `json:"stream"`
		Include           []string          `json:"include"`
		PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
		Text              *Text             `json:"text,omitempty"`
		ServiceTier       string            `json:"service_tier,omitempty"`
		ClientMetadata    map[string]string `json:"client_metadata,omitempty"`
	}{r.Model, r.Instructions, refItems(r.Input, true), tools, refChoice(r.ToolChoice), r.ParallelToolCalls,
		r.Reasoning, r.Store, r.Stream, include, r.PromptCacheKey, r.Text, r.ServiceTier, r.ClientMetadata})
}

// refLite is the Responses-Lite body as encoding/json wrote it.
func refLite(r *Request) ([]byte, error) {
	l := r.lite()
	return json.Marshal(&struct {
		Model             string            `json:"model"`
		Stream            bool              `json:"stream"`
		Input             []refItem         `json:"input"`
		ToolChoice        refChoice         `json:"tool_choice"`
		ParallelToolCalls bool              `json:"parallel_tool_calls"`
		Reasoning         *Reasoning        `json:"reasoning"`
		Store             bool              `json:"store"`
		Include           []string          `json:"include"`
		PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
		Text              *Text             `json:"text,omitempty"`
		ServiceTier       string            `json:"service_tier,omitempty"`
		ClientMetadata    map[string]string `json:"client_metadata,omitempty"`
	}{l.Model, l.Stream, refItems(l.Input, false), refChoice(l.ToolChoice), l.ParallelToolCalls, l.Reasoning,
		l.Store, l.Include, l.PromptCacheKey, l.Text, l.ServiceTier, l.ClientMetadata})
}

// sameAsEncodingJSON checks r's body in both shapes against the reference.
func sameAsEncodingJSON(t *testing.T, r *Request) {
	t.Helper()
	for _, lite := range []bool{false, true} {
		r.Lite = lite
		got, err := r.MarshalJSON()
		ref := refRequest
		if lite {
			ref = refLite
		}
		want, wantErr := ref(r)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("lite=%v: error %v, encoding/json's %v", lite, err, wantErr)
		}
		if err != nil {
			continue
		}
		if !json.Valid(got) {
			t.Fatalf("lite=%v: invalid JSON: %s", lite, got)
		}
		var esc bytes.Buffer
		json.HTMLEscape(&esc, got)
		if esc.String() != string(want) {
			t.Fatalf("lite=%v:\n got %s\nwant %s", lite, esc.Bytes(), want)
		}
	}
	r.Lite = false
}

const awkward = "plain <b>&amp;</b> \"quoted\" back\\slash\nnew\ttab \x01 é 世界 \u2028\u2029 🙂 \xff\xfe bad"

func richRequest() *Request {
	yes, no := true, false
	return &Request{
		Model: "gpt-5.4", Instructions: "Be brief. " + awkward,
		Input: []Item{
			Message(RoleDeveloper, TextPart(PartInputText, "dev <rules>")),
			{Type: ItemMessage, Role: RoleUser, Content: []Content{
				{Type: PartInputText, Text: awkward},
				{Type: PartInputImage, ImageURL: "data:image/png;base64,AAA=", Detail: "high"},
				{Type: PartInputImage, FileID: "file-1"},
				{Type: PartInputFile, FileData: "data:application/pdf;base64,JVBER", Filename: "a&b.pdf"},
				{Type: PartInputFile, FileURL: "https://example.com/x.pdf"},
			}},
			{Type: ItemMessage, ID: "msg_1", Role: RoleAssistant, Phase: "final_answer", Status: "completed", Content: []Content{
				{Type: PartOutputText, Text: "answer", Annotations: []json.RawMessage{json.RawMessage(`{ "type" : "url_citation", "url": "https://a.b/?x=1&y=<2>" }`), nil}},
				{Type: PartRefusal, Refusal: "no <way>"},
				{Type: PartOutputText, Text: ""},
			}},
			{Type: ItemMessage, Role: RoleUser},
			{Type: ItemFunctionCall, ID: "fc_1", Status: "completed", Name: "shell", Namespace: "functions", Arguments: `{"cmd":"ls <dir>"}`, CallID: "call_1"},
			{Type: ItemFunctionCallOutput, CallID: "call_1", Output: Output{Text: "out & err"}},
			{Type: ItemFunctionCallOutput, CallID: "call_2", Output: Output{Parts: []Content{{Type: PartInputText, Text: "t"}, {Type: PartInputImage, ImageURL: "https://i/x.png", Detail: "low"}}}},
			{Type: ItemFunctionCallOutput, CallID: "call_3", Output: Output{Parts: []Content{}}},
			{Type: ItemCustomToolCall, Name: "apply_patch", Input: "*** Begin Patch\n<x>\n", CallID: "call_4"},
			{Type: ItemCustomToolCallOutput, CallID: "call_4", Output: Output{Text: ""}},
			{Type: ItemReasoning, ID: "rs_1", Summary: []Content{{Type: PartSummaryText, Text: "thinking <hard>"}}, EncryptedContent: "gAAAA=="},
			{Type: ItemReasoning, Content: []Content{{Type: PartReasoning, Text: "raw"}}},
			{Type: ItemWebSearchCall, Raw: json.RawMessage(`{"type":"web_search_call", "id":"ws_1","action":{"query":"a<b"}}`)},
		},
		Tools: []Tool{
			{Type: ToolFunction, Name: "shell", Description: "Run <cmd> & wait", Strict: &no,
				Parameters: json.RawMessage(`{"type":"object",
					"properties":{"cmd":{"type":"string","description":"<cmd>"}}}`)},
			{Type: ToolFunction, Name: "noargs"},
			{Type: ToolFunction, Name: "odd", Tools: []Tool{{Type: ToolFunction, Name: "inner"}}},
			{Type: ToolCustom, Name: "apply_patch", Description: "patch", Format: &ToolFormat{Type: "grammar", Syntax: "lark", Definition: "start: \"<\" /.+/"}},
			{Type: ToolCustom, Name: "free", Format: &ToolFormat{Type: "text"}},
			{Type: ToolNamespace, Name: "mcp__x", Tools: []Tool{{Type: ToolFunction, Name: "a", Strict: &yes}}},
			{Type: ToolNamespace, Name: "empty"},
			{Type: ToolWebSearch, Raw: json.RawMessage(`{ "type": "web_search", "filters": {"allowed_domains": ["a&b.com"]} }`)},
		},
		ToolChoice:        ToolChoice{Type: ToolFunction, Name: "shell"},
		ParallelToolCalls: &yes,
		Reasoning:         &Reasoning{Effort: "high", Summary: "auto"},
		Stream:            true,
		Include:           []string{IncludeEncryptedReasoning},
		PromptCacheKey:    "key <1>",
		Text: &Text{Verbosity: "low", Format: &TextFormat{Type: "json_schema", Name: "out", Description: "d&d", Strict: &yes,
			Schema: json.RawMessage("{\"type\" : \"object\", \"description\": \"<\u2028>\"}")}},
		ServiceTier:    "priority",
		ClientMetadata: map[string]string{"z": "1", "a": "<2>", "m": awkward},
	}
}

func TestRequestJSONMatchesEncodingJSON(t *testing.T) {
	sameAsEncodingJSON(t, richRequest())
	sameAsEncodingJSON(t, &Request{})
	sameAsEncodingJSON(t, &Request{Model: "m", ToolChoice: ToolChoice{Mode: "none"}, Tools: []Tool{{Type: ToolFunction, Name: "f"}},
		Reasoning: &Reasoning{}, Text: &Text{}})
	sameAsEncodingJSON(t, &Request{Model: "m", ToolChoice: ToolChoice{Mode: "required"}, Reasoning: &Reasoning{Context: ContextAllTurns}})
}

// TestRequestJSONRandom compares random requests built from the pieces of
// richRequest, with random strings.
func TestRequestJSONRandom(t *testing.T) {
	base := richRequest()
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []string{"a", "Z", " ", "<", ">", "&", "\"", "\\", "\n", "\x00", "\x1f", "\b", "\f", "é", "\u2028", "🙂", "\xff", "/"}
	str := func() string {
		var b strings.Builder
		for n := rng.IntN(8); n > 0; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 500; i++ {
		r := &Request{Model: str(), Instructions: str(), PromptCacheKey: str(), ServiceTier: str(), Store: rng.IntN(2) == 0, Stream: rng.IntN(2) == 0}
		for n := rng.IntN(6); n > 0; n-- {
			it := base.Input[rng.IntN(len(base.Input))]
			it.ID, it.Name, it.CallID, it.Arguments = str(), str(), str(), str()
			if len(it.Content) > 0 {
				it.Content = append([]Content(nil), it.Content...)
				it.Content[0].Text = str()
			}
			r.Input = append(r.Input, it)
		}
		for n := rng.IntN(4); n > 0; n-- {
			tl := base.Tools[rng.IntN(len(base.Tools))]
			tl.Description = str()
			r.Tools = append(r.Tools, tl)
		}
		if rng.IntN(2) == 0 {
			r.ToolChoice = ToolChoice{Mode: str()}
		}
		if rng.IntN(2) == 0 {
			r.ClientMetadata = map[string]string{str(): str(), str(): str()}
		}
		if rng.IntN(2) == 0 {
			r.Include = []string{str()}
		}
		sameAsEncodingJSON(t, r)
	}
}

// capturedRequest is the Codex CLI's captured request body, decoded.
func capturedRequest(tb testing.TB) *Request {
	tb.Helper()
	raw, err := os.ReadFile("../upstream/testdata/codex-cli-0.171.0/exec-rustls-responses-0.171.0.json")
	if err != nil {
		tb.Fatal(err)
	}
	var r Request
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatal(err)
	}
	return &r
}

// TestRequestJSONCapturedBody round-trips the Codex CLI's captured body.
func TestRequestJSONCapturedBody(t *testing.T) { sameAsEncodingJSON(t, capturedRequest(t)) }

func TestRequestJSONErrors(t *testing.T) {
	for _, r := range []*Request{
		{Input: []Item{{Type: "mystery"}}},
		{Tools: []Tool{{Type: ToolWebSearch, Raw: json.RawMessage(`{"type":`)}}},
		{Tools: []Tool{{Type: ToolFunction, Name: "f", Parameters: json.RawMessage(`{]`)}}},
		{Text: &Text{Format: &TextFormat{Type: "json_schema", Schema: json.RawMessage(`nope`)}}},
	} {
		if _, err := r.MarshalJSON(); err == nil {
			t.Errorf("%+v: no error", r)
		}
		if _, err := refRequest(r); err == nil {
			t.Errorf("%+v: the reference has no error", r)
		}
	}
}

func BenchmarkRequestJSON(b *testing.B) {
	big := capturedRequest(b)
	small := &Request{Model: "gpt-5.4", Input: []Item{Message(RoleUser, TextPart(PartInputText, "hello"))}, Stream: true,
		Include: []string{IncludeEncryptedReasoning}, Reasoning: &Reasoning{Effort: "medium"}}
	for _, tc := range []struct {
		name string
		r    *Request
	}{{"small", small}, {"captured", big}} {
		out, _ := tc.r.MarshalJSON()
		b.Run(tc.name+"/encoder", func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = tc.r.MarshalJSON()
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = refRequest(tc.r)
			}
		})
	}
}

// TestAppendItems holds AppendItems side by side with json.Marshal of the
// same items, and decodes its output back, as the responses store does.
func TestAppendItems(t *testing.T) {
	for _, items := range [][]Item{nil, {}, richRequest().Input, capturedRequest(t).Input} {
		got, err := AppendItems([]byte("x"), items)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 'x' {
			t.Fatalf("dst not kept: %.20s", got)
		}
		got = got[1:]
		want, err := json.Marshal(items)
		if err != nil {
			t.Fatal(err)
		}
		var esc bytes.Buffer
		json.HTMLEscape(&esc, got)
		if esc.String() != string(want) {
			t.Fatalf("\n got %s\nwant %s", esc.Bytes(), want)
		}
		// Decoded (invalid UTF-8 is U+FFFD by now), it is the same.
		var back, wantBack []Item
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &wantBack); err != nil {
			t.Fatal(err)
		}
		b1, _ := json.Marshal(back)
		b2, _ := json.Marshal(wantBack)
		if string(b1) != string(b2) {
			t.Fatalf("decoded:\n got %s\nwant %s", b1, b2)
		}
	}
	if _, err := AppendItems(nil, []Item{{Type: "mystery"}}); err == nil {
		t.Fatal("an item of no known type was written")
	}
}
