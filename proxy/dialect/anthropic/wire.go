package anthropic

import (
	"encoding/json"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
)

// Request is a Messages API request (POST /v1/messages). Fields the
// backend has no use for (stop_sequences, temperature, top_p, top_k,
// cache_control on blocks) are accepted and never forwarded. Its integers
// may be written with a zero fraction (1024.0), as Anthropic's API takes
// them.
type Request struct {
	Model         string            `json:"model"`
	MaxTokens     *dialect.WholeInt `json:"max_tokens"`
	Messages      []Message         `json:"messages"`
	System        json.RawMessage   `json:"system,omitempty"`
	Stream        bool              `json:"stream"`
	Tools         []Tool            `json:"tools,omitempty"`
	ToolChoice    *ToolChoice       `json:"tool_choice,omitempty"`
	Thinking      *Thinking         `json:"thinking,omitempty"`
	Metadata      *Metadata         `json:"metadata,omitempty"`
	OutputConfig  *OutputConfig     `json:"output_config,omitempty"`
	StopSequences []string          `json:"stop_sequences,omitempty"`
	Temperature   *float64          `json:"temperature,omitempty"`
	TopP          *float64          `json:"top_p,omitempty"`
	TopK          *dialect.WholeInt `json:"top_k,omitempty"`
	ServiceTier   string            `json:"service_tier,omitempty"`
	// MCPServers are remote MCP servers for the API to call (a beta):
	// refused, as the server tools are, never dropped silently.
	MCPServers json.RawMessage `json:"mcp_servers,omitempty"`
}

// Message is one conversation turn: Content is a string or an array of
// content blocks.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Block is one content block of any type; which fields are used depends on
// Type.
type Block struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	// image, document
	Source  *Source `json:"source,omitempty"`
	Title   string  `json:"title,omitempty"`
	Context string  `json:"context,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result: Content is a string or an array of blocks.
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// thinking, redacted_thinking
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
}

// Source is the source of an image or document block.
type Source struct {
	Type      string          `json:"type"` // base64 | url | text | content | file
	MediaType string          `json:"media_type,omitempty"`
	Data      string          `json:"data,omitempty"`
	URL       string          `json:"url,omitempty"`
	FileID    string          `json:"file_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
}

// Tool is a tool definition: a client tool (name, description,
// input_schema) or a server tool identified by a versioned type.
type Tool struct {
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
}

// ToolChoice is tool_choice.
type ToolChoice struct {
	Type                   string `json:"type"` // auto | any | tool | none
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// Thinking is the extended-thinking control.
type Thinking struct {
	Type string `json:"type"` // enabled | adaptive | disabled
	// BudgetTokens is nil when not sent (required when enabled).
	BudgetTokens *dialect.WholeInt `json:"budget_tokens,omitempty"`
}

// Metadata is the request metadata; user_id keys the prompt cache.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// OutputConfig carries the effort control of newer API versions.
type OutputConfig struct {
	Effort string `json:"effort,omitempty"`
}

// CountRequest is a POST /v1/messages/count_tokens request: a Messages
// request without max_tokens.
type CountRequest struct {
	Model        string          `json:"model"`
	Messages     []Message       `json:"messages"`
	System       json.RawMessage `json:"system,omitempty"`
	Tools        []Tool          `json:"tools,omitempty"`
	ToolChoice   *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking     *Thinking       `json:"thinking,omitempty"`
	OutputConfig *OutputConfig   `json:"output_config,omitempty"`
}

// Response is a non-streamed answer (a message object).
type Response struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []OutBlock      `json:"content"`
	StopReason   string          `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        Usage           `json:"usage"`
	Container    json.RawMessage `json:"container,omitempty"`
}

// OutBlock is one content block of an answer.
type OutBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	Data      string          `json:"data,omitempty"`
}

// Usage is the token usage of an answer. InputTokens excludes the tokens
// read from the prompt cache, as Anthropic reports it.
type Usage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// CountResponse is the count_tokens answer.
type CountResponse struct {
	InputTokens int64 `json:"input_tokens"`
}
