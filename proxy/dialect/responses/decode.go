package responses

import (
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// requestFields reads a Request without reflection (dialect.DecodeBody).
// FuzzRequestFields holds it to encoding/json's result.
var requestFields = jsonscan.NewFields(
	jsonscan.Key("model", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.Model) }),
	jsonscan.Key("input", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.Input) }),
	jsonscan.Key("instructions", func(p *jsonscan.Scanner, v *Request) bool { return p.StringPtr(&v.Instructions) }),
	jsonscan.Key("tools", func(p *jsonscan.Scanner, v *Request) bool { return p.RawArray(&v.Tools) }),
	jsonscan.Key("tool_choice", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.ToolChoice) }),
	jsonscan.Key("parallel_tool_calls", func(p *jsonscan.Scanner, v *Request) bool { return p.BoolPtr(&v.ParallelToolCalls) }),
	jsonscan.Key("reasoning", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Ptr(p, reasoningFields, &v.Reasoning) }),
	jsonscan.Key("text", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Ptr(p, textFields, &v.Text) }),
	jsonscan.Key("include", func(p *jsonscan.Scanner, v *Request) bool { return p.Strings(&v.Include) }),
	jsonscan.Key("prompt_cache_key", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.PromptCacheKey) }),
	jsonscan.Key("metadata", func(p *jsonscan.Scanner, v *Request) bool { return p.StringMap(&v.Metadata) }),
	jsonscan.Key("store", func(p *jsonscan.Scanner, v *Request) bool { return p.BoolPtr(&v.Store) }),
	jsonscan.Key("previous_response_id", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.PreviousResponseID) }),
	jsonscan.Key("stream", func(p *jsonscan.Scanner, v *Request) bool { return p.Bool(&v.Stream) }),
	jsonscan.Key("service_tier", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.ServiceTier) }),
	jsonscan.Key("client_metadata", func(p *jsonscan.Scanner, v *Request) bool { return p.StringMap(&v.ClientMetadata) }),
	jsonscan.Key("background", func(p *jsonscan.Scanner, v *Request) bool { return p.Bool(&v.Background) }),
	jsonscan.Key("conversation", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.Conversation) }),
	jsonscan.Key("prompt", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.Prompt) }),
	jsonscan.Key("temperature", func(p *jsonscan.Scanner, v *Request) bool { return p.Float64Ptr(&v.Temperature) }),
	jsonscan.Key("top_p", func(p *jsonscan.Scanner, v *Request) bool { return p.Float64Ptr(&v.TopP) }),
	jsonscan.Key("max_output_tokens", func(p *jsonscan.Scanner, v *Request) bool { return p.Int64Ptr(&v.MaxOutputTokens) }),
	jsonscan.Key("truncation", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.Truncation) }),
	jsonscan.Key("user", func(p *jsonscan.Scanner, v *Request) bool { return p.StringPtr(&v.User) }),
)

var (
	reasoningFields = jsonscan.NewFields(
		jsonscan.Key("effort", func(p *jsonscan.Scanner, v *ReasoningParam) bool { return p.String(&v.Effort) }),
		jsonscan.Key("summary", func(p *jsonscan.Scanner, v *ReasoningParam) bool { return p.String(&v.Summary) }),
		jsonscan.Key("generate_summary", func(p *jsonscan.Scanner, v *ReasoningParam) bool { return p.String(&v.GenerateSummary) }),
	)
	messageItemFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *messageItem) bool { return p.String(&v.Type) }),
		jsonscan.Key("role", func(p *jsonscan.Scanner, v *messageItem) bool { return p.String(&v.Role) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *messageItem) bool { return p.Raw(&v.Content) }),
		jsonscan.Key("phase", func(p *jsonscan.Scanner, v *messageItem) bool { return p.String(&v.Phase) }),
	)
	// The nested Chat Completions shape of a function tool is left to
	// encoding/json.
	functionToolFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *functionTool) bool { return p.String(&v.Type) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *functionTool) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *functionTool) bool { return p.String(&v.Description) }),
		jsonscan.Key("parameters", func(p *jsonscan.Scanner, v *functionTool) bool { return p.Raw(&v.Parameters) }),
		jsonscan.Key("strict", func(p *jsonscan.Scanner, v *functionTool) bool { return p.BoolPtr(&v.Strict) }),
		jsonscan.Key("function", jsonscan.Declined[functionTool]),
		jsonscan.Key("format", func(p *jsonscan.Scanner, v *functionTool) bool { return jsonscan.Ptr(p, toolFormatFields, &v.Format) }),
	)
	toolFormatFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *codex.ToolFormat) bool { return p.String(&v.Type) }),
		jsonscan.Key("syntax", func(p *jsonscan.Scanner, v *codex.ToolFormat) bool { return p.String(&v.Syntax) }),
		jsonscan.Key("definition", func(p *jsonscan.Scanner, v *codex.ToolFormat) bool { return p.String(&v.Definition) }),
	)
	textFields = jsonscan.NewFields(
		jsonscan.Key("format", func(p *jsonscan.Scanner, v *TextParam) bool {
			return jsonscan.Ptr(p, dialect.TextFormatFields, &v.Format)
		}),
		jsonscan.Key("verbosity", func(p *jsonscan.Scanner, v *TextParam) bool { return p.String(&v.Verbosity) }),
	)
)
