// Package translate converts OpenAI Chat Completions requests into Codex
// Responses requests, and the Codex SSE stream back into Chat Completions
// chunks or one aggregated completion.
package translate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/openai"
)

// CodexRequest is the body sent to {base}/codex/responses.
type CodexRequest struct {
	Model             string            `json:"model"`
	Instructions      string            `json:"instructions"`
	Input             []json.RawMessage `json:"input"`
	Tools             []json.RawMessage `json:"tools"`
	ToolChoice        any               `json:"tool_choice"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	Reasoning         *Reasoning        `json:"reasoning,omitempty"`
	Store             bool              `json:"store"`
	Stream            bool              `json:"stream"`
	Include           []string          `json:"include"`
	PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
	Text              *TextControls     `json:"text,omitempty"`
	ServiceTier       string            `json:"service_tier,omitempty"`
}

// Reasoning is the reasoning control of a Codex request.
type Reasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// TextControls is the text control of a Codex request.
type TextControls struct {
	Verbosity string         `json:"verbosity,omitempty"`
	Format    map[string]any `json:"format,omitempty"`
}

// Options steer the request translation.
type Options struct {
	ReasoningSummary string // auto | concise | detailed | none
	DefaultEffort    string
	Verbosity        string
	// RejectEffort refuses an effort the model does not support instead
	// of using the nearest one it does.
	RejectEffort bool
}

// Plan is a translated request plus what the response translation needs.
type Plan struct {
	Body         CodexRequest
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

const maxToolName = 64

// toolNameChars matches what the backend does not allow in tool names.
var toolNameChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// Chat translates req for the resolved model. Errors are *openai.Error (400).
func Chat(req *openai.ChatRequest, res catalog.Resolution, opts Options) (*Plan, error) {
	if len(req.Messages) == 0 {
		return nil, openai.InvalidRequest("messages", "'messages' must be a non-empty array of messages").WithCode("missing_required_parameter")
	}
	if len(req.Functions) > 0 || len(req.FunctionCall) > 0 {
		return nil, openai.InvalidRequest("functions", "the deprecated 'functions' and 'function_call' parameters are not supported; use 'tools' and 'tool_choice'").WithCode("unsupported_parameter")
	}
	if req.N != nil && *req.N != 1 {
		return nil, openai.InvalidRequest("n", "n=%d is not supported: ChatGPT returns one choice per request", *req.N).WithCode("unsupported_value")
	}
	p := &Plan{Model: res.Slug, Stream: req.Stream, ToolNames: map[string]string{}}
	if req.StreamOptions != nil {
		if !req.Stream {
			return nil, openai.InvalidRequest("stream_options", "stream_options is only allowed when stream is true").WithCode("invalid_value")
		}
		p.IncludeUsage = req.StreamOptions.IncludeUsage
	}
	b := &p.Body
	b.Model, b.Stream, b.Store = res.Slug, true, false
	b.Input = make([]json.RawMessage, 0, len(req.Messages)+2)
	b.Tools = []json.RawMessage{}
	b.Include = []string{}

	var instructions []string
	shortNames := map[string]string{} // client name -> upstream name
	upName := func(n string) string {
		if s, ok := shortNames[n]; ok {
			return s
		}
		s := n
		if clean := toolNameChars.ReplaceAllString(n, "_"); clean != n || len(n) > maxToolName {
			// The backend takes ^[a-zA-Z0-9_-]{1,64}$: rename, and map
			// the name back in the response.
			sum := sha256.Sum256([]byte(n))
			s = clean[:min(len(clean), maxToolName-9)] + "_" + hex.EncodeToString(sum[:4])
			p.ToolNames[s] = n
		}
		shortNames[n] = s
		return s
	}
	images := 0
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "developer":
			text, err := textOf(m.Content, param+".content")
			if err != nil {
				return nil, err
			}
			if text != "" {
				instructions = append(instructions, text)
			}
		case "user":
			parts, n, err := userParts(m.Content, param+".content")
			if err != nil {
				return nil, err
			}
			images += n
			b.Input = append(b.Input, mustJSON(map[string]any{"type": "message", "role": "user", "content": parts}))
		case "assistant":
			text, err := textOf(m.Content, param+".content")
			if err != nil {
				return nil, err
			}
			if text == "" && m.Refusal != "" {
				text = m.Refusal
			}
			if text != "" {
				b.Input = append(b.Input, mustJSON(map[string]any{
					"type": "message", "role": "assistant",
					"content": []map[string]any{{"type": "output_text", "text": text}},
				}))
			}
			for j, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Function.Name == "" {
					return nil, openai.InvalidRequest(fmt.Sprintf("%s.tool_calls[%d]", param, j), "each tool call needs an id and a function name").WithCode("invalid_value")
				}
				args := tc.Function.Arguments
				if args == "" {
					args = "{}"
				}
				b.Input = append(b.Input, mustJSON(map[string]any{
					"type": "function_call", "call_id": tc.ID, "name": upName(tc.Function.Name), "arguments": args,
				}))
			}
			if text == "" && len(m.ToolCalls) == 0 {
				// An empty assistant turn carries nothing; the backend
				// rejects empty messages, so it is skipped.
				continue
			}
		case "tool":
			if m.ToolCallID == "" {
				return nil, openai.InvalidRequest(param+".tool_call_id", "a message with role 'tool' needs a tool_call_id").WithCode("missing_required_parameter")
			}
			text, err := textOf(m.Content, param+".content")
			if err != nil {
				return nil, err
			}
			b.Input = append(b.Input, mustJSON(map[string]any{"type": "function_call_output", "call_id": m.ToolCallID, "output": text}))
		case "function":
			return nil, openai.InvalidRequest(param+".role", "the legacy 'function' role is not supported; use tools and role 'tool'").WithCode("invalid_value")
		case "":
			return nil, openai.InvalidRequest(param+".role", "%s has no role", param).WithCode("missing_required_parameter")
		default:
			return nil, openai.InvalidRequest(param+".role", "unknown role %q (expected system, developer, user, assistant or tool)", m.Role).WithCode("invalid_value")
		}
	}
	if err := checkToolPairs(b.Input); err != nil {
		return nil, err
	}
	b.Input = answerOrphanCalls(b.Input)
	if images > 0 && res.Known && !res.Model.SupportsImages() {
		return nil, openai.InvalidRequest("messages", "model %s does not accept images", res.Slug).WithCode("unsupported_value")
	}
	b.Instructions = strings.Join(instructions, "\n\n")

	// Tools.
	for i, t := range req.Tools {
		param := fmt.Sprintf("tools[%d]", i)
		switch t.Type {
		case "function", "":
			if t.Function == nil || t.Function.Name == "" {
				return nil, openai.InvalidRequest(param+".function.name", "a function tool needs function.name").WithCode("missing_required_parameter")
			}
			tool := map[string]any{"type": "function", "name": upName(t.Function.Name)}
			if t.Function.Description != "" {
				tool["description"] = t.Function.Description
			}
			if len(t.Function.Parameters) > 0 && !bytes.Equal(bytes.TrimSpace(t.Function.Parameters), []byte("null")) {
				tool["parameters"] = t.Function.Parameters
			} else {
				tool["parameters"] = map[string]any{"type": "object", "properties": map[string]any{}}
			}
			strict := false
			if t.Function.Strict != nil {
				strict = *t.Function.Strict
			}
			tool["strict"] = strict
			b.Tools = append(b.Tools, mustJSON(tool))
		case "web_search", "web_search_preview":
			// Hosted web search is passed through only when asked for.
			b.Tools = append(b.Tools, mustJSON(map[string]any{"type": "web_search"}))
		default:
			return nil, openai.InvalidRequest(param+".type", "tool type %q is not supported (use function tools)", t.Type).WithCode("unsupported_value")
		}
	}

	// tool_choice.
	b.ToolChoice = "auto"
	if tc := bytes.TrimSpace(req.ToolChoice); len(tc) > 0 && !bytes.Equal(tc, []byte("null")) {
		var s string
		if json.Unmarshal(tc, &s) == nil {
			switch s {
			case "auto", "none", "required":
				b.ToolChoice = s
			default:
				return nil, openai.InvalidRequest("tool_choice", "tool_choice must be auto, none, required or a function").WithCode("invalid_value")
			}
		} else {
			var obj struct {
				Type     string `json:"type"`
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
				Name string `json:"name"`
			}
			if err := json.Unmarshal(tc, &obj); err != nil || (obj.Function.Name == "" && obj.Name == "") {
				return nil, openai.InvalidRequest("tool_choice", "tool_choice object must be {\"type\":\"function\",\"function\":{\"name\":…}}").WithCode("invalid_value")
			}
			name := obj.Function.Name
			if name == "" {
				name = obj.Name
			}
			if _, ok := shortNames[name]; !ok {
				return nil, openai.InvalidRequest("tool_choice", "tool_choice names function %q, which is not in tools", name).WithCode("invalid_value")
			}
			b.ToolChoice = map[string]any{"type": "function", "name": upName(name)}
		}
	}
	if len(b.Tools) == 0 && (b.ToolChoice == "required" || !isString(b.ToolChoice)) {
		return nil, openai.InvalidRequest("tool_choice", "tool_choice %s needs at least one tool in 'tools'", describeChoice(b.ToolChoice)).WithCode("invalid_value")
	}
	if len(b.Tools) > 0 {
		par := !res.Known || res.Model.SupportsParallelToolCalls
		if req.ParallelToolCalls != nil {
			par = *req.ParallelToolCalls
		}
		b.ParallelToolCalls = &par
	}

	// Reasoning.
	effort := opts.DefaultEffort
	if res.Effort != "" {
		effort = res.Effort
	}
	if req.Reasoning != nil && req.Reasoning.Effort != "" {
		effort = req.Reasoning.Effort
	}
	if req.ReasoningEffort != "" {
		effort = req.ReasoningEffort
	}
	effort = strings.ToLower(effort)
	if effort != "" {
		if !catalog.IsEffort(effort) {
			return nil, openai.InvalidRequest("reasoning_effort", "Unsupported value: '%s' is not a reasoning effort. Supported values are: %s.", effort, quoteList(catalog.Efforts)).WithCode("unsupported_value")
		}
		if res.Known && !res.Model.SupportsEffort(effort) {
			if opts.RejectEffort {
				return nil, openai.InvalidRequest("reasoning_effort", "Unsupported value: '%s' is not supported with the '%s' model. Supported values are: %s.", effort, res.Slug, quoteList(res.Model.ReasoningLevels)).WithCode("unsupported_value")
			}
			effort = nearestEffort(effort, res.Model.ReasoningLevels)
			p.EffortClamped = effort
		}
	}
	if effort == "" && res.Known && res.Model.DefaultReasoningLevel != "" {
		// The Codex CLI always names an effort: the model's default.
		effort = res.Model.DefaultReasoningLevel
	}
	summary := opts.ReasoningSummary
	if req.Reasoning != nil && req.Reasoning.Summary != "" {
		summary = req.Reasoning.Summary
	}
	if res.Known && !res.Model.SupportsReasoningSummaries {
		summary = "none"
	}
	if summary == "none" || effort == "none" {
		summary = ""
	}
	if effort != "" || summary != "" {
		b.Reasoning = &Reasoning{Effort: effort, Summary: summary}
		b.Include = []string{"reasoning.encrypted_content"}
	}

	// Text: format and verbosity.
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "text":
			b.Text = &TextControls{Format: map[string]any{"type": "text"}}
		case "json_object":
			b.Text = &TextControls{Format: map[string]any{"type": "json_object"}}
		case "json_schema":
			if rf.JSONSchema == nil || rf.JSONSchema.Name == "" || len(rf.JSONSchema.Schema) == 0 {
				return nil, openai.InvalidRequest("response_format.json_schema", "json_schema needs a name and a schema").WithCode("missing_required_parameter")
			}
			f := map[string]any{"type": "json_schema", "name": rf.JSONSchema.Name, "schema": rf.JSONSchema.Schema}
			if rf.JSONSchema.Strict != nil {
				f["strict"] = *rf.JSONSchema.Strict
			}
			if rf.JSONSchema.Description != "" {
				f["description"] = rf.JSONSchema.Description
			}
			b.Text = &TextControls{Format: f}
		default:
			return nil, openai.InvalidRequest("response_format.type", "response_format type %q is not supported (text, json_object or json_schema)", rf.Type).WithCode("invalid_value")
		}
	}
	verbosity := opts.Verbosity
	if req.Verbosity != "" {
		verbosity = req.Verbosity
	}
	if verbosity != "" && (!res.Known || res.Model.SupportVerbosity) {
		if b.Text == nil {
			b.Text = &TextControls{}
		}
		b.Text.Verbosity = verbosity
	}

	// Service tier: only tiers the catalog allows for the model.
	switch req.ServiceTier {
	case "", "auto", "default":
	case "priority", "flex":
		if res.Known && !res.Model.HasServiceTier(req.ServiceTier) {
			return nil, openai.InvalidRequest("service_tier", "service_tier %q is not available for %s", req.ServiceTier, res.Slug).WithCode("unsupported_value")
		}
		b.ServiceTier = req.ServiceTier
	default:
		return nil, openai.InvalidRequest("service_tier", "unknown service_tier %q", req.ServiceTier).WithCode("invalid_value")
	}

	p.SessionID = req.PromptCacheKey
	if p.SessionID == "" {
		p.SessionID = conversationID(b.Instructions, b.Input)
	}
	b.PromptCacheKey = p.SessionID
	return p, nil
}

// nearestEffort picks the supported level closest to effort on the
// none … ultra scale, preferring the higher one on a tie.
func nearestEffort(effort string, supported []string) string {
	rank := func(e string) int {
		for i, x := range catalog.Efforts {
			if x == e {
				return i
			}
		}
		return -1
	}
	want, best, bestDist := rank(effort), supported[0], 1<<30
	for _, s := range supported {
		d := rank(s) - want
		if d < 0 {
			d = -d*2 + 1 // lower levels lose ties
		} else {
			d *= 2
		}
		if d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// conversationID derives a stable UUID-shaped id from the instructions and
// the first user message, so one conversation keeps one prompt cache key.
func conversationID(instructions string, input []json.RawMessage) string {
	h := sha256.New()
	h.Write([]byte(instructions))
	h.Write([]byte{0})
	for _, it := range input {
		if bytes.Contains(it, []byte(`"role":"user"`)) {
			h.Write(it)
			break
		}
	}
	s := h.Sum(nil)
	s[6] = (s[6] & 0x0f) | 0x50 // version 5 style
	s[8] = (s[8] & 0x3f) | 0x80
	x := hex.EncodeToString(s[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
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
			return "", openai.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return s, nil
	}
	var parts []openai.ContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", openai.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	var sb strings.Builder
	for i, pt := range parts {
		switch pt.Type {
		case "text", "input_text", "output_text":
			sb.WriteString(pt.Text)
		case "refusal":
			sb.WriteString(pt.Refusal)
		default:
			return "", openai.InvalidRequest(fmt.Sprintf("%s[%d].type", param, i), "content part type %q is not allowed here (only text)", pt.Type).WithCode("invalid_value")
		}
	}
	return sb.String(), nil
}

// userParts converts user content into input_text / input_image parts.
func userParts(raw json.RawMessage, param string) ([]map[string]any, int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, 0, openai.InvalidRequest(param, "a user message needs content").WithCode("missing_required_parameter")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, 0, openai.InvalidRequest(param, "%s is not a valid string", param).WithCode("invalid_type")
		}
		return []map[string]any{{"type": "input_text", "text": s}}, 0, nil
	}
	var parts []openai.ContentPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, 0, openai.InvalidRequest(param, "%s must be a string or an array of content parts", param).WithCode("invalid_type")
	}
	if len(parts) == 0 {
		return nil, 0, openai.InvalidRequest(param, "%s is an empty array", param).WithCode("invalid_value")
	}
	out := make([]map[string]any, 0, len(parts))
	images := 0
	for i, pt := range parts {
		pp := fmt.Sprintf("%s[%d]", param, i)
		switch pt.Type {
		case "text", "input_text":
			out = append(out, map[string]any{"type": "input_text", "text": pt.Text})
		case "image_url", "input_image":
			if pt.ImageURL == nil || pt.ImageURL.URL == "" {
				return nil, 0, openai.InvalidRequest(pp+".image_url.url", "an image part needs image_url.url").WithCode("missing_required_parameter")
			}
			u, err := imageURL(pt.ImageURL.URL)
			if err != nil {
				return nil, 0, openai.InvalidRequest(pp+".image_url.url", "%v", err).WithCode("invalid_image_url")
			}
			// No "detail": the Codex CLI never sends it on message images.
			out = append(out, map[string]any{"type": "input_image", "image_url": u})
			images++
		default:
			return nil, 0, openai.InvalidRequest(pp+".type", "content part type %q is not supported (text and image_url are)", pt.Type).WithCode("unsupported_value")
		}
	}
	return out, images, nil
}

// imageURL checks an image URL: https, or a base64 data URL (cleaned to the
// standard alphabet with padding).
func imageURL(s string) (string, error) {
	if strings.HasPrefix(s, "data:") {
		meta, data, ok := strings.Cut(s[len("data:"):], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") || !strings.HasPrefix(meta, "image/") {
			return "", fmt.Errorf("a data URL must look like data:image/png;base64,…")
		}
		data = strings.Map(func(r rune) rune {
			switch r {
			case '-':
				return '+'
			case '_':
				return '/'
			case '\n', '\r', ' ', '\t':
				return -1
			}
			return r
		}, data)
		data = strings.TrimRight(data, "=")
		if _, err := base64.RawStdEncoding.DecodeString(data); err != nil {
			return "", fmt.Errorf("the image data URL is not valid base64")
		}
		if pad := len(data) % 4; pad != 0 {
			data += strings.Repeat("=", 4-pad)
		}
		return "data:" + meta + "," + data, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("image_url must be an http(s) URL or a base64 data URL")
	}
	return s, nil
}

// orphanOutput stands in for the result of a tool call the client never
// answered (an interrupted turn): the backend refuses a function_call
// without its output.
const orphanOutput = "aborted: the client sent no result for this tool call"

// answerOrphanCalls adds a function_call_output right after each group of
// function_call items whose calls have no output anywhere in input.
func answerOrphanCalls(input []json.RawMessage) []json.RawMessage {
	type meta struct {
		Type   string `json:"type"`
		CallID string `json:"call_id"`
	}
	metas := make([]meta, len(input))
	answered := map[string]bool{}
	for i, it := range input {
		_ = json.Unmarshal(it, &metas[i])
		if metas[i].Type == "function_call_output" {
			answered[metas[i].CallID] = true
		}
	}
	var out []json.RawMessage
	var pending []string
	flush := func() {
		for _, id := range pending {
			out = append(out, mustJSON(map[string]any{"type": "function_call_output", "call_id": id, "output": orphanOutput}))
		}
		pending = pending[:0]
	}
	for i, it := range input {
		if metas[i].Type != "function_call" && metas[i].Type != "function_call_output" {
			flush()
		}
		out = append(out, it)
		if metas[i].Type == "function_call" && !answered[metas[i].CallID] {
			pending = append(pending, metas[i].CallID)
		}
	}
	flush()
	return out
}

func isString(v any) bool { _, ok := v.(string); return ok }

func describeChoice(v any) string {
	if s, ok := v.(string); ok {
		return "'" + s + "'"
	}
	return "naming a function"
}

// checkToolPairs ensures every function_call_output answers an earlier
// function_call, as the backend requires.
func checkToolPairs(input []json.RawMessage) error {
	calls := map[string]bool{}
	for _, it := range input {
		var x struct {
			Type   string `json:"type"`
			CallID string `json:"call_id"`
		}
		_ = json.Unmarshal(it, &x)
		switch x.Type {
		case "function_call":
			calls[x.CallID] = true
		case "function_call_output":
			if !calls[x.CallID] {
				return openai.InvalidRequest("messages", "tool message with tool_call_id %q does not follow an assistant message with that tool call", x.CallID).WithCode("invalid_value")
			}
		}
	}
	return nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	if len(q) > 1 {
		return strings.Join(q[:len(q)-1], ", ") + ", and " + q[len(q)-1]
	}
	return strings.Join(q, "")
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of JSON-safe values reach here
	}
	return b
}
