// Package responses is the OpenAI Responses API dialect (POST /v1/responses).
// The backend speaks this dialect already, so requests are checked and
// normalised into the upstream model (proxy/codex) and the backend's events
// are relayed as they arrive, with only what the client must see
// differently rewritten: the response id and model, sequence numbers, tool
// names the backend refused. The backend keeps nothing (store:false), so
// previous_response_id and GET/DELETE /v1/responses/{id} work on a bounded
// in-memory Store.
package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// Plan is a translated request plus what the answer needs.
type Plan struct {
	Body      codex.Request
	SessionID string // prompt_cache_key and session id upstream
	Stream    bool
	// Store says whether the finished response is kept (store is not
	// false); the backend itself never stores.
	Store bool
	// ToolNames maps shortened upstream tool names back to the client's.
	ToolNames map[string]string
	// EffortClamped is set when the requested effort was replaced by the
	// nearest one the model supports.
	EffortClamped string
	// Echo is the response object's template: the request's settings as
	// the client sent them.
	Echo Response
}

// passThroughItems are input item types the backend takes as they are.
var passThroughItems = []string{
	"local_shell_call", "local_shell_call_output", "web_search_call", "image_generation_call",
	"compaction", itemReference, "tool_search_call", "tool_search_output",
}

// itemReference is the input item that names an earlier item by its id.
const itemReference = "item_reference"

// hostedTools are hosted tool types the backend accepts (the Codex CLI
// sends them); they are passed through as the client defined them.
var hostedTools = []string{"web_search", "web_search_preview", "tool_search", "namespace"}

// ItemLookup finds an item of a stored response by the id its client saw,
// for an item_reference (nil: none are stored).
type ItemLookup func(id string) (codex.Item, bool)

// builder carries the state of one translation.
type builder struct {
	p      *Plan
	refs   ItemLookup
	names  dialect.ToolNames
	images int
	items  []codex.Item
	// liteEffort is the reasoning effort of a configuration_update item
	// (the Codex CLI's Responses-Lite body carries it there).
	liteEffort string
	// declared are the tools seen, by type and name: a tool declared again
	// (in tools and in an additional_tools item, or in two such items) is
	// sent once.
	declared map[string]bool
}

// Translate turns req into a Plan for the resolved model. prev is the
// stored conversation of previous_response_id (its input and output),
// which goes before the request's own input. Errors are *apierr.Error.
func Translate(req *Request, res catalog.Resolution, prev []codex.Item, refs ItemLookup, opts dialect.Options) (*Plan, error) {
	if err := refuse(req); err != nil {
		return nil, err
	}
	if err := ranges(req); err != nil {
		return nil, err
	}
	p := &Plan{Stream: req.Stream, Store: req.Store == nil || *req.Store}
	b := &builder{p: p, refs: refs}
	body := &p.Body
	body.Model, body.Stream, body.Store = res.Slug, true, false
	if req.Instructions != nil {
		body.Instructions = *req.Instructions
	}
	body.Tools = []codex.Tool{}
	if err := b.tools("", req.Tools); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(req.Input)) == 0 || bytes.Equal(bytes.TrimSpace(req.Input), []byte("null")) {
		if prev == nil {
			return nil, apierr.InvalidRequest("input", "Missing required parameter: 'input'.").WithCode("missing_required_parameter")
		}
	} else if err := b.input(req.Input); err != nil {
		return nil, err
	}
	body.Input = make([]codex.Item, 0, len(prev)+len(b.items))
	body.Input = append(body.Input, prev...)
	body.Input = append(body.Input, b.items...)
	if id := dialect.UnpairedOutput(body.Input); id != "" {
		return nil, apierr.InvalidRequest("input", "No tool call found for function call output with call_id %s.", id).WithCode("invalid_value")
	}
	body.Input = dialect.AnswerOrphanCalls(body.Input)
	if b.images > 0 && res.Known && !res.Model.SupportsImages() {
		return nil, apierr.InvalidRequest("input", "model %s does not accept images", res.Slug).WithCode("unsupported_value")
	}
	if err := b.toolChoice(req.ToolChoice); err != nil {
		return nil, err
	}
	dialect.ParallelToolCalls(body, res, req.ParallelToolCalls)
	if err := b.controls(req, res, opts); err != nil {
		return nil, err
	}
	if len(req.ClientMetadata) > 0 {
		body.ClientMetadata = req.ClientMetadata
	}
	p.ToolNames = b.names.Renamed()
	// The client's own key; the relay gives every conversation its id.
	p.SessionID = req.PromptCacheKey
	body.PromptCacheKey = p.SessionID
	p.Echo = echo(req, body)
	return p, nil
}

