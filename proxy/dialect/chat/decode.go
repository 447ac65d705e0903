package chat

import (
	"encoding/json"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// requestFields reads a ChatRequest without reflection
// (dialect.DecodeBody); logit_bias, rare, is left to encoding/json. FuzzRequestFields holds it to encoding/json's result.
var requestFields = jsonscan.NewFields(
	jsonscan.Key("model", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.Model) }),
	jsonscan.Key("messages", func(p *jsonscan.Scanner, v *ChatRequest) bool {
		return jsonscan.Slice(p, &v.Messages, messageFields.Read)
	}),
	jsonscan.Key("stream", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Bool(&v.Stream) }),
	jsonscan.Key("stream_options", func(p *jsonscan.Scanner, v *ChatRequest) bool {
		return jsonscan.Ptr(p, includeFields, &v.StreamOptions)
	}),
	jsonscan.Key("tools", func(p *jsonscan.Scanner, v *ChatRequest) bool { return jsonscan.Slice(p, &v.Tools, readTool) }),
	jsonscan.Key("tool_choice", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.ToolChoice) }),
	jsonscan.Key("parallel_tool_calls", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.BoolPtr(&v.ParallelToolCalls) }),
	jsonscan.Key("reasoning_effort", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.ReasoningEffort) }),
	jsonscan.Key("reasoning", func(p *jsonscan.Scanner, v *ChatRequest) bool {
		return jsonscan.Ptr(p, reasoningFields, &v.Reasoning)
	}),
	jsonscan.Key("response_format", func(p *jsonscan.Scanner, v *ChatRequest) bool {
		return jsonscan.Ptr(p, responseFormatFields, &v.ResponseFormat)
	}),
	jsonscan.Key("verbosity", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.Verbosity) }),
	jsonscan.Key("n", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.IntPtr(&v.N) }),
	jsonscan.Key("prompt_cache_key", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.PromptCacheKey) }),
	jsonscan.Key("functions", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.Functions) }),
	jsonscan.Key("function_call", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.FunctionCall) }),
	jsonscan.Key("service_tier", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.ServiceTier) }),
	jsonscan.Key("user", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.User) }),
	jsonscan.Key("temperature", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.Temperature) }),
	jsonscan.Key("top_p", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.TopP) }),
	jsonscan.Key("max_tokens", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.MaxTokens) }),
	jsonscan.Key("max_completion_tokens", func(p *jsonscan.Scanner, v *ChatRequest) bool {
		return p.Float64Ptr(&v.MaxCompletionTokens)
	}),
	jsonscan.Key("presence_penalty", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.PresencePenalty) }),
	jsonscan.Key("frequency_penalty", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.FrequencyPenalty) }),
	jsonscan.Key("seed", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.Seed) }),
	jsonscan.Key("logprobs", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.BoolPtr(&v.Logprobs) }),
	jsonscan.Key("top_logprobs", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Float64Ptr(&v.TopLogprobs) }),
	jsonscan.Key("logit_bias", jsonscan.Declined[ChatRequest]),
	jsonscan.Key("stop", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.Stop) }),
	jsonscan.Key("input", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.Input) }),
	jsonscan.Key("instructions", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.String(&v.Instructions) }),
	jsonscan.Key("text", func(p *jsonscan.Scanner, v *ChatRequest) bool { return jsonscan.Ptr(p, textFields, &v.Text) }),
	jsonscan.Key("metadata", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.StringMap(&v.Metadata) }),
	jsonscan.Key("store", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.BoolPtr(&v.Store) }),
	jsonscan.Key("system", func(p *jsonscan.Scanner, v *ChatRequest) bool { return p.Raw(&v.System) }),
)

