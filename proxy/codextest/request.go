package codextest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ResponsesRequest is an accepted POST /codex/responses body, as handed to
// a Behavior.
type ResponsesRequest struct {
	// Raw is the decoded JSON body.
	Raw map[string]any
	// Header is the request header.
	Header http.Header
	// BodySize is the size of the (decompressed) body in bytes.
	BodySize int

	Model             string
	Catalog           Model // the catalog entry of Model
	ClientVersion     string
	Instructions      string
	Input             []map[string]any
	Tools             []map[string]any
	ToolChoice        any
	ParallelToolCalls bool
	ReasoningEffort   string // "" when absent
	ReasoningSummary  string // "" when absent
	HasReasoning      bool   // "reasoning" is a non-null object
	Include           []string
	PromptCacheKey    string
	ServiceTier       string
	Verbosity         string
	TextFormat        map[string]any // text.format, or nil
	// Lite marks a Responses-Lite request (the lite header). Its tools are
	// those of the additional_tools item (namespaces flattened, each tool
	// with a "namespace" key), its Instructions the leading developer
	// messages, and Input the conversation without the additional_tools
	// and configuration_update items.
	Lite bool

	srv *Server
	ctx context.Context
}

// Context returns the context of the HTTP request.
func (r *ResponsesRequest) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// closing returns a channel closed when the server shuts down.
func (r *ResponsesRequest) closing() <-chan struct{} {
	if r.srv == nil {
		return nil
	}
	return r.srv.closing
}

// sleep waits for d, the client going away or the server closing.
func (r *ResponsesRequest) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-r.closing():
	}
}

// Server returns the fake that received the request.
func (r *ResponsesRequest) Server() *Server { return r.srv }

// IncludesEncryptedReasoning reports whether include lists
// "reasoning.encrypted_content".
func (r *ResponsesRequest) IncludesEncryptedReasoning() bool {
	return slices.Contains(r.Include, "reasoning.encrypted_content")
}

// WantsSummaries reports whether reasoning summaries were requested
// (reasoning.summary set and not "none").
func (r *ResponsesRequest) WantsSummaries() bool {
	return r.ReasoningSummary != "" && r.ReasoningSummary != "none"
}

// HasTool reports whether tools holds a function tool called name.
func (r *ResponsesRequest) HasTool(name string) bool {
	for _, t := range r.Tools {
		if t["type"] == "function" && t["name"] == name {
			return true
		}
	}
	return false
}

// HasCustomTool reports whether tools holds a custom tool called name.
func (r *ResponsesRequest) HasCustomTool(name string) bool {
	for _, t := range r.Tools {
		if t["type"] == "custom" && t["name"] == name {
			return true
		}
	}
	return false
}

// LastUserDirective returns the text of the last user message when it
// starts with "call:" or "call-parallel:", else that message's last text
// part when it does (clients such as Claude Code put reminders in text
// parts before the prompt), else "".
func (r *ResponsesRequest) LastUserDirective() string {
	isDirective := func(s string) bool {
		s = strings.TrimSpace(s)
		return strings.HasPrefix(s, "call:") || strings.HasPrefix(s, "call-parallel:")
	}
	for i := len(r.Input) - 1; i >= 0; i-- {
		it := r.Input[i]
		if itemType(it) != "message" || it["role"] != "user" {
			continue
		}
		if text := messageText(it); isDirective(text) {
			return text
		}
		parts, _ := it["content"].([]any)
		for j := len(parts) - 1; j >= 0; j-- {
			pm, _ := parts[j].(map[string]any)
			if t, ok := pm["text"].(string); ok {
				if isDirective(t) {
					return t
				}
				return ""
			}
		}
		return ""
	}
	return ""
}

// LastItem returns the last input item, or nil.
func (r *ResponsesRequest) LastItem() map[string]any {
	if len(r.Input) == 0 {
		return nil
	}
	return r.Input[len(r.Input)-1]
}

// LastUserText returns the text of the last user message in input: its
// input_text parts joined with "\n" (or its string content).
func (r *ResponsesRequest) LastUserText() string {
	for i := len(r.Input) - 1; i >= 0; i-- {
		it := r.Input[i]
		if itemType(it) == "message" && it["role"] == "user" {
			return messageText(it)
		}
	}
	return ""
}

// ImageCount returns how many input_image parts the whole input holds,
// including those inside function_call_output arrays.
func (r *ResponsesRequest) ImageCount() int {
	n := 0
	for _, it := range r.Input {
		for _, key := range []string{"content", "output"} {
			if parts, ok := it[key].([]any); ok {
				for _, p := range parts {
					if pm, ok := p.(map[string]any); ok && pm["type"] == "input_image" {
						n++
					}
				}
			}
		}
	}
	return n
}

