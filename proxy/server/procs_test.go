package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// testGovernor is a governor on a clock the test moves, recording the
// switches it makes.
type testGovernor struct {
	*procGovernor
	clock    int64
	switches []bool // true: narrowed
}

func newTestGovernor() *testGovernor {
	tg := &testGovernor{}
	tg.procGovernor = &procGovernor{now: func() int64 { return tg.clock }}
	tg.set = func(narrow bool) { tg.switches = append(tg.switches, narrow) }
	tg.busy.Store(-int64(narrowAfter))
	return tg
}

func (tg *testGovernor) advance(d time.Duration) { tg.clock += int64(d) }

func (tg *testGovernor) want(t *testing.T, what string, switches ...bool) {
	t.Helper()
	if len(tg.switches) != len(switches) {
		t.Fatalf("%s: switches %v, want %v", what, tg.switches, switches)
	}
	for i := range switches {
		if tg.switches[i] != switches[i] {
			t.Fatalf("%s: switches %v, want %v", what, tg.switches, switches)
		}
	}
}

func TestProcGovernor(t *testing.T) {
	g := newTestGovernor()
	g.idle() // the server starts
	g.want(t, "at the start", true)

	// One client, then two at once: no switch.
	for range 100 {
		g.begin()
		g.advance(time.Millisecond)
		g.end()
	}
	g.begin()
	g.begin()
	g.end()
	g.end()
	g.want(t, "one and two requests at once", true)

	// A third at once widens, once.
	g.begin()
	g.begin()
	g.begin()
	g.begin()
	g.want(t, "three at once", true, false)
	for range 4 {
		g.end()
	}
	g.want(t, "the burst ending", true, false)

	// Within narrowAfter of the burst, one client leaves it wide; after
	// that, the first request to end narrows.
	g.advance(narrowAfter - time.Millisecond)
	g.begin()
	g.end()
	g.want(t, "one request soon after the burst", true, false)
	g.advance(time.Millisecond)
	g.begin()
	g.want(t, "a request beginning after narrowAfter", true, false)
	g.end()
	g.want(t, "a request ending after narrowAfter", true, false, true)

	// A long burst keeps it wide: its requests ending refresh the time.
	for range 3 {
		g.begin()
	}
	for range 5 {
		g.advance(narrowAfter)
		g.begin()
		g.end()
	}
	g.want(t, "a long burst", true, false, true, false)
	for range 3 {
		g.end()
	}
	g.advance(narrowAfter)
	g.idle()
	g.want(t, "idle after the burst", true, false, true, false, true)

	// idle does nothing while a request is in flight.
	g.begin()
	g.begin()
	g.begin()
	g.end()
	g.end()
	g.advance(narrowAfter)
	g.begin()
	g.idle()
	g.want(t, "idle with a request in flight", true, false, true, false, true, false)
	g.end()
	g.end()

	// release widens for good.
	g.advance(narrowAfter)
	g.idle()
	g.release()
	for range 3 {
		g.begin()
	}
	for range 3 {
		g.end()
	}
	g.advance(narrowAfter)
	g.idle()
	g.want(t, "after release", true, false, true, false, true, false, true, false)
}

// TestProcGovernorConcurrent begins and ends requests from many goroutines
// at once (run with -race): every switch changes the state, and the state
// the governor keeps is the last one it set.
func TestProcGovernorConcurrent(t *testing.T) {
	var mu sync.Mutex
	var switches []bool
	start := time.Now()
	g := &procGovernor{now: func() int64 { return int64(time.Since(start)) * 1000 }} // narrowAfter passes in 2 ms
	g.set = func(narrow bool) {
		mu.Lock()
		switches = append(switches, narrow)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 2000 {
				g.begin()
				if (i+j)%7 == 0 {
					runtime.Gosched()
				}
				g.end()
			}
		})
	}
	wg.Wait()
	time.Sleep(3 * time.Millisecond)
	g.idle()
	if g.active.Load() != 0 {
		t.Fatalf("active = %d after every request ended", g.active.Load())
	}
	if len(switches) == 0 || !switches[len(switches)-1] || !g.narrowed.Load() {
		t.Fatalf("switches %v, narrowed %v: want narrowed last", switches, g.narrowed.Load())
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
	g.idle()
	g.release()
}

// TestServeFitsTheScheduler serves with the real runtime setting: one CPU
// while the server idles, every CPU while three requests are in flight,
// the default back once the server stopped.
func TestServeFitsTheScheduler(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: nothing to narrow")
	}
	def := runtime.GOMAXPROCS(0)
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), procs: newProcGovernor()}
	if s.procs == nil {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	s.reclaim.idle = s.procs.idle
	release := make(chan struct{})
	s.e = echo.New()
	s.e.Pre(s.trackIdle)
	s.e.GET("/wait", func(c echo.Context) error {
		<-release
		return c.NoContent(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
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
		wg.Go(func() {
			resp, err := http.Get("http://" + ln.Addr().String() + "/wait")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	waitProcs("with three requests in flight", def)
	close(release)
	wg.Wait()

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Fatalf("GOMAXPROCS = %d after the server stopped, want the default %d", got, def)
	}
}
