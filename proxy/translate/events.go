package translate

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/openai"
)

// event is one decoded Codex SSE event; only the fields the translation
// needs are decoded.
type event struct {
	Type         string    `json:"type"`
	Delta        string    `json:"delta"`
	ItemID       string    `json:"item_id"`
	OutputIndex  int       `json:"output_index"`
	SummaryIndex int       `json:"summary_index"`
	Text         string    `json:"text"`
	Arguments    string    `json:"arguments"`
	Item         *item     `json:"item"`
	Response     *response `json:"response"`
	// Top-level error events carry their fields either flat,
	// {"type":"error","code","message",…} (the embedded errBody; its own
	// "type" is shadowed by the event's), or nested, {"type":"error","error":{…}}.
	errBody
	Error *errBody `json:"error"`
}

type item struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Role      string `json:"role"`
	Phase     string `json:"phase"`
	Name      string `json:"name"`
	CallID    string `json:"call_id"`
	Arguments string `json:"arguments"`
	Content   []struct {
		Type    string `json:"type"`
		Text    string `json:"text"`
		Refusal string `json:"refusal"`
	} `json:"content"`
	Summary []struct {
		Text string `json:"text"`
	} `json:"summary"`
}

type response struct {
	ID                string   `json:"id"`
	Output            []item   `json:"output"`
	CreatedAt         int64    `json:"created_at"`
	Status            string   `json:"status"`
	Model             string   `json:"model"`
	Usage             *usage   `json:"usage"`
	Error             *errBody `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
}

type usage struct {
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int64 `json:"total_tokens"`
}

type errBody struct {
	Type            string  `json:"type"`
	Code            string  `json:"code"`
	Message         string  `json:"message"`
	Param           *string `json:"param"`
	PlanType        string  `json:"plan_type"`
	ResetsAt        int64   `json:"resets_at"`
	ResetsInSeconds int64   `json:"resets_in_seconds"`
}

// decode decodes one event: the frequent delta events without reflection,
// everything else with encoding/json.
func decode(data []byte, ev *event) error {
	if decodeFast(data, ev) {
		return nil
	}
	*ev = event{}
	return json.Unmarshal(data, ev)
}

// failure is the Failure of a response.failed or error event.
func failure(ev *event, now time.Time) *Failure {
	eb := ev.Error
	switch {
	case ev.Type == "response.failed":
		eb = &errBody{Code: "upstream_error", Message: "the response failed"}
		if ev.Response != nil && ev.Response.Error != nil {
			eb = ev.Response.Error
		}
	case eb == nil:
		eb = &ev.errBody
	}
	return streamFailure(eb, now)
}

// incompleteFinish maps a response.incomplete to its finish_reason, or to
// a Failure when the reason is not one a client can act on.
func incompleteFinish(r *response) (string, *Failure) {
	reason := ""
	if r != nil && r.IncompleteDetails != nil {
		reason = r.IncompleteDetails.Reason
	}
	switch reason {
	case "max_output_tokens", "max_tokens":
		return "length", nil
	case "content_filter":
		return "content_filter", nil
	}
	return "", &Failure{Err: openai.Errorf(http.StatusBadGateway, "upstream_error", "ChatGPT returned an incomplete response (reason: %s)", orUnknown(reason)).WithCode("incomplete_response"), Retryable: reason != "interrupted"}
}
