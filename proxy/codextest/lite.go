package codextest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// LiteHeader marks a Responses-Lite request.
const LiteHeader = "x-openai-internal-codex-responses-lite"

// Texts of the backend's Responses-Lite refusals (docs/protocol.md §1).
const (
	LiteNotSupportedMessage = "This model is not supported when using X-OpenAI-Internal-Codex-Responses-Lite."
	LiteHostedToolMessage   = "Responses Lite only supports function tools, custom tools, and client-executed tool search."
)

// liteItemTypes are the input item types of a lite request.
var liteItemTypes = append(slices.Clone(itemTypes), "additional_tools", "configuration_update")

// liteToolTypes are the tool types an additional_tools item may hold.
var liteToolTypes = []string{"namespace", "function", "custom", "tool_search"}

// checkShape applies the backend's checks of the body's shape for model m:
// the lite marker only for use_responses_lite models, and with
// reasoning.context "all_turns" and no parallel tool calls; the classic
// body refused for lite-only models (404, as for the Luna models). The
// fake also refuses the classic top-level instructions and tools in a
// lite body, so that the app never mixes the shapes.
func checkShape(raw map[string]any, lite bool, m Model) *validationError {
	if !lite {
		if m.LiteOnly {
			msg := "Model not found " + m.Slug
			return &validationError{status: http.StatusNotFound, body: openAIError(msg, "model", "model_not_found"), message: msg}
		}
		return nil
	}
	if !m.UseResponsesLite {
		return oaiErr(LiteNotSupportedMessage, "model", "unsupported_value")
	}
	r, _ := raw["reasoning"].(map[string]any)
	if ctx, _ := r["context"].(string); ctx != "all_turns" {
		return oaiErr("Responses Lite requires reasoning.context to be 'all_turns'.", "reasoning.context", "unsupported_value")
	}
	if raw["parallel_tool_calls"] == true {
		return oaiErr("Responses Lite does not support parallel tool calls.", "parallel_tool_calls", "unsupported_value")
	}
	for _, k := range []string{"instructions", "tools"} {
		if _, ok := raw[k]; ok {
			return oaiErr(fmt.Sprintf("Unsupported parameter: '%s' is not supported with Responses Lite.", k), k, "unsupported_parameter")
		}
	}
	return nil
}

// validateAdditionalTools checks an additional_tools item: developer role,
// and only function, custom and tool-search tools, grouped or not in
// namespaces.
func validateAdditionalTools(param string, it map[string]any) *validationError {
	if it["role"] != "developer" {
		return invalidValue(param+".role", fmt.Sprint(it["role"]), []string{"developer"})
	}
	tools, ok := it["tools"].([]any)
	if !ok {
		return invalidType(param+".tools", "an array", it["tools"])
	}
	for i, tv := range tools {
		t, _ := tv.(map[string]any)
		tp := fmt.Sprintf("%s.tools[%d]", param, i)
		typ, _ := t["type"].(string)
		if !slices.Contains(liteToolTypes, typ) {
			return oaiErr(LiteHostedToolMessage, tp+".type", "unsupported_value")
		}
		if typ != "namespace" {
			continue
		}
		inner, _ := t["tools"].([]any)
		for j, iv := range inner {
			x, _ := iv.(map[string]any)
			if xt, _ := x["type"].(string); xt != "function" && xt != "custom" {
				return oaiErr(LiteHostedToolMessage, fmt.Sprintf("%s.tools[%d].type", tp, j), "unsupported_value")
			}
		}
	}
	return nil
}

// inputState carries what the input check learns item by item.
type inputState struct {
	calls, customCalls map[string]bool
	lite               bool
	// toolNS maps a tool declared in a namespace to it; namespaces holds
	// every declared namespace.
	toolNS     map[string]string
	namespaces map[string]bool
}

// declare notes the namespaces among top-level tools.
func (st *inputState) declare(tools []map[string]any) {
	list := make([]any, len(tools))
	for i, t := range tools {
		list[i] = t
	}
	st.declareRaw(list)
}

func (st *inputState) declareRaw(tools []any) {
	if st.toolNS == nil {
		st.toolNS, st.namespaces = map[string]string{}, map[string]bool{}
	}
	for _, tv := range tools {
		t, _ := tv.(map[string]any)
		if t["type"] != "namespace" {
			continue
		}
		ns, _ := t["name"].(string)
		st.namespaces[ns] = true
		inner, _ := t["tools"].([]any)
		for _, iv := range inner {
			x, _ := iv.(map[string]any)
			if name, _ := x["name"].(string); name != "" {
				st.toolNS[name] = ns
			}
		}
	}
}

// validate checks one item, then the namespace rules of tool calls: a
// namespace must be declared, and a call of a tool declared in a namespace
// must name it.
func (st *inputState) validate(param, typ string, it map[string]any) *validationError {
	if err := validateItem(param, typ, it, st.calls, st.customCalls); err != nil {
		return err
	}
	if typ != "function_call" && typ != "custom_tool_call" {
		return nil
	}
	ns, has := it["namespace"].(string)
	name, _ := it["name"].(string)
	if has && !st.namespaces[ns] {
		return oaiErr(fmt.Sprintf("Unknown parameter: '%s.namespace'.", param), param+".namespace", "unknown_parameter")
	}
	if want, declared := st.toolNS[name]; declared && ns != want {
		return oaiErr(fmt.Sprintf("Missing namespace for %s '%s'.", typ, name), param+".namespace", "missing_required_parameter")
	}
	return nil
}

// liteView presents a lite request like a classic one to behaviors: tools
// from the additional_tools item, instructions from the leading developer
// messages, the conversation without the lite bookkeeping items.
func liteView(req *ResponsesRequest) {
	var input []map[string]any
	var instr []string
	leading := true
	for _, it := range req.Input {
		switch itemType(it) {
		case "additional_tools":
			req.Tools = append(req.Tools, flattenTools(it)...)
			continue
		case "configuration_update":
			continue
		case "message":
			if leading && it["role"] == "developer" {
				instr = append(instr, messageText(it))
				continue
			}
		}
		leading = false
		input = append(input, it)
	}
	req.Input, req.Instructions = input, strings.Join(instr, "\n\n")
}

func flattenTools(it map[string]any) []map[string]any {
	var out []map[string]any
	tools, _ := it["tools"].([]any)
	for _, tv := range tools {
		t, _ := tv.(map[string]any)
		if t["type"] != "namespace" {
			out = append(out, t)
			continue
		}
		inner, _ := t["tools"].([]any)
		for _, iv := range inner {
			x, _ := iv.(map[string]any)
			c := make(map[string]any, len(x)+1)
			for k, v := range x {
				c[k] = v
			}
			c["namespace"] = t["name"]
			out = append(out, c)
		}
	}
	return out
}

// toolNamespace is the namespace tool name is declared in, or "".
func (r *ResponsesRequest) toolNamespace(name string) string {
	if r == nil {
		return ""
	}
	for _, t := range r.Tools {
		if t["name"] == name {
			ns, _ := t["namespace"].(string)
			return ns
		}
	}
	return ""
}

// setNamespace marks a call item with the namespace of its tool: a tool
// declared in a namespace is called in it.
func setNamespace(item map[string]any, ns string) {
	if ns != "" {
		item["namespace"] = ns
	}
}
