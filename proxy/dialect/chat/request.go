// Package chat is the OpenAI Chat Completions dialect: it translates
// /v1/chat/completions requests into the upstream model (proxy/codex) and
// the upstream stream back into chat.completion.chunk frames or one
// chat.completion.
package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
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
}

// builder carries the state of one translation.
type builder struct {
	p      *Plan
	res    catalog.Resolution
	names  dialect.ToolNames
	images int
	instr  []string
}

// Chat translates req for the resolved model. Errors are *apierr.Error (400).
func Chat(req *ChatRequest, res catalog.Resolution, opts Options) (*Plan, error) {
	if err := checkTopLevel(req); err != nil {
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
	for i, m := range req.Messages {
		if err := b.message(i, m); err != nil {
			return nil, err
		}
	}
	if id := dialect.UnpairedOutput(body.Input); id != "" {
		return nil, apierr.InvalidRequest("messages", "tool message with tool_call_id %q does not follow an assistant message with that tool call", id).WithCode("invalid_value")
	}
	body.Input = dialect.AnswerOrphanCalls(body.Input)
	if b.images > 0 && res.Known && !res.Model.SupportsImages() {
		return nil, apierr.InvalidRequest("messages", "model %s does not accept images", res.Slug).WithCode("unsupported_value")
	}
	body.Instructions = strings.Join(b.instr, "\n\n")
	if err := b.tools(req.Tools); err != nil {
		return nil, err
	}
	if err := b.toolChoice(req.ToolChoice); err != nil {
		return nil, err
	}
	dialect.ParallelToolCalls(body, res, req.ParallelToolCalls)
	want := dialect.Effort{Effort: req.ReasoningEffort}
	if req.Reasoning != nil {
		want.Summary = req.Reasoning.Summary
		if want.Effort == "" {
			want.Effort = req.Reasoning.Effort
		}
	}
	clamped, err := dialect.Reasoning(body, res, want, opts)
	if err != nil {
		return nil, err
	}
	p.EffortClamped = clamped
	if err := textFormat(body, req.ResponseFormat); err != nil {
		return nil, err
	}
	dialect.Verbosity(body, res, req.Verbosity, opts)
	if err := dialect.ServiceTier(body, res, req.ServiceTier); err != nil {
		return nil, err
	}
	p.ToolNames = b.names.Renamed()
	if p.ToolNames == nil {
		p.ToolNames = map[string]string{}
	}
	p.SessionID = req.PromptCacheKey
	if p.SessionID == "" {
		p.SessionID = dialect.ConversationID(body.Instructions, body.Input)
	}
	body.PromptCacheKey = p.SessionID
	return p, nil
}

// checkTopLevel refuses what the request cannot ask for at all.
func checkTopLevel(req *ChatRequest) error {
	if len(req.Messages) == 0 {
		return apierr.InvalidRequest("messages", "'messages' must be a non-empty array of messages").WithCode("missing_required_parameter")
	}
	if len(req.Functions) > 0 || len(req.FunctionCall) > 0 {
		return apierr.InvalidRequest("functions", "the deprecated 'functions' and 'function_call' parameters are not supported; use 'tools' and 'tool_choice'").WithCode("unsupported_parameter")
	}
	if req.N != nil && *req.N != 1 {
		return apierr.InvalidRequest("n", "n=%d is not supported: ChatGPT returns one choice per request", *req.N).WithCode("unsupported_value")
	}
	return nil
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
		*in = append(*in, codex.FunctionOutput(m.ToolCallID, text))
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
		if tc.ID == "" || tc.Function.Name == "" {
			return apierr.InvalidRequest(fmt.Sprintf("%s.tool_calls[%d]", param, j), "each tool call needs an id and a function name").WithCode("invalid_value")
		}
		args := tc.Function.Arguments
		if args == "" {
			args = "{}"
		}
		*in = append(*in, codex.FunctionCall(tc.ID, b.names.Up(tc.Function.Name), args))
	}
	return nil
}

// emptyObjectSchema is the parameters of a function tool that declares none.
var emptyObjectSchema = json.RawMessage(`{"type":"object","properties":{}}`)

