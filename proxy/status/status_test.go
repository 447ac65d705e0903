package status

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRolloverAtLocalMidnight(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 23, 59, 0, 0, time.Local)
	r := NewRecorder(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	r.CountRequest("a", false)
	r.CountRequest("a", true)
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	s := r.Snapshot()
	if s.Requests.Today != 0 || s.Requests.Total != 2 || s.Requests.Errors != 1 || s.Requests.Clients[0].Today != 0 || s.Requests.Day != "2026-11-25" {
		t.Errorf("after midnight: %+v", s.Requests)
	}
}

func TestChangedCoalesces(t *testing.T) {
	r := NewRecorder(nil)
	for i := 0; i < 10; i++ {
		r.SetError("e", 500)
	}
	<-r.Changed()
	select {
	case <-r.Changed():
		t.Error("ten changes gave more than one wakeup")
	default:
	}
}

func TestQuotaKeepsActiveLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewRecorder(func() time.Time { return now })
	r.Record(Outcome{Client: "c", Failed: true, LimitedUntil: now.Add(time.Hour)})
	r.SetQuota(r.Account(), Quota{Plan: "plus", Limits: []Limit{{ID: "codex", Primary: &Window{UsedPercent: 100}}}})
	if got, _ := r.UsageLimit(); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("a header reading cleared the usage limit: %v", got)
	}
	r.SetQuota(r.Account(), Quota{})
	if s := r.Snapshot(); s.Quota.Plan != "plus" {
		t.Errorf("plan lost: %+v", s.Quota)
	}
	// Readings merge per family, so the codex family stays; a snapshot's
	// changes must not reach the recorder.
	snap := r.Snapshot()
	n := len(snap.Quota.Limits)
	snap.Quota.Limits = append(snap.Quota.Limits[:n:n], Limit{ID: "x"})
	snap.Quota.Limits[0].ID = "changed"
	if got := r.Snapshot().Quota.Limits; len(got) != n || got[0].ID != "codex" {
		t.Error("a snapshot shares memory with the recorder")
	}
}

func TestClientListIsBounded(t *testing.T) {
	r := NewRecorder(nil)
	for i := 0; i < maxClients+20; i++ {
		r.CountRequest(fmt.Sprintf("client-%d", i), false)
	}
	s := r.Snapshot()
	if len(s.Requests.Clients) != maxClients+1 || s.Requests.Total != maxClients+20 {
		t.Fatalf("clients = %d, total = %d", len(s.Requests.Clients), s.Requests.Total)
	}
	for _, c := range s.Requests.Clients {
		if c.Name == otherClients && c.Total != 20 {
			t.Errorf("other clients = %d, want 20", c.Total)
		}
	}
}

// TestFamilyLocks: a usage limit locks only its family; a success of
// another family's model leaves it; a success in the family lifts it.
func TestFamilyLocks(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewRecorder(func() time.Time { return now })
	r.SetQuota(r.Account(), Quota{Limits: []Limit{
		{ID: "codex", Primary: &Window{UsedPercent: 10}},
		{ID: "codex-bengalfox", Name: "gpt-5.3-codex-spark", Primary: &Window{UsedPercent: 100}},
	}})
	r.Record(Outcome{Failed: true, LimitedUntil: now.Add(time.Hour), LimitFamily: "codex-bengalfox"})
	if until, _, fam := r.UsageLimitFor("gpt-5.3-codex-spark"); fam != "codex-bengalfox" || !until.Equal(now.Add(time.Hour)) {
		t.Errorf("spark: %v %s", until, fam)
	}
	if until, _, fam := r.UsageLimitFor("gpt-5.5"); fam != "codex" || !until.IsZero() {
		t.Errorf("gpt-5.5 locked by another family: %v %s", until, fam)
	}
	if s := r.Snapshot(); !s.Quota.LimitedUntil().IsZero() {
		t.Errorf("main lock set by another family: %v", s.Quota.LimitedUntil())
	}
	r.Record(Outcome{Succeeded: true, Family: "codex"})
	if until, _, _ := r.UsageLimitFor("gpt-5.3-codex-spark"); until.IsZero() {
		t.Error("a success of the main family lifted another family's lock")
	}
	r.Record(Outcome{Succeeded: true, Family: "codex-bengalfox"})
	if until, _, _ := r.UsageLimitFor("gpt-5.3-codex-spark"); !until.IsZero() {
		t.Error("a success in the family kept its lock")
	}
}