func itemType(it map[string]any) string {
	if t, ok := it["type"].(string); ok {
		return t
	}
	if _, ok := it["role"]; ok {
		return "message"
	}
	return ""
}

func messageText(it map[string]any) string {
	switch c := it["content"].(type) {
	case string:
		return c
	case []any:
		var parts []string
		for _, p := range c {
			if pm, ok := p.(map[string]any); ok {
				if t, ok := pm["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}

// outputText returns a function_call_output's output as text.
func outputText(it map[string]any) string {
	switch o := it["output"].(type) {
	case string:
		return o
	case []any:
		var parts []string
		for _, p := range o {
			if pm, ok := p.(map[string]any); ok {
				if t, ok := pm["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}

// validationError is a rejection: the status, the exact body and the
// message recorded in Recorded.Rejection.
type validationError struct {
	status  int
	body    []byte
	message string
}

func detailErr(msg string) *validationError {
	return &validationError{status: http.StatusBadRequest, body: detail(msg), message: msg}
}

func oaiErr(msg, param, code string) *validationError {
	return &validationError{status: http.StatusBadRequest, body: openAIError(msg, param, code), message: msg}
}

// UnsupportedParameters lists the body fields the backend rejects with
// {"detail":"Unsupported parameter: <name>"}, in the order they are
// checked.
var UnsupportedParameters = []string{
	"max_output_tokens", "temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty",
	"previous_response_id", "stream_options", "safety_identifier", "prompt_cache_retention", "generate",
	"max_tokens", "max_completion_tokens", "logprobs", "top_logprobs", "n", "seed", "stop", "user",
	"metadata", "logit_bias", "truncation", "background",
}

// quoteList renders 'a', 'b', and 'c' the way OpenAI error messages do.
func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + v + "'"
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	case 2:
		return q[0] + " and " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + ", and " + q[len(q)-1]
}

func unsupportedValue(val, slug, param string, allowed []string) *validationError {
	msg := fmt.Sprintf("Unsupported value: '%s' is not supported with the '%s' model. Supported values are: %s.",
		val, slug, quoteList(allowed))
	return oaiErr(msg, param, "unsupported_value")
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown type"
}

func invalidType(param, want string, got any) *validationError {
	return oaiErr(fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", param, want, typeName(got)),
		param, "invalid_type")
}

func missingParam(param string) *validationError {
	return oaiErr(fmt.Sprintf("Missing required parameter: '%s'.", param), param, "missing_required_parameter")
}

func invalidValue(param, val string, allowed []string) *validationError {
	return oaiErr(fmt.Sprintf("Invalid value: '%s'. Supported values are: %s.", val, quoteList(allowed)),
		param, "invalid_value")
}

// parseAndValidate applies the backend's checks in a fixed order and
// returns the typed request.
func parseAndValidate(raw map[string]any, h http.Header, models []Model) (*ResponsesRequest, *validationError) {
	if raw["stream"] != true {
		return nil, detailErr("Stream must be set to true")
	}
	if store, ok := raw["store"]; !ok || store != false {
		return nil, detailErr("Store must be set to false")
	}
	lite := strings.EqualFold(strings.TrimSpace(h.Get(LiteHeader)), "true")
	instr, ok := raw["instructions"].(string)
	if !ok && !lite {
		return nil, detailErr("Instructions are required")
	}
	for _, p := range UnsupportedParameters {
		if _, ok := raw[p]; ok {
			return nil, detailErr("Unsupported parameter: " + p)
		}
	}
	req := &ResponsesRequest{Raw: raw, Instructions: instr, Lite: lite}

	slug, _ := raw["model"].(string)
	if slug == "" {
		return nil, detailErr("Model is required")
	}
	m, ok := findModel(models, slug)
	if !ok {
		return nil, detailErr(fmt.Sprintf("The '%s' model is not supported when using Codex with a ChatGPT account.", slug))
	}
	if err := checkShape(raw, lite, m); err != nil {
		return nil, err
	}
	req.Model, req.Catalog = slug, m
	req.ClientVersion = ClientVersion(h)
	if versionLess(req.ClientVersion, m.MinimalClientVersion) {
		return nil, detailErr(fmt.Sprintf("The '%s' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again.", slug))
	}

	if err := parseReasoning(raw, req, m); err != nil {
		return nil, err
	}
	if err := parseText(raw, req, m); err != nil {
		return nil, err
	}
	if st, ok := raw["service_tier"]; ok && st != nil {
		tier, ok := st.(string)
		if !ok {
			return nil, invalidType("service_tier", "a string", st)
		}
		if tier != "auto" && tier != "default" && !m.HasServiceTier(tier) {
			allowed := []string{"auto", "default"}
			for _, t := range m.ServiceTiers {
				allowed = append(allowed, t.ID)
			}
			return nil, unsupportedValue(tier, slug, "service_tier", allowed)
		}
		req.ServiceTier = tier
	}
	if inc, ok := raw["include"]; ok && inc != nil {
		list, ok := inc.([]any)
		if !ok {
			return nil, invalidType("include", "an array", inc)
		}
		for _, v := range list {
			if s, ok := v.(string); ok {
				req.Include = append(req.Include, s)
			}
		}
	}
	req.PromptCacheKey, _ = raw["prompt_cache_key"].(string)
	req.ParallelToolCalls, _ = raw["parallel_tool_calls"].(bool)
	req.ToolChoice = raw["tool_choice"]

	if err := parseTools(raw, req); err != nil {
		return nil, err
	}
	if err := parseInput(raw, req); err != nil {
		return nil, err
	}
	if lite {
		liteView(req)
	}
	return req, nil
}

var reasoningSummaries = []string{"auto", "concise", "detailed", "none"}

func parseReasoning(raw map[string]any, req *ResponsesRequest, m Model) *validationError {
	rv, ok := raw["reasoning"]
	if !ok || rv == nil {
		return nil
	}
	r, ok := rv.(map[string]any)
	if !ok {
		return invalidType("reasoning", "an object", rv)
	}
	req.HasReasoning = true
	if ev, ok := r["effort"]; ok && ev != nil {
		e, ok := ev.(string)
		if !ok {
			return invalidType("reasoning.effort", "a string", ev)
		}
		if !slices.Contains(m.Efforts(), e) {
			return unsupportedValue(e, m.Slug, "reasoning.effort", m.Efforts())
		}
		req.ReasoningEffort = e
	}
	if sv, ok := r["summary"]; ok && sv != nil {
		s, ok := sv.(string)
		if !ok {
			return invalidType("reasoning.summary", "a string", sv)
		}
		if !slices.Contains(reasoningSummaries, s) {
			return invalidValue("reasoning.summary", s, reasoningSummaries)
		}
		req.ReasoningSummary = s
	}
	return nil
}

var verbosities = []string{"low", "medium", "high"}

func parseText(raw map[string]any, req *ResponsesRequest, m Model) *validationError {
	tv, ok := raw["text"]
	if !ok || tv == nil {
		return nil
	}
	t, ok := tv.(map[string]any)
	if !ok {
		return invalidType("text", "an object", tv)
	}
	if vv, ok := t["verbosity"]; ok && vv != nil {
		v, ok := vv.(string)
		if !ok {
			return invalidType("text.verbosity", "a string", vv)
		}
		if !m.SupportVerbosity {
			return oaiErr(fmt.Sprintf("Unsupported parameter: 'text.verbosity' is not supported with the '%s' model.", m.Slug),
				"text.verbosity", "unsupported_parameter")
		}
		if !slices.Contains(verbosities, v) {
			return invalidValue("text.verbosity", v, verbosities)
		}
		req.Verbosity = v
	}
	if fv, ok := t["format"]; ok && fv != nil {
		f, ok := fv.(map[string]any)
		if !ok {
			return invalidType("text.format", "an object", fv)
		}
		ft, _ := f["type"].(string)
		switch ft {
		case "text", "json_object":
		case "json_schema":
			if name, _ := f["name"].(string); name == "" {
				return missingParam("text.format.name")
			}
			if _, ok := f["schema"].(map[string]any); !ok {
				return missingParam("text.format.schema")
			}
		case "":
			return missingParam("text.format.type")
		default:
			return invalidValue("text.format.type", ft, []string{"text", "json_schema", "json_object"})
		}
		req.TextFormat = f
	}
	return nil
}

var toolTypes = []string{
	"function", "custom", "web_search", "web_search_preview", "image_generation", "local_shell",
	"tool_search", "namespace", "file_search", "code_interpreter", "mcp",
}

func parseTools(raw map[string]any, req *ResponsesRequest) *validationError {
	tv, ok := raw["tools"]
	if !ok || tv == nil {
		return nil
	}
	list, ok := tv.([]any)
	if !ok {
		return invalidType("tools", "an array", tv)
	}
	for i, v := range list {
		param := fmt.Sprintf("tools[%d]", i)
		t, ok := v.(map[string]any)
		if !ok {
			return invalidType(param, "an object", v)
		}
		tt, _ := t["type"].(string)
		if tt == "" {
			return missingParam(param + ".type")
		}
		if !slices.Contains(toolTypes, tt) {
			return invalidValue(param+".type", tt, toolTypes)
		}
		if tt == "function" || tt == "custom" {
			// A Chat Completions {"type":"function","function":{...}}
			// tool has no top-level name.
			if name, _ := t["name"].(string); name == "" {
				return missingParam(param + ".name")
			}
		}
		if tt == "custom" {
			if err := validateCustomTool(param, t); err != nil {
				return err
			}
		}
		req.Tools = append(req.Tools, t)
	}
	return nil
}

var grammarSyntaxes = []string{"lark", "regex"}

// validateCustomTool checks a custom tool as the Responses API does: no
// function-only fields, and a format that is text or a grammar with a
// syntax and a definition.
func validateCustomTool(param string, t map[string]any) *validationError {
	for _, k := range []string{"parameters", "strict", "function", "custom"} {
		if _, ok := t[k]; ok {
			return oaiErr(fmt.Sprintf("Unknown parameter: '%s.%s'.", param, k), param+"."+k, "unknown_parameter")
		}
	}
	fv, ok := t["format"]
	if !ok || fv == nil {
		return nil
	}
	f, ok := fv.(map[string]any)
	if !ok {
		return invalidType(param+".format", "an object", fv)
	}
	ft, _ := f["type"].(string)
	switch ft {
	case "text":
		return nil
	case "grammar":
		syntax, _ := f["syntax"].(string)
		if !slices.Contains(grammarSyntaxes, syntax) {
			return invalidValue(param+".format.syntax", syntax, grammarSyntaxes)
		}
		if def, _ := f["definition"].(string); def == "" {
			return missingParam(param + ".format.definition")
		}
		return nil
	}
	return invalidValue(param+".format.type", ft, []string{"text", "grammar"})
}

var itemTypes = []string{
	"message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
	"custom_tool_call_output", "local_shell_call", "local_shell_call_output", "web_search_call",
	"image_generation_call", "item_reference", "compaction",
}

var (
	inputRoles         = []string{"user", "assistant", "developer"}
	userPartTypes      = []string{"input_text", "input_image", "input_file"}
	assistantPartTypes = []string{"output_text", "refusal"}
)

func itemNotFound(id string) *validationError {
	msg := fmt.Sprintf("Item with id '%s' not found. Items are not persisted when `store` is set to false.", id)
	return oaiErr(msg, "input", "")
}

func parseInput(raw map[string]any, req *ResponsesRequest) *validationError {
	iv, ok := raw["input"]
	if !ok || iv == nil {
		return missingParam("input")
	}
	if s, ok := iv.(string); ok {
		req.Input = []map[string]any{{"type": "message", "role": "user", "content": s}}
		return nil
	}
	list, ok := iv.([]any)
	if !ok {
		return invalidType("input", "a string or an array", iv)
	}
	st := &inputState{calls: map[string]bool{}, customCalls: map[string]bool{}, lite: req.Lite}
	st.declare(req.Tools)
	for _, v := range list {
		if it, ok := v.(map[string]any); ok && itemType(it) == "additional_tools" {
			tools, _ := it["tools"].([]any)
			st.declareRaw(tools)
		}
	}
	for i, v := range list {
		param := fmt.Sprintf("input[%d]", i)
		it, ok := v.(map[string]any)
		if !ok {
			return invalidType(param, "an object", v)
		}
		typ := itemType(it)
		if typ == "" {
			return missingParam(param + ".type")
		}
		allowed := itemTypes
		if req.Lite {
			allowed = liteItemTypes
		}
		if !slices.Contains(allowed, typ) {
			return invalidValue(param+".type", typ, allowed)
		}
		if err := st.validate(param, typ, it); err != nil {
			return err
		}
		req.Input = append(req.Input, it)
	}
	return nil
}

// validateItem checks one input item as the backend does, noting the call
// ids that later outputs may answer.
func validateItem(param, typ string, it map[string]any, calls, customCalls map[string]bool) *validationError {
	switch typ {
	case "additional_tools":
		return validateAdditionalTools(param, it)
	case "configuration_update":
		return nil
	case "message":
		return validateMessage(param, it)
	case "reasoning":
		id, _ := it["id"].(string)
		enc, _ := it["encrypted_content"].(string)
		if id != "" && enc == "" {
			return itemNotFound(id)
		}
		if s, ok := it["summary"]; ok && s != nil {
			if _, ok := s.([]any); !ok {
				return invalidType(param+".summary", "an array", s)
			}
		} else {
			return missingParam(param + ".summary")
		}
	case "item_reference":
		id, _ := it["id"].(string)
		return itemNotFound(id)
	case "function_call", "custom_tool_call":
		callID, _ := it["call_id"].(string)
		if callID == "" {
			return missingParam(param + ".call_id")
		}
		if name, _ := it["name"].(string); name == "" {
			return missingParam(param + ".name")
		}
		if typ == "function_call" {
			a, ok := it["arguments"]
			if !ok {
				return missingParam(param + ".arguments")
			}
			if _, ok := a.(string); !ok {
				return invalidType(param+".arguments", "a string", a)
			}
			calls[callID] = true
		} else {
			if in, ok := it["input"]; !ok {
				return missingParam(param + ".input")
			} else if _, ok := in.(string); !ok {
				return invalidType(param+".input", "a string", in)
			}
			customCalls[callID] = true
		}
	case "function_call_output", "custom_tool_call_output":
		callID, _ := it["call_id"].(string)
		if callID == "" {
			return missingParam(param + ".call_id")
		}
		known := calls
		if typ == "custom_tool_call_output" {
			known = customCalls
		}
		if !known[callID] {
			return oaiErr(fmt.Sprintf("No tool call found for function call output with call_id %s.", callID), "input", "")
		}
		o, ok := it["output"]
		if !ok {
			return missingParam(param + ".output")
		}
		switch ov := o.(type) {
		case string:
		case []any:
			return validateParts(param+".output", ov, userPartTypes)
		default:
			return invalidType(param+".output", "a string or an array", o)
		}
	}
	return nil
}

func validateMessage(param string, it map[string]any) *validationError {
	rv, ok := it["role"]
	if !ok || rv == nil {
		return missingParam(param + ".role")
	}
	role, _ := rv.(string)
	if !slices.Contains(inputRoles, role) {
		return invalidValue(param+".role", role, inputRoles)
	}
	cv, ok := it["content"]
	if !ok || cv == nil {
		return missingParam(param + ".content")
	}
	allowed := userPartTypes
	if role == "assistant" {
		allowed = assistantPartTypes
	}
	switch c := cv.(type) {
	case string:
		return nil
	case []any:
		return validateParts(param+".content", c, allowed)
	default:
		return invalidType(param+".content", "a string or an array", cv)
	}
}

func validateParts(param string, parts []any, allowed []string) *validationError {
	for j, pv := range parts {
		pp := fmt.Sprintf("%s[%d]", param, j)
		p, ok := pv.(map[string]any)
		if !ok {
			return invalidType(pp, "an object", pv)
		}
		pt, _ := p["type"].(string)
		if pt == "" {
			return missingParam(pp + ".type")
		}
		if !slices.Contains(allowed, pt) {
			return invalidValue(pp+".type", pt, allowed)
		}
		switch pt {
		case "input_text", "output_text":
			tv, ok := p["text"]
			if !ok {
				return missingParam(pp + ".text")
			}
			if _, ok := tv.(string); !ok {
				return invalidType(pp+".text", "a string", tv)
			}
		case "input_image":
			url, _ := p["image_url"].(string)
			fileID, _ := p["file_id"].(string)
			if url == "" && fileID == "" {
				return missingParam(pp + ".image_url")
			}
			if url != "" {
				if err := validateImageURL(pp+".image_url", url); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// InvalidImageMessage is the start of the backend's error for image data
// that cannot be decoded.
const InvalidImageMessage = "The image data you provided does not represent a valid image"

func validateImageURL(param, url string) *validationError {
	lower := strings.ToLower(url)
	if strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://") {
		return nil
	}
	if !strings.HasPrefix(lower, "data:") {
		return oaiErr(fmt.Sprintf("Invalid '%s'. Expected a valid URL, but got a value with an invalid format.", param),
			param, "invalid_value")
	}
	meta, data, ok := strings.Cut(url[len("data:"):], ",")
	if !ok || !strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return oaiErr(InvalidImageMessage+". Please check your input and try again with one of the supported image formats: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].",
			param, "invalid_image")
	}
	mime := strings.ToLower(strings.TrimSuffix(meta[:len(meta)-len(";base64")], ";"))
	if !strings.HasPrefix(mime, "image/") {
		return oaiErr(fmt.Sprintf("Invalid '%s'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type '%s'.", param, mime),
			param, "invalid_value")
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(b) == 0 {
		return oaiErr(InvalidImageMessage+". Please check your input and try again with one of the supported image formats: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'].",
			param, "invalid_image")
	}
	return nil
}
