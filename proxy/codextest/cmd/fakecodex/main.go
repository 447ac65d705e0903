// Command fakecodex runs the codextest fake of ChatGPT's Codex backend so
// that the app can be pointed at it by hand and exercised with real SDK
// clients. It prints the base URL (the value for CHATGPT_BASE_URL) on
// stdout and serves until interrupted.
//
//	go run ./proxy/codextest/cmd/fakecodex -addr 127.0.0.1:8765 -delay 50ms
//
// With -auth it also fakes chatgpt.com's /api/auth/session and
// auth.openai.com's OAuth endpoints on the same server (point
// CHATGPT_AUTH_URL at the server's root), and /codex/* then accepts only
// the access tokens it issued. -session-out writes a fresh session token
// (the value for CHATGPT_SESSION_TOKEN or set-session-token) to a file:
//
//	go run ./proxy/codextest/cmd/fakecodex -auth -token-lifetime 30s \
//	    -email ann@example.com -plan plus -session-out /tmp/session
//
// The default responder's conventions (echo, "call:<tool> {json}",
// "call-parallel:a,b", "tool said: …", json_schema samples) are described in
// the codextest package documentation.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
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
	plan := flag.String("plan", "plus", "plan type reported in x-codex-plan-type and, with -auth, in tokens")
	tokens := flag.String("tokens", "", "comma-separated list of accepted access tokens (default: any)")
	quiet := flag.Bool("quiet", false, "do not log requests to stderr")
	withAuth := flag.Bool("auth", false, "also serve the session and OAuth endpoints; /codex/* then accepts only issued tokens")
	lifetime := flag.Duration("token-lifetime", time.Hour, "with -auth, lifetime of issued access tokens")
	email := flag.String("email", "ann@example.com", "with -auth, the account's email in tokens and sessions")
	sessionOut := flag.String("session-out", "", "with -auth, write a fresh session token to this file (mode 0600)")
	flag.Parse()
	if !*withAuth && *sessionOut != "" {
		log.Fatal("fakecodex: -session-out needs -auth")
	}
	if *withAuth && *tokens != "" {
		log.Fatal("fakecodex: -tokens and -auth both decide which access tokens are accepted; choose one")
	}
	if *lifetime <= 0 {
		log.Fatal("fakecodex: -token-lifetime must be positive")
	}

	rate := codextest.DefaultRateLimits()
	rate.PlanType = *plan
	opts := []codextest.Option{
		codextest.WithAddr(*addr),
		codextest.WithEventDelay(*delay),
		codextest.WithRateLimits(rate),
		// It may run for days (the README's try-it block): remember only
		// what the log below still needs.
		codextest.WithKeep(1000),
	}
	if *etag != "" {
		opts = append(opts, codextest.WithModelsETag(*etag))
	}
	// A clear word instead of the library's panic when the port is taken
	// (most often by a fake left running from an earlier try).
	if l, err := net.Listen("tcp", *addr); err != nil {
		log.Fatalf("fakecodex: %v (is another fakecodex still running? stop it, or pick another -addr)", err)
	} else {
		_ = l.Close()
	}
	s := codextest.New(opts...)
	if *tokens != "" {
		allowed := map[string]bool{}
		for _, t := range strings.Split(*tokens, ",") {
			allowed[strings.TrimSpace(t)] = true
		}
		s.RequireTokens(func(t string) bool { return allowed[t] })
	}
	var issuer *codextest.AuthServer
	if *withAuth {
		issuer = codextest.NewAuthServer(codextest.AuthOptions{AccessLifetime: *lifetime, Email: *email, Plan: *plan})
		issuer.Mount(s)
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
	if issuer != nil && *sessionOut != "" {
		// Remove first so that an existing file's wider mode is not kept.
		_ = os.Remove(*sessionOut)
		if err := os.WriteFile(*sessionOut, []byte(issuer.NewSessionToken(2000)+"\n"), 0o600); err != nil {
			s.Close()
			log.Fatalf("fakecodex: write session token: %v", err)
		}
	}
	fmt.Println(s.BaseURL())
	if issuer != nil {
		log.Printf("auth endpoints mounted: CHATGPT_AUTH_URL=%s (access tokens live %s)", s.URL, *lifetime)
		if *sessionOut != "" {
			log.Printf("session token written to %s", *sessionOut)
		}
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var l requestLog
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if !*quiet {
				l.print(s)
			}
		}
	}
}

// requestLog prints a line per request once the fake has answered it
// (with its status; a request still waiting for its answer is printed
// when it has one).
type requestLog struct {
	seen    int          // every request before this one is printed
	printed map[int]bool // requests from seen on that are printed
}

func (l *requestLog) print(s *codextest.Server) {
	if l.printed == nil {
		l.printed = map[int]bool{}
	}
	// The new requests only: copying them all every time made a
	// long-running fake slower with every request.
	rs := s.RequestsSince(l.seen)
	for _, r := range rs {
		if r.Status == 0 || l.printed[r.Index] {
			continue
		}
		l.printed[r.Index] = true
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
	// Move seen past the printed ones at its head (and past any the
	// fake forgot before they were answered).
	for _, r := range rs {
		if !l.printed[r.Index] {
			break
		}
		for ; l.seen <= r.Index; l.seen++ {
			delete(l.printed, l.seen)
		}
	}
}
