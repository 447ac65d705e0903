package bench_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
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

// TestMemoryReturnsAfterBurst sends five waves of 1,000 concurrent streams
// through the app and checks that within a minute of the load ending the
// app's process (a child, so that the fake and the clients do not count)
// is resident within twice its idle size.
func TestMemoryReturnsAfterBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("five waves of 1,000 streams")
	}
	fake := codextest.NewServer(t, codextest.WithResponder(codextest.BehaviorFunc(responder)))
	base, pid := startChild(t, "app", fake.BaseURL())
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
