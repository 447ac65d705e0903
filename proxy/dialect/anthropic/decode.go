package anthropic

import (
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan"
)

// requestFields reads a Request without reflection (dialect.DecodeBody).
// FuzzRequestFields holds it to encoding/json's result.
var requestFields = jsonscan.NewFields(
	jsonscan.Key("model", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.Model) }),
	jsonscan.Key("max_tokens", func(p *jsonscan.Scanner, v *Request) bool { return wholeInt(p, &v.MaxTokens) }),
	jsonscan.Key("messages", func(p *jsonscan.Scanner, v *Request) bool {
		return jsonscan.Slice(p, &v.Messages, messageFields.Read)
	}),
	jsonscan.Key("system", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.System) }),
	jsonscan.Key("stream", func(p *jsonscan.Scanner, v *Request) bool { return p.Bool(&v.Stream) }),
	jsonscan.Key("tools", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Slice(p, &v.Tools, toolFields.Read) }),
	jsonscan.Key("tool_choice", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Ptr(p, toolChoiceFields, &v.ToolChoice) }),
	jsonscan.Key("thinking", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Ptr(p, thinkingFields, &v.Thinking) }),
	jsonscan.Key("metadata", func(p *jsonscan.Scanner, v *Request) bool { return jsonscan.Ptr(p, metadataFields, &v.Metadata) }),
	jsonscan.Key("output_config", func(p *jsonscan.Scanner, v *Request) bool {
		return jsonscan.Ptr(p, outputConfigFields, &v.OutputConfig)
	}),
	jsonscan.Key("stop_sequences", func(p *jsonscan.Scanner, v *Request) bool { return p.Strings(&v.StopSequences) }),
	jsonscan.Key("temperature", func(p *jsonscan.Scanner, v *Request) bool { return p.Float64Ptr(&v.Temperature) }),
	jsonscan.Key("top_p", func(p *jsonscan.Scanner, v *Request) bool { return p.Float64Ptr(&v.TopP) }),
	jsonscan.Key("top_k", func(p *jsonscan.Scanner, v *Request) bool { return wholeInt(p, &v.TopK) }),
	jsonscan.Key("service_tier", func(p *jsonscan.Scanner, v *Request) bool { return p.String(&v.ServiceTier) }),
	jsonscan.Key("mcp_servers", func(p *jsonscan.Scanner, v *Request) bool { return p.Raw(&v.MCPServers) }),
)

var (
	messageFields = jsonscan.NewFields(
		jsonscan.Key("role", func(p *jsonscan.Scanner, v *Message) bool { return p.String(&v.Role) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *Message) bool { return p.Raw(&v.Content) }),
	)
	blockFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Type) }),
		jsonscan.Key("text", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Text) }),
		jsonscan.Key("source", func(p *jsonscan.Scanner, v *Block) bool { return jsonscan.Ptr(p, sourceFields, &v.Source) }),
		jsonscan.Key("title", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Title) }),
		jsonscan.Key("context", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Context) }),
		jsonscan.Key("id", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.ID) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Name) }),
		jsonscan.Key("input", func(p *jsonscan.Scanner, v *Block) bool { return p.Raw(&v.Input) }),
		jsonscan.Key("tool_use_id", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.ToolUseID) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *Block) bool { return p.Raw(&v.Content) }),
		jsonscan.Key("is_error", func(p *jsonscan.Scanner, v *Block) bool { return p.Bool(&v.IsError) }),
		jsonscan.Key("thinking", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Thinking) }),
		jsonscan.Key("signature", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Signature) }),
		jsonscan.Key("data", func(p *jsonscan.Scanner, v *Block) bool { return p.String(&v.Data) }),
	)
	sourceFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Source) bool { return p.String(&v.Type) }),
		jsonscan.Key("media_type", func(p *jsonscan.Scanner, v *Source) bool { return p.String(&v.MediaType) }),
		jsonscan.Key("data", func(p *jsonscan.Scanner, v *Source) bool { return p.String(&v.Data) }),
		jsonscan.Key("url", func(p *jsonscan.Scanner, v *Source) bool { return p.String(&v.URL) }),
		jsonscan.Key("file_id", func(p *jsonscan.Scanner, v *Source) bool { return p.String(&v.FileID) }),
		jsonscan.Key("content", func(p *jsonscan.Scanner, v *Source) bool { return p.Raw(&v.Content) }),
	)
	toolFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Type) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Name) }),
		jsonscan.Key("description", func(p *jsonscan.Scanner, v *Tool) bool { return p.String(&v.Description) }),
		jsonscan.Key("input_schema", func(p *jsonscan.Scanner, v *Tool) bool { return p.Raw(&v.InputSchema) }),
	)
	toolChoiceFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *ToolChoice) bool { return p.String(&v.Type) }),
		jsonscan.Key("name", func(p *jsonscan.Scanner, v *ToolChoice) bool { return p.String(&v.Name) }),
		jsonscan.Key("disable_parallel_tool_use", func(p *jsonscan.Scanner, v *ToolChoice) bool {
			return p.Bool(&v.DisableParallelToolUse)
		}),
	)
	thinkingFields = jsonscan.NewFields(
		jsonscan.Key("type", func(p *jsonscan.Scanner, v *Thinking) bool { return p.String(&v.Type) }),
		jsonscan.Key("budget_tokens", func(p *jsonscan.Scanner, v *Thinking) bool { return wholeInt(p, &v.BudgetTokens) }),
	)
	metadataFields = jsonscan.NewFields(
		jsonscan.Key("user_id", func(p *jsonscan.Scanner, v *Metadata) bool { return p.String(&v.UserID) }),
	)
	outputConfigFields = jsonscan.NewFields(
		jsonscan.Key("effort", func(p *jsonscan.Scanner, v *OutputConfig) bool { return p.String(&v.Effort) }),
	)
)

// wholeInt reads an integer, or null, into dst; a number written with a
// fraction (1024.0) is left to encoding/json (dialect.WholeInt).
func wholeInt(p *jsonscan.Scanner, dst **dialect.WholeInt) bool {
	var n *int64
	if !p.Int64Ptr(&n) {
		return false
	}
	*dst = (*dialect.WholeInt)(n)
	return true
}
