// Package chat is the OpenAI Chat Completions dialect: it translates
// /v1/chat/completions requests into the upstream model (proxy/codex) and
// the upstream stream back into chat.completion.chunk frames or one
// chat.completion.
package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// Options steer the request translation.
type Options = dialect.Options

// Plan is a translated request plus what the response translation needs.
type Plan struct {
	Body         codex.Request
	Model        string // slug sent upstream and reported to the client
	SessionID    string // prompt_cache_key and session_id
	Stream       bool
	IncludeUsage bool
	// ToolNames maps shortened upstream tool names back to the client's.
	ToolNames map[string]string
	// EffortClamped is set when the requested effort was replaced by the
	// nearest one the model supports (reported to the client in a header).
	EffortClamped string
	// Custom holds the custom tools by upstream name, with the shape their
	// calls take in the answer.
	Custom map[string]CallStyle
}

// CallStyle is the shape a custom tool's call takes in a chat answer.
type CallStyle uint8

// The call styles. A custom tool defined in the flat Responses shape, as
// Cursor sends ApplyPatch, is answered in a function envelope whose
// arguments are the raw input: Cursor's agent reads tool_call.function.name
// of every tool call and crashes on OpenAI's documented custom shape
// ("Cannot read properties of undefined (reading 'name')", Cursor 3.14.27;
// https://github.com/icebear0828/codex-proxy/pull/708, issue #707), and it
// passes function.arguments to its patch parser, which wants the text
// starting with "*** Begin Patch", not {} or JSON. A custom tool defined in
// the nested Chat Completions shape ({"type":"custom","custom":{…}}, as the
// OpenAI SDKs send it) is answered as OpenAI documents it,
// {"type":"custom","custom":{"name","input"}} (the shape LiteLLM answers,
// https://github.com/BerriAI/litellm/pull/34029).
const (
	StyleEnvelope CallStyle = iota // {"type":"function","function":{"name","arguments":<raw input>}}
	StyleCustom                    // {"type":"custom","custom":{"name","input"}}
)

// builder carries the state of one translation.
type builder struct {
	p      *Plan
	res    catalog.Resolution
	names  dialect.ToolNames
	images int
	instr  []string
	// custom holds the client's custom tool names; customCalls the call
	// ids of custom tool calls seen in the history, whose results go
	// upstream as custom_tool_call_output.
	custom      map[string]CallStyle
	customCalls map[string]bool
}

// Chat translates req for the resolved model: a Chat Completions body, or
// a Responses-shaped one as Cursor's agent mode sends (see cursor.go).
// Errors are *apierr.Error (400).
func Chat(req *ChatRequest, res catalog.Resolution, opts Options) (*Plan, error) {
	shaped := ResponsesShaped(req)
	if err := checkTopLevel(req, shaped); err != nil {
		return nil, err
	}
	p := &Plan{Model: res.Slug, Stream: req.Stream}
	if req.StreamOptions != nil {
		if !req.Stream {
			return nil, apierr.InvalidRequest("stream_options", "stream_options is only allowed when stream is true").WithCode("invalid_value")
		}
		p.IncludeUsage = req.StreamOptions.IncludeUsage
	}
	b := &builder{p: p, res: res}
	body := &p.Body
	body.Model, body.Stream, body.Store = res.Slug, true, false
	body.Input = make([]codex.Item, 0, len(req.Messages)+2)
	body.Tools = []codex.Tool{}
	body.Include = []string{}
	b.scanCustom(req.Tools)
	if err := b.history(req, shaped); err != nil {
		return nil, err
	}
	if err := b.tools(req.Tools); err != nil {
		return nil, err
	}
	if err := b.toolChoice(req.ToolChoice); err != nil {
		return nil, err
	}
	dialect.ParallelToolCalls(body, res, req.ParallelToolCalls)
	if err := b.controls(req, opts); err != nil {
		return nil, err
	}
	p.ToolNames = b.names.Renamed()
	if p.ToolNames == nil {
		p.ToolNames = map[string]string{}
	}
	// The client's own key; the relay gives every conversation its id.
	p.SessionID = req.PromptCacheKey
	body.PromptCacheKey = p.SessionID
	return p, nil
}

