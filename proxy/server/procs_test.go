package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// testGovernor is a governor on a clock the test moves, recording the
// switches it makes; look does what run does when woken.
type testGovernor struct {
	*procGovernor
	clock    int64
	switches []bool // true: narrowed
}

func newTestGovernor() *testGovernor {
	tg := &testGovernor{}
	tg.procGovernor = &procGovernor{kick: make(chan struct{}, 1), now: func() int64 { return tg.clock }, quietFor: narrowAfter}
	tg.set = func(narrow bool) { tg.switches = append(tg.switches, narrow) }
	tg.busy.Store(-int64(narrowAfter))
	return tg
}

func (tg *testGovernor) advance(d time.Duration) { tg.clock += d.Nanoseconds() }

// look settles the setting if the governor was woken since the last look.
func (tg *testGovernor) look() {
	select {
	case <-tg.kick:
		tg.settle()
	default:
	}
}

func (tg *testGovernor) want(t *testing.T, what string, switches ...bool) {
	t.Helper()
	if !slices.Equal(tg.switches, switches) {
		t.Fatalf("%s: switches %v, want %v", what, tg.switches, switches)
	}
}

func TestProcGovernor(t *testing.T) {
	g := newTestGovernor()
	g.settle() // run's first look: the server starts idle
	g.want(t, "at the start", true)

	// One client, then two at once: no switch.
	for range 100 {
		g.begin()
		g.advance(time.Millisecond)
		g.end()
		g.look()
	}
	g.begin()
	g.begin()
	g.end()
	g.end()
	g.look()
	g.want(t, "one and two requests at once", true)

	// A third at once widens, once.
	for range 4 {
		g.begin()
		g.look()
	}
	g.want(t, "three at once", true, false)
	for range 4 {
		g.end()
		g.look()
	}
	g.want(t, "the burst ending", true, false)

	// For narrowAfter after the load fell below three, it stays wide;
	// then the first request to end narrows.
	g.advance(narrowAfter - time.Millisecond)
	g.begin()
	g.end()
	g.look()
	g.want(t, "one request soon after the burst", true, false)
	g.advance(time.Millisecond)
	g.begin()
	g.look()
	g.want(t, "a request beginning after narrowAfter", true, false)
	g.end()
	g.look()
	g.want(t, "a request ending after narrowAfter", true, false, true)

	// A long burst keeps it wide: its requests ending refresh the time.
	for range 3 {
		g.begin()
	}
	g.look()
	for range 5 {
		g.advance(narrowAfter)
		g.begin()
		g.end()
		g.look()
	}
	g.want(t, "a long burst", true, false, true, false)

	// Three clients whose long requests end and begin again one at a
	// time: the load is low for a moment only, so it stays wide.
	for range 5 {
		g.advance(30 * time.Second)
		g.end()
		g.look()
		g.begin()
		g.look()
	}
	g.want(t, "three long requests, one ending at a time", true, false, true, false)
	for range 3 {
		g.end()
	}
	g.look()
	g.want(t, "the long requests ending", true, false, true, false)

	// The quiet spell's timer (run's wake-up) narrows once the load has
	// been low long enough, and not while three requests are in flight.
	g.wake() // the quiet spell's timer
	g.look()
	g.want(t, "the timer right after the burst", true, false, true, false)
	g.advance(narrowAfter)
	g.wake() // the quiet spell's timer
	g.look()
	g.want(t, "the timer after narrowAfter", true, false, true, false, true)
	for range 3 {
		g.begin()
	}
	g.look()
	g.advance(narrowAfter)
	g.wake() // the quiet spell's timer
	g.look()
	g.want(t, "the timer with three requests in flight", true, false, true, false, true, false)
	for range 3 {
		g.end()
	}

	// restore gives the CPUs back when narrowed, and only then.
	g.advance(narrowAfter)
	g.wake() // the quiet spell's timer
	g.look()
	g.restore()
	g.restore()
	g.want(t, "restore", true, false, true, false, true, false, true, false)
}

// TestProcGovernorWidensDuringANarrowing makes a third request begin while
// the switch to one CPU runs (a switch stops the world, which can take a
// garbage collection's mark phase): it must not be left on one CPU.
func TestProcGovernorWidensDuringANarrowing(t *testing.T) {
	g := newTestGovernor()
	g.settle()
	for range 3 {
		g.begin()
	}
	g.look()
	for range 3 {
		g.end()
	}
	g.advance(narrowAfter)
	record := g.set
	g.set = func(narrow bool) {
		record(narrow)
		if narrow && g.active.Load() == 0 {
			g.begin()
			g.begin()
			g.begin() // sees narrowed still false
		}
	}
	g.begin()
	g.end() // quiet: wakes run to narrow
	g.look()
	g.look()
	if g.active.Load() != wideAt || g.narrowed.Load() {
		t.Fatalf("%d requests in flight, narrowed %v (switches %v)", g.active.Load(), g.narrowed.Load(), g.switches)
	}
	g.want(t, "a burst during the narrowing", true, false, true, false)
}

