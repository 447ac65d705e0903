// Package anthropic is the Anthropic Messages dialect: it translates
// /v1/messages requests into the upstream model (proxy/codex) and the
// upstream stream back into Anthropic's server-sent events or one message
// object, answers count_tokens with an offline tokenizer, and writes errors
// in Anthropic's shape.
package anthropic

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

// Plan is a translated request plus what the answer's translation needs.
type Plan struct {
	Body   codex.Request
	Model  string // the model name reported to the client
	Stream bool
	// Thinking is set when the client asked for thinking blocks.
	Thinking bool
	// ToolNames maps renamed upstream tool names back to the client's.
	ToolNames map[string]string
	// EffortClamped is the effort that replaced an unsupported one.
	EffortClamped string
}

// Input is the part of a request the translation reads; Request and
// CountRequest both provide it.
type Input struct {
	Model        string
	Messages     []Message
	System       json.RawMessage
	Tools        []Tool
	ToolChoice   *ToolChoice
	Thinking     *Thinking
	OutputConfig *OutputConfig
	UserID       string
}

// InputOf returns the translatable part of req.
func (req *Request) InputOf() Input {
	in := Input{Model: req.Model, Messages: req.Messages, System: req.System, Tools: req.Tools,
		ToolChoice: req.ToolChoice, Thinking: req.Thinking, OutputConfig: req.OutputConfig}
	if req.Metadata != nil {
		in.UserID = req.Metadata.UserID
	}
	return in
}

// InputOf returns the translatable part of req.
func (req *CountRequest) InputOf() Input {
	return Input{Model: req.Model, Messages: req.Messages, System: req.System, Tools: req.Tools,
		ToolChoice: req.ToolChoice, Thinking: req.Thinking, OutputConfig: req.OutputConfig}
}

type builder struct {
	p      *Plan
	names  dialect.ToolNames
	images int
}

// Translate turns a request into the Codex request for the resolved model.
// Errors are *apierr.Error (400).
func Translate(in Input, res catalog.Resolution, opts dialect.Options) (*Plan, error) {
	if len(in.Messages) == 0 {
		return nil, invalid("messages", "messages: at least one message is required")
	}
	p := &Plan{Model: res.Slug}
	if IsClaude(in.Model) {
		p.Model = in.Model
	}
	b := &builder{p: p}
	body := &p.Body
	body.Model, body.Stream, body.Store = res.Slug, true, false
	body.Input = make([]codex.Item, 0, len(in.Messages)+2)
	body.Tools = []codex.Tool{}
	body.Include = []string{}
	instr, err := systemText(in.System)
	if err != nil {
		return nil, err
	}
	body.Instructions = instr
	// Tools first: tool_use blocks of the history use the same renames.
	if err := b.tools(in.Tools); err != nil {
		return nil, err
	}
	for i, m := range in.Messages {
		if err := b.message(i, m); err != nil {
			return nil, err
		}
	}
	if id := dialect.UnpairedOutput(body.Input); id != "" {
		return nil, invalid("messages", "unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", id)
	}
	body.Input = dialect.AnswerOrphanCalls(body.Input)
	if b.images > 0 && res.Known && !res.Model.SupportsImages() {
		return nil, invalid("messages", "model %s does not accept images", res.Slug)
	}
	if err := b.toolChoice(in.ToolChoice); err != nil {
		return nil, err
	}
	want, err := effort(in.Thinking, in.OutputConfig, res)
	if err != nil {
		return nil, err
	}
	p.Thinking = want.Summary != "none"
	clamped, err := dialect.Reasoning(body, res, want, opts)
	if err != nil {
		return nil, err
	}
	p.EffortClamped = clamped
	if err := dialect.Verbosity(body, res, "", "", opts); err != nil {
		return nil, err
	}
	p.ToolNames = b.names.Renamed()
	if p.ToolNames == nil {
		p.ToolNames = map[string]string{}
	}
	return p, nil
}

func invalid(param, format string, args ...any) *apierr.Error {
	return apierr.InvalidRequest(param, format, args...)
}