// history translates the messages (or a Responses-shaped input) into
// instructions and input items, and repairs the tool history.
func (b *builder) history(req *ChatRequest, shaped bool) error {
	body := &b.p.Body
	if shaped {
		if req.Instructions != "" {
			b.instr = append(b.instr, req.Instructions)
		}
		if err := b.responsesInput(req.Input); err != nil {
			return err
		}
	}
	for i, m := range req.Messages {
		if err := b.message(i, m); err != nil {
			return err
		}
	}
	param := "messages"
	if shaped {
		param = "input"
	}
	if id := dialect.UnpairedOutput(body.Input); id != "" {
		return apierr.InvalidRequest(param, "tool result with call id %q does not follow an assistant tool call with that id", id).WithCode("invalid_value")
	}
	body.Input = dialect.AnswerOrphanCalls(body.Input)
	if b.images > 0 && b.res.Known && !b.res.Model.SupportsImages() {
		return apierr.InvalidRequest(param, "model %s does not accept images", b.res.Slug).WithCode("unsupported_value")
	}
	body.Instructions = strings.Join(b.instr, "\n\n")
	return nil
}

// controls translates reasoning, the text format, verbosity and the
// service tier.
func (b *builder) controls(req *ChatRequest, opts Options) error {
	body := &b.p.Body
	want := dialect.Effort{Effort: req.ReasoningEffort}
	if req.Reasoning != nil {
		want.Summary = req.Reasoning.Summary
		if want.Effort == "" {
			want.Effort = req.Reasoning.Effort
		}
	}
	clamped, err := dialect.Reasoning(body, b.res, want, opts)
	if err != nil {
		return err
	}
	b.p.EffortClamped = clamped
	verbosity, vparam := req.Verbosity, "verbosity"
	if req.Text != nil {
		if err := responsesText(body, req.Text); err != nil {
			return err
		}
		if verbosity == "" {
			verbosity, vparam = req.Text.Verbosity, "text.verbosity"
		}
	}
	if err := textFormat(body, req.ResponseFormat); err != nil {
		return err
	}
	if err := dialect.Verbosity(body, b.res, verbosity, vparam, opts); err != nil {
		return err
	}
	return dialect.ServiceTier(body, b.res, req.ServiceTier)
}

// checkTopLevel refuses what the request cannot ask for at all.
func checkTopLevel(req *ChatRequest, shaped bool) error {
	if !shaped && len(req.Messages) == 0 {
		return apierr.InvalidRequest("messages", "'messages' must be a non-empty array of messages").WithCode("missing_required_parameter")
	}
	if !dialect.Absent(req.Functions) || !dialect.Absent(req.FunctionCall) { // null is absent, as at OpenAI
		return apierr.InvalidRequest("functions", "the deprecated 'functions' and 'function_call' parameters are not supported; use 'tools' and 'tool_choice'").WithCode("unsupported_parameter")
	}
	if !dialect.Absent(req.System) {
		return apierr.InvalidRequest("system", "Unrecognized request argument supplied: system. Chat Completions takes the system prompt as a message with role 'system' (or 'developer'); requests in Anthropic's shape go to /v1/messages.").WithCode("unknown_parameter")
	}
	// The integer parameters take whole numbers only (1000.0 is one).
	for _, p := range []struct {
		name string
		v    *float64
	}{{"max_tokens", req.MaxTokens}, {"max_completion_tokens", req.MaxCompletionTokens}, {"seed", req.Seed}, {"top_logprobs", req.TopLogprobs}} {
		if p.v != nil && *p.v != math.Trunc(*p.v) {
			return (&dialect.Mismatch{Path: p.name, Want: "an integer", Got: strconv.FormatFloat(*p.v, 'g', -1, 64)}).Error400()
		}
	}
	// Dropped too, but what OpenAI refuses out of range is refused here.
	for _, p := range []struct {
		name   string
		v      *float64
		lo, hi float64
	}{{"temperature", req.Temperature, 0, 2}, {"top_p", req.TopP, 0, 1}, {"presence_penalty", req.PresencePenalty, -2, 2}, {"frequency_penalty", req.FrequencyPenalty, -2, 2}} {
		if err := dialect.DecimalRange(p.name, p.v, p.lo, p.hi); err != nil {
			return err
		}
	}
	if err := dialect.IntegerMin("max_tokens", req.MaxTokens, 1); err != nil {
		return err
	}
	if err := dialect.IntegerMin("max_completion_tokens", req.MaxCompletionTokens, 1); err != nil {
		return err
	}
	if req.N != nil && *req.N != 1 {
		return apierr.InvalidRequest("n", "n=%d is not supported: ChatGPT returns one choice per request", *req.N).WithCode("unsupported_value")
	}
	// stop is dropped, but it must still be what OpenAI takes: a string,
	// an array of strings, or null.
	if stop := bytes.TrimSpace(req.Stop); len(stop) > 0 && stop[0] != '"' && !dialect.Absent(stop) {
		var list []string
		if stop[0] != '[' {
			return apierr.InvalidRequest("stop", "Invalid type for 'stop': expected a string or an array of strings.").WithCode("invalid_type")
		}
		if err := dialect.DecodeField(stop, &list, "stop"); err != nil {
			return err
		}
	}
	return nil
}

