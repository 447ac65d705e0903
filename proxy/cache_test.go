package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

// TestPromptCacheAffinity measures prompt caching over a 10-turn chat
// conversation through the real server against the fake's prefix cache:
// turns 2-10 must get at least 90% of the ideal cached tokens, the ideal
// being the whole previous prompt (instructions, tools and input).
func TestPromptCacheAffinity(t *testing.T) {
	h := newHarness(t, nil)
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are a careful assistant. " + strings.Repeat("Rules. ", 200))}
	var prevPrompt []byte
	var cached, ideal int64
	var key string
	for turn := 1; turn <= 10; turn++ {
		msgs = append(msgs, userMsg(fmt.Sprintf("Question %d: %s", turn, strings.Repeat(fmt.Sprintf("detail %d ", turn), 150))))
		resp, err := h.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "gpt-5.5", Messages: msgs, Tools: []openai.ChatCompletionToolUnionParam{weatherTool()},
		})
		if err != nil {
			t.Fatal(err)
		}
		body := lastBody(t, h.fake)
		k, _ := body["prompt_cache_key"].(string)
		if turn == 1 {
			key = k
		} else if k != key {
			t.Errorf("turn %d: prompt_cache_key %q, turn 1 had %q", turn, k, key)
		}
		prompt, _ := json.Marshal([]any{body["instructions"], body["tools"], body["input"]})
		if turn > 1 {
			cached += resp.Usage.PromptTokensDetails.CachedTokens
			ideal += int64(len(prevPrompt) / 4 / codextest.CacheBlockTokens * codextest.CacheBlockTokens)
		}
		prevPrompt = prompt
		msgs = append(msgs, openai.AssistantMessage(resp.Choices[0].Message.Content))
	}
	share := float64(cached) / float64(ideal)
	t.Logf("cached %d of an ideal %d tokens on turns 2-10 (%.1f%%)", cached, ideal, 100*share)
	if ideal == 0 || share < 0.9 {
		t.Fatalf("cached %d of an ideal %d tokens (%.1f%%), want at least 90%%", cached, ideal, 100*share)
	}
}
