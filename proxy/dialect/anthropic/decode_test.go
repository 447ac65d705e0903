package anthropic

import (
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan/jsonscantest"
)

// FuzzRequestFields checks that the reader without reflection takes the
// requests clients send and decodes whatever it takes exactly as
// encoding/json does.
func FuzzRequestFields(f *testing.F) {
	usual := []string{
		`{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]}`,
		// As Claude Code sends it: system blocks, tools, thinking, metadata.
		`{"model":"claude-opus-4-1","max_tokens":32000,"stream":true,` +
			`"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],` +
			`"messages":[{"role":"user","content":[{"type":"text","text":"fix \"it\"\n"}]},` +
			`{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"a.go","is_error":false}]}],` +
			`"tools":[{"name":"Bash","description":"Run","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}},` +
			`{"type":"web_search_20250305","name":"web_search"}],` +
			`"tool_choice":{"type":"auto","disable_parallel_tool_use":true},"thinking":{"type":"enabled","budget_tokens":8000},` +
			`"metadata":{"user_id":"user_abc_account__session_1"},"output_config":{"effort":"high"},"temperature":1,"stop_sequences":["\n\nHuman:"]}`,
		` { "model" : "m" , "max_tokens" : null , "messages" : [ ] , "system" : "s" , "tools" : null , "top_p" : 0.5 , "top_k" : 40 , "service_tier" : "auto" , "x" : { } } `,
	}
	odd := []string{
		`{"MODEL":"m"}`,
		`{"model":"m","messages":[null]}`,
		`{"model":"m","messages":["hi"]}`,
		`{"model":"m","max_tokens":1.5}`,
		`{"model":"m","max_tokens":1024.0,"top_k":40e0,"thinking":{"budget_tokens":2048.0}}`,
		`{"model":"m","max_tokens":"1"}`,
		`{"model":"m","thinking":{"type":"enabled","budget_tokens":1e3}}`,
		`{"model":"m","stop_sequences":[null]}`,
		`{"model":"m","messages":[{"role":"user","role":"assistant"}]}`,
		`{"model":"\xfe"}`,
		`{"model":"m"}x`,
	}
	jsonscantest.Fuzz(f, requestFields, usual, odd)
}

// FuzzBlockFields holds the reader of content blocks to encoding/json.
func FuzzBlockFields(f *testing.F) {
	usual := []string{
		`{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}`,
		`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}`,
		`{"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"},"title":"t","context":"c"}`,
		`{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls -la"}}`,
		`{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"ok"}],"is_error":true}`,
		`{"type":"thinking","thinking":"hmm","signature":"sig"}`,
		`{"type":"redacted_thinking","data":"xyz"}`,
	}
	odd := []string{`{"type":"text","text":null,"Text":"x"}`, `{"is_error":1}`, `{"source":[]}`, `{"input":}`}
	jsonscantest.Fuzz(f, blockFields, usual, odd)
}