// pdfDataURL begins the data URL of a PDF, the one kind of file a chat
// file part sends (as at OpenAI, and as the other routes take PDFs).
const pdfDataURL = "data:application/pdf;base64,"

// filePart translates a file part at param: a PDF sent as a data URL
// becomes an input_file part, as the Responses route and Anthropic's
// documents send it.
func filePart(param string, f *FilePart) (codex.Content, error) {
	switch {
	case f == nil || (f.FileData == "" && f.FileID == ""):
		return codex.Content{}, apierr.InvalidRequest(param+".file", "a file part needs file.file_data (a data: URL of the PDF)").WithCode("missing_required_parameter")
	case f.FileID != "":
		return codex.Content{}, apierr.InvalidRequest(param+".file.file_id", "file ids are not supported (this app has no files API); send the file as file_data, a data: URL").WithCode("unsupported_value")
	case !strings.HasPrefix(f.FileData, pdfDataURL) || len(f.FileData) == len(pdfDataURL):
		return codex.Content{}, apierr.InvalidRequest(param+".file.file_data", "file_data must be a PDF as a data: URL (%s...)", pdfDataURL).WithCode("invalid_value")
	}
	name := f.Filename
	if name == "" {
		name = "document.pdf"
	}
	return codex.Content{Type: codex.PartInputFile, Filename: name, FileData: f.FileData}, nil
}

// message translates messages[i].
func (b *builder) message(i int, m Message) error {
	param := fmt.Sprintf("messages[%d]", i)
	in := &b.p.Body.Input
	switch m.Role {
	case "system", "developer":
		text, err := textOf(m.Content, param+".content")
		if err != nil {
			return err
		}
		if text != "" {
			b.instr = append(b.instr, text)
		}
	case "user":
		parts, n, err := userParts(m.Content, param+".content")
		if err != nil {
			return err
		}
		b.images += n
		*in = append(*in, codex.Message(codex.RoleUser, parts...))
	case "assistant":
		return b.assistant(param, m)
	case "tool":
		if m.ToolCallID == "" {
			return apierr.InvalidRequest(param+".tool_call_id", "a message with role 'tool' needs a tool_call_id").WithCode("missing_required_parameter")
		}
		text, err := textOf(m.Content, param+".content")
		if err != nil {
			return err
		}
		if b.customCalls[m.ToolCallID] {
			*in = append(*in, codex.Item{Type: codex.ItemCustomToolCallOutput, CallID: m.ToolCallID, Output: codex.Output{Text: text}})
		} else {
			*in = append(*in, codex.FunctionOutput(m.ToolCallID, text))
		}
	case "function":
		return apierr.InvalidRequest(param+".role", "the legacy 'function' role is not supported; use tools and role 'tool'").WithCode("invalid_value")
	case "":
		return apierr.InvalidRequest(param+".role", "%s has no role", param).WithCode("missing_required_parameter")
	default:
		return apierr.InvalidRequest(param+".role", "unknown role %q (expected system, developer, user, assistant or tool)", m.Role).WithCode("invalid_value")
	}
	return nil
}

