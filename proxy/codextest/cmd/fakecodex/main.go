// Command fakecodex runs the codextest fake of ChatGPT's Codex backend so
// that the app can be pointed at it by hand and exercised with real SDK
// clients. It prints the base URL (the value for CHATGPT_BASE_URL) on
// stdout and serves until interrupted.
//
//	go run ./proxy/codextest/cmd/fakecodex -addr 127.0.0.1:8765 -delay 50ms
//
// The default responder's conventions (echo, "call:<tool> {json}",
// "call-parallel:a,b", "tool said: …", json_schema samples) are described in
// the codextest package documentation.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codextest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	useTLS := flag.Bool("tls", false, "serve TLS with HTTP/2 (self-signed certificate)")
	certOut := flag.String("cert-out", "", "with -tls, write the certificate (PEM) to this file")
	delay := flag.Duration("delay", 0, "pause between SSE events, to watch streaming")
	etag := flag.String("etag", "", "catalog ETag / x-models-etag (default: derived from the catalog)")
	plan := flag.String("plan", "plus", "plan type reported in x-codex-plan-type")
	tokens := flag.String("tokens", "", "comma-separated list of accepted access tokens (default: any)")
	quiet := flag.Bool("quiet", false, "do not log requests to stderr")
	flag.Parse()

	rate := codextest.DefaultRateLimits()
	rate.PlanType = *plan
	opts := []codextest.Option{
		codextest.WithAddr(*addr),
		codextest.WithEventDelay(*delay),
		codextest.WithRateLimits(rate),
	}
	if *etag != "" {
		opts = append(opts, codextest.WithModelsETag(*etag))
	}
	s := codextest.New(opts...)
	if *tokens != "" {
		allowed := map[string]bool{}
		for _, t := range strings.Split(*tokens, ",") {
			allowed[strings.TrimSpace(t)] = true
		}
		s.RequireTokens(func(t string) bool { return allowed[t] })
	}
	if *useTLS {
		s.StartTLS()
		if *certOut != "" {
			if err := os.WriteFile(*certOut, s.CertPEM(), 0o644); err != nil {
				log.Fatalf("fakecodex: write certificate: %v", err)
			}
		}
	} else {
		s.Start()
	}
	defer s.Close()
	fmt.Println(s.BaseURL())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	seen := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if *quiet {
				continue
			}
			reqs := s.Requests()
			for _, r := range reqs[min(seen, len(reqs)):] {
				model, _ := r.JSON["model"].(string)
				line := fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status)
				if model != "" {
					line += " model=" + model
				}
				if r.Rejection != "" {
					line += " rejected: " + r.Rejection
				}
				log.Print(line)
			}
			seen = len(reqs)
		}
	}
}