// systemText reads system: a string or an array of text blocks.
func systemText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return "", invalid("system", "system: not a valid string")
		}
		return s, nil
	}
	if raw[0] != '[' {
		return "", invalid("system", "system: Input should be a valid string or a list of text blocks")
	}
	var blocks []Block
	if err := dialect.DecodeSliceWith(raw, &blocks, blockFields, "system"); err != nil {
		return "", err
	}
	parts := make([]string, 0, len(blocks))
	texts := dialect.NewTexts(raw, "")
	for i, bl := range blocks {
		if bl.Type != "text" {
			return "", invalid(fmt.Sprintf("system.%d.type", i), "system.%d.type: Input should be 'text'", i)
		}
		if bl.Text != "" {
			parts = append(parts, bl.Text)
			continue
		}
		// The system takes text blocks only: no kind in the path.
		field := fmt.Sprintf("system.%d.text", i)
		if err := textSent(texts, i, field, field); err != nil {
			return "", err
		}
	}
	return strings.Join(parts, "\n\n"), nil
}

// blocks reads a message's content: a string is one text block.
func blocks(raw json.RawMessage, param string) ([]Block, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, invalid(param, "%s: Field required", param)
	}
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return nil, invalid(param, "%s: not a valid string", param)
		}
		return []Block{{Type: "text", Text: s}}, nil
	}
	if raw[0] != '[' {
		return nil, invalid(param, "%s: Input should be a valid string or a list of content blocks", param)
	}
	var out []Block
	if err := dialect.DecodeSliceWith(raw, &out, blockFields, param); err != nil {
		return nil, err
	}
	texts := dialect.NewTexts(raw, "")
	for i, bl := range out {
		if bl.Type == "text" && bl.Text == "" {
			// Anthropic's API names the field under the block's kind:
			// messages.0.content.0.text.text.
			bp := fmt.Sprintf("%s.%d", param, i)
			if err := textSent(texts, i, bp+".text", bp+".text.text"); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// textSent refuses the text block at index i of texts' array that decoded
// without text because it has none or a null; param is the field's
// parameter, name its name in Anthropic's message.
func textSent(texts *dialect.Texts, i int, param, name string) error {
	switch omitted, null := texts.Missing(i); {
	case omitted:
		return invalid(param, "%s: Field required", name)
	case null:
		return invalid(param, "%s: Input should be a valid string", name)
	}
	return nil
}

// message translates messages[i].
func (b *builder) message(i int, m Message) error {
	param := fmt.Sprintf("messages.%d", i)
	bl, err := blocks(m.Content, param+".content")
	if err != nil {
		return err
	}
	switch m.Role {
	case "user":
		return b.user(param, bl)
	case "assistant":
		return b.assistant(param, bl)
	case "system":
		return b.system(param, bl)
	case "":
		return invalid(param+".role", "%s.role: Field required", param)
	}
	return invalid(param+".role", "%s.role: Input should be 'user', 'assistant' or 'system'", param)
}

// system translates a system message inside messages (Claude Code sends
// them mid-conversation with its per-turn-control beta) into a developer
// message at the same place, which is how the backend takes instructions
// that arrive during a conversation. Only text blocks are allowed.
func (b *builder) system(param string, bl []Block) error {
	var parts []codex.Content
	for j, blk := range bl {
		if blk.Type != "text" {
			return invalid(fmt.Sprintf("%s.content.%d.type", param, j), "%s.content.%d.type: system messages take only text blocks", param, j)
		}
		if blk.Text != "" {
			parts = append(parts, codex.TextPart(codex.PartInputText, blk.Text))
		}
	}
	if len(parts) > 0 {
		b.p.Body.Input = append(b.p.Body.Input, codex.Message(codex.RoleDeveloper, parts...))
	}
	return nil
}

// user translates a user turn: tool results become function call outputs
// in place; the blocks between them become user messages.
func (b *builder) user(param string, bl []Block) error {
	in := &b.p.Body.Input
	var parts []codex.Content
	flush := func() {
		if len(parts) > 0 {
			*in = append(*in, codex.Message(codex.RoleUser, parts...))
			parts = nil
		}
	}
	for j, blk := range bl {
		bp := fmt.Sprintf("%s.content.%d", param, j)
		switch blk.Type {
		case "tool_result":
			flush()
			it, err := b.toolResult(bp, blk)
			if err != nil {
				return err
			}
			*in = append(*in, it)
		case "text", "image", "document":
			ps, err := b.part(bp, blk)
			if err != nil {
				return err
			}
			parts = append(parts, ps...)
		case "tool_use", "thinking", "redacted_thinking":
			return invalid(bp+".type", "%s: %s blocks are only allowed in assistant messages", bp, blk.Type)
		default:
			return unknownBlock(bp, blk.Type)
		}
	}
	flush()
	return nil
}

func unknownBlock(param, typ string) *apierr.Error {
	if typ == "" {
		return invalid(param+".type", "%s.type: Field required", param)
	}
	return invalid(param+".type", "%s.type: content block type %q is not supported (text, image, document, tool_use, tool_result, thinking and redacted_thinking are)", param, typ)
}

// part translates a text, image or document block of user content.
func (b *builder) part(param string, blk Block) ([]codex.Content, error) {
	switch blk.Type {
	case "text":
		return []codex.Content{codex.TextPart(codex.PartInputText, blk.Text)}, nil
	case "image":
		c, err := imagePart(param, blk.Source)
		if err != nil {
			return nil, err
		}
		b.images++
		return []codex.Content{c}, nil
	case "document":
		return b.document(param, blk)
	}
	return nil, unknownBlock(param, blk.Type)
}

func imagePart(param string, src *Source) (codex.Content, error) {
	if src == nil {
		return codex.Content{}, invalid(param+".source", "%s.source: Field required", param)
	}
	var u string
	switch src.Type {
	case "base64":
		switch src.MediaType {
		case "image/jpeg", "image/png", "image/gif", "image/webp":
		default:
			return codex.Content{}, invalid(param+".source.media_type", "%s.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'", param)
		}
		data, err := dialect.CleanBase64(src.Data)
		if err != nil || data == "" {
			return codex.Content{}, invalid(param+".source.data", "%s.source.data: the image data is not valid base64", param)
		}
		u = "data:" + src.MediaType + ";base64," + data
	case "url":
		var err error
		if u, err = dialect.ImageURL(src.URL); err != nil {
			return codex.Content{}, invalid(param+".source.url", "%s.source.url: %v", param, err)
		}
	case "file":
		return codex.Content{}, invalid(param+".source.type", "%s.source: file sources (the Files API) are not supported; send the image as base64 or a URL", param)
	default:
		return codex.Content{}, invalid(param+".source.type", "%s.source.type: Input should be 'base64' or 'url'", param)
	}
	return codex.Content{Type: codex.PartInputImage, ImageURL: u}, nil
}

// document translates a document block: PDFs become input_file parts
// (base64 as file_data, URLs as file_url), plain text and content sources
// become text and image parts.
func (b *builder) document(param string, blk Block) ([]codex.Content, error) {
	src := blk.Source
	if src == nil {
		return nil, invalid(param+".source", "%s.source: Field required", param)
	}
	name := blk.Title
	switch src.Type {
	case "base64":
		if src.MediaType != "application/pdf" {
			return nil, invalid(param+".source.media_type", "%s.source.media_type: only application/pdf documents can be sent as base64", param)
		}
		data, err := dialect.CleanBase64(src.Data)
		if err != nil || data == "" {
			return nil, invalid(param+".source.data", "%s.source.data: the document data is not valid base64", param)
		}
		if name == "" {
			name = "document.pdf"
		}
		return []codex.Content{{Type: codex.PartInputFile, Filename: name, FileData: "data:application/pdf;base64," + data}}, nil
	case "url":
		if !strings.HasPrefix(src.URL, "https://") && !strings.HasPrefix(src.URL, "http://") {
			return nil, invalid(param+".source.url", "%s.source.url: must be an http(s) URL", param)
		}
		return []codex.Content{{Type: codex.PartInputFile, FileURL: src.URL}}, nil
	case "text":
		text := src.Data
		if blk.Title != "" {
			text = blk.Title + "\n\n" + text
		}
		return []codex.Content{codex.TextPart(codex.PartInputText, text)}, nil
	case "content":
		inner, err := blocks(src.Content, param+".source.content")
		if err != nil {
			return nil, err
		}
		var out []codex.Content
		for k, ib := range inner {
			ip := fmt.Sprintf("%s.source.content.%d", param, k)
			if ib.Type != "text" && ib.Type != "image" {
				return nil, invalid(ip+".type", "%s.type: only text and image blocks are allowed in a content document", ip)
			}
			ps, err := b.part(ip, ib)
			if err != nil {
				return nil, err
			}
			out = append(out, ps...)
		}
		return out, nil
	case "file":
		return nil, invalid(param+".source.type", "%s.source: file sources (the Files API) are not supported; send the document as base64", param)
	}
	return nil, invalid(param+".source.type", "%s.source.type: Input should be 'base64', 'url', 'text' or 'content'", param)
}

// toolResult translates a tool_result block into a function call output:
// plain text when it holds only text, else text and image parts. An error
// result is marked in the text, as the backend has no error flag.
func (b *builder) toolResult(param string, blk Block) (codex.Item, error) {
	if blk.ToolUseID == "" {
		return codex.Item{}, invalid(param+".tool_use_id", "%s.tool_use_id: Field required", param)
	}
	out := codex.Output{}
	raw := bytes.TrimSpace(blk.Content)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '"':
		if err := dialect.UnmarshalString(raw, &out.Text); err != nil {
			return codex.Item{}, invalid(param+".content", "%s.content: not a valid string", param)
		}
	default:
		inner, err := blocks(raw, param+".content")
		if err != nil {
			return codex.Item{}, err
		}
		var parts []codex.Content
		var texts []string
		hasImage := false
		for k, ib := range inner {
			ip := fmt.Sprintf("%s.content.%d", param, k)
			switch ib.Type {
			case "text", "image", "document":
			default:
				return codex.Item{}, invalid(ip+".type", "%s.type: only text, image and document blocks are allowed in a tool_result", ip)
			}
			ps, err := b.part(ip, ib)
			if err != nil {
				return codex.Item{}, err
			}
			for _, p := range ps {
				if p.Type == codex.PartInputText {
					texts = append(texts, p.Text)
				} else {
					hasImage = true
				}
			}
			parts = append(parts, ps...)
		}
		if hasImage {
			out.Parts = parts
		} else {
			out.Text = strings.Join(texts, "\n")
		}
	}
	if blk.IsError {
		if out.Parts != nil {
			out.Parts = append([]codex.Content{codex.TextPart(codex.PartInputText, "Error:")}, out.Parts...)
		} else {
			out.Text = "Error: " + out.Text
		}
	}
	return codex.Item{Type: codex.ItemFunctionCallOutput, CallID: blk.ToolUseID, Output: out}, nil
}

// assistant translates an assistant turn: thinking blocks this app signed
// become reasoning items, text becomes an assistant message, tool_use
// blocks become function calls, each in its place.
func (b *builder) assistant(param string, bl []Block) error {
	in := &b.p.Body.Input
	var text strings.Builder
	hasText := false
	flush := func() {
		if hasText && text.Len() > 0 {
			*in = append(*in, codex.Message(codex.RoleAssistant, codex.TextPart(codex.PartOutputText, text.String())))
		}
		text.Reset()
		hasText = false
	}
	for j, blk := range bl {
		bp := fmt.Sprintf("%s.content.%d", param, j)
		switch blk.Type {
		case "text":
			text.WriteString(blk.Text)
			hasText = true
		case "thinking", "redacted_thinking":
			sig := blk.Signature
			if blk.Type == "redacted_thinking" {
				sig = blk.Data
			}
			_, enc, ok := ParseSignature(sig)
			if !ok {
				continue // not ours: meaningless upstream
			}
			flush()
			it := codex.Item{Type: codex.ItemReasoning, Summary: []codex.Content{}, EncryptedContent: enc}
			if blk.Thinking != "" {
				it.Summary = []codex.Content{codex.TextPart(codex.PartSummaryText, blk.Thinking)}
			}
			*in = append(*in, it)
		case "tool_use":
			flush()
			if blk.ID == "" || blk.Name == "" {
				return invalid(bp, "%s: a tool_use block needs an id and a name", bp)
			}
			args := "{}"
			if raw := bytes.TrimSpace(blk.Input); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
				if raw[0] != '{' {
					return invalid(bp+".input", "%s.input: Input should be an object", bp)
				}
				var cb bytes.Buffer
				if err := json.Compact(&cb, raw); err != nil {
					return invalid(bp+".input", "%s.input: not valid JSON", bp)
				}
				args = cb.String()
			}
			*in = append(*in, codex.FunctionCall(blk.ID, b.names.Up(blk.Name), args))
		case "tool_result", "image", "document":
			return invalid(bp+".type", "%s: %s blocks are only allowed in user messages", bp, blk.Type)
		case "server_tool_use", "web_search_tool_result":
			continue // results of server tools run elsewhere; nothing to replay
		default:
			return unknownBlock(bp, blk.Type)
		}
	}
	flush()
	return nil
}

