package upstream

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseQuota(t *testing.T) {
	now := time.Date(2026, 3, 13, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		h      http.Header
		want   status.Quota
		wantOK bool
	}{
		{
			// The real free-plan 429 header set from codex-protocol.md §7.3.
			name: "free plan 429",
			h: hdr(
				"x-codex-active-limit", "codex",
				"x-codex-plan-type", "free",
				"x-codex-primary-used-percent", "100",
				"x-codex-primary-window-minutes", "10080",
				"x-codex-primary-reset-after-seconds", "471285",
				"x-codex-primary-reset-at", "1773860656",
				"x-codex-primary-over-secondary-limit-percent", "0",
				"x-codex-secondary-used-percent", "0",
				"x-codex-secondary-window-minutes", "0",
				"x-codex-secondary-reset-after-seconds", "0",
				"x-codex-secondary-reset-at", "",
				"x-codex-credits-has-credits", "False",
				"x-codex-credits-balance", "",
				"x-codex-credits-unlimited", "False",
				"x-codex-promo-campaign-id", "promo",
				"x-models-etag", `W/"c8e3"`,
			),
			want: status.Quota{
				Plan:        "free",
				ActiveLimit: "codex",
				Limits: []status.Limit{{
					ID:      "codex",
					Primary: &status.Window{UsedPercent: 100, WindowMinutes: 10080, ResetsAt: time.Unix(1773860656, 0).UTC()},
				}},
			},
			wantOK: true,
		},
		{
			name: "plus with both windows, relative resets",
			h: hdr(
				"X-Codex-Plan-Type", "plus",
				"X-Codex-Primary-Used-Percent", "42.5",
				"X-Codex-Primary-Window-Minutes", "300",
				"X-Codex-Primary-Reset-After-Seconds", "3600",
				"X-Codex-Secondary-Used-Percent", "7",
				"X-Codex-Secondary-Window-Minutes", "10080",
				"X-Codex-Secondary-Reset-After-Seconds", "86400",
				"X-Codex-Credits-Has-Credits", "true",
				"X-Codex-Credits-Balance", "12.34",
				"X-Codex-Credits-Unlimited", "1",
			),
			want: status.Quota{
				Plan: "plus",
				Limits: []status.Limit{{
					ID:        "codex",
					Primary:   &status.Window{UsedPercent: 42.5, WindowMinutes: 300, ResetsAt: now.Add(time.Hour)},
					Secondary: &status.Window{UsedPercent: 7, WindowMinutes: 10080, ResetsAt: now.Add(24 * time.Hour)},
				}},
				HasCredits: true,
				Credits:    "12.34",
				Unlimited:  true,
			},
			wantOK: true,
		},
		{
			name: "extra families sorted after codex",
			h: hdr(
				"x-codex-bengalfox-primary-used-percent", "3",
				"x-codex-bengalfox-primary-window-minutes", "300",
				"x-codex-bengalfox-limit-name", "gpt-5.2-codex-sonic",
				"x-codex-primary-used-percent", "1",
				"x-alpha-primary-used-percent", "2",
				"x-alpha-primary-reset-at", "1773860656",
			),
			want: status.Quota{
				Limits: []status.Limit{
					{ID: "codex", Primary: &status.Window{UsedPercent: 1}},
					{ID: "alpha", Primary: &status.Window{UsedPercent: 2, ResetsAt: time.Unix(1773860656, 0).UTC()}},
					{ID: "codex-bengalfox", Name: "gpt-5.2-codex-sonic", Primary: &status.Window{UsedPercent: 3, WindowMinutes: 300}},
				},
			},
			wantOK: true,
		},
		{
			name:   "reset-at wins over reset-after",
			h:      hdr("x-codex-primary-used-percent", "5", "x-codex-primary-reset-after-seconds", "10", "x-codex-primary-reset-at", "1773860656"),
			want:   status.Quota{Limits: []status.Limit{{ID: "codex", Primary: &status.Window{UsedPercent: 5, ResetsAt: time.Unix(1773860656, 0).UTC()}}}},
			wantOK: true,
		},
		{
			name:   "empty and bad values are none",
			h:      hdr("x-codex-primary-used-percent", "", "x-codex-secondary-used-percent", "abc", "x-codex-credits-has-credits", "False"),
			want:   status.Quota{Limits: []status.Limit{{ID: "codex"}}},
			wantOK: true,
		},
		{
			name:   "credits only",
			h:      hdr("x-codex-credits-has-credits", "True"),
			want:   status.Quota{HasCredits: true},
			wantOK: true,
		},
		{
			name:   "no rate-limit headers",
			h:      hdr("Content-Type", "text/event-stream", "x-request-id", "r1"),
			wantOK: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseQuota(tc.h, now)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %s\nwant %s", dumpQuota(got), dumpQuota(tc.want))
			}
		})
	}
}

func dumpQuota(q status.Quota) string {
	s := q.Plan + "|" + q.ActiveLimit + "|" + q.Credits
	for _, l := range q.Limits {
		s += " {" + l.ID + " " + l.Name
		for _, w := range []*status.Window{l.Primary, l.Secondary} {
			if w == nil {
				s += " nil"
				continue
			}
			s += " " + time.Duration(0).String() + w.ResetsAt.String()
		}
		s += "}"
	}
	return s
}

// BenchmarkParseQuota reads a Plus account's headers, as the relay does
// after every answer.
func BenchmarkParseQuota(b *testing.B) {
	h := hdr(
		"x-codex-active-limit", "codex", "x-codex-plan-type", "plus",
		"x-codex-primary-used-percent", "12", "x-codex-primary-window-minutes", "300",
		"x-codex-primary-reset-after-seconds", "1200", "x-codex-primary-reset-at", "1773860656",
		"x-codex-secondary-used-percent", "40", "x-codex-secondary-window-minutes", "10080",
		"x-codex-secondary-reset-after-seconds", "90000", "x-codex-secondary-reset-at", "1773960656",
		"x-codex-credits-has-credits", "False", "x-codex-credits-balance", "", "x-codex-credits-unlimited", "False",
		"content-type", "text/event-stream", "cf-ray", "abc-FRA", "openai-model", "gpt-5.4", "x-request-id", "req_1",
		"date", "Mon, 07 Dec 2026 11:46:29 GMT", "server", "cloudflare", "x-models-etag", `W/"c8e3"`,
	)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseQuota(h, now); !ok {
			b.Fatal("no quota")
		}
	}
}
