package codex

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

// The request body is written by hand, field by field, rather than with
// encoding/json: the body of an agent's request is tens to hundreds of
// kilobytes, and encoding/json re-scans what every MarshalJSON method
// returns (once per nesting level), which made a 76 KB body cost 0.8 ms.
// The output is what encoding/json writes, without HTML escaping (<, >
// and & stay as they are, as the Codex CLI's serde_json writes them);
// encode_test.go holds the two side by side.

// AppendJSON appends the request body to dst: the classic shape, or the
// Responses-Lite shape when Lite is set.
func (r *Request) AppendJSON(dst []byte) ([]byte, error) {
	if r.Lite {
		return r.appendLite(dst)
	}
	w := jsonWriter{b: dst}
	w.str(`{"model":`, r.Model)
	w.str(`,"instructions":`, r.Instructions)
	w.raw(`,"input":`)
	w.items(r.Input, true)
	w.raw(`,"tools":`)
	w.tools(r.Tools, true)
	w.raw(`,"tool_choice":`)
	w.toolChoice(r.ToolChoice)
	if r.ParallelToolCalls != nil {
		w.boolean(`,"parallel_tool_calls":`, *r.ParallelToolCalls)
	}
	if r.Reasoning != nil {
		w.raw(`,"reasoning":`)
		w.reasoning(r.Reasoning)
	}
	w.boolean(`,"store":`, r.Store)
	w.boolean(`,"stream":`, r.Stream)
	w.raw(`,"include":`)
	w.strings(r.Include)
	w.tail(r.PromptCacheKey, r.Text, r.ServiceTier, r.ClientMetadata)
	return w.done()
}

// AppendTools appends tools as a JSON array (null when nil).
func AppendTools(dst []byte, tools []Tool) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.tools(tools, false)
	return w.done()
}

// AppendItems appends items as a JSON array (null when nil), each as
// Item.MarshalJSON writes it, without encoding/json's second pass over the
// whole array.
func AppendItems(dst []byte, items []Item) ([]byte, error) {
	w := jsonWriter{b: dst}
	w.items(items, false)
	return w.done()
}

// appendLite writes the Responses-Lite body (see marshalLite in lite.go).
func (r *Request) appendLite(dst []byte) ([]byte, error) {
	l := r.lite()
	w := jsonWriter{b: dst}
	w.str(`{"model":`, l.Model)
	w.boolean(`,"stream":`, l.Stream)
	w.raw(`,"input":`)
	w.items(l.Input, false)
	w.raw(`,"tool_choice":`)
	w.toolChoice(l.ToolChoice)
	w.boolean(`,"parallel_tool_calls":`, l.ParallelToolCalls)
	w.raw(`,"reasoning":`)
	w.reasoning(l.Reasoning)
	w.boolean(`,"store":`, l.Store)
	w.raw(`,"include":`)
	w.strings(l.Include)
	w.tail(l.PromptCacheKey, l.Text, l.ServiceTier, l.ClientMetadata)
	return w.done()
}

// jsonWriter appends JSON to b and keeps the first error.
type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) done() ([]byte, error) { return w.b, w.err }

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

// str writes key (a literal such as `,"name":`) and the string v.
func (w *jsonWriter) str(key, v string) {
	w.b = append(w.b, key...)
	w.b = AppendString(w.b, v)
}

// opt writes key and v when v is not empty (omitempty).
func (w *jsonWriter) opt(key, v string) {
	if v != "" {
		w.str(key, v)
	}
}

func (w *jsonWriter) boolean(key string, v bool) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendBool(w.b, v)
}

// json writes a raw JSON value compacted, as encoding/json writes a
// json.RawMessage; an invalid one is an error.
func (w *jsonWriter) json(v []byte) {
	if len(v) == 0 {
		w.b = append(w.b, "null"...)
		return
	}
	buf := bytes.NewBuffer(w.b)
	if err := json.Compact(buf, v); err != nil {
		if w.err == nil {
			w.err = errors.New("codex: invalid raw JSON: " + err.Error())
		}
		return
	}
	w.b = buf.Bytes()
}