// TestUsageMergesWithHeaders: a usage-endpoint reading and a header
// reading update the same families; credits from the endpoint survive
// headers without them.
func TestUsageMergesWithHeaders(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewRecorder(func() time.Time { return now })
	r.SetQuota(r.Account(), Quota{Plan: "pro", Credits: "12", HasCredits: true, UsageReadAt: now, Limits: []Limit{
		{ID: "codex", Primary: &Window{UsedPercent: 10}},
		{ID: "codex-bengalfox", Name: "gpt-5.3-codex-spark", Primary: &Window{UsedPercent: 40}},
	}})
	r.SetQuota(r.Account(), Quota{Limits: []Limit{{ID: "codex", Primary: &Window{UsedPercent: 11}}}})
	q := r.Snapshot().Quota
	if len(q.Limits) != 2 || q.Limits[0].Primary.UsedPercent != 11 || q.Limits[1].Name != "gpt-5.3-codex-spark" || q.Credits != "12" || q.Plan != "pro" || !q.UsageReadAt.Equal(now) {
		t.Errorf("merged %+v", q)
	}
}

// TestCachedShare is the cached share over the recent answers.
func TestCachedShare(t *testing.T) {
	r := NewRecorder(nil)
	r.Record(Outcome{Succeeded: true, InputTokens: 1000})
	r.Record(Outcome{Succeeded: true, InputTokens: 1000, CachedTokens: 900})
	if got := r.Snapshot().Cache; got.Share() != 0.45 || got.Requests != 2 {
		t.Errorf("share %v of %+v", got.Share(), got)
	}
	for i := 0; i < cacheWindow; i++ {
		r.Record(Outcome{Succeeded: true, InputTokens: 100, CachedTokens: 100})
	}
	if got := r.Snapshot().Cache; got.Share() != 1 || got.Requests != cacheWindow {
		t.Errorf("old answers not forgotten: %v %+v", got.Share(), got)
	}
}

// TestStaleReadingsAfterSignOut: what a request or a usage reading learnt
// under a sign-in that has since ended (a request in flight during the
// sign-out) does not bring that account's quota, lock or error back; the
// request is still counted.
func TestStaleReadingsAfterSignOut(t *testing.T) {
	r := NewRecorder(nil)
	q := Quota{Plan: "plus", Limits: []Limit{{ID: "codex", Primary: &Window{UsedPercent: 40}}}}
	before := r.Account()
	r.ClearAccount() // the sign-out, while the request and the reading were under way
	r.Record(Outcome{Client: "c", Account: before, Quota: &q, LimitedUntil: time.Now().Add(time.Hour), Plan: "plus",
		Err: &ErrorInfo{Message: "usage limit", Status: 429}, Failed: true})
	r.SetQuota(before, q)
	s := r.Snapshot()
	if len(s.Quota.Limits) != 0 || s.Quota.Plan != "" || s.LastError != nil {
		t.Errorf("stale readings applied: quota %+v, error %+v", s.Quota, s.LastError)
	}
	if s.Requests.Total != 1 {
		t.Errorf("requests %d, want the stale one counted", s.Requests.Total)
	}
	// Readings of the current sign-in apply.
	now := r.Account()
	r.Record(Outcome{Client: "c", Account: now, Quota: &q, Succeeded: true})
	r.SetQuota(now, q)
	if s := r.Snapshot(); len(s.Quota.Limits) != 1 || s.Quota.Plan != "plus" || s.Requests.Total != 2 {
		t.Errorf("current readings: quota %+v, requests %d", s.Quota, s.Requests.Total)
	}
}
