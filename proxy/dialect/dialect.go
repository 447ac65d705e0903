// Package dialect holds what the client dialects share when they translate
// a request into the upstream model (proxy/codex): the reasoning and text
// controls a model supports, tool names the backend accepts, tool-history
// repairs, image URLs, request decoding and JSON string encoding.
//
// Each dialect lives in its own sub-package: chat (OpenAI Chat
// Completions), responses (the OpenAI Responses API) and anthropic
// (Anthropic Messages). A new dialect goes beside them, translates its
// requests into a codex.Request, and its answers out of codex.Event with a
// relay.Encoder and a relay.Aggregator.
package dialect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// Options steer every dialect's request translation; they come from the
// app's settings.
type Options struct {
	ReasoningSummary string // auto | concise | detailed | none
	DefaultEffort    string
	Verbosity        string
	// RejectEffort refuses an effort the model does not support instead
	// of using the nearest one it does.
	RejectEffort bool
}

const maxToolName = 64

// toolNameChars matches what the backend does not allow in tool names.
var toolNameChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// ToolNames renames tools whose names the backend refuses
// (^[a-zA-Z0-9_-]{1,64}$) and maps the new names back.
type ToolNames struct {
	up   map[string]string // client name -> upstream name
	back map[string]string // upstream name -> client name, renamed only
}

// Up returns the upstream name for the client's tool name n.
func (t *ToolNames) Up(n string) string {
	if s, ok := t.up[n]; ok {
		return s
	}
	if t.up == nil {
		t.up, t.back = map[string]string{}, map[string]string{}
	}
	s := n
	if clean := toolNameChars.ReplaceAllString(n, "_"); clean != n || len(n) > maxToolName {
		sum := sha256.Sum256([]byte(n))
		s = clean[:min(len(clean), maxToolName-9)] + "_" + hex.EncodeToString(sum[:4])
		t.back[s] = n
	}
	t.up[n] = s
	return s
}

// Known reports whether the client's tool name n was seen by Up.
func (t *ToolNames) Known(n string) bool {
	_, ok := t.up[n]
	return ok
}

// Renamed returns the upstream-to-client map of renamed tools (nil when
// none was renamed).
func (t *ToolNames) Renamed() map[string]string {
	if len(t.back) == 0 {
		return nil
	}
	return t.back
}

// StablePrefix is what stays the same across the turns of a conversation
// in a translated request: the instructions, the tools and the first user
// message, as sent upstream.
func StablePrefix(r *codex.Request) affinity.Prefix {
	p := affinity.Prefix{Instructions: r.Instructions}
	if len(r.Tools) > 0 {
		p.Tools, _ = codex.AppendTools(nil, r.Tools)
	}
	for _, it := range r.Input {
		if it.Type == codex.ItemMessage && it.Role == codex.RoleUser {
			p.FirstUser, _ = it.MarshalJSON()
			break
		}
	}
	return p
}

// QuoteList writes 'a', 'b', and 'c'.
func QuoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	if len(q) > 1 {
		return strings.Join(q[:len(q)-1], ", ") + ", and " + q[len(q)-1]
	}
	return strings.Join(q, "")
}

// NearestEffort picks the supported level closest to effort on the
// none … ultra scale, preferring the higher one on a tie.
func NearestEffort(effort string, supported []string) string {
	rank := func(e string) int {
		for i, x := range catalog.Efforts {
			if x == e {
				return i
			}
		}
		return -1
	}
	want, best, bestDist := rank(effort), supported[0], 1<<30
	for _, s := range supported {
		d := rank(s) - want
		if d < 0 {
			d = -d*2 + 1 // lower levels lose ties
		} else {
			d *= 2
		}
		if d < bestDist {
			best, bestDist = s, d
		}
	}
	return best
}

// BadModelName reports a model name that is blank (spaces only), or the
// byte offset of a control character in it (-1 for none): neither names a
// model, nor should either be taken for a name to map to the default.
func BadModelName(name string) (blank bool, control int) {
	return strings.TrimSpace(name) == "", strings.IndexFunc(name, unicode.IsControl)
}

// Resolver maps a requested model name to what is sent upstream.
type Resolver interface {
	Resolve(name string) (catalog.Resolution, error)
}

// Resolve resolves name, answering an unknown model with OpenAI's 404,
// and a blank name or one with a control character with a 400.
func Resolve(c Resolver, name string) (catalog.Resolution, error) {
	if blank, at := BadModelName(name); blank {
		// Not a name that maps to the default model: a client's bug.
		return catalog.Resolution{}, apierr.InvalidRequest("model", "'model' is blank: name a model (GET /v1/models lists them)").WithCode("missing_required_parameter")
	} else if at >= 0 {
		return catalog.Resolution{}, apierr.InvalidRequest("model", "Invalid value for 'model': it holds a control character (at byte %d)", at).WithCode("invalid_value")
	}
	res, err := c.Resolve(name)
	if errors.Is(err, catalog.ErrUnknownModel) {
		return res, apierr.Errorf(http.StatusNotFound, "invalid_request_error", "The model '%s' does not exist or is not available to this ChatGPT account.", name).WithParam("model").WithCode("model_not_found")
	}
	return res, nil
}

// SessionHeader is the conversation id a client sends in a header:
// Session-Id (the Codex CLI), Session_id (older CLIs) or X-Session-Id.
func SessionHeader(h http.Header) string {
	for _, k := range []string{"Session-Id", "Session_id", "X-Session-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}
