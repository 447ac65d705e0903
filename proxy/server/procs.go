package server

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The thresholds of procGovernor.
const (
	// wideAt is the number of requests at once from which the scheduler
	// gets every CPU.
	wideAt = 3
	// narrowAfter is how long fewer requests than wideAt must have been
	// in flight before the scheduler goes back to one CPU.
	narrowAfter = 2 * time.Second
)

// procGovernor fits Go's scheduler to the load. A desktop app that relays
// one client's requests at a time spends most of a request handing work
// from one goroutine to another (the client's connection, the upstream
// connection's reader and writer); with more than one CPU the runtime
// wakes a second thread for each hand-off and lets it spin looking for
// work, which costs latency and CPU on a laptop where the client and the
// app share the cores. So the scheduler runs on one CPU (GOMAXPROCS=1)
// while fewer than wideAt requests are in flight, and on the runtime's
// default (every CPU, or the container's limit) as soon as more are,
// until the load has stayed low for narrowAfter. A GOMAXPROCS set in the
// environment is left alone.
//
// begin and end are called for every request; in the steady state of
// either kind of load they cost one atomic add and a load or two.
type procGovernor struct {
	active   atomic.Int32
	narrowed atomic.Bool
	busy     atomic.Int64 // when wideAt requests were last in flight, in now's units

	mu   sync.Mutex        // orders the switches
	set  func(narrow bool) // setProcs; tests replace it
	now  func() int64      // monotonic nanoseconds
	stop bool              // the server stopped: no more switches
}

// newProcGovernor returns a governor, or nil when the runtime's setting
// is the user's (GOMAXPROCS in the environment) or there is only one CPU
// to begin with.
func newProcGovernor() *procGovernor {
	if os.Getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	start := time.Now()
	g := &procGovernor{set: setProcs, now: func() int64 { return int64(time.Since(start)) }}
	g.busy.Store(-int64(narrowAfter)) // no load before the start
	return g
}

// setProcs narrows the scheduler to one CPU or gives it the runtime's
// default back. Either stops the world for a moment.
func setProcs(narrow bool) {
	if narrow {
		runtime.GOMAXPROCS(1)
		return
	}
	runtime.SetDefaultGOMAXPROCS()
}

// begin counts a request in; it widens the scheduler when it makes
// wideAt requests at once.
func (g *procGovernor) begin() {
	if g == nil {
		return
	}
	if g.active.Add(1) >= wideAt {
		g.busy.Store(g.now())
		if g.narrowed.Load() {
			g.switchTo(false)
		}
	}
}

// end counts a request out; it narrows the scheduler when the load has
// stayed below wideAt for narrowAfter.
func (g *procGovernor) end() {
	if g == nil {
		return
	}
	n := g.active.Add(-1)
	if n >= wideAt {
		g.busy.Store(g.now())
		return
	}
	if !g.narrowed.Load() && g.quiet() {
		g.switchTo(true)
	}
}

// idle narrows the scheduler when nothing is in flight (the reclaimer
// calls it once the server has been idle for a while).
func (g *procGovernor) idle() {
	if g != nil && !g.narrowed.Load() && g.active.Load() == 0 {
		g.switchTo(true)
	}
}

// quiet reports whether fewer than wideAt requests have been in flight
// for narrowAfter.
func (g *procGovernor) quiet() bool {
	return g.active.Load() < wideAt && g.now()-g.busy.Load() >= int64(narrowAfter)
}

// switchTo narrows or widens the scheduler unless it already is, or the
// load changed meanwhile.
func (g *procGovernor) switchTo(narrow bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stop || g.narrowed.Load() == narrow || (narrow && !g.quiet()) || (!narrow && g.active.Load() < wideAt) {
		return
	}
	g.set(narrow)
	g.narrowed.Store(narrow)
}

// release gives the scheduler its default back for good (the server
// stopped; the process may go on doing other work).
func (g *procGovernor) release() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.narrowed.Load() {
		g.set(false)
		g.narrowed.Store(false)
	}
	g.stop = true
}
