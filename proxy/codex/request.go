package codex

import "encoding/json"

// Request is the body of POST {base}/codex/responses.
type Request struct {
	Model             string            `json:"model"`
	Instructions      string            `json:"instructions"`
	Input             []Item            `json:"input"`
	Tools             []Tool            `json:"tools"`
	ToolChoice        ToolChoice        `json:"tool_choice"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	Reasoning         *Reasoning        `json:"reasoning,omitempty"`
	Store             bool              `json:"store"`
	Stream            bool              `json:"stream"`
	Include           []string          `json:"include"`
	PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
	Text              *Text             `json:"text,omitempty"`
	ServiceTier       string            `json:"service_tier,omitempty"`
	ClientMetadata    map[string]string `json:"client_metadata,omitempty"`
	// Lite selects the Responses-Lite shape (see lite.go) in MarshalJSON.
	Lite bool `json:"-"`
}

// MarshalJSON writes the classic body, or the Responses-Lite body when
// Lite is set; input, tools and include are always arrays, as the Codex
// CLI sends them.
func (r *Request) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, r.sizeHint()))
}

// sizeHint estimates the body's size, so that it is written into one
// buffer instead of one that doubles (an agent's body is hundreds of
// kilobytes): the strings it holds, and a little for keys and escapes.
func (r *Request) sizeHint() int {
	n := 512 + len(r.Instructions)
	parts := func(cs []Content) {
		for i := range cs {
			n += 48 + len(cs[i].Text) + len(cs[i].ImageURL) + len(cs[i].FileData)
		}
	}
	var tools func(ts []Tool)
	tools = func(ts []Tool) {
		for i := range ts {
			t := &ts[i]
			n += 64 + len(t.Description) + len(t.Parameters) + len(t.Raw)
			tools(t.Tools)
		}
	}
	for i := range r.Input {
		it := &r.Input[i]
		n += 96 + len(it.Arguments) + len(it.Input) + len(it.Output.Text) + len(it.EncryptedContent) + len(it.Raw)
		parts(it.Content)
		parts(it.Summary)
		parts(it.Output.Parts)
		tools(it.Tools)
	}
	tools(r.Tools)
	return n + n/16
}

// Reasoning is the reasoning control of a request.
type Reasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
	// Context is "all_turns" in the Responses-Lite shape.
	Context string `json:"context,omitempty"`
}

// Text is the text control of a request: output format and verbosity.
type Text struct {
	Verbosity string      `json:"verbosity,omitempty"`
	Format    *TextFormat `json:"format,omitempty"`
}

// TextFormat is text.format: {"type":"text"}, {"type":"json_object"} or a
// JSON schema.
type TextFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Include values.
const IncludeEncryptedReasoning = "reasoning.encrypted_content"

// ToolChoice is tool_choice: a mode ("auto", "none", "required") or a named
// tool ({"type":"function","name":…} or {"type":"custom","name":…}).
type ToolChoice struct {
	Mode string // used when Type is empty
	Type string // function | custom
	Name string
}

// ChooseAuto is tool_choice "auto".
var ChooseAuto = ToolChoice{Mode: "auto"}

// Named reports whether the choice names a tool.
func (c ToolChoice) Named() bool { return c.Type != "" }

// MarshalJSON writes the mode as a string and a named tool as an object.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	w := jsonWriter{}
	w.toolChoice(c)
	return w.done()
}

// UnmarshalJSON reads either form.
func (c *ToolChoice) UnmarshalJSON(b []byte) error {
	*c = ToolChoice{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.Mode)
	}
	var o struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function *struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	c.Type, c.Name = o.Type, o.Name
	if c.Name == "" && o.Function != nil {
		c.Name = o.Function.Name
	}
	return nil
}

// Tool types.
const (
	ToolFunction  = "function"
	ToolCustom    = "custom"
	ToolWebSearch = "web_search"
	ToolNamespace = "namespace"
)

// Tool is a tool definition: a function (JSON-schema parameters), a custom
// tool (free text, optionally constrained by a grammar), a hosted tool such
// as web_search, or a namespace grouping other tools.
type Tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Format      *ToolFormat     `json:"format,omitempty"`
	Tools       []Tool          `json:"tools,omitempty"`
	// Raw, when set, is written instead of the fields: a hosted tool the
	// backend takes as the client defined it (web_search, tool_search…).
	Raw json.RawMessage `json:"-"`
}

// MarshalJSON writes Raw when it is set (a hosted tool as the client
// defined it), a namespace with its description even when empty, as the
// Codex CLI does, and other tools field by field.
func (t Tool) MarshalJSON() ([]byte, error) {
	w := jsonWriter{}
	w.tool(&t)
	return w.done()
}

// ToolFormat is a custom tool's input format: {"type":"text"} or
// {"type":"grammar","syntax":"lark"|"regex","definition":…}.
type ToolFormat struct {
	Type       string `json:"type"`
	Syntax     string `json:"syntax,omitempty"`
	Definition string `json:"definition,omitempty"`
}
