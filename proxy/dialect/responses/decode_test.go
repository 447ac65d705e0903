package responses

import (
	"os"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan/jsonscantest"
)

// FuzzRequestFields checks that the reader without reflection takes the
// requests clients send and decodes whatever it takes exactly as
// encoding/json does.
func FuzzRequestFields(f *testing.F) {
	cli, err := os.ReadFile("../../upstream/testdata/codex-cli-0.171.0/exec-rustls-responses-0.171.0.json")
	if err != nil {
		f.Fatal(err)
	}
	usual := []string{
		string(cli), // the Codex CLI's own body, sent to this route by a Codex CLI pointed at the app
		`{"model":"gpt-5.4","input":"Say hi","stream":true}`,
		`{"model":"gpt-5.4","input":"a person","text":{"format":{"type":"json_schema","name":"person","description":"d","strict":true,` +
			`"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}},"verbosity":"low"}}`,
		`{"model":"gpt-5.4","input":[{"role":"user","content":[{"type":"input_text","text":"h\u00e9 \"q\""}]}],"instructions":"Be brief.\n",` +
			`"tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"number"}}},"strict":true}],` +
			`"tool_choice":{"type":"function","name":"f"},"parallel_tool_calls":false,"reasoning":{"effort":"high","summary":"auto"},` +
			`"text":{"verbosity":"low"},"include":["reasoning.encrypted_content"],"prompt_cache_key":"k","metadata":{"a":"b"},"store":false,` +
			`"previous_response_id":"resp_1","stream":false,"service_tier":"priority","max_output_tokens":1000,"temperature":0.2,"top_p":1,` +
			`"truncation":"disabled","user":"u","background":false}`,
		` { "model" : "gpt-5.4" , "input" : null , "instructions" : null , "tools" : [ ] , "reasoning" : null , "metadata" : { } , "user" : null } `,
		`{"model":"gpt-5.4","input":"x","temperature":-1.5e-3,"conversation":{"id":"c"},"prompt":{"id":"p","variables":{"x":[1,true,null]}},"client_metadata":{"k":"v"},"unknown_key":[{"deep":[[]]}]}`,
	}
	odd := []string{
		`{"Model":"gpt-5.4","input":"x"}`,       // another spelling of a key
		`{"model":"a","model":"b"}`,             // a repeated key
		`{"model":"a","max_output_tokens":1.0}`, // a float in an integer field
		`{"model":"a","max_output_tokens":12345678901234567890}`,
		`{"model":"\xff"}`,   // invalid UTF-8
		`{"model":"\ud800"}`, // a lone surrogate
		`{"model":"a","text":{"format":{"type":"json_schema","name":"x","schema":{},"strict":1}}}`,
		`{"model":"a","tools":[null]}`,
		`{"model":"a","include":["x",null]}`,
		`{"model":"a","metadata":{"k":null}}`,
		`{"model":"a","metadata":{"k":"1","k":"2"}}`,
		`{"model":"a","stream":"true"}`,
		`{"model":"a","temperature":1e400}`,
		`{"model":"a"} {}`,
		`[{"model":"a"}]`,
		`{"model":"a",}`,
		`{"model":"a","input":"x\u0000"}`,
		`{"ſtream":true}`,
		``,
	}
	jsonscantest.Fuzz(f, requestFields, usual, odd)
}

// FuzzMessageItemFields holds the reader of input items to encoding/json.
func FuzzMessageItemFields(f *testing.F) {
	usual := []string{
		`{"role":"user","content":"hi"}`,
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"}],"phase":"final_answer","id":"msg_1","status":"completed"}`,
		`{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}`,
		`{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"x"}]}`,
	}
	odd := []string{`{"role":5}`, `{"phase":null,"PHASE":"x"}`, `{"role":"user","role":"user"}`, `"x"`}
	jsonscantest.Fuzz(f, messageItemFields, usual, odd)
}

// FuzzFunctionToolFields holds the reader of tool definitions to
// encoding/json.
func FuzzFunctionToolFields(f *testing.F) {
	usual := []string{
		`{"type":"function","name":"shell","description":"Runs a command","strict":false,"parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}}},"required":["command"],"additionalProperties":false}}`,
		`{"type":"custom","name":"apply_patch","description":"Patch","format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}}`,
		`{"type":"web_search","search_context_size":"low"}`,
		`{"type":"namespace","name":"mcp","tools":[{"type":"function","name":"f"}]}`,
	}
	odd := []string{`{"type":"function","function":{"name":"f"}}`, `{"strict":"yes"}`, `{"format":{"type":"text","extra":[1]}}`, `{"format":7}`}
	jsonscantest.Fuzz(f, functionToolFields, usual, odd)
}
