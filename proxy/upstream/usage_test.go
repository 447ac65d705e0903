package upstream

import (
	"os"
	"testing"
	"time"
)

// TestParseUsage reads a /wham/usage answer derived from the shapes the
// Codex CLI and peers parse (testdata/usage/README.md says where from).
func TestParseUsage(t *testing.T) {
	b, err := os.ReadFile("testdata/usage/plus-spark.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1796603400, 0)
	q, err := ParseUsage(b, now)
	if err != nil {
		t.Fatal(err)
	}
	if q.Plan != "plus" || len(q.Limits) != 2 || !q.UsageReadAt.Equal(now) || q.Credits != "0" || q.HasCredits {
		t.Fatalf("quota %+v", q)
	}
	m := q.Limits[0]
	if m.ID != "codex" || m.Primary.UsedPercent != 23 || m.Primary.WindowMinutes != 300 || !m.Primary.ResetsAt.Equal(time.Unix(1796612400, 0)) ||
		m.Secondary.UsedPercent != 41 || m.Secondary.WindowMinutes != 10080 {
		t.Errorf("main %+v %+v", m.Primary, m.Secondary)
	}
	s := q.Limits[1]
	if s.ID != "codex-bengalfox" || s.Name != "GPT-5.3-Codex-Spark" || s.Primary.UsedPercent != 100 || s.Secondary != nil {
		t.Errorf("family %+v", s)
	}
	if !s.Covers("gpt-5.3-codex-spark") || m.Covers("gpt-5.5") {
		t.Error("family does not name its model")
	}
	if _, err := ParseUsage([]byte("<html>"), now); err == nil {
		t.Error("garbage parsed")
	}
	// reset_after_seconds when reset_at is missing.
	q, _ = ParseUsage([]byte(`{"rate_limit":{"primary_window":{"used_percent":5,"reset_after_seconds":60}}}`), now)
	if got := q.Limits[0].Primary.ResetsAt; !got.Equal(now.Add(time.Minute)) {
		t.Errorf("reset %v", got)
	}
}
