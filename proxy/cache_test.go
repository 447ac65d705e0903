package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
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

// TestPromptCacheAffinityPerDialect runs the same 10-turn measurement
// through the Responses and Messages routes (raw HTTP, full history each
// turn): every turn keeps one UUIDv7 session id and prompt_cache_key (never
// the client's raw key, never a name-based id), and turns 2-10 get at
// least 90% of the ideal cached tokens.
func TestPromptCacheAffinityPerDialect(t *testing.T) {
	uuidv7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	system := "You are a careful assistant. " + strings.Repeat("Rules. ", 200)
	type turnMsg struct{ role, text string }
	dialects := []struct {
		name, path string
		body       func(history []turnMsg) any
		cached     func(answer map[string]any) (int64, string)
	}{
		{"responses", "/responses", func(history []turnMsg) any {
			input := []map[string]any{}
			for _, m := range history {
				input = append(input, map[string]any{"role": m.role, "content": m.text})
			}
			return map[string]any{"model": "gpt-5.5", "instructions": system, "input": input, "prompt_cache_key": "client key with spaces"}
		}, func(a map[string]any) (int64, string) {
			u, _ := a["usage"].(map[string]any)
			d, _ := u["input_tokens_details"].(map[string]any)
			n, _ := d["cached_tokens"].(float64)
			text := ""
			if out, _ := a["output"].([]any); len(out) > 0 {
				m, _ := out[len(out)-1].(map[string]any)
				if c, _ := m["content"].([]any); len(c) > 0 {
					p, _ := c[0].(map[string]any)
					text, _ = p["text"].(string)
				}
			}
			return int64(n), text
		}},
		{"messages", "/messages", func(history []turnMsg) any {
			msgs := []map[string]any{}
			for _, m := range history {
				msgs = append(msgs, map[string]any{"role": m.role, "content": m.text})
			}
			return map[string]any{"model": "gpt-5.5", "max_tokens": 1000, "system": system, "messages": msgs}
		}, func(a map[string]any) (int64, string) {
			u, _ := a["usage"].(map[string]any)
			n, _ := u["cache_read_input_tokens"].(float64)
			text := ""
			if c, _ := a["content"].([]any); len(c) > 0 {
				b, _ := c[0].(map[string]any)
				text, _ = b["text"].(string)
			}
			return int64(n), text
		}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			h := newHarness(t, nil)
			var history []turnMsg
			var prevPrompt []byte
			var cached, ideal int64
			var sid string
			for turn := 1; turn <= 10; turn++ {
				history = append(history, turnMsg{"user", fmt.Sprintf("Question %d: %s", turn, strings.Repeat(fmt.Sprintf("detail %d ", turn), 150))})
				b, _ := json.Marshal(d.body(history))
				req, _ := http.NewRequest("POST", h.base+d.path, bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+testKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var answer map[string]any
				err = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("turn %d: %d %v %v", turn, resp.StatusCode, err, answer)
				}
				rec := lastRec(t, h.fake)
				s := rec.Header.Get("Session-Id")
				if !uuidv7.MatchString(s) || rec.JSON["prompt_cache_key"] != s {
					t.Fatalf("turn %d: session-id %q, prompt_cache_key %v: want one UUIDv7", turn, s, rec.JSON["prompt_cache_key"])
				}
				if turn == 1 {
					sid = s
				} else if s != sid {
					t.Errorf("turn %d: session-id %q, turn 1 had %q", turn, s, sid)
				}
				body := rec.JSON
				prompt, _ := json.Marshal([]any{body["instructions"], body["tools"], body["input"]})
				n, text := d.cached(answer)
				if turn > 1 {
					cached += n
					ideal += int64(len(prevPrompt) / 4 / codextest.CacheBlockTokens * codextest.CacheBlockTokens)
				}
				prevPrompt = prompt
				history = append(history, turnMsg{"assistant", text})
			}
			share := float64(cached) / float64(ideal)
			t.Logf("cached %d of an ideal %d tokens on turns 2-10 (%.1f%%)", cached, ideal, 100*share)
			if ideal == 0 || share < 0.9 {
				t.Fatalf("cached %d of an ideal %d tokens (%.1f%%), want at least 90%%", cached, ideal, 100*share)
			}
		})
	}
}