var (
	messageFields = jsonscan.NewFields(
		jsonscan.Key("role", func(p *jsonscan.Scanner, v *Message) bool { return p.String(&v.Role) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *Message) bool { return p.Raw(&v.Content) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *Message) bool { return p.String(&v.Name) }),
		jsonscan.Key("tool_calls", func(p *jsonscan.Scanner, v *Message) bool {
			return jsonscan.Slice(p, &v.ToolCalls, toolCallFields.Read)
		}),
		jsonscan.Key("tool_call_id", func(p *jsonscan.Scanner, v *Message) bool { return p.String(&v.ToolCallID) }),
		jsonscan.Key("refusal", func(p *jsonscan.Scanner, v *Message) bool { return p.String(&v.Refusal) }),
	)
	toolCallFields = jsonscan.NewFields(
		jsonscan.Key("index", func(p *jsonscan.Scanner, v *ToolCall) bool { return p.IntPtr(&v.Index) }),
		jsonscan.Key("id", func(p *jsonscan.Scanner, v *ToolCall) bool { return p.String(&v.ID) }),
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ToolCall) bool { return p.String(&v.Type) }),
		jsonscan.Key("function", func(p *jsonscan.Scanner, v *ToolCall) bool {
			return jsonscan.Ptr(p, functionCallFields, &v.Function)
		}),
		jsonscan.Key("custom", func(p *jsonscan.Scanner, v *ToolCall) bool { return jsonscan.Ptr(p, customCallFields, &v.Custom) }),
	)
	functionCallFields = jsonscan.NewFields(
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *FunctionCall) bool { return p.String(&v.Name) }),
		jsonscan.Key("arguments", func(p *jsonscan.Scanner, v *FunctionCall) bool { return p.String(&v.Arguments) }),
	)
	customCallFields = jsonscan.NewFields(
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *CustomCall) bool { return p.String(&v.Name) }),
		jsonscan.Key("input", func(p *jsonscan.Scanner, v *CustomCall) bool { return p.String(&v.Input) }),
	)
	toolFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Type) }),
		jsonscan.Key("function", func(p *jsonscan.Scanner, v *Tool) bool {
			return jsonscan.Ptr(p, functionSpecFields, &v.Function)
		}),
		jsonscan.Key("custom", func(p *jsonscan.Scanner, v *Tool) bool { return jsonscan.Ptr(p, customSpecFields, &v.Custom) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Description) }),
		jsonscan.Key("parameters", func(p *jsonscan.Scanner, v *Tool) bool { return p.Raw(&v.Parameters) }),
		jsonscan.Key("strict", func(p *jsonscan.Scanner, v *Tool) bool { return p.BoolPtr(&v.Strict) }),
		jsonscan.Key("format", func(p *jsonscan.Scanner, v *Tool) bool { return jsonscan.Ptr(p, toolFormatFields, &v.Format) }),
	)
	functionSpecFields = jsonscan.NewFields(
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *FunctionSpec) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *FunctionSpec) bool { return p.String(&v.Description) }),
		jsonscan.Key("parameters", func(p *jsonscan.Scanner, v *FunctionSpec) bool { return p.Raw(&v.Parameters) }),
		jsonscan.Key("strict", func(p *jsonscan.Scanner, v *FunctionSpec) bool { return p.BoolPtr(&v.Strict) }),
	)
	customSpecFields = jsonscan.NewFields(
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *CustomSpec) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *CustomSpec) bool { return p.String(&v.Description) }),
		jsonscan.Key("format", func(p *jsonscan.Scanner, v *CustomSpec) bool {
			return jsonscan.Ptr(p, toolFormatFields, &v.Format)
		}),
	)
	toolFormatFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ToolFormat) bool { return p.String(&v.Type) }),
		jsonscan.Key("syntax", func(p *jsonscan.Scanner, v *ToolFormat) bool { return p.String(&v.Syntax) }),
		jsonscan.Key("definition", func(p *jsonscan.Scanner, v *ToolFormat) bool { return p.String(&v.Definition) }),
		jsonscan.Key("grammar", func(p *jsonscan.Scanner, v *ToolFormat) bool { return jsonscan.Ptr(p, grammarFields, &v.Grammar) }),
	)
	grammarFields = jsonscan.NewFields(
		jsonscan.Key("syntax", func(p *jsonscan.Scanner, v *Grammar) bool { return p.String(&v.Syntax) }),
		jsonscan.Key("definition", func(p *jsonscan.Scanner, v *Grammar) bool { return p.String(&v.Definition) }),
	)
	contentPartFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ContentPart) bool { return p.String(&v.Type) }),
		jsonscan.Key("text", func(p *jsonscan.Scanner, v *ContentPart) bool { return p.String(&v.Text) }),
		jsonscan.Key("refusal", func(p *jsonscan.Scanner, v *ContentPart) bool { return p.String(&v.Refusal) }),
		jsonscan.Key("image_url", func(p *jsonscan.Scanner, v *ContentPart) bool { return jsonscan.Ptr(p, imageURLFields, &v.ImageURL) }),
		jsonscan.Key("file", func(p *jsonscan.Scanner, v *ContentPart) bool { return jsonscan.Ptr(p, filePartFields, &v.File) }),
	)
	filePartFields = jsonscan.NewFields(
		jsonscan.Key("file_data", func(p *jsonscan.Scanner, v *FilePart) bool { return p.String(&v.FileData) }),
		jsonscan.Key("file_id", func(p *jsonscan.Scanner, v *FilePart) bool { return p.String(&v.FileID) }),
		jsonscan.Key("filename", func(p *jsonscan.Scanner, v *FilePart) bool { return p.String(&v.Filename) }),
	)
	imageURLFields = jsonscan.NewFields(
		jsonscan.Key("url", func(p *jsonscan.Scanner, v *ImageURL) bool { return p.String(&v.URL) }),
		jsonscan.Key("detail", func(p *jsonscan.Scanner, v *ImageURL) bool { return p.String(&v.Detail) }),
	)
	responseFormatFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ResponseFormat) bool { return p.String(&v.Type) }),
		jsonscan.Key("json_schema", func(p *jsonscan.Scanner, v *ResponseFormat) bool {
			return jsonscan.Ptr(p, jsonSchemaFields, &v.JSONSchema)
		}),
	)
	jsonSchemaFields = jsonscan.NewFields(
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *JSONSchemaFormat) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *JSONSchemaFormat) bool { return p.String(&v.Description) }),
		jsonscan.Key("schema", func(p *jsonscan.Scanner, v *JSONSchemaFormat) bool { return p.Raw(&v.Schema) }),
		jsonscan.Key("strict", func(p *jsonscan.Scanner, v *JSONSchemaFormat) bool { return p.BoolPtr(&v.Strict) }),
	)
	includeFields = jsonscan.NewFields(
		jsonscan.Key("include_usage", func(p *jsonscan.Scanner, v *IncludeOptions) bool { return p.Bool(&v.IncludeUsage) }),
	)
	reasoningFields = jsonscan.NewFields(
		jsonscan.Key("effort", func(p *jsonscan.Scanner, v *ReasoningControl) bool { return p.String(&v.Effort) }),
		jsonscan.Key("summary", func(p *jsonscan.Scanner, v *ReasoningControl) bool { return p.String(&v.Summary) }),
	)
	textFields = jsonscan.NewFields(
		jsonscan.Key("verbosity", func(p *jsonscan.Scanner, v *TextControl) bool { return p.String(&v.Verbosity) }),
		jsonscan.Key("format", func(p *jsonscan.Scanner, v *TextControl) bool {
			return jsonscan.Ptr(p, dialect.TextFormatFields, &v.Format)
		}),
	)
)

// readTool reads a tool definition as Tool.UnmarshalJSON does: its fields,
// and the whole definition in Raw.
func readTool(p *jsonscan.Scanner, t *Tool) bool {
	start := p.Pos()
	if !toolFields.Read(p, t) {
		return false
	}
	t.Raw = append(json.RawMessage(nil), p.Since(start)...)
	return true
}