// assistant translates an assistant message: its text, then its tool calls.
// An empty assistant turn carries nothing; the backend rejects empty
// messages, so it is skipped.
func (b *builder) assistant(param string, m Message) error {
	in := &b.p.Body.Input
	text, err := textOf(m.Content, param+".content")
	if err != nil {
		return err
	}
	if text == "" && m.Refusal != "" {
		text = m.Refusal
	}
	if text != "" {
		*in = append(*in, codex.Message(codex.RoleAssistant, codex.TextPart(codex.PartOutputText, text)))
	}
	for j, tc := range m.ToolCalls {
		var name, args string
		custom := tc.Custom != nil
		switch {
		case custom:
			name, args = tc.Custom.Name, tc.Custom.Input
		case tc.Function != nil:
			name, args = tc.Function.Name, tc.Function.Arguments
		}
		if tc.ID == "" || name == "" {
			return apierr.InvalidRequest(fmt.Sprintf("%s.tool_calls[%d]", param, j), "each tool call needs an id and a function name").WithCode("invalid_value")
		}
		*in = append(*in, b.call(tc.ID, name, args, custom))
	}
	return nil
}

// call builds the upstream item of a tool call in the history: a custom
// tool call when the call says so or names a custom tool (Cursor sends its
// ApplyPatch calls back in the function envelope it was answered in), else
// a function call.
func (b *builder) call(id, name, args string, custom bool) codex.Item {
	if _, ok := b.custom[name]; custom || ok {
		if b.customCalls == nil {
			b.customCalls = map[string]bool{}
		}
		b.customCalls[id] = true
		return codex.Item{Type: codex.ItemCustomToolCall, CallID: id, Name: b.names.Up(name), Input: args}
	}
	if args == "" {
		args = "{}"
	}
	return codex.FunctionCall(id, b.names.Up(name), args)
}

// scanCustom notes the custom tools before the history is translated, so
// that their calls and results go upstream as custom items.
func (b *builder) scanCustom(tools []Tool) {
	for _, t := range tools {
		if t.Type != codex.ToolCustom {
			continue
		}
		if b.custom == nil {
			b.custom = map[string]CallStyle{}
		}
		if t.Custom != nil {
			b.custom[t.Custom.Name] = StyleCustom
		} else {
			b.custom[t.Name] = StyleEnvelope
		}
	}
}

// tools translates the tool definitions, nested or flat.
func (b *builder) tools(tools []Tool) error {
	body := &b.p.Body
	for i, t := range tools {
		param := fmt.Sprintf("tools[%d]", i)
		switch t.Type {
		case "function", "":
			tool, err := b.function(param, t)
			if err != nil {
				return err
			}
			body.Tools = append(body.Tools, tool)
		case codex.ToolCustom:
			tool, err := b.customTool(param, t)
			if err != nil {
				return err
			}
			body.Tools = append(body.Tools, tool)
		case "web_search", "web_search_preview":
			// Hosted web search is passed through only when asked for.
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolWebSearch})
		default:
			return apierr.InvalidRequest(param+".type", "tool type %q is not supported (use function or custom tools)", t.Type).WithCode("unsupported_value")
		}
	}
	for name, style := range b.custom {
		if b.p.Custom == nil {
			b.p.Custom = map[string]CallStyle{}
		}
		b.p.Custom[b.names.Up(name)] = style
	}
	return nil
}

// function translates a function tool, nested or flat.
func (b *builder) function(param string, t Tool) (codex.Tool, error) {
	spec := FunctionSpec{Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict}
	if t.Function != nil {
		spec = *t.Function
	}
	if spec.Name == "" {
		return codex.Tool{}, apierr.InvalidRequest(param+".function.name", "a function tool needs function.name").WithCode("missing_required_parameter")
	}
	pp := param + ".parameters"
	if t.Function != nil {
		pp = param + ".function.parameters"
	}
	params, err := dialect.FunctionParameters(pp, spec.Parameters)
	if err != nil {
		return codex.Tool{}, err
	}
	tool := codex.Tool{Type: codex.ToolFunction, Name: b.names.Up(spec.Name), Description: spec.Description, Parameters: params}
	strict := spec.Strict != nil && *spec.Strict
	tool.Strict = &strict
	return tool, nil
}

