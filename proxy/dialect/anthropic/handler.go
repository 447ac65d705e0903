package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Handler serves POST /v1/messages and POST /v1/messages/count_tokens.
type Handler struct {
	Relay   *relay.Relay
	Catalog Catalog
	Models  ModelMap
	Options dialect.Options
	Now     func() time.Time
}

// translate decodes nothing: it resolves the model and translates in.
func (h *Handler) translate(in Input) (*Plan, catalog.Resolution, error) {
	if in.Model == "" {
		return nil, catalog.Resolution{}, invalid("model", "model: Field required")
	}
	if blank, at := dialect.BadModelName(in.Model); blank {
		return nil, catalog.Resolution{}, invalid("model", "model: a model name is required, not blanks (GET /v1/models lists them)")
	} else if at >= 0 {
		return nil, catalog.Resolution{}, invalid("model", "model: the name holds a control character (at byte %d)", at)
	}
	res, err := h.Models.Resolve(h.Catalog, in.Model)
	if err != nil {
		return nil, res, err
	}
	plan, err := Translate(in, res, h.Options)
	return plan, res, err
}

// Serve answers one Messages request. An error it returns was not written
// yet; it is an *apierr.Error for the server to write in Anthropic's shape,
// or relay.ErrClientGone (nothing is written then).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, client string) error {
	req := new(Request)
	raw, err := dialect.DecodeBody(r.Body, req, requestFields, "a JSON Messages request")
	if err != nil {
		return err
	}
	if err := limits(req); err != nil {
		return err
	}
	var servers []json.RawMessage
	if !dialect.Absent(req.MCPServers) && (json.Unmarshal(req.MCPServers, &servers) != nil || len(servers) > 0) {
		return invalid("mcp_servers", "mcp_servers: remote MCP servers called by the API are not available through ChatGPT; connect them in your client instead")
	}
	in := req.InputOf()
	plan, _, err := h.translate(in)
	if err != nil {
		return dialect.NullElement(raw, err)
	}
	if err := budgetFits(req, r.Header); err != nil {
		return err
	}
	plan.Stream = req.Stream
	if plan.EffortClamped != "" {
		w.Header().Set("X-Reasoning-Effort", plan.EffortClamped)
	}
	turn := &relay.Turn{Request: &plan.Body, Client: client, KeepAlive: Ping,
		Hints: affinity.Hints{SessionID: dialect.SessionHeader(r.Header), UserID: in.UserID}}
	if plan.Stream {
		turn.Encoder = NewEncoder(plan, h.Now)
	} else {
		turn.Aggregator = NewAggregator(plan, h.Now)
	}
	return h.Relay.Serve(w, r, turn)
}

// limits checks max_tokens, which is required, and the sampling
// parameters, which are not sent but are refused out of range, in the
// words of Anthropic's validation.
func limits(req *Request) error {
	if req.MaxTokens == nil {
		return invalid("max_tokens", "max_tokens: Field required")
	}
	if *req.MaxTokens < 1 {
		return invalid("max_tokens", "max_tokens: Input should be greater than or equal to 1")
	}
	for _, p := range []struct {
		name string
		v    *float64
	}{{"temperature", req.Temperature}, {"top_p", req.TopP}} {
		switch {
		case p.v == nil:
		case p.name == "top_p" && *p.v == -1:
			// "Unset", as the old Text Completions API wrote it; the API
			// still takes it ("top_p: range: -1 or 0..1").
		case *p.v > 1:
			return invalid(p.name, "%s: Input should be less than or equal to 1", p.name)
		case *p.v < 0:
			return invalid(p.name, "%s: Input should be greater than or equal to 0", p.name)
		}
	}
	if req.TopK != nil && *req.TopK < 0 && *req.TopK != -1 { // -1: unset, as for top_p
		return invalid("top_k", "top_k: Input should be greater than or equal to 0")
	}
	return nil
}

// budgetFits refuses a thinking budget that leaves max_tokens no room for
// the answer, as Anthropic's API does once the request is otherwise valid.
// With interleaved thinking (its beta, which Claude Code asks for) the
// budget spans all the thinking blocks of a turn and may exceed
// max_tokens.
func budgetFits(req *Request, h http.Header) error {
	t := req.Thinking
	if t == nil || t.Type != "enabled" || t.BudgetTokens == nil || *req.MaxTokens > *t.BudgetTokens {
		return nil
	}
	for _, v := range h.Values("Anthropic-Beta") {
		if strings.Contains(v, "interleaved-thinking-") {
			return nil
		}
	}
	return invalid("max_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size")
}

// CountTokens answers POST /v1/messages/count_tokens offline: the request
// is translated exactly as /v1/messages would send it, then counted.
func (h *Handler) CountTokens(w http.ResponseWriter, r *http.Request) error {
	req := new(CountRequest)
	raw, err := dialect.DecodeJSONRaw(r.Body, req, "a JSON count_tokens request")
	if err != nil {
		return err
	}
	plan, _, err := h.translate(req.InputOf())
	if err != nil {
		return dialect.NullElement(raw, err)
	}
	return writeJSON(w, CountResponse{InputTokens: CountTokens(&plan.Body)})
}

func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return apierr.Errorf(http.StatusInternalServerError, "api_error", "could not encode the answer: %v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// ModelInfo is one model of Anthropic's models list.
type ModelInfo struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

// ModelPage is Anthropic's models list.
type ModelPage struct {
	Data    []ModelInfo `json:"data"`
	HasMore bool        `json:"has_more"`
	FirstID *string     `json:"first_id"`
	LastID  *string     `json:"last_id"`
}

// ListModels answers GET /v1/models in Anthropic's shape: the catalog's
// models, created at started.
func (h *Handler) ListModels(w http.ResponseWriter, started time.Time) error {
	page := ModelPage{Data: []ModelInfo{}}
	for _, m := range h.Catalog.Visible() {
		name := m.DisplayName
		if name == "" {
			name = m.Slug
		}
		page.Data = append(page.Data, ModelInfo{Type: "model", ID: m.Slug, DisplayName: name, CreatedAt: started.UTC().Format(time.RFC3339)})
	}
	if n := len(page.Data); n > 0 {
		first, last := page.Data[0].ID, page.Data[n-1].ID
		page.FirstID, page.LastID = &first, &last
	}
	return writeJSON(w, page)
}

// GetModel answers GET /v1/models/{id} in Anthropic's shape. A Claude
// name is answered with the model it maps to in its display name.
func (h *Handler) GetModel(w http.ResponseWriter, id string, started time.Time) error {
	if IsClaude(id) {
		res, err := h.Models.Resolve(h.Catalog, id)
		if err != nil {
			return err
		}
		return writeJSON(w, ModelInfo{Type: "model", ID: id, DisplayName: id + " (served by " + res.Slug + ")", CreatedAt: started.UTC().Format(time.RFC3339)})
	}
	res, err := h.Catalog.Resolve(id)
	if err != nil || res.Unknown || !(res.Known || res.Alias) {
		return notFound(id)
	}
	name := res.Model.DisplayName
	if name == "" {
		name = res.Slug
	}
	return writeJSON(w, ModelInfo{Type: "model", ID: id, DisplayName: name, CreatedAt: started.UTC().Format(time.RFC3339)})
}
