package server

import (
	"testing"
	"time"
)

// TestReclaimTrimsAfterBurst checks that the idle upstream connections are
// closed when the server goes quiet after a burst of concurrent requests,
// and kept after ordinary use (a warm connection saves the next request a
// handshake).
func TestReclaimTrimsAfterBurst(t *testing.T) {
	old := reclaimAfter
	reclaimAfter = time.Millisecond
	t.Cleanup(func() { reclaimAfter = old })
	freed, trimmed := make(chan struct{}, 4), make(chan struct{}, 4)
	r := &reclaimer{free: func() { freed <- struct{}{} }, trim: func() { trimmed <- struct{}{} }}
	wave := func(n int) {
		for i := 0; i < n; i++ {
			r.begin()
		}
		for i := 0; i < n; i++ {
			r.end()
		}
		select {
		case <-freed:
		case <-time.After(5 * time.Second):
			t.Fatal("memory not reclaimed after the requests")
		}
	}
	wave(2)
	select {
	case <-trimmed:
		t.Fatal("idle connections closed after 2 requests at once")
	default:
	}
	wave(burstRequests + 1)
	select {
	case <-trimmed:
	default:
		t.Fatalf("idle connections kept after %d requests at once", burstRequests+1)
	}
	wave(1)
	select {
	case <-trimmed:
		t.Fatal("idle connections closed after a single request following a burst")
	default:
	}
}
