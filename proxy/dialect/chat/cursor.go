package chat

// Cursor's agent mode, pointed at a custom OpenAI base URL, posts
// Responses-API-shaped bodies to /v1/chat/completions: "input" (a string
// or Responses items) instead of "messages", "instructions", flat tool
// definitions ({"type":"function","name",…}) and custom tools such as
// {"type":"custom","name":"ApplyPatch","format":{"type":"grammar",
// "syntax":"lark",…}}, plus "reasoning", "text" and "metadata"; it may also
// send an empty "messages" next to "input". It expects the answer in the
// Chat Completions format (chunks when streaming), not Responses events:
//
//   - LiteLLM's Cursor endpoint "accepts requests in OpenAI Responses API
//     input format (Cursor sends this)" and "returns responses in OpenAI
//     Chat Completions format (Cursor expects this)"; "without translation,
//     Cursor won't display streamed output"
//     (https://docs.litellm.ai/docs/proxy/cursor). Its fix for agent mode,
//     https://github.com/BerriAI/litellm/pull/34029, handles both request
//     shapes, "always answering in chat completions format", and fixed
//     streams that "leaked raw Responses API events … instead of chat
//     chunks"; its tests post {"input":…,"messages":[],"tools":[ApplyPatch],
//     "stream_options":{…}} and expect chat.completion.chunk frames.
//   - icebear0828/codex-proxy #507 ("cursor error!!") is this body failing
//     a chat-only validator ("messages" missing, "tools[0].function"
//     missing); archestra-ai/archestra PR #7375 found the flat custom
//     ApplyPatch tool inside /chat/completions in captured Cursor traffic.
//   - 170-carry/codex-tools #54: Cursor's "metadata" must not reach the
//     Codex backend ("Unsupported parameter: metadata"); it is dropped.
//
// How custom tool calls are answered is described at CallStyle.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// ResponsesShaped reports whether a body posted to /v1/chat/completions is
// Responses-shaped: it has "input" and no messages.
func ResponsesShaped(req *ChatRequest) bool {
	in := bytes.TrimSpace(req.Input)
	return len(req.Messages) == 0 && len(in) > 0 && !bytes.Equal(in, []byte("null"))
}

// inputItem is one item of a Responses-shaped input. A message may leave
// out "type" and carry a string or an array of parts.
type inputItem struct {
	Type             string          `json:"type"`
	Role             string          `json:"role"`
	Content          json.RawMessage `json:"content"`
	CallID           string          `json:"call_id"`
	Name             string          `json:"name"`
	Arguments        string          `json:"arguments"`
	Input            string          `json:"input"`
	Output           codex.Output    `json:"output"`
	Summary          []codex.Content `json:"summary"`
	EncryptedContent string          `json:"encrypted_content"`
}

// inputPart is one content part of a Responses-shaped message.
type inputPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Refusal  string          `json:"refusal"`
	ImageURL json.RawMessage `json:"image_url"` // a string, or {"url"} as in chat
	FileID   string          `json:"file_id"`
	FileData string          `json:"file_data"`
	FileURL  string          `json:"file_url"`
	Filename string          `json:"filename"`
}

// responsesInput translates a Responses-shaped input into instructions
// (system and developer messages, as on the chat route) and input items.
func (b *builder) responsesInput(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	in := &b.p.Body.Input
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return apierr.InvalidRequest("input", "input is not a valid string").WithCode("invalid_type")
		}
		*in = append(*in, codex.Message(codex.RoleUser, codex.TextPart(codex.PartInputText, s)))
		return nil
	}
	if raw[0] != '[' {
		return apierr.InvalidRequest("input", "Invalid type for 'input': expected a string or an array of items.").WithCode("invalid_type")
	}
	var items []inputItem
	if err := dialect.DecodeField(raw, &items, "input"); err != nil {
		return err
	}
	for i, it := range items {
		if err := b.inputItem(fmt.Sprintf("input[%d]", i), it); err != nil {
			return err
		}
	}
	return nil
}

// inputItem translates one Responses input item.
func (b *builder) inputItem(param string, it inputItem) error {
	in := &b.p.Body.Input
	switch it.Type {
	case "", codex.ItemMessage:
		return b.inputMessage(param, it)
	case codex.ItemFunctionCall, codex.ItemCustomToolCall:
		if it.CallID == "" || it.Name == "" {
			return apierr.InvalidRequest(param, "a tool call item needs call_id and name").WithCode("missing_required_parameter")
		}
		args := it.Arguments
		if it.Type == codex.ItemCustomToolCall {
			args = it.Input
		}
		*in = append(*in, b.call(it.CallID, it.Name, args, it.Type == codex.ItemCustomToolCall))
	case codex.ItemFunctionCallOutput, codex.ItemCustomToolCallOutput:
		if it.CallID == "" {
			return apierr.InvalidRequest(param+".call_id", "a tool output item needs call_id").WithCode("missing_required_parameter")
		}
		typ := codex.ItemFunctionCallOutput
		if b.customCalls[it.CallID] {
			typ = codex.ItemCustomToolCallOutput
		}
		*in = append(*in, codex.Item{Type: typ, CallID: it.CallID, Output: it.Output})
	case codex.ItemReasoning:
		// Without store the backend can only use reasoning it encrypted;
		// an item without encrypted_content would be looked up by id and
		// refused, so it is left out.
		if it.EncryptedContent != "" {
			*in = append(*in, codex.Item{Type: codex.ItemReasoning, Summary: it.Summary, EncryptedContent: it.EncryptedContent})
		}
	case "item_reference":
		return apierr.InvalidRequest(param+".type", "item_reference is not supported: send the items themselves").WithCode("unsupported_value")
	default:
		return apierr.InvalidRequest(param+".type", "input item type %q is not supported", it.Type).WithCode("unsupported_value")
	}
	return nil
}

