package bench_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// Child processes: the benchmarks with procs=separate and the memory test
// run the fake, the bare relay and the app each in a process of its own
// (this test binary run again with -test.run), so that each pays for its
// own scheduling, garbage collection and loopback hops, as separate
// programs do.
const (
	childRoleEnv     = "BENCH_CHILD"          // fake, bare, bare-tls or app
	childUpstreamEnv = "BENCH_CHILD_UPSTREAM" // the fake's base URL (bare, app)
	// BENCH_PROFILE_DIR names a directory for the children's CPU profiles
	// (procs=separate), one per role: fake.prof, bare.prof, app.prof. Each
	// is that program's own work, without the others'.
	profileDirEnv = "BENCH_PROFILE_DIR"
	// BENCH_TRACE_DIR names a directory for the children's execution traces
	// (runtime/trace; fake.trace, bare.trace, app.trace, …): where each
	// program waited, and for what.
	traceDirEnv = "BENCH_TRACE_DIR"
	// BENCH_APP_B_ENV starts a second app child (target app-b) with these
	// comma-separated NAME=value pairs as its configuration and in its
	// environment, asked in the same rotation as the app: two builds or
	// settings compared within one run (BenchmarkAddedLatency reports
	// added-ratio-b), where separate runs drift apart.
	appBEnv = "BENCH_APP_B_ENV"
)

// TestBenchChild is a child process of the benchmarks and the memory test:
// the fake, a bare relay or the app, as $BENCH_CHILD says. It prints its
// base URL and serves until its standard input closes.
func TestBenchChild(t *testing.T) {
	role := os.Getenv(childRoleEnv)
	if role == "" {
		t.Skip("runs only as a child process of the benchmarks and the memory test")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if dir := os.Getenv(profileDirEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, role+".prof"))
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	if dir := os.Getenv(traceDirEnv); dir != "" {
		f, err := os.Create(filepath.Join(dir, role+".trace"))
		if err != nil {
			t.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			t.Fatal(err)
		}
		defer func() {
			trace.Stop()
			_ = f.Close()
		}()
	}
	upstream := os.Getenv(childUpstreamEnv)
	switch role {
	case "fake":
		fake := codextest.NewServer(t, codextest.WithResponder(codextest.BehaviorFunc(responder)))
		fmt.Println("BASE_URL=" + fake.BaseURL())
		// The fake records every request; forget them now and then.
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
				fake.Reset()
			}
		}
	case "bare", "bare-tls":
		base, stop := serveBare(t, role, upstream+"/codex/responses")
		fmt.Println("BASE_URL=" + base)
		<-ctx.Done()
		stop()
	case "app":
		runAppChild(ctx, t, upstream)
	default:
		t.Fatalf("unknown child role %q", role)
	}
}

// runAppChild serves the app core in front of the fake at fakeURL until
// ctx ends.
func runAppChild(ctx context.Context, t *testing.T, fakeURL string) {
	// The app alone in its process, as the app runs: the scheduler
	// follows the load (CHATGPT_ADAPTIVE_PROCS's default).
	env := map[string]string{"CHATGPT_ADAPTIVE_PROCS": "true"}
	for k, v := range appEnv() {
		env[k] = v
	}
	h := proxytest.Start(t, fakeURL, env)
	fmt.Println("BASE_URL=" + h.BaseURL)
	<-ctx.Done()
}

// startChild runs TestBenchChild as role in a child process and returns
// its base URL and process id. It stops when the test ends.
func startChild(tb testing.TB, role, upstream string) (string, int) {
	tb.Helper()
	cmd := exec.Command(childBinary(tb), "-test.run=^TestBenchChild$")
	cmd.Env = os.Environ()
	if role == "app-b" {
		// A second app with its own configuration, its pairs also in its
		// environment (for a switch a change under test reads there).
		role = "app"
		pairs := os.Getenv(appBEnv)
		cmd.Env = append(cmd.Env, "BENCH_APP_ENV="+pairs)
		for _, kv := range strings.Split(pairs, ",") {
			if strings.Contains(kv, "=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
	}
	cmd.Env = append(cmd.Env, childRoleEnv+"="+role, childUpstreamEnv+"="+upstream)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	base := ""
	for base == "" && sc.Scan() {
		base, _ = strings.CutPrefix(sc.Text(), "BASE_URL=")
	}
	if base == "" {
		tb.Fatalf("the %s child printed no base URL", role)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return base, cmd.Process.Pid
}

// childBinary is the test binary the children run. Under the race
// detector (which keeps shadow memory and slows everything) it is a copy
// of this package's tests built without it, so that the children measure
// what a user's binary does.
func childBinary(tb testing.TB) string {
	tb.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	out := tb.TempDir() + "/bench-child.test"
	cmd := exec.Command("go", "test", "-c", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the child without -race: %v\n%s", err, b)
	}
	return out
}
