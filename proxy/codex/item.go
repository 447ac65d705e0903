package codex

import (
	"bytes"
	"encoding/json"
)

// Item types.
const (
	ItemMessage              = "message"
	ItemFunctionCall         = "function_call"
	ItemFunctionCallOutput   = "function_call_output"
	ItemCustomToolCall       = "custom_tool_call"
	ItemCustomToolCallOutput = "custom_tool_call_output"
	ItemReasoning            = "reasoning"
	ItemAdditionalTools      = "additional_tools"
	ItemConfigurationUpdate  = "configuration_update"
	ItemWebSearchCall        = "web_search_call"
)

// Roles of message items.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleDeveloper = "developer"
	RoleSystem    = "system"
)

// Item is one input or output item. Which fields are used depends on Type;
// MarshalJSON writes exactly the fields of that type. Items of a type this
// model does not know keep their JSON in Raw and are written back as they
// came.
type Item struct {
	Type   string `json:"type"`
	ID     string `json:"id,omitempty"`
	Status string `json:"status,omitempty"`

	// message
	Role    string    `json:"role,omitempty"`
	Content []Content `json:"content,omitempty"`
	Phase   string    `json:"phase,omitempty"` // commentary | final_answer

	// function_call, custom_tool_call and their outputs
	CallID    string `json:"call_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Arguments string `json:"arguments,omitempty"` // function_call: JSON text
	Input     string `json:"input,omitempty"`     // custom_tool_call: raw text
	Output    Output `json:"output,omitzero"`

	// reasoning
	Summary          []Content `json:"summary,omitempty"`
	EncryptedContent string    `json:"encrypted_content,omitempty"`

	// additional_tools (Responses Lite)
	Tools []Tool `json:"tools,omitempty"`
	// configuration_update (Responses Lite)
	Reasoning *Reasoning `json:"reasoning,omitempty"`

	// Raw is the item's JSON when its type is not modelled here.
	Raw json.RawMessage `json:"-"`
}

// Known reports whether t is an item type this model writes field by field.
func Known(t string) bool {
	switch t {
	case ItemMessage, ItemFunctionCall, ItemFunctionCallOutput, ItemCustomToolCall,
		ItemCustomToolCallOutput, ItemReasoning, ItemAdditionalTools, ItemConfigurationUpdate:
		return true
	}
	return false
}

// UnmarshalJSON decodes an item and keeps the JSON of unmodelled types. A
// value that is not an object leaves the item empty (its type is then
// missing), so that one odd field does not stop a whole event from
// decoding, as encoding/json behaves for plain type mismatches.
func (it *Item) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		*it = Item{}
		return nil
	}
	type plain Item
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*it = Item(p)
	if !Known(it.Type) {
		it.Raw = append(json.RawMessage(nil), b...)
	}
	return nil
}

// MarshalJSON writes the fields of the item's type. Required fields are
// always present (arguments, input, output, summary), empty or not.
func (it Item) MarshalJSON() ([]byte, error) {
	w := jsonWriter{}
	w.item(&it)
	return w.done()
}

// Content part types.
const (
	PartInputText   = "input_text"
	PartInputImage  = "input_image"
	PartInputFile   = "input_file"
	PartOutputText  = "output_text"
	PartRefusal     = "refusal"
	PartSummaryText = "summary_text"
	PartReasoning   = "reasoning_text"
)

// Content is one content part of a message, a tool output or a reasoning
// summary.
type Content struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	Detail   string `json:"detail,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	FileData string `json:"file_data,omitempty"`
	FileURL  string `json:"file_url,omitempty"`
	Filename string `json:"filename,omitempty"`
	// Annotations of output_text parts, relayed as they came.
	Annotations []json.RawMessage `json:"annotations,omitempty"`
}

// MarshalJSON writes the fields of the part's type: text parts always
// carry "text", image and file parts never do.
func (c Content) MarshalJSON() ([]byte, error) {
	w := jsonWriter{}
	w.part(&c)
	return w.done()
}

// Output is a tool call's output: a string, or content parts (text and
// images) when Parts is set.
type Output struct {
	Text  string
	Parts []Content
}

// IsZero reports an empty output.
func (o Output) IsZero() bool { return o.Text == "" && o.Parts == nil }

// MarshalJSON writes a string or an array of parts.
func (o Output) MarshalJSON() ([]byte, error) {
	w := jsonWriter{}
	if o.Parts != nil {
		w.parts(o.Parts, true)
	} else {
		w.b = AppendString(w.b, o.Text)
	}
	return w.done()
}

// UnmarshalJSON reads a string or an array of parts.
func (o *Output) UnmarshalJSON(b []byte) error {
	*o = Output{}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		o.Parts = []Content{}
		return json.Unmarshal(b, &o.Parts)
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	return json.Unmarshal(b, &o.Text)
}

// Message builds a message item.
func Message(role string, parts ...Content) Item {
	return Item{Type: ItemMessage, Role: role, Content: parts}
}

// TextPart builds a text part of the given type.
func TextPart(typ, text string) Content { return Content{Type: typ, Text: text} }

// FunctionCall builds a function_call item.
func FunctionCall(callID, name, args string) Item {
	return Item{Type: ItemFunctionCall, CallID: callID, Name: name, Arguments: args}
}

// FunctionOutput builds a function_call_output item with text output.
func FunctionOutput(callID, text string) Item {
	return Item{Type: ItemFunctionCallOutput, CallID: callID, Output: Output{Text: text}}
}