// customTool translates a custom tool (free text input, optionally
// constrained by a Lark or regex grammar), nested or flat. It goes
// upstream as a custom tool, so the model answers with raw text.
func (b *builder) customTool(param string, t Tool) (codex.Tool, error) {
	spec := CustomSpec{Name: t.Name, Description: t.Description, Format: t.Format}
	if t.Custom != nil {
		spec = *t.Custom
		param += ".custom"
	}
	if spec.Name == "" {
		return codex.Tool{}, apierr.InvalidRequest(param+".name", "a custom tool needs a name").WithCode("missing_required_parameter")
	}
	tool := codex.Tool{Type: codex.ToolCustom, Name: b.names.Up(spec.Name), Description: spec.Description}
	f := spec.Format
	if f == nil {
		return tool, nil
	}
	switch f.Type {
	case "text":
		tool.Format = &codex.ToolFormat{Type: "text"}
	case "grammar":
		syntax, def := f.Syntax, f.Definition
		if f.Grammar != nil {
			syntax, def = f.Grammar.Syntax, f.Grammar.Definition
		}
		if syntax != "lark" && syntax != "regex" {
			return codex.Tool{}, apierr.InvalidRequest(param+".format.syntax", "a grammar's syntax must be lark or regex, not %q", syntax).WithCode("invalid_value")
		}
		if def == "" {
			return codex.Tool{}, apierr.InvalidRequest(param+".format.definition", "a grammar needs a definition").WithCode("missing_required_parameter")
		}
		tool.Format = &codex.ToolFormat{Type: "grammar", Syntax: syntax, Definition: def}
	default:
		return codex.Tool{}, apierr.InvalidRequest(param+".format.type", "custom tool format %q is not supported (text or grammar)", f.Type).WithCode("invalid_value")
	}
	return tool, nil
}

// toolChoice translates tool_choice.
func (b *builder) toolChoice(raw json.RawMessage) error {
	body := &b.p.Body
	body.ToolChoice = codex.ChooseAuto
	if tc := bytes.TrimSpace(raw); len(tc) > 0 && !bytes.Equal(tc, []byte("null")) {
		var s string
		if dialect.UnmarshalString(tc, &s) == nil {
			switch s {
			case "auto", "none", "required":
				body.ToolChoice = codex.ToolChoice{Mode: s}
			default:
				return apierr.InvalidRequest("tool_choice", "tool_choice must be auto, none, required or a function").WithCode("invalid_value")
			}
		} else {
			var obj namedChoice
			if err := json.Unmarshal(tc, &obj); err != nil || obj.name() == "" {
				return apierr.InvalidRequest("tool_choice", "tool_choice object must be {\"type\":\"function\",\"function\":{\"name\":…}}").WithCode("invalid_value")
			}
			name := obj.name()
			if !b.names.Known(name) {
				return apierr.InvalidRequest("tool_choice", "tool_choice names function %q, which is not in tools", name).WithCode("invalid_value")
			}
			typ := codex.ToolFunction
			if _, ok := b.custom[name]; ok {
				typ = codex.ToolCustom
			}
			body.ToolChoice = codex.ToolChoice{Type: typ, Name: b.names.Up(name)}
		}
	}
	if len(body.Tools) == 0 && (body.ToolChoice.Mode == "required" || body.ToolChoice.Named()) {
		return apierr.InvalidRequest("tool_choice", "tool_choice %s needs at least one tool in 'tools'", describeChoice(body.ToolChoice)).WithCode("invalid_value")
	}
	return nil
}

// namedChoice is a tool_choice object naming a tool: nested
// ({"type":"function","function":{"name"}}, {"type":"custom","custom":{"name"}})
// or flat ({"type":"function"|"custom","name"}).
type namedChoice struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Function *struct {
		Name string `json:"name"`
	} `json:"function"`
	Custom *struct {
		Name string `json:"name"`
	} `json:"custom"`
}

func (c namedChoice) name() string {
	switch {
	case c.Name != "":
		return c.Name
	case c.Function != nil:
		return c.Function.Name
	case c.Custom != nil:
		return c.Custom.Name
	}
	return ""
}

func describeChoice(c codex.ToolChoice) string {
	if !c.Named() {
		return "'" + c.Mode + "'"
	}
	return "naming a function"
}

