package bench_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/proxytest"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// route is one API route of the app. A new dialect is one more line in
// routes: its path, a request body asking for text, and the end marker of
// its stream.
type route struct {
	name string
	path string // under the app's /v1
	body func(model, text string) string
	end  string // the stream is complete when its tail contains this
}

var routes = []route{
	{name: "chat", path: "/chat/completions", end: "[DONE]", body: func(model, text string) string {
		return `{"model":"` + model + `","stream":true,"messages":[{"role":"user","content":"` + text + `"}]}`
	}},
	{name: "responses", path: "/responses", end: "response.completed", body: func(model, text string) string {
		return `{"model":"` + model + `","stream":true,"input":"` + text + `"}`
	}},
	{name: "messages", path: "/messages", end: "message_stop", body: func(model, text string) string {
		return `{"model":"` + model + `","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"` + text + `"}]}`
	}},
	// An agent-sized request (about 100 KB: long instructions and a
	// conversation so far), where decoding, re-encoding and compressing
	// the body weigh most.
	{name: "chat-100k", path: "/chat/completions", end: "[DONE]", body: func(model, text string) string {
		return `{"model":"` + model + `","stream":true,"messages":` + agentHistory() + `{"role":"user","content":"` + text + `"}]}`
	}},
	{name: "responses-100k", path: "/responses", end: "response.completed", body: func(model, text string) string {
		return `{"model":"` + model + `","stream":true,` + agentResponses() + `{"role":"user","content":"` + text + `"}]}`
	}},
}

// agentHistory is the opening of a long chat: a system prompt of about
// 40 KB and ten turns of about 6 KB, as JSON array members (the caller
// closes the array).
var agentHistory = sync.OnceValue(func() string {
	prose := proseWriter(1)
	var b strings.Builder
	b.WriteString(`[{"role":"system","content":"` + prose(40<<10) + `"},`)
	for i := 0; i < 10; i++ {
		b.WriteString(`{"role":"user","content":"` + prose(2<<10) + `"},{"role":"assistant","content":"` + prose(4<<10) + `"},`)
	}
	return b.String()
})

