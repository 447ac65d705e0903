package dialect

import "github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"

// OrphanOutput stands in for the result of a tool call the client never
// answered (an interrupted turn): the backend refuses a call without its
// output.
const OrphanOutput = "aborted: the client sent no result for this tool call"

func isCall(t string) bool {
	return t == codex.ItemFunctionCall || t == codex.ItemCustomToolCall
}

func isOutput(t string) bool {
	return t == codex.ItemFunctionCallOutput || t == codex.ItemCustomToolCallOutput
}

// UnpairedOutput returns the call id of the first tool output that does
// not follow a call with that id, or "" when every output answers an
// earlier call, as the backend requires.
func UnpairedOutput(input []codex.Item) string {
	calls := map[string]bool{}
	for _, it := range input {
		switch {
		case isCall(it.Type):
			calls[it.CallID] = true
		case isOutput(it.Type):
			if !calls[it.CallID] {
				return it.CallID
			}
		}
	}
	return ""
}

// AnswerOrphanCalls adds an output right after each group of tool calls
// whose calls have no output anywhere in input.
func AnswerOrphanCalls(input []codex.Item) []codex.Item {
	answered := map[string]bool{}
	for _, it := range input {
		if isOutput(it.Type) {
			answered[it.CallID] = true
		}
	}
	var out []codex.Item
	var pending []codex.Item
	flush := func() {
		for _, c := range pending {
			typ := codex.ItemFunctionCallOutput
			if c.Type == codex.ItemCustomToolCall {
				typ = codex.ItemCustomToolCallOutput
			}
			out = append(out, codex.Item{Type: typ, CallID: c.CallID, Output: codex.Output{Text: OrphanOutput}})
		}
		pending = pending[:0]
	}
	for _, it := range input {
		if !isCall(it.Type) && !isOutput(it.Type) {
			flush()
		}
		out = append(out, it)
		if isCall(it.Type) && !answered[it.CallID] {
			pending = append(pending, it)
		}
	}
	flush()
	return out
}
