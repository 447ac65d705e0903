package chat

import (
	"net/http"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/affinity"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// Handler serves POST /v1/chat/completions.
type Handler struct {
	Relay    *relay.Relay
	Catalog  dialect.Resolver
	Options  Options
	Response StreamOptions
}

// Serve answers one chat completion request. An error it returns was not
// written yet; it is an *apierr.Error for the server to write in the
// OpenAI shape, or relay.ErrClientGone (nothing is written then).
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, client string) error {
	req := new(ChatRequest)
	raw, err := dialect.DecodeBody(r.Body, req, requestFields, "a JSON chat completion request")
	if err != nil {
		return err
	}
	if req.Model == "" {
		return apierr.InvalidRequest("model", "you must provide a model parameter").WithCode("missing_required_parameter")
	}
	res, err := dialect.Resolve(h.Catalog, req.Model)
	if err != nil {
		return err
	}
	plan, err := Chat(req, res, h.Options)
	if err != nil {
		return dialect.NullElement(raw, err)
	}
	if plan.EffortClamped != "" {
		w.Header().Set("X-Reasoning-Effort", plan.EffortClamped)
	}
	turn := &relay.Turn{Request: &plan.Body, SessionID: plan.SessionID, Client: client,
		Hints: affinity.Hints{CacheKey: req.PromptCacheKey, SessionID: dialect.SessionHeader(r.Header), User: req.User}}
	if ResponsesShaped(req) {
		turn.InputParam = "input" // Cursor's agent bodies carry input, not messages
	}
	if plan.Stream {
		turn.Encoder = &encoder{NewTranslator(plan, h.Response)}
	} else {
		turn.Aggregator = NewAggregator(plan, h.Response)
	}
	return h.Relay.Serve(w, r, turn)
}

// encoder ends a completed stream with [DONE].
type encoder struct{ *Translator }

func (e *encoder) Feed(dst []byte, ev *codex.Event) ([]byte, Signal, error) {
	dst, sig, err := e.Translator.Feed(dst, ev)
	if sig == SigDone {
		dst = append(dst, Done...)
	}
	return dst, sig, err
}
