package codex

import "slices"

// The Responses-Lite shape (docs/protocol.md §1): what
// the Codex CLI sends for models whose catalog entry has
// use_responses_lite. It has no top-level instructions or tools; the
// instructions travel as developer messages and the tools in one
// additional_tools input item, grouped in namespaces.
const (
	// ContextAllTurns is reasoning.context of every lite request.
	ContextAllTurns = "all_turns"
	// FunctionsNamespace groups the plain function and custom tools of a
	// lite request, as the CLI does.
	FunctionsNamespace = "functions"
)

// LiteUnsupportedTool returns the type of the first tool the lite shape
// cannot carry (hosted tools such as web_search; the backend accepts only
// function and custom tools there), or "".
func (r *Request) LiteUnsupportedTool() string {
	for _, t := range r.Tools {
		if !liteTool(t) {
			return t.Type
		}
	}
	return ""
}

func liteTool(t Tool) bool {
	switch t.Type {
	case ToolFunction, ToolCustom:
		return true
	case ToolNamespace:
		for _, x := range t.Tools {
			if x.Type != ToolFunction && x.Type != ToolCustom {
				return false
			}
		}
		return true
	}
	return false
}

// liteRequest is the lite body, its fields in the CLI's key order.
type liteRequest struct {
	Model             string
	Stream            bool
	Input             []Item
	ToolChoice        ToolChoice
	ParallelToolCalls bool
	Reasoning         *Reasoning
	Store             bool
	Include           []string
	PromptCacheKey    string
	Text              *Text
	ServiceTier       string
	ClientMetadata    map[string]string
}

// lite returns r in the Responses-Lite shape (appendLite writes it):
//   - input: the additional_tools item (when there are tools), the
//     instructions as a developer message, the conversation, then a
//     configuration_update item carrying the effort;
//   - tool_choice "auto" and parallel_tool_calls false, as the backend
//     requires; a tool_choice of "none" leaves the tools out instead;
//   - reasoning.context "all_turns";
//   - image detail left out; function and custom tool calls of the
//     history name the namespace their tool is declared in.
//
// Hosted tools are not written; callers refuse them first
// (LiteUnsupportedTool).
func (r *Request) lite() *liteRequest {
	tools := r.Tools
	if r.ToolChoice.Type == "" && r.ToolChoice.Mode == "none" {
		tools = nil
	}
	decl := liteNamespaces(tools)
	input := make([]Item, 0, len(r.Input)+3)
	if len(decl) > 0 {
		input = append(input, Item{Type: ItemAdditionalTools, Role: RoleDeveloper, Tools: decl})
	}
	if r.Instructions != "" {
		input = append(input, Message(RoleDeveloper, TextPart(PartInputText, r.Instructions)))
	}
	where := declaredIn(decl)
	for _, it := range r.Input {
		input = append(input, liteItem(it, where))
	}
	reasoning := &Reasoning{Context: ContextAllTurns}
	if r.Reasoning != nil {
		reasoning.Effort, reasoning.Summary = r.Reasoning.Effort, r.Reasoning.Summary
	}
	if reasoning.Effort != "" {
		input = append(input, Item{Type: ItemConfigurationUpdate, Reasoning: &Reasoning{Effort: reasoning.Effort}})
	}
	include := r.Include
	if include == nil {
		include = []string{}
	}
	return &liteRequest{
		Model: r.Model, Stream: r.Stream, Input: input, ToolChoice: ChooseAuto,
		Reasoning: reasoning, Store: r.Store, Include: include, PromptCacheKey: r.PromptCacheKey,
		Text: r.Text, ServiceTier: r.ServiceTier, ClientMetadata: r.ClientMetadata,
	}
}

// liteNamespaces groups the plain tools in the "functions" namespace
// (first, as the CLI lists it) and keeps namespaces the caller declared.
func liteNamespaces(tools []Tool) []Tool {
	var plain, out []Tool
	for _, t := range tools {
		switch t.Type {
		case ToolFunction, ToolCustom:
			plain = append(plain, t)
		case ToolNamespace:
			out = append(out, t)
		}
	}
	if len(plain) == 0 {
		return out
	}
	// The plain tools go in the functions namespace: the client's own,
	// when it declared one (the Codex CLI does), else a new one first. The
	// client's is written as it came unless a plain tool is new to it.
	for i, ns := range out {
		if ns.Name != FunctionsNamespace {
			continue
		}
		merged := ns
		merged.Tools = slices.Clip(ns.Tools)
		for _, t := range plain {
			if !slices.ContainsFunc(merged.Tools, func(x Tool) bool { return x.Name == t.Name }) {
				merged.Tools = append(merged.Tools, t)
				merged.Raw = nil
			}
		}
		out[i] = merged
		return out
	}
	return append([]Tool{{Type: ToolNamespace, Name: FunctionsNamespace, Tools: plain}}, out...)
}

// declaredIn maps each declared tool name to its namespace.
func declaredIn(decl []Tool) map[string]string {
	m := make(map[string]string)
	for _, ns := range decl {
		for _, t := range ns.Tools {
			if _, dup := m[t.Name]; !dup {
				m[t.Name] = ns.Name
			}
		}
	}
	return m
}

// liteItem adapts one history item: a tool call names the namespace its
// tool is declared in (the backend wants the namespace to round-trip and
// refuses one that is not declared), and image parts lose their detail.
func liteItem(it Item, where map[string]string) Item {
	switch it.Type {
	case ItemFunctionCall, ItemCustomToolCall:
		if !declaredNamespace(where, it.Namespace) {
			it.Namespace = where[it.Name] // "" when the tool is not declared
		}
	case ItemMessage:
		it.Content = withoutDetail(it.Content)
	case ItemFunctionCallOutput, ItemCustomToolCallOutput:
		if it.Output.Parts != nil {
			it.Output.Parts = withoutDetail(it.Output.Parts)
		}
	}
	return it
}

// declaredNamespace reports whether ns is the namespace of a declared tool.
func declaredNamespace(where map[string]string, ns string) bool {
	if ns == "" {
		return false
	}
	for _, n := range where {
		if n == ns {
			return true
		}
	}
	return false
}

// withoutDetail returns parts with the image detail left out (copying
// only when a part changes).
func withoutDetail(parts []Content) []Content {
	for i := range parts {
		if parts[i].Detail != "" {
			out := make([]Content, len(parts))
			copy(out, parts)
			for j := range out {
				out[j].Detail = ""
			}
			return out
		}
	}
	return parts
}
