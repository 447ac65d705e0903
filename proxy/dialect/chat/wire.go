package chat

import (
	"encoding/json"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// ChatRequest is a Chat Completions request. Fields the Codex backend
// rejects (temperature, top_p, max_tokens, stop, seed, …) are accepted by
// the decoder only so that they can be reported; they are never forwarded.
type ChatRequest struct {
	Model             string            `json:"model"`
	Messages          []Message         `json:"messages"`
	Stream            bool              `json:"stream"`
	StreamOptions     *IncludeOptions   `json:"stream_options,omitempty"`
	Tools             []Tool            `json:"tools,omitempty"`
	ToolChoice        json.RawMessage   `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	ReasoningEffort   string            `json:"reasoning_effort,omitempty"`
	Reasoning         *ReasoningControl `json:"reasoning,omitempty"`
	ResponseFormat    *ResponseFormat   `json:"response_format,omitempty"`
	Verbosity         string            `json:"verbosity,omitempty"`
	N                 *int              `json:"n,omitempty"`
	PromptCacheKey    string            `json:"prompt_cache_key,omitempty"`
	// Functions and FunctionCall are the deprecated forms of tools and
	// tool_choice; they are refused with a clear error, never ignored.
	Functions    json.RawMessage `json:"functions,omitempty"`
	FunctionCall json.RawMessage `json:"function_call,omitempty"`
	ServiceTier  string          `json:"service_tier,omitempty"`
	User         string          `json:"user,omitempty"`

	// Dropped (the backend rejects them), but typed, so that a value of
	// the wrong type is a 400 as at OpenAI rather than silently ignored.
	// The integer ones take any number (a Python client's 1000.0 too):
	// they are not used, so only their kind is checked.
	Temperature         *float64           `json:"temperature,omitempty"`
	TopP                *float64           `json:"top_p,omitempty"`
	MaxTokens           *float64           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *float64           `json:"max_completion_tokens,omitempty"`
	PresencePenalty     *float64           `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64           `json:"frequency_penalty,omitempty"`
	Seed                *float64           `json:"seed,omitempty"`
	Logprobs            *bool              `json:"logprobs,omitempty"`
	TopLogprobs         *float64           `json:"top_logprobs,omitempty"`
	LogitBias           map[string]float64 `json:"logit_bias,omitempty"`
	Stop                json.RawMessage    `json:"stop,omitempty"`

	// Input, Instructions and Text belong to the Responses-shaped bodies
	// Cursor's agent mode posts to this route (see cursor.go); metadata,
	// store and include of such bodies are accepted and not forwarded.
	Input        json.RawMessage `json:"input,omitempty"`
	Instructions string          `json:"instructions,omitempty"`
	Text         *TextControl    `json:"text,omitempty"`
	// Metadata and Store are not forwarded (the backend stores nothing),
	// but typed as at OpenAI.
	Metadata map[string]string `json:"metadata,omitempty"`
	Store    *bool             `json:"store,omitempty"`
	// System is Anthropic's system prompt, which Chat Completions does
	// not take: a body that carries it is refused rather than answered
	// without its system prompt.
	System json.RawMessage `json:"system,omitempty"`
}

// ReasoningControl is the reasoning object some clients send instead of
// reasoning_effort.
type ReasoningControl struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// TextControl is the text object of a Responses-shaped body.
type TextControl struct {
	Verbosity string            `json:"verbosity,omitempty"`
	Format    *codex.TextFormat `json:"format,omitempty"`
}

// IncludeOptions are the stream_options of a request.
type IncludeOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one chat message. Content is a string, an array of parts or null.
type Message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Refusal    string          `json:"refusal,omitempty"`
}

// ContentPart is one element of an array content.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Refusal  string    `json:"refusal,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
	File     *FilePart `json:"file,omitempty"`
}

// FilePart is the file of a file part: a PDF as a data URL in FileData
// (FileID names a file of OpenAI's files API, which this app has not).
type FilePart struct {
	FileData string `json:"file_data,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// ImageURL is the image_url of an image part.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// ToolCall is a tool call made by the assistant: a function call, or a
// custom tool call in OpenAI's documented shape
// {"type":"custom","custom":{"name","input"}}.
type ToolCall struct {
	Index    *int          `json:"index,omitempty"`
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Function *FunctionCall `json:"function,omitempty"`
	Custom   *CustomCall   `json:"custom,omitempty"`
}

// FunctionCall is the function of a tool call; Arguments is JSON text, or
// the raw input of a custom tool in the function envelope Cursor needs.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// CustomCall is the custom member of a custom tool call: raw text input.
type CustomCall struct {
	Name  string `json:"name"`
	Input string `json:"input"`
}

// Tool is a tool definition: the nested Chat Completions shape
// ({"type":"function","function":{…}}, {"type":"custom","custom":{…}}) or
// the flat Responses shape Cursor sends ({"type":"function","name",…},
// {"type":"custom","name","format"}).
type Tool struct {
	Type     string        `json:"type"`
	Function *FunctionSpec `json:"function,omitempty"`
	Custom   *CustomSpec   `json:"custom,omitempty"`
	// The flat fields.
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
	Format      *ToolFormat     `json:"format,omitempty"`
	// Raw keeps the whole definition for tool types passed through as is.
	Raw json.RawMessage `json:"-"`
}

// CustomSpec is a custom tool's definition in the nested shape.
type CustomSpec struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Format      *ToolFormat `json:"format,omitempty"`
}

// ToolFormat is a custom tool's input format: {"type":"text"}, or a
// grammar either flat ({"type":"grammar","syntax","definition"}, the
// Responses shape) or nested ({"type":"grammar","grammar":{…}}, the Chat
// Completions shape).
type ToolFormat struct {
	Type       string   `json:"type"`
	Syntax     string   `json:"syntax,omitempty"`
	Definition string   `json:"definition,omitempty"`
	Grammar    *Grammar `json:"grammar,omitempty"`
}

// Grammar is the nested grammar of a custom tool's format.
type Grammar struct {
	Syntax     string `json:"syntax"`
	Definition string `json:"definition"`
}

// UnmarshalJSON keeps the raw definition next to the decoded fields.
func (t *Tool) UnmarshalJSON(b []byte) error {
	type plain Tool
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Tool(p)
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// FunctionSpec is a function tool's definition.
type FunctionSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ResponseFormat is response_format.
type ResponseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
}

// JSONSchemaFormat is the json_schema of a response_format.
type JSONSchemaFormat struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Usage is the token usage of a completion.
type Usage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// Completion is a non-streamed chat.completion.
type Completion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint *string  `json:"system_fingerprint"`
}

// Choice is one choice of a Completion.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     *struct{}       `json:"logprobs"`
}

// ResponseMessage is the assistant message of a Completion.
type ResponseMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	Refusal          *string    `json:"refusal"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	Annotations      []any      `json:"annotations"`
}
