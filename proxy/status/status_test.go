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
	r.SetQuota(Quota{Plan: "plus", Limits: []Limit{{ID: "codex", Primary: &Window{UsedPercent: 100}}}})
	if got, _ := r.UsageLimit(); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("a header reading cleared the usage limit: %v", got)
	}
	r.SetQuota(Quota{})
	if s := r.Snapshot(); s.Quota.Plan != "plus" {
		t.Errorf("plan lost: %+v", s.Quota)
	}
	snap := r.Snapshot()
	snap.Quota.Limits = append(snap.Quota.Limits, Limit{ID: "x"})
	if len(r.Snapshot().Quota.Limits) != 0 {
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
