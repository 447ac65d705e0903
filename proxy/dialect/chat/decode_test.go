package chat

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/jsonscan/jsonscantest"
)

// FuzzRequestFields checks that the reader without reflection takes the
// requests clients send and decodes whatever it takes exactly as
// encoding/json does.
func FuzzRequestFields(f *testing.F) {
	usual := []string{
		`{"model":"gpt-5.4","messages":[{"role":"user","content":"Hello"}],"stream":true}`,
		`{"model":"gpt-5.4","stream":true,"stream_options":{"include_usage":true},"reasoning_effort":"low","n":1,"max_tokens":1000,` +
			`"temperature":0.7,"top_p":1,"presence_penalty":0,"frequency_penalty":0,"seed":42,"stop":["\n"],"user":"u","logprobs":false,` +
			`"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"h\u00e9"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},` +
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},` +
			`{"index":1,"id":"call_2","type":"custom","custom":{"name":"apply_patch","input":"*** Begin Patch"}}]},` +
			`{"role":"tool","tool_call_id":"call_1","content":"42","name":"f"},{"role":"assistant","content":"","refusal":"no"}],` +
			`"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{}},"strict":false}},` +
			`{"type":"custom","custom":{"name":"apply_patch","description":"p","format":{"type":"grammar","grammar":{"syntax":"lark","definition":"start: x"}}}}],` +
			`"tool_choice":"auto","parallel_tool_calls":true,"prompt_cache_key":"k","service_tier":"auto","verbosity":"low","reasoning":{"effort":"high","summary":"auto"}}`,
		// Cursor's Responses-shaped body on this route.
		`{"model":"gpt-5.4","stream":true,"instructions":"You are a coding agent.","input":[{"role":"user","content":[{"type":"input_text","text":"x"}]}],` +
			`"text":{"verbosity":"medium"},"tools":[{"type":"function","name":"read_file","parameters":{"type":"object"},"strict":null},` +
			`{"type":"custom","name":"ApplyPatch","format":{"type":"grammar","syntax":"lark","definition":"start: y"}}],"store":false,"metadata":{"a":"b"},"include":[]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"text":{"format":{"type":"text"}}}`,
		` { "model" : "m" , "messages" : [ ] , "tools" : null , "functions" : [ { "name" : "f" } ] , "function_call" : "auto" , "top_logprobs" : null } `,
	}
	odd := []string{
		`{"Messages":[]}`,
		`{"model":"m","messages":[null]}`,
		`{"model":"m","tools":[null]}`,
		`{"model":"m","n":1.0}`,
		`{"model":"m","n":"1"}`,
		`{"model":"m","response_format":{"type":"json_schema","json_schema":{"name":"x","strict":"yes"}}}`,
		`{"model":"m","logit_bias":{"1":-100}}`,
		`{"model":"m","text":{"format":{"type":"json_schema","schema":[]}},"text":{}}`,
		`{"model":"m","messages":[{"role":"user","content":"a","content":"b"}]}`,
		`{"model":"m","tools":[{"type":"function","function":{"name":"f"},"function":{"name":"g"}}]}`,
		`{"model":"m","max_tokens":1e999}`,
		`{"model":"m","messages":[{"role":"user","content":"\ud83d"}]}`,
		`{"model":"m"}]`,
	}
	// The translation tests' requests.
	files, err := filepath.Glob("testdata/requests/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no test requests: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		usual = append(usual, string(b))
	}
	jsonscantest.Fuzz(f, requestFields, usual, odd)
}

// FuzzContentPartFields holds the reader of content parts to
// encoding/json.
func FuzzContentPartFields(f *testing.F) {
	usual := []string{
		`{"type":"text","text":"hi"}`,
		`{"type":"image_url","image_url":{"url":"https://e.x/a.png","detail":"low"}}`,
		`{"type":"refusal","refusal":"no"}`,
		`{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}`,
	}
	odd := []string{`{"image_url":"https://e.x"}`, `{"type":"text","text":1}`, `{"TYPE":"text"}`}
	jsonscantest.Fuzz(f, contentPartFields, usual, odd)
}