// refuse answers what this app cannot do at all.
func refuse(req *Request) error {
	switch {
	case req.Background:
		return apierr.InvalidRequest("background", "background responses are not supported: ChatGPT's backend only streams; send the request without background").WithCode("unsupported_parameter")
	case len(req.Conversation) > 0 && !bytes.Equal(bytes.TrimSpace(req.Conversation), []byte("null")):
		return apierr.InvalidRequest("conversation", "conversations are not supported; chain responses with previous_response_id").WithCode("unsupported_parameter")
	case len(req.Prompt) > 0 && !bytes.Equal(bytes.TrimSpace(req.Prompt), []byte("null")):
		return apierr.InvalidRequest("prompt", "stored prompt templates are not supported; send instructions and input").WithCode("unsupported_parameter")
	}
	if len(req.Metadata) > 16 {
		return apierr.InvalidRequest("metadata", "metadata may have at most 16 keys").WithCode("invalid_value")
	}
	return nil
}

// ranges refuses the parameters that are echoed but not forwarded
// (temperature, top_p, max_output_tokens) when OpenAI would refuse them:
// out of its ranges.
func ranges(req *Request) error {
	if err := dialect.DecimalRange("temperature", req.Temperature, 0, 2); err != nil {
		return err
	}
	if err := dialect.DecimalRange("top_p", req.TopP, 0, 1); err != nil {
		return err
	}
	return dialect.IntegerMin("max_output_tokens", req.MaxOutputTokens, 16)
}

// controls translates reasoning, include, text and service_tier.
func (b *builder) controls(req *Request, res catalog.Resolution, opts dialect.Options) error {
	body := &b.p.Body
	want := dialect.Effort{Param: "reasoning.effort"}
	if r := req.Reasoning; r != nil {
		want.Effort, want.Summary = r.Effort, r.Summary
		if want.Summary == "" {
			want.Summary, want.SummaryParam = r.GenerateSummary, "reasoning.generate_summary"
		}
	}
	if want.Effort == "" && b.liteEffort != "" {
		want.Effort, want.Param = b.liteEffort, "input.reasoning.effort"
	}
	clamped, err := dialect.Reasoning(body, res, want, opts)
	if err != nil {
		return err
	}
	b.p.EffortClamped = clamped
	for _, inc := range req.Include {
		if inc != codex.IncludeEncryptedReasoning {
			body.Include = append(body.Include, inc)
		}
	}
	if body.Reasoning == nil && contains(req.Include, codex.IncludeEncryptedReasoning) {
		body.Include = append(body.Include, codex.IncludeEncryptedReasoning)
	}
	verbosity := ""
	if t := req.Text; t != nil {
		verbosity = t.Verbosity
		if f := t.Format; f != nil {
			switch f.Type {
			case "text", "json_object":
				body.Text = &codex.Text{Format: &codex.TextFormat{Type: f.Type}}
			case "json_schema":
				if f.Name == "" || dialect.Absent(f.Schema) {
					return apierr.InvalidRequest("text.format", "a json_schema format needs a name and a schema").WithCode("missing_required_parameter")
				}
				if err := dialect.RequireObject("text.format.schema", f.Schema); err != nil {
					return err
				}
				cp := *f
				body.Text = &codex.Text{Format: &cp}
			default:
				return apierr.InvalidRequest("text.format.type", "Invalid value: '%s'. Supported values are: 'text', 'json_object', and 'json_schema'.", f.Type).WithCode("invalid_value")
			}
		}
	}
	if err := dialect.Verbosity(body, res, verbosity, "text.verbosity", opts); err != nil {
		return err
	}
	return dialect.ServiceTier(body, res, req.ServiceTier)
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// input translates the input: a string (one user message) or items.
func (b *builder) input(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return apierr.InvalidRequest("input", "input is not a valid string").WithCode("invalid_type")
		}
		b.items = append(b.items, codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, s)))
		return nil
	case '[':
	default:
		return apierr.InvalidRequest("input", "Invalid type for 'input': expected a string or an array of input items.").WithCode("invalid_type")
	}
	// The body was decoded as a whole, so the array is valid JSON: its
	// items are found by their bounds and each is decoded once (an agent's
	// history is most of its request).
	var err error
	n := 0
	walked := elements(raw, func(it []byte) bool {
		err = b.item(fmt.Sprintf("input[%d]", n), it)
		n++
		return err == nil
	})
	if err != nil {
		return err
	}
	if !walked {
		return apierr.InvalidRequest("input", "input is not a valid array of items").WithCode("invalid_type")
	}
	return nil
}