// tools translates the tool definitions.
func (b *builder) tools(tools []Tool) error {
	body := &b.p.Body
	for i, t := range tools {
		param := fmt.Sprintf("tools[%d]", i)
		switch t.Type {
		case "function", "":
			if t.Function == nil || t.Function.Name == "" {
				return apierr.InvalidRequest(param+".function.name", "a function tool needs function.name").WithCode("missing_required_parameter")
			}
			tool := codex.Tool{Type: codex.ToolFunction, Name: b.names.Up(t.Function.Name), Description: t.Function.Description}
			tool.Parameters = t.Function.Parameters
			if len(tool.Parameters) == 0 || bytes.Equal(bytes.TrimSpace(tool.Parameters), []byte("null")) {
				tool.Parameters = emptyObjectSchema
			}
			strict := t.Function.Strict != nil && *t.Function.Strict
			tool.Strict = &strict
			body.Tools = append(body.Tools, tool)
		case "web_search", "web_search_preview":
			// Hosted web search is passed through only when asked for.
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolWebSearch})
		default:
			return apierr.InvalidRequest(param+".type", "tool type %q is not supported (use function tools)", t.Type).WithCode("unsupported_value")
		}
	}
	return nil
}

// toolChoice translates tool_choice.
func (b *builder) toolChoice(raw json.RawMessage) error {
	body := &b.p.Body
	body.ToolChoice = codex.ChooseAuto
	if tc := bytes.TrimSpace(raw); len(tc) > 0 && !bytes.Equal(tc, []byte("null")) {
		var s string
		if json.Unmarshal(tc, &s) == nil {
			switch s {
			case "auto", "none", "required":
				body.ToolChoice = codex.ToolChoice{Mode: s}
			default:
				return apierr.InvalidRequest("tool_choice", "tool_choice must be auto, none, required or a function").WithCode("invalid_value")
			}
		} else {
			var obj codex.ToolChoice
			if err := json.Unmarshal(tc, &obj); err != nil || obj.Name == "" {
				return apierr.InvalidRequest("tool_choice", "tool_choice object must be {\"type\":\"function\",\"function\":{\"name\":…}}").WithCode("invalid_value")
			}
			if !b.names.Known(obj.Name) {
				return apierr.InvalidRequest("tool_choice", "tool_choice names function %q, which is not in tools", obj.Name).WithCode("invalid_value")
			}
			body.ToolChoice = codex.ToolChoice{Type: codex.ToolFunction, Name: b.names.Up(obj.Name)}
		}
	}
	if len(body.Tools) == 0 && (body.ToolChoice.Mode == "required" || body.ToolChoice.Named()) {
		return apierr.InvalidRequest("tool_choice", "tool_choice %s needs at least one tool in 'tools'", describeChoice(body.ToolChoice)).WithCode("invalid_value")
	}
	return nil
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
		if rf.JSONSchema == nil || rf.JSONSchema.Name == "" || len(rf.JSONSchema.Schema) == 0 {
			return apierr.InvalidRequest("response_format.json_schema", "json_schema needs a name and a schema").WithCode("missing_required_parameter")
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
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", apierr.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return s, nil
	}
	var parts []ContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", apierr.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	var sb strings.Builder
	for i, pt := range parts {
		switch pt.Type {
		case "text", "input_text", "output_text":
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
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, 0, apierr.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return []codex.Content{codex.TextPart(codex.PartInputText, s)}, 0, nil
	}
	var parts []ContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, 0, apierr.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	if len(parts) == 0 {
		return nil, 0, apierr.InvalidRequest(param, "%s is an empty array", param).WithCode("invalid_value")
	}
	out := make([]codex.Content, 0, len(parts))
	images := 0
	for i, pt := range parts {
		pp := fmt.Sprintf("%s[%d]", param, i)
		switch pt.Type {
		case "text", "input_text":
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
		default:
			return nil, 0, apierr.InvalidRequest(pp+".type", "content part type %q is not supported (text and image_url are)", pt.Type).WithCode("unsupported_value")
		}
	}
	return out, images, nil
}
