package status

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for Recorders.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func at(d, h, m int) time.Time   { return time.Date(2026, 11, d, h, m, 0, 0, time.Local) }
func client(r Requests, name string) ClientCount {
	for _, c := range r.Clients {
		if c.Name == name {
			return c
		}
	}
	return ClientCount{}
}

func TestCountsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", CountsFileName)
	q, err := LoadCounts(path)
	if err != nil || q.Total != 0 {
		t.Fatalf("LoadCounts(missing) = %+v, %v", q, err)
	}
	want := Requests{Total: 3402, Today: 12, Errors: 2, Day: "2026-11-25", Last: at(25, 14, 5).UTC(),
		Clients: []ClientCount{{Name: "curl/8.5", Total: 3000, Today: 10}, {Name: "OpenAI/Python", Total: 402, Today: 2}}}
	if err := SaveCounts(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCounts(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCounts(got, want) {
		t.Fatalf("round trip = %+v, want %+v", got, want)
	}
	if runtime.GOOS != "windows" {
		info, _ := os.Stat(path)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", info.Mode().Perm())
		}
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCounts(path); err == nil {
		t.Error("LoadCounts(corrupt) succeeded")
	}
}

func TestRestoreSameDayAndNextDay(t *testing.T) {
	saved := Requests{Total: 100, Today: 7, Errors: 1, Day: "2026-11-25",
		Clients: []ClientCount{{Name: "a", Total: 90, Today: 5}, {Name: "b", Total: 10, Today: 2}}}

	c := &clock{t: at(25, 18, 0)}
	r := NewRecorder(c.now)
	r.CountRequest("b", false) // counted before the restore: kept
	r.RestoreRequests(saved)
	q := r.RequestCounts()
	if q.Total != 101 || q.Today != 8 || q.Errors != 1 {
		t.Fatalf("same day: %+v", q)
	}
	if b := client(q, "b"); b.Total != 11 || b.Today != 3 {
		t.Errorf("same day client b = %+v", b)
	}
	if q.Clients[0].Name != "a" {
		t.Errorf("clients not sorted by total: %+v", q.Clients)
	}

	c2 := &clock{t: at(26, 9, 0)}
	r2 := NewRecorder(c2.now)
	r2.RestoreRequests(saved)
	q2 := r2.RequestCounts()
	if q2.Total != 100 || q2.Today != 0 || client(q2, "a").Today != 0 || client(q2, "a").Total != 90 {
		t.Fatalf("next day: %+v", q2)
	}
}

func TestTodayRollsOverAtMidnight(t *testing.T) {
	c := &clock{t: at(25, 23, 58)}
	r := NewRecorder(c.now)
	r.CountRequest("a", false)
	r.CountRequest("a", false)
	c.set(at(26, 0, 1))
	q := r.RequestCounts()
	if q.Today != 0 || q.Total != 2 || q.Day != "2026-11-26" || client(q, "a").Today != 0 {
		t.Fatalf("after midnight: %+v", q)
	}
	r.CountRequest("a", false)
	if q := r.RequestCounts(); q.Today != 1 || q.Total != 3 {
		t.Fatalf("after a new request: %+v", q)
	}
}

func TestPersisterAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), CountsFileName)
	c := &clock{t: at(25, 10, 0)}

	r := NewRecorder(c.now)
	p := NewPersister(r, path, nil)
	if err := p.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				r.CountRequest("client", i%10 == 0)
			}
		}()
	}
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// The next start, the same day.
	r2 := NewRecorder(c.now)
	p2 := NewPersister(r2, path, nil)
	if err := p2.Load(); err != nil {
		t.Fatal(err)
	}
	r2.CountRequest("other", false)
	if err := p2.Save(); err != nil {
		t.Fatal(err)
	}
	q := r2.RequestCounts()
	if q.Total != 101 || q.Today != 101 || q.Errors != 12 || client(q, "client").Total != 100 {
		t.Fatalf("after restart: %+v", q)
	}
	saved, err := LoadCounts(path)
	if err != nil || !sameCounts(saved, q) {
		t.Fatalf("saved = %+v, %v; want %+v", saved, err, q)
	}

	// The start after, a day later.
	c.set(at(26, 8, 0))
	r3 := NewRecorder(c.now)
	if err := NewPersister(r3, path, nil).Load(); err != nil {
		t.Fatal(err)
	}
	if q := r3.RequestCounts(); q.Total != 101 || q.Today != 0 {
		t.Fatalf("next day: %+v", q)
	}
}

func TestSaveSkipsUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CountsFileName)
	r := NewRecorder(nil)
	p := NewPersister(r, path, nil)
	if err := p.Load(); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("Save with no counts wrote a file: %v", err)
	}
	r.CountRequest("a", false)
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Save after a request: %v", err)
	}
}