// agentResponses is the same opening as a coding agent sends it to the
// Responses API (the Codex CLI's shape): the 40 KB prompt as instructions,
// twenty function tools of about 1 KB each, which the response object
// echoes, and ten turns as input items. The caller adds the last turn and
// closes the input array and the object.
var agentResponses = sync.OnceValue(func() string {
	prose := proseWriter(1)
	var b strings.Builder
	b.WriteString(`"instructions":"` + prose(40<<10) + `","tools":[`)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"function","name":"tool_%d","description":"%s","strict":false,"parameters":{"type":"object","properties":{"path":{"type":"string","description":"%s"},"content":{"type":"string","description":"%s"}},"required":["path"],"additionalProperties":false}}`,
			i, prose(600), prose(150), prose(150))
	}
	b.WriteString(`],"input":[`)
	for i := 0; i < 10; i++ {
		b.WriteString(`{"role":"user","content":"` + prose(2<<10) + `"},{"role":"assistant","content":"` + prose(4<<10) + `"},`)
	}
	return b.String()
})

// proseWriter returns a source of random words (with seed), so that the
// agent-sized requests compress like text, not like a repeated phrase.
func proseWriter(seed uint64) func(n int) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	words := strings.Fields("the a of to and in is for on with that this file function return error value test code " +
		"change build run output line path name type string list map config server client request response stream " +
		"model token user tool call result check update add remove fix read write open close start stop wait")
	return func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			switch rng.IntN(12) {
			case 0:
				b.WriteString(". ")
			case 1:
				b.WriteString(`\n`)
			case 2:
				fmt.Fprintf(&b, " %d ", rng.IntN(10000))
			default:
				b.WriteByte(' ')
			}
		}
		return b.String()
	}
}

const model = "gpt-5.4"

// Stream lengths: a short answer and a long one, in text deltas.
var lengths = []struct {
	name   string
	deltas int
}{{"short", 4}, {"long", 1000}}

// target is one way to reach the fake: through the app, through a bare
// byte relay, or directly.
type target struct {
	name   string
	url    string
	header http.Header
	body   func(text string) []byte
	end    string
}

// rig is the fake, the app in front of it, and the bare relays in front of
// it (bare_test.go).
type rig struct {
	h       *proxytest.Harness
	bare    string // the bare relay's base URL
	bareTLS string // the bare relay on tls-client's base URL
	client  *http.Client
	// children are the fake, the bare relays and the app in processes of
	// their own, started on first use (procs=separate).
	children map[string]string // role -> base URL
	pids     map[string]int    // target -> the pid of the process serving it
	fakePID  int               // the fake's process (procs=separate)
}

// layouts are the two ways the benchmarks run the fake, the bare relays
// and the app: all in the benchmark's process (one garbage collector and
// scheduler for everything; what the profiles see), or each in a process
// of its own, as separate programs run (and as the table was
// measured).
var layouts = []string{"one", "separate"}

// layout returns ts as they are (procs=one) or pointed at the child
// processes (procs=separate): the same bodies and headers, other URLs.
func (r *rig) layout(b *testing.B, procs string, rt route, ts []target) []target {
	b.Helper()
	if procs == "one" {
		return ts
	}
	if r.children == nil {
		fake, fakePID := startChild(b, "fake", "")
		r.fakePID = fakePID
		bare, barePID := startChild(b, "bare", fake)
		bareTLS, bareTLSPID := startChild(b, "bare-tls", fake)
		app, appPID := startChild(b, "app", fake)
		r.children = map[string]string{"direct": fake + "/codex/responses", "bare": bare, "bare-tls": bareTLS, "app": app}
		r.pids = map[string]int{"bare": barePID, "bare-tls": bareTLSPID, "app": appPID}
		if os.Getenv(appBEnv) != "" {
			r.children["app-b"], r.pids["app-b"] = startChild(b, "app-b", fake)
		}
	}
	if _, ok := r.children["app-b"]; ok && ts[len(ts)-1].name == "app" {
		// The second app is asked in the same rotation, right after the first.
		ts = append(ts[:len(ts):len(ts)], ts[len(ts)-1])
		ts[len(ts)-1].name = "app-b"
	}
	out := make([]target, len(ts))
	for i, t := range ts {
		t.url = r.children[t.name]
		if t.name == "app" || t.name == "app-b" {
			t.url += rt.path
		}
		out[i] = t
	}
	return out
}

func newRig(b *testing.B) *rig {
	b.Helper()
	h := proxytest.New(b, appEnv(), codextest.WithResponder(codextest.BehaviorFunc(responder)))
	upstream := h.Fake.BaseURL() + "/codex/responses"
	bare, stop := serveBare(b, "bare", upstream)
	b.Cleanup(stop)
	bareTLS, stopTLS := serveBare(b, "bare-tls", upstream)
	b.Cleanup(stopTLS)
	tr := &http.Transport{MaxIdleConnsPerHost: 2048, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	return &rig{h: h, bare: bare, bareTLS: bareTLS, client: &http.Client{Transport: tr}}
}

// targets returns the four ways to ask for one route's stream. The bare
// relays and the direct call send exactly the body and headers the app sent
// upstream for the same request.
func (r *rig) targets(b *testing.B, rt route) []target {
	b.Helper()
	app := target{
		name: "app", url: r.h.BaseURL + rt.path, end: rt.end,
		header: http.Header{"Authorization": {"Bearer " + proxytest.APIKey}, "Content-Type": {"application/json"}},
		body:   func(text string) []byte { return []byte(rt.body(model, text)) },
	}
	if got := r.do(b, app, "deltas:3"); !strings.Contains(got, "word2") {
		b.Fatalf("app answered %q", got)
	}
	rec := r.h.LastResponses(b)
	hdr := rec.Header.Clone()
	for _, k := range []string{"Content-Length", "Accept-Encoding", "Connection"} {
		hdr.Del(k)
	}
	// The upstream body with the user text swapped for a placeholder.
	tmpl := bytes.Replace(rec.Body, []byte("deltas:3"), []byte("\x00"), 1)
	if bytes.Equal(tmpl, rec.Body) {
		b.Fatal("the upstream body does not hold the user text")
	}
	// The fake recorded the body decompressed; the others send it as the
	// app does (compressed by the app's own encoder, once per text here),
	// so that the fake decodes the same kind of frame for every target
	// (a frame with raw literals decodes faster than one with Huffman
	// tables) and only the app pays for compressing.
	var bodies sync.Map // text -> []byte
	zstdBody := hdr.Get("Content-Encoding") == "zstd"
	codex := func(text string) []byte {
		if v, ok := bodies.Load(text); ok {
			return v.([]byte)
		}
		body := bytes.Replace(tmpl, []byte("\x00"), []byte(text), 1)
		if zstdBody {
			var err error
			if body, err = upstream.CompressBody(nil, body); err != nil {
				panic(err)
			}
		}
		v, _ := bodies.LoadOrStore(text, body)
		return v.([]byte)
	}
	return []target{
		{name: "direct", url: r.h.Fake.BaseURL() + "/codex/responses", header: hdr, body: codex, end: "response.completed"},
		{name: "bare", url: r.bare, header: hdr, body: codex, end: "response.completed"},
		{name: "bare-tls", url: r.bareTLS, header: hdr, body: codex, end: "response.completed"},
		app,
	}
}

// do sends one request and returns the whole body.
func (r *rig) do(b *testing.B, t target, text string) string {
	b.Helper()
	resp, err := r.send(context.Background(), t, text)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return string(got)
}

func (r *rig) send(ctx context.Context, t target, text string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(t.body(text)))
	if err != nil {
		return nil, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("%s: status %d: %s", t.name, resp.StatusCode, body)
	}
	return resp, nil
}

// stream sends one request, reads the stream to its end and checks that it
// is complete. buf is reused between calls.
func (r *rig) stream(t target, text string, buf []byte) error {
	resp, err := r.send(context.Background(), t, text)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tail []byte
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			// Keep the last few KiB: the end marker is in the last event.
			tail = append(tail, buf[:n]...)
			if len(tail) > 256<<10 {
				tail = append(tail[:0], tail[len(tail)-128<<10:]...)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if !bytes.Contains(tail, []byte(t.end)) {
		return fmt.Errorf("%s: stream ended without %q: %q", t.name, t.end, tail)
	}
	return nil
}

// BenchmarkRelay measures one streamed request at a time: ns per request,
// and ns, CPU ns and allocations per upstream text delta.
func BenchmarkRelay(b *testing.B) {
	r := newRig(b)
	for _, rt := range routes {
		for _, t := range r.targets(b, rt) {
			for _, l := range lengths {
				b.Run("route="+rt.name+"/len="+l.name+"/target="+t.name, func(b *testing.B) {
					text := "deltas:" + strconv.Itoa(l.deltas)
					buf := make([]byte, 32<<10)
					var ms0, ms1 runtime.MemStats
					runtime.ReadMemStats(&ms0)
					cpu0 := cpuTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := r.stream(t, text, buf); err != nil {
							b.Fatalf("request %d of %d: %v", i, b.N, err)
						}
						if i%512 == 511 {
							r.h.Fake.Reset() // the fake records every request
						}
					}
					b.StopTimer()
					cpu := cpuTime() - cpu0
					runtime.ReadMemStats(&ms1)
					events := float64(b.N * l.deltas)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/delta")
					b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/delta")
					b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/events, "allocs/delta")
				})
			}
		}
	}
}

// BenchmarkThroughput runs long streams from 8 clients per core at once.
func BenchmarkThroughput(b *testing.B) { benchThroughput(b, true) }

// BenchmarkThroughputOneClient runs long streams one after another: the
// throughput of one client, bound by each event's trip through the
// relay rather than by the machine's CPU.
func BenchmarkThroughputOneClient(b *testing.B) { benchThroughput(b, false) }

// benchThroughput runs long streams, from 8 clients per core at once
// (parallel) or one at a time, through every target of every layout.
func benchThroughput(b *testing.B, parallel bool) {
	r := newRig(b)
	for _, procs := range layouts {
		for _, rt := range routes {
			for _, t := range r.layout(b, procs, rt, r.targets(b, rt)) {
				b.Run("procs="+procs+"/route="+rt.name+"/target="+t.name, func(b *testing.B) {
					text := "deltas:" + strconv.Itoa(lengths[1].deltas)
					// The relay's own CPU (procs=separate): its process's
					// user and system time over the run, per streamed delta.
					pid := r.pids[t.name]
					cpu0, measured := childCPU(pid)
					// The whole machine's CPU per delta (procs=separate):
					// the clients' (this process), the fake's and the
					// relay's, as a reading of all the machine spent.
					self0 := cpuTime()
					fake0, fakeMeasured := childCPU(r.fakePID)
					if parallel {
						b.SetParallelism(8)
						b.RunParallel(func(pb *testing.PB) {
							buf := make([]byte, 32<<10)
							for pb.Next() {
								if err := r.stream(t, text, buf); err != nil {
									b.Error(err)
									return
								}
							}
						})
					} else {
						buf := make([]byte, 32<<10)
						for i := 0; i < b.N; i++ {
							if err := r.stream(t, text, buf); err != nil {
								b.Fatal(err)
							}
						}
					}
					deltas := float64(b.N * lengths[1].deltas)
					self1 := cpuTime()
					relay := time.Duration(0)
					if cpu1, ok := childCPU(pid); measured && ok && procs == "separate" {
						relay = cpu1 - cpu0
						b.ReportMetric(float64(relay)/deltas, "relay-cpu-ns/delta")
					}
					relayRead := pid == 0 || relay > 0 // direct has no relay
					if fake1, ok := childCPU(r.fakePID); fakeMeasured && ok && relayRead && procs == "separate" && self1 > 0 {
						b.ReportMetric(float64(self1-self0+fake1-fake0+relay)/deltas, "machine-cpu-ns/delta")
					}
					r.h.Fake.Reset()
				})
			}
		}
	}
}

// BenchmarkFirstChunk measures the time until the client sees the first
// text delta of a short stream, with 1 and 256 clients asking at once;
// it reports the median.
func BenchmarkFirstChunk(b *testing.B) {
	r := newRig(b)
	for _, procs := range layouts {
		for _, rt := range routes {
			for _, t := range r.layout(b, procs, rt, r.targets(b, rt)) {
				for _, clients := range []int{1, 256} {
					b.Run("procs="+procs+"/route="+rt.name+"/clients="+strconv.Itoa(clients)+"/target="+t.name, func(b *testing.B) {
						r.firstChunks(b, t, clients)
					})
				}
			}
		}
	}
}

// BenchmarkAddedLatency is BenchmarkFirstChunk side by side: each round
// asks every target in turn (the order rotating from round to round), so
// that drift of the machine over the run reaches all targets alike. It
// reports each target's median time to the first text delta and the
// issue's ratio, the latency the app adds over calling the fake directly
// divided by what the bare relay adds (added-ratio; added-ratio-tls is the
// same against the bare relay on tls-client). Only procs=separate: the
// layout the ratio is read from.
func BenchmarkAddedLatency(b *testing.B) {
	r := newRig(b)
	for _, rt := range routes {
		ts := r.layout(b, "separate", rt, r.targets(b, rt))
		for _, clients := range []int{1, 256} {
			b.Run("procs=separate/route="+rt.name+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
				lat := make([][]time.Duration, len(ts))
				for i := 0; i < b.N; i++ {
					for j := range ts {
						k := (i + j) % len(ts)
						lat[k] = append(lat[k], r.round(b, ts[k], clients)...)
					}
				}
				b.StopTimer()
				p50 := map[string]float64{}
				for k, t := range ts {
					if len(lat[k]) == 0 {
						b.Fatalf("no answer from %s", t.name)
					}
					p50[t.name] = medianMs(lat[k])
					b.ReportMetric(p50[t.name], "ms-p50-"+t.name)
				}
				for _, name := range []string{"direct", "bare", "bare-tls", "app"} {
					if _, ok := p50[name]; !ok {
						b.Fatalf("no target %s", name)
					}
				}
				if v, ok := p50["app-b"]; ok {
					b.ReportMetric(v, "ms-p50-app-b")
					b.ReportMetric((v-p50["direct"])/(p50["bare"]-p50["direct"]), "added-ratio-b")
				}
				added := p50["app"] - p50["direct"]
				b.ReportMetric(added/(p50["bare"]-p50["direct"]), "added-ratio")
				b.ReportMetric(added/(p50["bare-tls"]-p50["direct"]), "added-ratio-tls")
			})
		}
	}
}

// round runs clients concurrent short streams against t and returns the
// times to their first text delta.
func (r *rig) round(b *testing.B, t target, clients int) []time.Duration {
	var out []time.Duration
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := r.firstChunk(t)
			if err != nil {
				b.Error(err) // and no time: a failure must not count as fast
				return
			}
			mu.Lock()
			out = append(out, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// firstChunks runs b.N rounds of clients concurrent short streams and
// reports the median time to the first text delta.
func (r *rig) firstChunks(b *testing.B, t target, clients int) {
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		lat = append(lat, r.round(b, t, clients)...)
		if i%8 == 7 {
			r.h.Fake.Reset()
		}
	}
	b.StopTimer()
	if len(lat) > 0 {
		b.ReportMetric(medianMs(lat), "ms-p50/first-chunk")
	}
}

// medianMs sorts lat and returns its median in milliseconds.
func medianMs(lat []time.Duration) float64 {
	slices.Sort(lat)
	return float64(lat[len(lat)/2].Microseconds()) / 1000
}

// firstChunk sends a short stream and returns the time until the body
// holds its first text delta; it reads the rest.
func (r *rig) firstChunk(t target) (time.Duration, error) {
	_ = t.body("deltas:4") // the same work for every target: none
	start := time.Now()
	resp, err := r.send(context.Background(), t, "deltas:4")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var got []byte
	buf := make([]byte, 4096)
	var d time.Duration
	for {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if d == 0 && bytes.Contains(got, []byte("word0")) {
			d = time.Since(start)
		}
		if err != nil {
			break
		}
	}
	if d == 0 {
		return 0, fmt.Errorf("%s: no delta in %q", t.name, got)
	}
	return d, nil
}

// BenchmarkOpenStreams holds 1,000 streams open at once (each has shown
// its first delta and then waits) and reports the memory they take: heap
// and stacks per stream, and resident memory per stream.
func BenchmarkOpenStreams(b *testing.B) {
	const open = 1000
	r := newRig(b)
	for _, rt := range routes {
		for _, t := range r.targets(b, rt) {
			b.Run("route="+rt.name+"/target="+t.name, func(b *testing.B) {
				var heap, rss float64
				for i := 0; i < b.N; i++ {
					h, s := r.openStreams(b, t, open)
					heap += h
					rss += s
				}
				b.ReportMetric(heap/float64(b.N)/open, "B/stream")
				b.ReportMetric(rss/float64(b.N)/open, "rss-B/stream")
			})
		}
	}
}

// openStreams opens n stalled streams, measures, and closes them.
func (r *rig) openStreams(b *testing.B, t target, n int) (heap, rss float64) {
	b.StopTimer()
	r.h.Fake.Reset()
	runtime.GC()
	heap0, rss0 := memNow()
	b.StartTimer()
	ctx, cancel := context.WithCancel(context.Background())
	bodies := make([]io.ReadCloser, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := r.send(ctx, t, "stall")
			if err != nil {
				b.Error(err)
				return
			}
			buf := make([]byte, 4096)
			var got []byte
			for !bytes.Contains(got, []byte("word0")) {
				k, err := resp.Body.Read(buf)
				got = append(got, buf[:k]...)
				if err != nil {
					b.Errorf("%s: stalled stream ended: %v", t.name, err)
					return
				}
			}
			mu.Lock()
			bodies = append(bodies, resp.Body)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	runtime.GC()
	heap1, rss1 := memNow()
	cancel()
	for _, body := range bodies {
		body.Close()
	}
	r.client.CloseIdleConnections()
	b.StartTimer()
	return heap1 - heap0, rss1 - rss0
}

// memNow returns the heap and stack in use, and the resident set size.
func memNow() (heap, rss float64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = float64(ms.HeapInuse + ms.StackInuse)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			pages, _ := strconv.ParseFloat(f[1], 64)
			rss = pages * float64(os.Getpagesize())
		}
	}
	return heap, rss
}

// appEnv is the app's extra configuration from $BENCH_APP_ENV
// (comma-separated NAME=value pairs, e.g. CHATGPT_COMPRESS_BODY=false), for
// measuring what one setting costs. The app-b child (see appBEnv) reads
// its own.
func appEnv() map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(os.Getenv("BENCH_APP_ENV"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
