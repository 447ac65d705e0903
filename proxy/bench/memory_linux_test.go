package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
)

// vmRSS is the resident set size of process pid in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/pid/status")
	return 0
}

const childEnv = "BENCH_APP_CHILD_FAKE_URL"

// TestAppChild is the app process of TestMemoryReturnsAfterBurst: the core
// in front of the fake at $BENCH_APP_CHILD_FAKE_URL. It prints its base URL
// and serves until its standard input closes.
func TestAppChild(t *testing.T) {
	fake := os.Getenv(childEnv)
	if fake == "" {
		t.Skip("runs only as the child of TestMemoryReturnsAfterBurst")
	}
	vars := map[string]string{"CHATGPT_BASE_URL": fake, "CHATGPT_PORT": "0", "CHATGPT_API_KEY": proxytest.APIKey}
	cfg, err := config.LoadFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	token := codextest.FakeJWT(map[string]any{
		"exp":                         time.Now().Add(time.Hour).Unix(),
		"https://api.openai.com/auth": map[string]any{"chatgpt_account_id": "acct-123", "chatgpt_plan_type": "plus"},
	})
	core, err := proxy.New(cfg, proxy.Options{Version: "test", APIKey: cfg.APIKey, Auth: auth.NewStatic(token, ""),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Println("BASE_URL=" + core.BaseURL())
	if err := core.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryReturnsAfterBurst sends five waves of 1,000 concurrent streams
// through the app and checks that within a minute of the load ending the
// app's process (a child, so that the fake and the clients do not count)
// is resident within twice its idle size.
func TestMemoryReturnsAfterBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("five waves of 1,000 streams")
	}
	fake := codextest.NewServer(t, codextest.WithResponder(codextest.BehaviorFunc(responder)))
	base, pid := startAppChild(t, fake.BaseURL())
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	client := &http.Client{Transport: tr}
	post := func(text string) error {
		req, err := http.NewRequest(http.MethodPost, base+"/chat/completions",
			strings.NewReader(routes[0].body(model, text)))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+proxytest.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("[DONE]")) {
			return fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return nil
	}
	if err := post("deltas:20"); err != nil {
		t.Fatal(err)
	}
	// Idle: the app after its first request, given a moment to settle.
	tr.CloseIdleConnections()
	time.Sleep(time.Second)
	idle := vmRSS(t, pid)

	peak := idle
	for wave := 0; wave < 5; wave++ {
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for i := 0; i < 1000; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := post("deltas:200"); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("wave %d: %v", wave+1, err)
		}
		peak = max(peak, vmRSS(t, pid))
		tr.CloseIdleConnections()
		fake.Reset()
	}
	end := time.Now()
	var now int64
	for time.Since(end) < time.Minute {
		now = vmRSS(t, pid)
		if now <= 2*idle {
			t.Logf("idle %d MiB, peak %d MiB, %d MiB %v after the load", idle>>20, peak>>20, now>>20, time.Since(end).Round(time.Second))
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("resident memory %d MiB a minute after the load (idle %d MiB, peak %d MiB); want at most twice idle", now>>20, idle>>20, peak>>20)
}

// startAppChild runs TestAppChild in a child process in front of fakeURL
// and returns its base URL and process id. It stops when the test ends.
func startAppChild(t *testing.T, fakeURL string) (string, int) {
	t.Helper()
	cmd := exec.Command(childBinary(t), "-test.run=^TestAppChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+fakeURL)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	base := ""
	for base == "" && sc.Scan() {
		base, _ = strings.CutPrefix(sc.Text(), "BASE_URL=")
	}
	if base == "" {
		t.Fatal("the app child printed no base URL")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return base, cmd.Process.Pid
}

// childBinary is the test binary that runs the app for the memory test.
// Under the race detector (which keeps shadow memory the app cannot give
// back) it is a copy of this package's tests built without it, so that the
// test measures what a user's binary does.
func childBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return os.Args[0]
	}
	out := t.TempDir() + "/bench-child.test"
	cmd := exec.Command("go", "test", "-c", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the app child without -race: %v\n%s", err, b)
	}
	return out
}