// waitNarrowed waits up to 10 s for the setting a test's set recorded in
// narrowed to become want.
func waitNarrowed(t *testing.T, what string, narrowed *atomic.Bool, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for narrowed.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: narrowed %v after 10 s, want %v", what, narrowed.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestProcGovernorNarrowsWhileRequestsLast: once the load falls below
// three, the scheduler narrows when the quiet spell ends, though the two
// requests still in flight last on (an agent's stream lasts minutes) and
// no request ends or begins meanwhile.
func TestProcGovernorNarrowsWhileRequestsLast(t *testing.T) {
	var narrowed atomic.Bool
	start := time.Now()
	g := &procGovernor{kick: make(chan struct{}, 1), now: func() int64 { return int64(time.Since(start)) }, quietFor: 30 * time.Millisecond}
	g.busy.Store(-int64(g.quietFor))
	g.set = func(narrow bool) { narrowed.Store(narrow) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.run(ctx) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, narrow bool) { t.Helper(); waitNarrowed(t, what, &narrowed, narrow) }
	wait("at the start", true)
	for range wideAt {
		g.begin()
	}
	wait("three in flight", false)
	g.end() // two stay in flight, and nothing else happens
	wait("two long requests", true)
	g.end()
	g.end()
}

// TestProcGovernorConcurrent runs the governor's own goroutine against
// clients on many goroutines (run with -race), with a quiet spell of
// 2 ms: whenever three requests are held open it
// widens, whenever they are gone it narrows again, no switch repeats the
// state before it, and the end of run gives the CPUs back.
func TestProcGovernorConcurrent(t *testing.T) {
	var mu sync.Mutex
	var switches []bool
	var narrowed atomic.Bool
	start := time.Now()
	g := &procGovernor{kick: make(chan struct{}, 1), now: func() int64 { return int64(time.Since(start)) }, quietFor: 2 * time.Millisecond}
	g.busy.Store(-int64(narrowAfter))
	g.set = func(narrow bool) {
		mu.Lock()
		switches = append(switches, narrow)
		mu.Unlock()
		narrowed.Store(narrow)
		runtime.Gosched() // a switch takes a while
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.run(ctx) }()

	waitFor := func(what string, narrow bool) { t.Helper(); waitNarrowed(t, what, &narrowed, narrow) }
	waitFor("at the start", true)
	// Two clients asking all the time: never three requests by themselves.
	noise := func() (stop func()) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					g.begin()
					runtime.Gosched()
					g.end()
				}
			})
		}
		return func() { close(done); wg.Wait() }
	}
	stopNoise := noise()
	for round := range 30 {
		var held sync.WaitGroup
		release := make(chan struct{})
		for range wideAt {
			held.Go(func() {
				g.begin()
				<-release
				g.end()
			})
		}
		waitFor("three requests held", false)
		close(release)
		held.Wait()
		if round%2 == 0 {
			stopNoise()
			waitFor("the burst over", true)
			stopNoise = noise()
		}
	}
	stopNoise()
	cancel()
	<-done
	if g.active.Load() != 0 {
		t.Fatalf("active = %d after every request ended", g.active.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(switches) < 30 || switches[len(switches)-1] || narrowed.Load() {
		t.Fatalf("switches %v: want at least one widening per round and the CPUs back at the end", switches)
	}
	for i := 1; i < len(switches); i++ {
		if switches[i] == switches[i-1] {
			t.Fatalf("switch %d repeats the state before it: %v", i, switches)
		}
	}
}

func TestProcGovernorLeavesTheUsersSetting(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	if g := newProcGovernor(); g != nil {
		t.Fatal("a governor with GOMAXPROCS in the environment")
	}
	var g *procGovernor // every method is a no-op
	g.begin()
	g.end()
	g.run(context.Background())
}

// TestServeFitsTheScheduler serves with the real runtime setting: one CPU
// while the server idles, all it started with while three requests are in
// flight, one again once the load has been low for narrowAfter, and all
// back once the server stopped.
func TestServeFitsTheScheduler(t *testing.T) {
	start := runtime.GOMAXPROCS(0) // what go test -cpu set, too
	if start < 2 {
		t.Skip("one CPU: nothing to narrow")
	}
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), procs: newProcGovernor()}
	if s.procs == nil {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	var clock atomic.Int64
	s.procs.now = clock.Load
	release := make(chan struct{})
	s.e = echo.New()
	s.e.Pre(s.trackIdle)
	s.e.GET("/wait", func(c echo.Context) error {
		<-release
		return c.NoContent(http.StatusNoContent)
	})
	s.e.GET("/now", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	get := func(path string) {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	waitProcs := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for runtime.GOMAXPROCS(0) != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOMAXPROCS = %d %s, want %d", runtime.GOMAXPROCS(0), what, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitProcs("while the server idles", 1)

	var wg sync.WaitGroup
	for range wideAt {
		wg.Go(func() { get("/wait") })
	}
	waitProcs("with three requests in flight", start)
	close(release)
	wg.Wait()
	get("/now")
	if got := runtime.GOMAXPROCS(0); got != start {
		t.Fatalf("GOMAXPROCS = %d right after the burst, want %d", got, start)
	}
	clock.Add(int64(narrowAfter))
	get("/now")
	waitProcs("once the load has been low for narrowAfter", 1)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != start {
		t.Fatalf("GOMAXPROCS = %d after the server stopped, want %d", got, start)
	}
}
