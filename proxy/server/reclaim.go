package server

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// reclaimAfter is how long the server must be idle after serving requests
// before it hands freed memory back to the operating system.
var reclaimAfter = 5 * time.Second

// reclaimer returns freed memory to the operating system once the server
// has been idle for a while after serving requests. Without it a burst of
// streams leaves the process resident at its peak size (the Go runtime
// returns memory only slowly when nothing allocates), which a tray app
// should not do.
type reclaimer struct {
	mu     sync.Mutex
	active int
	peak   int  // the most requests at once since the last reclaim
	served bool // a request ended since the last reclaim
	timer  *time.Timer
	free   func() // freeMemory; tests may replace it
	// trim closes the idle upstream connections. After a burst of
	// concurrent requests to an HTTP/1.1 upstream, one connection per
	// request would otherwise stay open (with its buffers and goroutines)
	// until the pool's idle timeout. Over HTTP/2 a burst shares one or a
	// few connections, and a quiet spell of ordinary use keeps its warm
	// connection: trim runs only after bursts.
	trim func()
}

// burstRequests is the number of requests at once from which the idle
// upstream connections are closed on the next reclaim.
const burstRequests = 8

func (r *reclaimer) begin() {
	r.mu.Lock()
	r.active++
	r.peak = max(r.peak, r.active)
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
}

func (r *reclaimer) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	r.served = true
	if r.active > 0 {
		return
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(reclaimAfter, r.fire)
		return
	}
	r.timer.Reset(reclaimAfter)
}

func (r *reclaimer) fire() {
	r.mu.Lock()
	if r.active > 0 || !r.served {
		r.mu.Unlock()
		return
	}
	r.served = false
	free := r.free
	trim := r.trim
	if r.peak <= burstRequests {
		trim = nil
	}
	r.peak = 0
	r.mu.Unlock()
	if trim != nil {
		trim()
	}
	if free == nil {
		free = freeMemory
	}
	free()
}

// freeMemory collects twice, so that the contents of sync.Pools (buffers
// of the burst's streams, kept for one collection as victims) are freed
// too, and returns the freed memory to the operating system.
func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// stop cancels a pending reclaim (at shutdown).
func (r *reclaimer) stop() {
	r.mu.Lock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.mu.Unlock()
}

// trackIdle counts requests in flight for the reclaimer and the
// scheduler's governor.
func (s *Server) trackIdle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.reclaim.begin()
		s.procs.begin()
		defer s.reclaim.end()
		defer s.procs.end()
		return next(c)
	}
}
