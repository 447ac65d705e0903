package upstream

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// FamilyID normalises a limit family id as the rate-limit headers spell
// it ("codex-bengalfox"): lower case, dashes for underscores (the usage
// endpoint's metered_feature says "codex_bengalfox").
func FamilyID(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// usageWindow is one window of GET /wham/usage.
type usageWindow struct {
	UsedPercent        *float64 `json:"used_percent"`
	LimitWindowSeconds int64    `json:"limit_window_seconds"`
	ResetAfterSeconds  int64    `json:"reset_after_seconds"`
	ResetAt            int64    `json:"reset_at"`
}

type usageRateLimit struct {
	PrimaryWindow   *usageWindow `json:"primary_window"`
	SecondaryWindow *usageWindow `json:"secondary_window"`
}

// usageBody is the answer of GET /wham/usage (docs/protocol.md §4).
type usageBody struct {
	PlanType  string          `json:"plan_type"`
	RateLimit *usageRateLimit `json:"rate_limit"`
	Credits   *struct {
		HasCredits bool            `json:"has_credits"`
		Unlimited  bool            `json:"unlimited"`
		Balance    json.RawMessage `json:"balance"`
	} `json:"credits"`
	AdditionalRateLimits []struct {
		LimitName      string          `json:"limit_name"`
		MeteredFeature string          `json:"metered_feature"`
		RateLimit      *usageRateLimit `json:"rate_limit"`
	} `json:"additional_rate_limits"`
}

// ParseUsage reads a /wham/usage answer into a status.Quota: the plan, the
// main ("codex") family's windows, one family per additional rate limit
// (id from metered_feature, name from limit_name, which names the model)
// and the credits. Reset times come from reset_at, else reset_after_seconds
// relative to now.
func ParseUsage(body []byte, now time.Time) (status.Quota, error) {
	var u usageBody
	if err := json.Unmarshal(body, &u); err != nil {
		return status.Quota{}, fmt.Errorf("decoding usage: %w", err)
	}
	q := status.Quota{Plan: u.PlanType, UsageReadAt: now}
	if u.RateLimit != nil {
		q.Limits = append(q.Limits, usageLimit(status.MainFamily, "", u.RateLimit, now))
	}
	for _, a := range u.AdditionalRateLimits {
		id := FamilyID(a.MeteredFeature)
		if id == "" {
			id = FamilyID(a.LimitName)
		}
		if id == "" || id == status.MainFamily || a.RateLimit == nil {
			continue
		}
		q.Limits = append(q.Limits, usageLimit(id, strings.TrimSpace(a.LimitName), a.RateLimit, now))
	}
	if c := u.Credits; c != nil {
		q.HasCredits, q.Unlimited = c.HasCredits, c.Unlimited
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(c.Balance, &s) == nil:
			q.Credits = s
		case json.Unmarshal(c.Balance, &n) == nil:
			q.Credits = n.String()
		}
	}
	return q, nil
}

func usageLimit(id, name string, r *usageRateLimit, now time.Time) status.Limit {
	return status.Limit{ID: id, Name: name, Primary: usageWin(r.PrimaryWindow, now), Secondary: usageWin(r.SecondaryWindow, now)}
}

// usageWin converts one window; nil when absent or all zero, as for the
// headers.
func usageWin(w *usageWindow, now time.Time) *status.Window {
	if w == nil || w.UsedPercent == nil || math.IsNaN(*w.UsedPercent) || math.IsInf(*w.UsedPercent, 0) {
		return nil
	}
	out := &status.Window{UsedPercent: *w.UsedPercent, WindowMinutes: int(w.LimitWindowSeconds / 60)}
	switch {
	case w.ResetAt > 0:
		out.ResetsAt = time.Unix(w.ResetAt, 0).UTC()
	case w.ResetAfterSeconds > 0:
		out.ResetsAt = now.Add(time.Duration(w.ResetAfterSeconds) * time.Second).UTC()
	}
	if out.UsedPercent == 0 && out.WindowMinutes == 0 && out.ResetsAt.IsZero() {
		return nil
	}
	return out
}