// textFormat translates response_format into text.format.
func textFormat(body *codex.Request, rf *ResponseFormat) error {
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "text", "json_object":
		body.Text = &codex.Text{Format: &codex.TextFormat{Type: rf.Type}}
	case "json_schema":
		if rf.JSONSchema == nil || rf.JSONSchema.Name == "" || dialect.Absent(rf.JSONSchema.Schema) {
			return apierr.InvalidRequest("response_format.json_schema", "json_schema needs a name and a schema").WithCode("missing_required_parameter")
		}
		if err := dialect.RequireObject("response_format.json_schema.schema", rf.JSONSchema.Schema); err != nil {
			return err
		}
		body.Text = &codex.Text{Format: &codex.TextFormat{
			Type: "json_schema", Name: rf.JSONSchema.Name, Schema: rf.JSONSchema.Schema,
			Strict: rf.JSONSchema.Strict, Description: rf.JSONSchema.Description,
		}}
	default:
		return apierr.InvalidRequest("response_format.type", "response_format type %q is not supported (text, json_object or json_schema)", rf.Type).WithCode("invalid_value")
	}
	return nil
}

// textOf reads a string, null or an array of text parts.
func textOf(raw json.RawMessage, param string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return "", apierr.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return s, nil
	}
	if raw[0] != '[' {
		return "", apierr.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	var parts []ContentPart
	if err := dialect.DecodeSliceWith(raw, &parts, contentPartFields, param); err != nil {
		return "", err
	}
	var sb strings.Builder
	texts := dialect.NewTexts(raw, "")
	for i, pt := range parts {
		switch pt.Type {
		case "text", "input_text", "output_text":
			if pt.Text == "" {
				if err := texts.Required(i, fmt.Sprintf("%s[%d].text", param, i)); err != nil {
					return "", err
				}
			}
			sb.WriteString(pt.Text)
		case "refusal":
			sb.WriteString(pt.Refusal)
		default:
			return "", apierr.InvalidRequest(fmt.Sprintf("%s[%d].type", param, i), "content part type %q is not allowed here (only text)", pt.Type).WithCode("invalid_value")
		}
	}
	return sb.String(), nil
}

// userParts converts user content into input_text / input_image parts.
func userParts(raw json.RawMessage, param string) ([]codex.Content, int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, 0, apierr.InvalidRequest(param, "a user message needs content").WithCode("missing_required_parameter")
	}
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return nil, 0, apierr.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return []codex.Content{codex.TextPart(codex.PartInputText, s)}, 0, nil
	}
	if raw[0] != '[' {
		return nil, 0, apierr.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	var parts []ContentPart
	if err := dialect.DecodeSliceWith(raw, &parts, contentPartFields, param); err != nil {
		return nil, 0, err
	}
	if len(parts) == 0 {
		return nil, 0, apierr.InvalidRequest(param, "%s is an empty array", param).WithCode("invalid_value")
	}
	out := make([]codex.Content, 0, len(parts))
	images := 0
	texts := dialect.NewTexts(raw, "")
	for i, pt := range parts {
		pp := fmt.Sprintf("%s[%d]", param, i)
		switch pt.Type {
		case "text", "input_text":
			if pt.Text == "" {
				if err := texts.Required(i, pp+".text"); err != nil {
					return nil, 0, err
				}
			}
			out = append(out, codex.TextPart(codex.PartInputText, pt.Text))
		case "image_url", "input_image":
			if pt.ImageURL == nil || pt.ImageURL.URL == "" {
				return nil, 0, apierr.InvalidRequest(pp+".image_url.url", "an image part needs image_url.url").WithCode("missing_required_parameter")
			}
			u, err := dialect.ImageURL(pt.ImageURL.URL)
			if err != nil {
				return nil, 0, apierr.InvalidRequest(pp+".image_url.url", "%v", err).WithCode("invalid_image_url")
			}
			// No "detail": the Codex CLI never sends it on message images.
			out = append(out, codex.Content{Type: codex.PartInputImage, ImageURL: u})
			images++
		case "file":
			f, err := filePart(pp, pt.File)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, f)
		default:
			return nil, 0, apierr.InvalidRequest(pp+".type", "content part type %q is not supported (text, image_url and file are)", pt.Type).WithCode("unsupported_value")
		}
	}
	return out, images, nil
}