// inputMessage translates a message item by its role.
func (b *builder) inputMessage(param string, it inputItem) error {
	in := &b.p.Body.Input
	parts, err := inputParts(param+".content", it.Content)
	if err != nil {
		return err
	}
	switch it.Role {
	case "system", "developer":
		if text := joinText(parts); text != "" {
			b.instr = append(b.instr, text)
		}
	case "assistant":
		if text := joinText(parts); text != "" {
			*in = append(*in, codex.Message(codex.RoleAssistant, codex.TextPart(codex.PartOutputText, text)))
		}
	case "user":
		out := make([]codex.Content, 0, len(parts))
		for j, pt := range parts {
			c, err := b.userPart(fmt.Sprintf("%s.content[%d]", param, j), pt)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return apierr.InvalidRequest(param+".content", "a user message needs content").WithCode("missing_required_parameter")
		}
		*in = append(*in, codex.Message(codex.RoleUser, out...))
	case "":
		return apierr.InvalidRequest(param+".role", "%s has no role", param).WithCode("missing_required_parameter")
	default:
		return apierr.InvalidRequest(param+".role", "unknown role %q (expected system, developer, user or assistant)", it.Role).WithCode("invalid_value")
	}
	return nil
}

// inputParts reads a message's content: a string (one text part), null, or
// an array of parts.
func inputParts(param string, raw json.RawMessage) ([]inputPart, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := dialect.UnmarshalString(raw, &s); err != nil {
			return nil, apierr.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return []inputPart{{Type: "input_text", Text: s}}, nil
	}
	if raw[0] != '[' {
		return nil, apierr.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	var parts []inputPart
	if err := dialect.DecodeField(raw, &parts, param); err != nil {
		return nil, err
	}
	texts := dialect.NewTexts(raw, "")
	for i, pt := range parts {
		switch pt.Type {
		case "input_text", "output_text", "text":
			if pt.Text == "" {
				if err := texts.Required(i, fmt.Sprintf("%s[%d].text", param, i)); err != nil {
					return nil, err
				}
			}
		}
	}
	return parts, nil
}

// joinText joins the text of text, output text and refusal parts; other
// parts carry nothing the backend takes in these roles.
func joinText(parts []inputPart) string {
	var sb strings.Builder
	for _, pt := range parts {
		switch pt.Type {
		case "input_text", "output_text", "text":
			sb.WriteString(pt.Text)
		case "refusal":
			sb.WriteString(pt.Refusal)
		}
	}
	return sb.String()
}

// userPart translates one part of a user message.
func (b *builder) userPart(param string, pt inputPart) (codex.Content, error) {
	switch pt.Type {
	case "input_text", "text":
		return codex.TextPart(codex.PartInputText, pt.Text), nil
	case "input_image", "image_url":
		u := imageURL(pt.ImageURL)
		if u == "" {
			return codex.Content{}, apierr.InvalidRequest(param+".image_url", "an image part needs image_url").WithCode("missing_required_parameter")
		}
		u, err := dialect.ImageURL(u)
		if err != nil {
			return codex.Content{}, apierr.InvalidRequest(param+".image_url", "%v", err).WithCode("invalid_image_url")
		}
		b.images++
		return codex.Content{Type: codex.PartInputImage, ImageURL: u}, nil
	case "input_file":
		return codex.Content{Type: codex.PartInputFile, FileID: pt.FileID, FileData: pt.FileData, FileURL: pt.FileURL, Filename: pt.Filename}, nil
	}
	return codex.Content{}, apierr.InvalidRequest(param+".type", "content part type %q is not supported in a user message", pt.Type).WithCode("unsupported_value")
}

// imageURL reads image_url as a string or as {"url":…}.
func imageURL(raw json.RawMessage) string {
	var s string
	if dialect.UnmarshalString(raw, &s) == nil {
		return s
	}
	var o struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.URL
}

// responsesText translates the text.format of a Responses-shaped body
// (verbosity is applied with the other controls).
func responsesText(body *codex.Request, t *TextControl) error {
	f := t.Format
	if f == nil {
		return nil
	}
	switch f.Type {
	case "text", "json_object":
	case "json_schema":
		if f.Name == "" || dialect.Absent(f.Schema) {
			return apierr.InvalidRequest("text.format", "a json_schema format needs a name and a schema").WithCode("missing_required_parameter")
		}
		if err := dialect.RequireObject("text.format.schema", f.Schema); err != nil {
			return err
		}
	default:
		return apierr.InvalidRequest("text.format.type", "text.format type %q is not supported (text, json_object or json_schema)", f.Type).WithCode("invalid_value")
	}
	body.Text = &codex.Text{Format: f}
	return nil
}
