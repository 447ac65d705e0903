package server

import (
	"context"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// The thresholds of procGovernor.
const (
	// wideAt is the number of requests at once from which the scheduler
	// gets every CPU it started with.
	wideAt = 3
	// narrowAfter is how long fewer than wideAt requests must have been in
	// flight before the scheduler goes back to one CPU.
	narrowAfter = 2 * time.Second
)

// procGovernor fits Go's scheduler to the load. A desktop app that relays
// one client's requests at a time spends most of a request handing work
// from one goroutine to another (the client's connection, the upstream
// connection's reader and writer); with more than one CPU the runtime
// wakes a second thread for each hand-off and lets it spin looking for
// work, which costs latency and CPU on a laptop where the client and the
// app share the cores. So the scheduler runs on one CPU (GOMAXPROCS=1)
// while fewer than wideAt requests are in flight, and on as many as it
// started with as soon as more are, until the load has stayed low for
// narrowAfter. A GOMAXPROCS in the environment is left alone, and so is a
// single CPU.
//
// begin and end are called for every request and never switch themselves:
// a switch stops the world, which waits for a garbage collection's mark
// phase to end, so it runs in the governor's own goroutine (run), which
// begin and end wake when the load calls for it. In the steady state of
// either kind of load they cost an atomic add and a load or two.
type procGovernor struct {
	active   atomic.Int32
	busy     atomic.Int64 // when wideAt requests were last in flight, in now's units
	narrowed atomic.Bool  // what run last set
	kick     chan struct{}

	wide     int               // GOMAXPROCS when the governor was made
	set      func(narrow bool) // the runtime setting; tests replace it
	now      func() int64      // monotonic nanoseconds
	quietFor time.Duration     // narrowAfter; tests shorten it
}

// newProcGovernor returns a governor, or nil when the runtime's setting is
// the user's (GOMAXPROCS in the environment) or there is only one CPU to
// begin with.
func newProcGovernor() *procGovernor {
	wide := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" || wide < 2 {
		return nil
	}
	start := time.Now()
	g := &procGovernor{
		kick:     make(chan struct{}, 1),
		wide:     wide,
		now:      func() int64 { return int64(time.Since(start)) },
		quietFor: narrowAfter,
	}
	g.set = func(narrow bool) {
		if narrow {
			runtime.GOMAXPROCS(1)
		} else {
			runtime.GOMAXPROCS(g.wide)
		}
	}
	g.busy.Store(-int64(narrowAfter)) // no load before the start
	return g
}

// begin counts a request in.
func (g *procGovernor) begin() {
	if g == nil {
		return
	}
	if g.active.Add(1) >= wideAt {
		g.busy.Store(g.now())
		if g.narrowed.Load() {
			g.wake()
		}
	}
}

// end counts a request out.
func (g *procGovernor) end() {
	if g == nil {
		return
	}
	n := g.active.Add(-1)
	if n >= wideAt-1 {
		// Still busy, or the load only just became low: then run times
		// the quiet spell (the requests still in flight may last minutes).
		g.busy.Store(g.now())
		if n == wideAt-1 && !g.narrowed.Load() {
			g.wake()
		}
		return
	}
	if !g.narrowed.Load() && g.quiet() {
		g.wake()
	}
}

// wake asks run to look at the load.
func (g *procGovernor) wake() {
	select {
	case g.kick <- struct{}{}:
	default: // a look is already due
	}
}

// quiet reports whether fewer than wideAt requests have been in flight
// for narrowAfter.
func (g *procGovernor) quiet() bool {
	return g.active.Load() < wideAt && g.now()-g.busy.Load() >= int64(g.quietFor)
}

// untilQuiet is how long the load, low now, must stay low before the
// scheduler narrows; 0 when there is nothing to wait for (narrowed, busy,
// or quiet already).
func (g *procGovernor) untilQuiet() time.Duration {
	if g.narrowed.Load() || g.active.Load() >= wideAt {
		return 0
	}
	return max(time.Duration(int64(g.quietFor)-(g.now()-g.busy.Load())), 0)
}

// run switches the scheduler as the load asks until ctx is done, then
// gives it the CPUs it started with back. The server starts idle, so the
// first look narrows it.
func (g *procGovernor) run(ctx context.Context) {
	if g == nil {
		return
	}
	defer g.restore()
	g.settle()
	t := time.NewTimer(time.Hour)
	t.Stop() // armed only while a quiet spell runs
	defer t.Stop()
	for {
		// Wide with a low load: look again when its quiet spell ends,
		// whether or not a request ends meanwhile.
		if d := g.untilQuiet(); d > 0 {
			t.Reset(d)
		}
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
		case <-t.C:
		}
		t.Stop()
		g.settle()
	}
}

// settle switches until the setting fits the load. Looking again after
// each switch catches a begin that made wideAt while the switch to one
// CPU ran: either it saw narrowed set and woke run, or this look sees its
// request.
func (g *procGovernor) settle() {
	for {
		narrow := g.narrowed.Load()
		switch {
		case narrow && g.active.Load() >= wideAt:
			narrow = false
		case !narrow && g.quiet():
			narrow = true
		default:
			return
		}
		g.set(narrow)
		g.narrowed.Store(narrow)
	}
}

// restore gives the scheduler the CPUs it started with.
func (g *procGovernor) restore() {
	if g.narrowed.Load() {
		g.set(false)
		g.narrowed.Store(false)
	}
}
