package translate

import (
	"encoding/json"
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
	// Top-level error events: {"type":"error","code","message","param"} or
	// {"type":"error","error":{…}}.
	Code            string   `json:"code"`
	Message         string   `json:"message"`
	Param           *string  `json:"param"`
	PlanType        string   `json:"plan_type"`
	ResetsAt        int64    `json:"resets_at"`
	ResetsInSeconds int64    `json:"resets_in_seconds"`
	Error           *errBody `json:"error"`
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

func decode(data []byte, ev *event) error {
	*ev = event{}
	return json.Unmarshal(data, ev)
}
