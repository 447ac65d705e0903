package responses

import (
	"net/http"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Handler serves the Responses API routes.
type Handler struct {
	Relay   *relay.Relay
	Catalog dialect.Resolver
	Options dialect.Options
	Store   *Store
	Now     func() time.Time
}

// NotFound is OpenAI's answer for an unknown response id.
func NotFound(id string) *apierr.Error {
	return apierr.Errorf(http.StatusNotFound, "invalid_request_error", "Response with id '%s' not found.", id)
}

// previousNotFound is OpenAI's answer for an unknown previous_response_id.
func previousNotFound(id string) *apierr.Error {
	return apierr.Errorf(http.StatusNotFound, "invalid_request_error", "Previous response with id '%s' not found.", id).WithParam("previous_response_id").WithCode("previous_response_not_found")
}

// Serve answers POST /v1/responses for client (who asked, for the counts)
// and owner (whose stored responses it may use). An error it returns was
// not written yet; it is an *apierr.Error for the server to write, or
// relay.ErrClientGone (nothing is written then).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, client, owner string) error {
	req := new(Request)
	raw, err := dialect.DecodeBody(r.Body, req, requestFields, "a JSON Responses API request")
	if err != nil {
		return err
	}
	if req.Model == "" {
		return apierr.InvalidRequest("model", "Missing required parameter: 'model'.").WithCode("missing_required_parameter")
	}
	res, err := dialect.Resolve(h.Catalog, req.Model)
	if err != nil {
		return err
	}
	conv, err := h.previous(req.PreviousResponseID, owner)
	if err != nil {
		return err
	}
	plan, err := Translate(req, res, conv, func(id string) (codex.Item, bool) { return h.Store.Item(owner, id) }, h.Options)
	if err != nil {
		return dialect.NullElement(raw, err)
	}
	if plan.EffortClamped != "" {
		w.Header().Set("X-Reasoning-Effort", plan.EffortClamped)
	}
	var done Finished
	if plan.Store && h.Store.Enabled() {
		done = func(resp *Response, conv []codex.Item, ids []string) { h.Store.Put(owner, resp, conv, ids) }
	}
	id := NewID()
	turn := &relay.Turn{Request: &plan.Body, SessionID: plan.SessionID, Client: client, InputParam: "input",
		Hints: affinity.Hints{CacheKey: req.PromptCacheKey, SessionID: dialect.SessionHeader(r.Header)}}
	if plan.Stream {
		turn.Encoder = NewEncoder(plan, id, h.Now, done)
	} else {
		turn.Aggregator = NewAggregator(plan, id, h.Now, done)
	}
	return h.Relay.Serve(w, r, turn)
}

// previous returns the stored conversation of previous_response_id.
func (h *Handler) previous(id, owner string) ([]codex.Item, error) {
	if id == "" {
		return nil, nil
	}
	conv, ok := h.Store.Conversation(owner, id)
	if !ok {
		return nil, previousNotFound(id)
	}
	if conv == nil {
		conv = []codex.Item{}
	}
	return conv, nil
}

// Get returns the stored response object of id.
func (h *Handler) Get(id, owner string) ([]byte, error) {
	b, ok := h.Store.Response(owner, id)
	if !ok {
		return nil, NotFound(id)
	}
	return b, nil
}

// InputItems answers GET /v1/responses/{id}/input_items: a stored
// response's conversation is kept only to be continued (its items have no
// ids to page by), so listing it is refused in words, not as an unknown id.
func (h *Handler) InputItems(id, owner string) error {
	if _, ok := h.Store.Response(owner, id); !ok {
		return NotFound(id)
	}
	return apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "Listing the input items of a response is not supported by ChatGPT-to-API: it keeps a response's conversation only to continue it with previous_response_id.").WithCode("unsupported_endpoint")
}

// Cancel answers POST /v1/responses/{id}/cancel: only a background
// response can be cancelled, and this app runs none (background:true is
// refused).
func (h *Handler) Cancel(id, owner string) error {
	if _, ok := h.Store.Response(owner, id); !ok {
		return NotFound(id)
	}
	return apierr.Errorf(http.StatusBadRequest, "invalid_request_error", "Only a response created with background=true can be cancelled, and ChatGPT-to-API runs none in the background.").WithCode("invalid_request")
}

// Delete forgets response id.
func (h *Handler) Delete(id, owner string) (*Deleted, error) {
	if !h.Store.Delete(owner, id) {
		return nil, NotFound(id)
	}
	return &Deleted{ID: id, Object: "response.deleted", Deleted: true}, nil
}