// item translates one input item.
func (b *builder) item(param string, raw json.RawMessage) error {
	if len(raw) == 0 || raw[0] != '{' {
		return apierr.InvalidRequest(param, "Invalid type for '%s': expected an object.", param).WithCode("invalid_type")
	}
	// Decoded as a message, the usual item, and only its type and role
	// when it is not one.
	var m messageItem
	merr := dialect.DecodeFieldWith(raw, &m, messageItemFields, param)
	if merr != nil {
		var head struct {
			Type json.RawMessage `json:"type"`
			Role json.RawMessage `json:"role"`
		}
		_ = json.Unmarshal(raw, &head) // an object: raw values always decode
		m = messageItem{}
		if err := decodeIfSet(head.Type, &m.Type, param+".type"); err != nil {
			return err
		}
		if err := decodeIfSet(head.Role, &m.Role, param+".role"); err != nil {
			return err
		}
	}
	typ := m.Type
	if typ == "" && m.Role != "" {
		typ = codex.ItemMessage
	}
	if typ == "" && len(m.Content) == 0 {
		// {"id": "msg_…"} alone is an item reference (its type is
		// optional at OpenAI).
		var ref struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &ref) == nil && ref.ID != "" {
			typ = itemReference
		}
	}
	switch typ {
	case codex.ItemMessage:
		if merr != nil {
			return merr
		}
		return b.message(param, &m)
	case codex.ItemFunctionCall, codex.ItemCustomToolCall, codex.ItemFunctionCallOutput, codex.ItemCustomToolCallOutput, codex.ItemReasoning:
		var it codex.Item
		if err := dialect.DecodeField(raw, &it, param); err != nil {
			return err
		}
		if err := b.toolItem(param, raw, &it); err != nil {
			return err
		}
		if keep := Sanitize(&it); keep {
			b.items = append(b.items, it)
		}
		return nil
	case codex.ItemAdditionalTools:
		// The Codex CLI's Responses-Lite body declares its tools in the
		// input; they are the request's tools (the upstream shape is the
		// model's, chosen later).
		var at struct {
			Tools []json.RawMessage `json:"tools"`
		}
		if err := dialect.DecodeField(raw, &at, param); err != nil {
			return err
		}
		return b.tools(param+".", at.Tools)
	case codex.ItemConfigurationUpdate:
		var cu struct {
			Reasoning *struct {
				Effort string `json:"effort"`
			} `json:"reasoning"`
		}
		if err := dialect.DecodeField(raw, &cu, param); err != nil {
			return err
		}
		if cu.Reasoning != nil {
			b.liteEffort = cu.Reasoning.Effort
		}
		return nil
	case "":
		return apierr.InvalidRequest(param+".type", "Missing required parameter: '%s.type'.", param).WithCode("missing_required_parameter")
	}
	if contains(passThroughItems, typ) {
		var it codex.Item
		if err := dialect.DecodeField(raw, &it, param); err != nil {
			return err
		}
		// A reference to an item of a response this app stored is that
		// item: the backend keeps nothing (store:false) and would answer
		// that it has no such item.
		if typ == itemReference {
			if it.ID == "" {
				return apierr.InvalidRequest(param+".id", "Missing required parameter: '%s.id'.", param).WithCode("missing_required_parameter")
			}
			if b.refs != nil {
				if ref, ok := b.refs(it.ID); ok {
					b.items = append(b.items, ref)
					return nil
				}
			}
			it.Type = itemReference
		}
		// As they came, ids included: the Codex CLI sends the ids of
		// these items (web search, image generation, compaction) when it
		// has them, and an item_reference is nothing but its id.
		b.items = append(b.items, it)
		return nil
	}
	supported := append([]string{codex.ItemMessage, codex.ItemFunctionCall, codex.ItemFunctionCallOutput, codex.ItemCustomToolCall, codex.ItemCustomToolCallOutput, codex.ItemReasoning, codex.ItemAdditionalTools, codex.ItemConfigurationUpdate}, passThroughItems...)
	return apierr.InvalidRequest(param+".type", "Invalid value: '%s'. Supported values are: %s.", typ, dialect.QuoteList(supported)).WithCode("invalid_value")
}