// strings writes a string array ([] when empty or nil).
func (w *jsonWriter) strings(list []string) {
	w.b = append(w.b, '[')
	for i, s := range list {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = AppendString(w.b, s)
	}
	w.b = append(w.b, ']')
}

// tail writes the optional keys both shapes end with.
func (w *jsonWriter) tail(cacheKey string, text *Text, tier string, md map[string]string) {
	w.opt(`,"prompt_cache_key":`, cacheKey)
	if text != nil {
		w.raw(`,"text":`)
		w.text(text)
	}
	w.opt(`,"service_tier":`, tier)
	if len(md) > 0 {
		w.raw(`,"client_metadata":{`)
		keys := make([]string, 0, len(md))
		for k := range md {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json's order
		for i, k := range keys {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = AppendString(w.b, k)
			w.b = append(w.b, ':')
			w.b = AppendString(w.b, md[k])
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

func (w *jsonWriter) reasoning(r *Reasoning) {
	w.b = append(w.b, '{')
	n := len(w.b)
	w.opt(`,"effort":`, r.Effort)
	w.opt(`,"summary":`, r.Summary)
	w.opt(`,"context":`, r.Context)
	w.closeObject(n)
}

// closeObject ends an object whose members were written each with a
// leading comma from position n on: the first comma goes.
func (w *jsonWriter) closeObject(n int) {
	if len(w.b) > n {
		w.b = append(w.b[:n], w.b[n+1:]...)
	}
	w.b = append(w.b, '}')
}

func (w *jsonWriter) text(t *Text) {
	w.b = append(w.b, '{')
	n := len(w.b)
	w.opt(`,"verbosity":`, t.Verbosity)
	if f := t.Format; f != nil {
		w.str(`,"format":{"type":`, f.Type)
		w.opt(`,"name":`, f.Name)
		w.opt(`,"description":`, f.Description)
		if len(f.Schema) > 0 {
			w.raw(`,"schema":`)
			w.json(f.Schema)
		}
		if f.Strict != nil {
			w.boolean(`,"strict":`, *f.Strict)
		}
		w.b = append(w.b, '}')
	}
	w.closeObject(n)
}

func (w *jsonWriter) toolChoice(c ToolChoice) {
	if c.Type == "" {
		m := c.Mode
		if m == "" {
			m = "auto"
		}
		w.b = AppendString(w.b, m)
		return
	}
	w.str(`{"type":`, c.Type)
	w.str(`,"name":`, c.Name)
	w.b = append(w.b, '}')
}

// tools writes an array of tools; nil is null unless emptyArray is set.
func (w *jsonWriter) tools(tools []Tool, emptyArray bool) { writeArray(w, tools, emptyArray, w.tool) }

func (w *jsonWriter) tool(t *Tool) {
	if len(t.Raw) > 0 {
		w.json(t.Raw)
		return
	}
	w.str(`{"type":`, t.Type)
	if t.Type == ToolNamespace {
		w.str(`,"name":`, t.Name)
		w.str(`,"description":`, t.Description)
		w.raw(`,"tools":`)
		w.tools(t.Tools, false)
		w.b = append(w.b, '}')
		return
	}
	w.opt(`,"name":`, t.Name)
	w.opt(`,"description":`, t.Description)
	if t.Strict != nil {
		w.boolean(`,"strict":`, *t.Strict)
	}
	if len(t.Parameters) > 0 {
		w.raw(`,"parameters":`)
		w.json(t.Parameters)
	}
	if f := t.Format; f != nil {
		w.str(`,"format":{"type":`, f.Type)
		w.opt(`,"syntax":`, f.Syntax)
		w.opt(`,"definition":`, f.Definition)
		w.b = append(w.b, '}')
	}
	if len(t.Tools) > 0 {
		w.raw(`,"tools":`)
		w.tools(t.Tools, false)
	}
	w.b = append(w.b, '}')
}

// items writes an array of items; nil is null unless emptyArray is set.
func (w *jsonWriter) items(items []Item, emptyArray bool) { writeArray(w, items, emptyArray, w.item) }

// item writes the fields of the item's type (see Item.MarshalJSON).
func (w *jsonWriter) item(it *Item) {
	switch it.Type {
	case ItemMessage:
		w.str(`{"type":`, it.Type)
		w.opt(`,"id":`, it.ID)
		w.str(`,"role":`, it.Role)
		w.raw(`,"content":`)
		w.parts(it.Content, true)
		w.opt(`,"phase":`, it.Phase)
		w.opt(`,"status":`, it.Status)
	case ItemFunctionCall, ItemCustomToolCall:
		w.str(`{"type":`, it.Type)
		w.opt(`,"id":`, it.ID)
		w.opt(`,"status":`, it.Status)
		w.str(`,"name":`, it.Name)
		w.opt(`,"namespace":`, it.Namespace)
		if it.Type == ItemFunctionCall {
			w.str(`,"arguments":`, it.Arguments)
		} else {
			w.str(`,"input":`, it.Input)
		}
		w.str(`,"call_id":`, it.CallID)
	case ItemFunctionCallOutput, ItemCustomToolCallOutput:
		w.str(`{"type":`, it.Type)
		w.opt(`,"id":`, it.ID)
		w.str(`,"call_id":`, it.CallID)
		w.raw(`,"output":`)
		if it.Output.Parts != nil {
			w.parts(it.Output.Parts, true)
		} else {
			w.b = AppendString(w.b, it.Output.Text)
		}
	case ItemReasoning:
		w.str(`{"type":`, it.Type)
		w.opt(`,"id":`, it.ID)
		w.raw(`,"summary":`)
		w.parts(it.Summary, true)
		if len(it.Content) > 0 {
			w.raw(`,"content":`)
			w.parts(it.Content, false)
		}
		w.opt(`,"encrypted_content":`, it.EncryptedContent)
	case ItemAdditionalTools:
		w.str(`{"type":`, it.Type)
		w.opt(`,"id":`, it.ID)
		w.str(`,"role":`, it.Role)
		w.raw(`,"tools":`)
		w.tools(it.Tools, false)
	case ItemConfigurationUpdate:
		w.str(`{"type":`, it.Type)
		if it.Reasoning != nil {
			w.raw(`,"reasoning":`)
			w.reasoning(it.Reasoning)
		}
	default:
		if len(it.Raw) == 0 {
			if w.err == nil {
				w.err = errors.New("codex: item of unknown type " + it.Type + " without its JSON")
			}
			return
		}
		w.json(it.Raw)
		return
	}
	w.b = append(w.b, '}')
}

// parts writes content parts; nil is null unless emptyArray is set.
func (w *jsonWriter) parts(parts []Content, emptyArray bool) {
	writeArray(w, parts, emptyArray, w.part)
}

// writeArray writes list as a JSON array, each element with elem; a nil
// list is null unless emptyArray is set (then []), as encoding/json writes
// a nil slice and the CLI's always-present arrays.
func writeArray[T any](w *jsonWriter, list []T, emptyArray bool, elem func(*T)) {
	if list == nil && !emptyArray {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i := range list {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		elem(&list[i])
	}
	w.b = append(w.b, ']')
}

// part writes the fields of the part's type (see Content.MarshalJSON).
func (w *jsonWriter) part(c *Content) {
	w.str(`{"type":`, c.Type)
	switch c.Type {
	case PartInputImage:
		w.opt(`,"image_url":`, c.ImageURL)
		w.opt(`,"file_id":`, c.FileID)
		w.opt(`,"detail":`, c.Detail)
	case PartInputFile:
		w.opt(`,"file_id":`, c.FileID)
		w.opt(`,"file_data":`, c.FileData)
		w.opt(`,"file_url":`, c.FileURL)
		w.opt(`,"filename":`, c.Filename)
	case PartRefusal:
		w.str(`,"refusal":`, c.Refusal)
	case PartOutputText:
		w.str(`,"text":`, c.Text)
		if len(c.Annotations) > 0 {
			w.raw(`,"annotations":[`)
			for i, a := range c.Annotations {
				if i > 0 {
					w.b = append(w.b, ',')
				}
				w.json(a)
			}
			w.b = append(w.b, ']')
		}
	default:
		w.str(`,"text":`, c.Text)
	}
	w.b = append(w.b, '}')
}