// tools translates the tool definitions: client tools become function
// tools; Anthropic's web search server tool becomes the backend's.
func (b *builder) tools(tools []Tool) error {
	body := &b.p.Body
	for i, t := range tools {
		param := fmt.Sprintf("tools.%d", i)
		switch {
		case t.Type == "" || t.Type == "custom":
			// Named as Anthropic's API names a client tool's fields, by
			// its kind: tools.0.custom.input_schema.
			if t.Name == "" {
				return invalid(param+".name", "%s.custom.name: Field required", param)
			}
			schema := bytes.TrimSpace(t.InputSchema)
			if len(schema) == 0 {
				return invalid(param+".input_schema", "%s.custom.input_schema: Field required", param)
			}
			if schema[0] != '{' {
				return invalid(param+".input_schema", "%s.custom.input_schema: Input should be a valid dictionary", param)
			}
			strict := false
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolFunction, Name: b.names.Up(t.Name),
				Description: t.Description, Parameters: schema, Strict: &strict})
		case strings.HasPrefix(t.Type, "web_search_"):
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolWebSearch})
		default:
			return invalid(param+".type", "%s.type: the server tool %q is not available through ChatGPT; define it as a client tool with an input_schema", param, t.Type)
		}
	}
	return nil
}

// toolChoice translates tool_choice and disable_parallel_tool_use.
func (b *builder) toolChoice(tc *ToolChoice) error {
	body := &b.p.Body
	body.ToolChoice = codex.ChooseAuto
	par := (*bool)(nil)
	if tc != nil {
		switch tc.Type {
		case "auto", "":
		case "any":
			body.ToolChoice = codex.ToolChoice{Mode: "required"}
		case "none":
			body.ToolChoice = codex.ToolChoice{Mode: "none"}
		case "tool":
			if tc.Name == "" {
				return invalid("tool_choice.name", "tool_choice.name: Field required")
			}
			if !b.names.Known(tc.Name) {
				return invalid("tool_choice.name", "tool_choice names tool %q, which is not in tools", tc.Name)
			}
			body.ToolChoice = codex.ToolChoice{Type: codex.ToolFunction, Name: b.names.Up(tc.Name)}
		default:
			return invalid("tool_choice.type", "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
		}
		if tc.DisableParallelToolUse {
			f := false
			par = &f
		}
	}
	if len(body.Tools) == 0 && (body.ToolChoice.Mode == "required" || body.ToolChoice.Named()) {
		return invalid("tool_choice", "tool_choice %q needs at least one tool in 'tools'", tc.Type)
	}
	if len(body.Tools) > 0 {
		p := true
		if par != nil {
			p = *par
		}
		body.ParallelToolCalls = &p
	}
	return nil
}

// Thinking budgets (budget_tokens) map to efforts at these bounds: below
// 4,000 tokens low, below 16,000 medium, below 32,000 high, else xhigh.
var budgetEfforts = []struct {
	below  int64
	effort string
}{{4000, "low"}, {16000, "medium"}, {32000, "high"}}

// effort maps thinking and output_config.effort to the requested effort
// and summary. Thinking enabled or adaptive asks for summaries (they come
// back as thinking blocks); without it no summaries are asked for.
func effort(t *Thinking, oc *OutputConfig, res catalog.Resolution) (dialect.Effort, error) {
	want := dialect.Effort{Param: "thinking", Summary: "none"}
	if oc != nil && oc.Effort != "" {
		switch oc.Effort {
		case "low", "medium", "high":
			want.Effort = oc.Effort
		case "max":
			want.Effort = "xhigh"
		default:
			return want, invalid("output_config.effort", "output_config.effort: Input should be 'low', 'medium', 'high' or 'max'")
		}
		want.Param = "output_config.effort"
	}
	if t == nil {
		return want, nil
	}
	switch t.Type {
	case "enabled":
		if t.BudgetTokens == nil {
			return want, invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: Field required")
		}
		budget := int64(*t.BudgetTokens)
		if budget < 1024 {
			return want, invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
		}
		want.Summary = ""
		if want.Effort == "" {
			want.Effort = "xhigh"
			for _, be := range budgetEfforts {
				if budget < be.below {
					want.Effort = be.effort
					break
				}
			}
		}
	case "adaptive":
		want.Summary = ""
	case "disabled":
		want.Effort = lowestEffort(res)
	default:
		return want, invalid("thinking.type", "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'")
	}
	if want.Effort != "" && res.Known && !res.Model.SupportsEffort(want.Effort) {
		// A budget is a hint, not a demand: use the nearest level.
		want.Effort = dialect.NearestEffort(want.Effort, res.Model.ReasoningLevels)
	}
	return want, nil
}

// lowestEffort is the least reasoning the model allows (thinking disabled).
func lowestEffort(res catalog.Resolution) string {
	if !res.Known || len(res.Model.ReasoningLevels) == 0 {
		return "low"
	}
	for _, e := range catalog.Efforts {
		if res.Model.SupportsEffort(e) {
			return e
		}
	}
	return res.Model.ReasoningLevels[0]
}