// decodeIfSet decodes raw into v when the field is present.
func decodeIfSet(raw json.RawMessage, v any, param string) error {
	if len(raw) == 0 {
		return nil
	}
	return dialect.DecodeField(raw, v, param)
}

// toolItem checks a tool call or output item, raw as sent, and maps its
// tool name.
func (b *builder) toolItem(param string, raw json.RawMessage, it *codex.Item) error {
	switch it.Type {
	case codex.ItemFunctionCall, codex.ItemCustomToolCall:
		for _, f := range []struct{ name, v string }{{"call_id", it.CallID}, {"name", it.Name}} {
			if f.v == "" {
				return apierr.InvalidRequest(param+"."+f.name, "Missing required parameter: '%s.%s'.", param, f.name).WithCode("missing_required_parameter")
			}
		}
		it.Name = b.names.Up(it.Name)
		if it.Type == codex.ItemFunctionCall && it.Arguments == "" {
			it.Arguments = "{}"
		}
	case codex.ItemFunctionCallOutput, codex.ItemCustomToolCallOutput:
		if it.CallID == "" {
			return apierr.InvalidRequest(param+".call_id", "Missing required parameter: '%s.call_id'.", param).WithCode("missing_required_parameter")
		}
		texts := dialect.NewTexts(raw, "output")
		for i := range it.Output.Parts {
			pp := fmt.Sprintf("%s.output[%d]", param, i)
			if err := b.part(pp, codex.RoleUser, &it.Output.Parts[i]); err != nil {
				return err
			}
			if err := textSent(texts, i, pp, &it.Output.Parts[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sanitize prepares an item for the backend's input: with store:false the
// backend looks up nothing, so item ids and statuses are dropped, and a
// reasoning item without encrypted_content carries nothing the model can
// use (it is left out: Sanitize returns false).
func Sanitize(it *codex.Item) bool {
	it.ID, it.Status = "", ""
	if it.Type == codex.ItemReasoning && it.EncryptedContent == "" {
		return false
	}
	for i := range it.Content {
		it.Content[i].Annotations = nil
	}
	return true
}

// message translates a message item.
func (b *builder) message(param string, m *messageItem) error {
	role := m.Role
	switch role {
	case codex.RoleUser, codex.RoleAssistant, codex.RoleDeveloper:
	case codex.RoleSystem:
		role = codex.RoleDeveloper // the backend takes no system messages in input
	case "":
		return apierr.InvalidRequest(param+".role", "Missing required parameter: '%s.role'.", param).WithCode("missing_required_parameter")
	default:
		return apierr.InvalidRequest(param+".role", "Invalid value: '%s'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", role).WithCode("invalid_value")
	}
	content := bytes.TrimSpace(m.Content)
	if len(content) == 0 || bytes.Equal(content, []byte("null")) {
		return apierr.InvalidRequest(param+".content", "Missing required parameter: '%s.content'.", param).WithCode("missing_required_parameter")
	}
	var parts []codex.Content
	if content[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(content, &s); err != nil {
			return apierr.InvalidRequest(param+".content", "%s.content is not a valid string", param).WithCode("invalid_type")
		}
		typ := codex.PartInputText
		if role == codex.RoleAssistant {
			typ = codex.PartOutputText
		}
		parts = []codex.Content{codex.TextPart(typ, s)}
	} else {
		if content[0] != '[' {
			return apierr.InvalidRequest(param+".content", "Invalid type for '%s.content': expected a string or an array of content parts.", param).WithCode("invalid_type")
		}
		if err := dialect.DecodeSliceWith(content, &parts, codex.ContentFields, param+".content"); err != nil {
			return err
		}
		texts := dialect.NewTexts(content, "")
		for i := range parts {
			pp := fmt.Sprintf("%s.content[%d]", param, i)
			if err := b.part(pp, role, &parts[i]); err != nil {
				return err
			}
			if err := textSent(texts, i, pp, &parts[i]); err != nil {
				return err
			}
		}
	}
	if role == codex.RoleAssistant && len(parts) == 0 {
		return nil // the backend refuses empty messages; an empty turn says nothing
	}
	it := codex.Message(role, parts...)
	if role == codex.RoleAssistant {
		it.Phase = m.Phase
	}
	b.items = append(b.items, it)
	return nil
}

// textSent refuses a text part, c (checked by part), that decoded without
// text because it has none or a null: i is its index in texts' array,
// param its name in the request.
func textSent(texts *dialect.Texts, i int, param string, c *codex.Content) error {
	if c.Text != "" || (c.Type != codex.PartInputText && c.Type != codex.PartOutputText) {
		return nil
	}
	return texts.Required(i, param+".text")
}

// part checks one content part of a message (or tool output) of role.
func (b *builder) part(param, role string, c *codex.Content) error {
	if role == codex.RoleAssistant {
		switch c.Type {
		case codex.PartOutputText, "input_text", "text":
			c.Type, c.Annotations = codex.PartOutputText, nil
			return nil
		case codex.PartRefusal:
			return nil
		}
		return apierr.InvalidRequest(param+".type", "Invalid value: '%s'. Supported values for assistant messages are: 'output_text' and 'refusal'.", c.Type).WithCode("invalid_value")
	}
	switch c.Type {
	case codex.PartInputText, "text":
		c.Type = codex.PartInputText
	case codex.PartInputImage:
		if c.FileID != "" {
			return apierr.InvalidRequest(param+".file_id", "file ids are not supported (this app has no files API); send the image as a data URL or an https URL").WithCode("unsupported_value")
		}
		if c.ImageURL == "" {
			return apierr.InvalidRequest(param+".image_url", "Missing required parameter: '%s.image_url'.", param).WithCode("missing_required_parameter")
		}
		u, err := dialect.ImageURL(c.ImageURL)
		if err != nil {
			return apierr.InvalidRequest(param+".image_url", "%v", err).WithCode("invalid_image_url")
		}
		switch c.Detail {
		case "", "auto", "low", "high", "original":
			// As the client sent it (the Codex CLI sends "original"); a
			// Lite body upstream leaves it out.
		default:
			return apierr.InvalidRequest(param+".detail", "Invalid value: '%s'. Supported values are: 'auto', 'low', 'high', and 'original'.", c.Detail).WithCode("invalid_value")
		}
		c.ImageURL = u
		b.images++
	case codex.PartInputFile:
		if c.FileID != "" {
			return apierr.InvalidRequest(param+".file_id", "file ids are not supported (this app has no files API); send file_data or file_url").WithCode("unsupported_value")
		}
		if c.FileData == "" && c.FileURL == "" {
			return apierr.InvalidRequest(param, "an input_file part needs file_data or file_url").WithCode("missing_required_parameter")
		}
	default:
		return apierr.InvalidRequest(param+".type", "Invalid value: '%s'. Supported values are: 'input_text', 'input_image', and 'input_file'.", c.Type).WithCode("invalid_value")
	}
	return nil
}

// tools translates the tool definitions.
func (b *builder) tools(prefix string, tools []json.RawMessage) error {
	body := &b.p.Body
	for i, raw := range tools {
		param := fmt.Sprintf("%stools[%d]", prefix, i)
		var t functionTool
		if err := dialect.DecodeFieldWith(raw, &t, functionToolFields, param); err != nil {
			return err
		}
		if t.Type == codex.ToolNamespace {
			if err := b.namespace(param, raw, prefix != ""); err != nil {
				return err
			}
			continue
		}
		name := t.Name
		if t.Function != nil && name == "" {
			name = t.Function.Name
		}
		if name != "" {
			key := t.Type + "\x00" + name
			if b.declared[key] && prefix != "" {
				continue // declared before; the client's own tools array is left as it is
			}
			if b.declared == nil {
				b.declared = map[string]bool{}
			}
			b.declared[key] = true
		}
		switch t.Type {
		case codex.ToolFunction:
			pp := param + ".parameters"
			if f := t.Function; f != nil && t.Name == "" {
				t.Name, t.Description, t.Parameters, t.Strict = f.Name, f.Description, f.Parameters, f.Strict
				pp = param + ".function.parameters"
			}
			if t.Name == "" {
				return apierr.InvalidRequest(param+".name", "Missing required parameter: '%s.name'.", param).WithCode("missing_required_parameter")
			}
			params, err := dialect.FunctionParameters(pp, t.Parameters)
			if err != nil {
				return err
			}
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolFunction, Name: b.names.Up(t.Name), Description: t.Description, Strict: t.Strict, Parameters: params})
		case codex.ToolCustom:
			if t.Name == "" {
				return apierr.InvalidRequest(param+".name", "Missing required parameter: '%s.name'.", param).WithCode("missing_required_parameter")
			}
			if f := t.Format; f != nil && f.Type != "text" && f.Type != "grammar" {
				return apierr.InvalidRequest(param+".format.type", "Invalid value: '%s'. Supported values are: 'text' and 'grammar'.", f.Type).WithCode("invalid_value")
			}
			body.Tools = append(body.Tools, codex.Tool{Type: codex.ToolCustom, Name: b.names.Up(t.Name), Description: t.Description, Format: t.Format})
		case "":
			return apierr.InvalidRequest(param+".type", "Missing required parameter: '%s.type'.", param).WithCode("missing_required_parameter")
		default:
			if !contains(hostedTools, t.Type) {
				return apierr.InvalidRequest(param+".type", "tool type '%s' is not supported: ChatGPT's Codex backend runs no hosted tools besides %s; use function or custom tools", t.Type, dialect.QuoteList(hostedTools)).WithCode("unsupported_value")
			}
			body.Tools = append(body.Tools, codex.Tool{Type: t.Type, Raw: append(json.RawMessage(nil), raw...)})
		}
	}
	return nil
}

// namespace adds a namespace tool (a group of function and custom tools,
// as the Codex CLI declares its own). Its tools are read, so that a Lite
// upstream body can name the namespace of each tool call in the history;
// it goes upstream as the client wrote it, unless it comes again in an
// additional_tools item (again is where the CLI may declare its tools a
// second time): then the two are merged, each tool once, and the first is
// written from its fields only when the second brings a new tool.
func (b *builder) namespace(param string, raw json.RawMessage, again bool) error {
	var ns codex.Tool
	if err := dialect.DecodeField(raw, &ns, param); err != nil {
		return err
	}
	if ns.Name == "" {
		return apierr.InvalidRequest(param+".name", "Missing required parameter: '%s.name'.", param).WithCode("missing_required_parameter")
	}
	// The grouped tools are function and custom tools (those the Codex CLI
	// groups): checked here, not left for the backend to refuse.
	for j, t := range ns.Tools {
		tp := fmt.Sprintf("%s.tools[%d]", param, j)
		switch {
		case t.Type == "":
			return apierr.InvalidRequest(tp+".type", "Missing required parameter: '%s.type'.", tp).WithCode("missing_required_parameter")
		case t.Type != codex.ToolFunction && t.Type != codex.ToolCustom:
			return apierr.InvalidRequest(tp+".type", "Invalid value: '%s'. Supported values are: 'function' and 'custom'.", t.Type).WithCode("invalid_value")
		case t.Name == "":
			return apierr.InvalidRequest(tp+".name", "Missing required parameter: '%s.name'.", tp).WithCode("missing_required_parameter")
		}
	}
	tools := b.p.Body.Tools
	for i := range tools {
		if !again || tools[i].Type != codex.ToolNamespace || tools[i].Name != ns.Name {
			continue
		}
		have := &tools[i]
		for _, t := range ns.Tools {
			if !slices.ContainsFunc(have.Tools, func(x codex.Tool) bool { return x.Name == t.Name }) {
				have.Tools = append(have.Tools, t)
				have.Raw = nil // written from its fields from now on
			}
		}
		return nil
	}
	ns.Type, ns.Raw = codex.ToolNamespace, append(json.RawMessage(nil), raw...)
	b.p.Body.Tools = append(tools, ns)
	return nil
}

// toolChoice translates tool_choice.
func (b *builder) toolChoice(raw json.RawMessage) error {
	body := &b.p.Body
	body.ToolChoice = codex.ChooseAuto
	tc := bytes.TrimSpace(raw)
	if len(tc) == 0 || bytes.Equal(tc, []byte("null")) {
		return nil
	}
	var mode string
	if json.Unmarshal(tc, &mode) == nil {
		switch mode {
		case "auto", "none", "required":
			body.ToolChoice = codex.ToolChoice{Mode: mode}
		default:
			return apierr.InvalidRequest("tool_choice", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", mode).WithCode("invalid_value")
		}
	} else {
		var obj codex.ToolChoice
		if err := json.Unmarshal(tc, &obj); err != nil {
			return apierr.InvalidRequest("tool_choice", "tool_choice must be a string or an object").WithCode("invalid_type")
		}
		if obj.Type != codex.ToolFunction && obj.Type != codex.ToolCustom {
			return apierr.InvalidRequest("tool_choice.type", "tool_choice type '%s' is not supported; name a function or custom tool, or use 'auto', 'none' or 'required'", obj.Type).WithCode("unsupported_value")
		}
		if obj.Name == "" || !b.names.Known(obj.Name) {
			return apierr.InvalidRequest("tool_choice", "tool_choice names tool '%s', which is not in tools", obj.Name).WithCode("invalid_value")
		}
		body.ToolChoice = codex.ToolChoice{Type: obj.Type, Name: b.names.Up(obj.Name)}
	}
	if len(body.Tools) == 0 && (body.ToolChoice.Mode == "required" || body.ToolChoice.Named()) {
		return apierr.InvalidRequest("tool_choice", "tool_choice '%s' needs at least one tool in 'tools'", strings.Trim(string(tc), `"`)).WithCode("invalid_value")
	}
	return nil
}

// echo builds the response object's template from the request. Its raw
// JSON values are compacted here, once per request, so that the response
// object's encoder can copy them as they are (see response_json.go); they
// are valid JSON, as the request's decoding and Translate checked.
func echo(req *Request, body *codex.Request) Response {
	r := Response{
		Object: "response", Instructions: req.Instructions, MaxOutputTokens: req.MaxOutputTokens,
		Model: req.Model, Temperature: req.Temperature, TopP: req.TopP, User: req.User,
		Store: req.Store == nil || *req.Store, Metadata: req.Metadata, Tools: compactedAll(req.Tools),
		ToolChoice: compacted(req.ToolChoice), ServiceTier: req.ServiceTier, Truncation: req.Truncation,
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	if r.Tools == nil {
		r.Tools = []json.RawMessage{}
	}
	if tc := bytes.TrimSpace(r.ToolChoice); len(tc) == 0 || string(tc) == "null" {
		r.ToolChoice = json.RawMessage(`"auto"`)
	}
	if r.Truncation == "" {
		r.Truncation = "disabled"
	}
	if r.ServiceTier == "" {
		r.ServiceTier = "auto"
	}
	// What the client asked for, also when there are no tools and the
	// backend is not told.
	r.ParallelToolCalls = body.ParallelToolCalls == nil || *body.ParallelToolCalls
	if req.ParallelToolCalls != nil {
		r.ParallelToolCalls = *req.ParallelToolCalls
	}
	if req.PreviousResponseID != "" {
		id := req.PreviousResponseID
		r.PreviousResponseID = &id
	}
	if rs := body.Reasoning; rs != nil {
		if rs.Effort != "" {
			e := rs.Effort
			r.Reasoning.Effort = &e
		}
		if rs.Summary != "" {
			s := rs.Summary
			r.Reasoning.Summary = &s
		}
	}
	r.Text.Format = codex.TextFormat{Type: "text"}
	if t := body.Text; t != nil {
		if t.Format != nil {
			r.Text.Format = *t.Format
			r.Text.Format.Schema = compacted(r.Text.Format.Schema)
		}
		r.Text.Verbosity = t.Verbosity
	}
	r.instructions = escapedOf(r.Instructions)
	return r
}

// compactedAll returns vs with every value compacted (see compacted): vs
// itself when all of them already are.
func compactedAll(vs []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage // a copy, made at the first value that changes
	for i, v := range vs {
		c := compacted(v)
		if len(c) == len(v) {
			continue
		}
		if out == nil {
			out = slices.Clone(vs)
		}
		out[i] = c
	}
	if out == nil {
		return vs
	}
	return out
}
