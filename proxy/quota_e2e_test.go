package proxy_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

const spark = "gpt-5.3-codex-spark"

func sparkFake() []codextest.Option {
	m := codextest.DefaultModels()
	s := m[len(m)-2] // gpt-5.4-mini's shape
	s.Slug, s.DisplayName, s.MinimalClientVersion, s.Priority = spark, spark, "0.100.0", 9
	rl := codextest.DefaultRateLimits()
	rl.Families = []codextest.FamilyLimit{{ID: "codex-bengalfox", Name: "GPT-5.3-Codex-Spark", PrimaryUsedPercent: 40, PrimaryWindowMinutes: 300, PrimaryResetAfter: time.Hour}}
	return []codextest.Option{codextest.WithModels(append(m, s)...), codextest.WithRateLimits(rl)}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUsageLimitPerFamily: a usage limit of the Spark model's family locks
// out only that family; a model of the main family is still answered by
// the backend, and the locked family is answered locally.
func TestUsageLimitPerFamily(t *testing.T) {
	h := newHarness(t, map[string]string{"CHATGPT_QUOTA_REFRESH": "1h"}, sparkFake()...)
	h.rejectionsOK = true
	ctx := context.Background()
	st := h.core.Status()
	waitUntil(t, "the first usage reading", func() bool { return !st.Snapshot().Quota.UsageReadAt.IsZero() })
	first := st.Snapshot().Quota.UsageReadAt

	h.fake.Enqueue(codextest.FamilyUsageLimit("plus", 2*time.Hour, "codex-bengalfox"))
	_, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: spark, Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}})
	apiError(t, err, http.StatusTooManyRequests)

	before := len(h.fake.ResponsesRequests())
	out, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: []openai.ChatCompletionMessageParamUnion{userMsg("hi")}})
	if err != nil {
		t.Fatalf("a model of another family was locked out: %v", err)
	}
	if len(out.Choices) == 0 || len(h.fake.ResponsesRequests()) != before+1 {
		t.Fatalf("gpt-5.5 not answered upstream")
	}
	_, err = h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: spark, Messages: []openai.ChatCompletionMessageParamUnion{userMsg("again")}})
	apiError(t, err, http.StatusTooManyRequests)
	if n := len(h.fake.ResponsesRequests()); n != before+1 {
		t.Errorf("the locked family went upstream again (%d requests)", n-before)
	}

	q := st.Snapshot().Quota
	if !q.LimitedUntil().IsZero() {
		t.Errorf("the main family shows a lock: %v", q.LimitedUntil())
	}
	var locked bool
	for _, l := range q.Limits {
		if l.ID == "codex-bengalfox" && l.LimitedUntil.After(time.Now()) && l.Name == "GPT-5.3-Codex-Spark" {
			locked = true
		}
	}
	if !locked {
		t.Errorf("family lock not in the status: %+v", q.Limits)
	}
	// The usage-limit answer made the core read /wham/usage again.
	waitUntil(t, "a usage reading after the limit", func() bool { return st.Snapshot().Quota.UsageReadAt.After(first) })
}

// TestQuotaFromUsageEndpoint: the core reads /wham/usage on start into
// the status, families and credits included, before any request.
func TestQuotaFromUsageEndpoint(t *testing.T) {
	h := newHarness(t, nil, sparkFake()...)
	st := h.core.Status()
	waitUntil(t, "the usage reading", func() bool { return len(st.Snapshot().Quota.Limits) == 2 })
	q := st.Snapshot().Quota
	if q.Plan != "plus" || q.Limits[0].Primary.UsedPercent != 12 || q.Limits[0].Secondary.WindowMinutes != 10080 ||
		q.Limits[1].Name != "GPT-5.3-Codex-Spark" || q.Limits[1].Primary.UsedPercent != 40 {
		t.Errorf("quota %+v", q)
	}
	if st.Snapshot().Requests.Total != 0 {
		t.Error("requests counted")
	}
}

// TestCachedShareInStatus: a repeated conversation reports cached tokens
// and the status shows their share.
func TestCachedShareInStatus(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are terse. "), userMsg("Tell me about caching in detail, please, at length.")}
	for i := 0; i < 3; i++ {
		out, err := h.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-5.5", Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, out.Choices[0].Message.ToParam(), userMsg("And more?"))
	}
	// The relay records a request once its answer is out: the client may
	// read the status a moment before the last one is counted.
	waitUntil(t, "three requests counted", func() bool { return h.core.Status().Snapshot().Cache.Requests >= 3 })
	c := h.core.Status().Snapshot().Cache
	if c.Requests != 3 || c.InputTokens == 0 || c.Share() <= 0 || c.Share() >= 1 {
		t.Errorf("cache %+v share %v", c, c.Share())
	}
}
