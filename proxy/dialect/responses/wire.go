package responses

import (
	"encoding/json"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// Request is a POST /v1/responses body. Fields the backend rejects
// (temperature, top_p, max_output_tokens, truncation, user, …) are decoded
// only to be echoed in the response object; they are never forwarded.
type Request struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       *string           `json:"instructions"`
	Tools              []json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Reasoning          *ReasoningParam   `json:"reasoning"`
	Text               *TextParam        `json:"text"`
	Include            []string          `json:"include"`
	PromptCacheKey     string            `json:"prompt_cache_key"`
	Metadata           map[string]string `json:"metadata"`
	Store              *bool             `json:"store"`
	PreviousResponseID string            `json:"previous_response_id"`
	Stream             bool              `json:"stream"`
	ServiceTier        string            `json:"service_tier"`
	ClientMetadata     map[string]string `json:"client_metadata"`

	// Refused: they need state or services this app does not have.
	Background   bool            `json:"background"`
	Conversation json.RawMessage `json:"conversation"`
	Prompt       json.RawMessage `json:"prompt"`

	// Echoed, never forwarded.
	Temperature     *float64 `json:"temperature"`
	TopP            *float64 `json:"top_p"`
	MaxOutputTokens *int64   `json:"max_output_tokens"`
	Truncation      string   `json:"truncation"`
	User            *string  `json:"user"`
}

// ReasoningParam is the request's reasoning object.
type ReasoningParam struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
	// GenerateSummary is the deprecated name of Summary.
	GenerateSummary string `json:"generate_summary,omitempty"`
}

// TextParam is the request's text object.
type TextParam struct {
	Format    *codex.TextFormat `json:"format,omitempty"`
	Verbosity string            `json:"verbosity,omitempty"`
}

// Response is the response object: returned by non-streamed requests and
// GET /v1/responses/{id}, and carried by the response.* lifecycle events.
type Response struct {
	ID                 string                   `json:"id"`
	Object             string                   `json:"object"`
	CreatedAt          int64                    `json:"created_at"`
	Status             string                   `json:"status"`
	Background         bool                     `json:"background"`
	Error              *ResponseError           `json:"error"`
	IncompleteDetails  *codex.IncompleteDetails `json:"incomplete_details"`
	Instructions       *string                  `json:"instructions"`
	MaxOutputTokens    *int64                   `json:"max_output_tokens"`
	Model              string                   `json:"model"`
	Output             []json.RawMessage        `json:"output"`
	ParallelToolCalls  bool                     `json:"parallel_tool_calls"`
	PreviousResponseID *string                  `json:"previous_response_id"`
	Reasoning          ReasoningEcho            `json:"reasoning"`
	ServiceTier        string                   `json:"service_tier,omitempty"`
	Store              bool                     `json:"store"`
	Temperature        *float64                 `json:"temperature"`
	Text               TextEcho                 `json:"text"`
	ToolChoice         json.RawMessage          `json:"tool_choice"`
	Tools              []json.RawMessage        `json:"tools"`
	TopP               *float64                 `json:"top_p"`
	Truncation         string                   `json:"truncation"`
	Usage              *codex.Usage             `json:"usage"`
	User               *string                  `json:"user"`
	Metadata           map[string]string        `json:"metadata"`

	instructions escaped // Instructions' JSON, written by echo for AppendJSON
}

// ResponseError is the error of a failed response. A usage limit carries
// the backend's plan and reset fields, as its 429 does: the Codex CLI
// reads them to say when to try again.
type ResponseError struct {
	Code            string `json:"code"`
	Message         string `json:"message"`
	PlanType        string `json:"plan_type,omitempty"`
	ResetsAt        int64  `json:"resets_at,omitempty"`
	ResetsInSeconds int64  `json:"resets_in_seconds,omitempty"`
}

// ReasoningEcho is the reasoning settings a response reports.
type ReasoningEcho struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

// TextEcho is the text settings a response reports.
type TextEcho struct {
	Format    codex.TextFormat `json:"format"`
	Verbosity string           `json:"verbosity,omitempty"`
}

// Deleted is the answer of DELETE /v1/responses/{id}.
type Deleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// messageItem is an input message as clients send it: content is a string
// or an array of parts, and "type" may be left out.
type messageItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Phase   string          `json:"phase"`
}

// functionTool is a function tool; the nested Chat Completions shape
// ({"type":"function","function":{…}}) is accepted too.
type functionTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
	Function    *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
	Format *codex.ToolFormat `json:"format"`
}
