// Command chatgpt-to-api serves a ChatGPT Plus/Pro subscription as an
// OpenAI- and Anthropic-compatible API on 127.0.0.1, from the tray or
// headless.
//
// main only wires: it reads the command line and the configuration and
// hands over to the sign-in commands or to the app (proxy/app). See
// README.md for usage and docs/architecture.md for the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	application "github.com/chatgpt-to-api/chatgpt-to-api/proxy/app"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/authcli"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run is main's body; it stays on the main goroutine, which the tray needs.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatgpt-to-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headless := fs.Bool("headless", false, "run without a tray icon")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			application.Usage(stdout, version)
			return 0
		}
		fmt.Fprintln(stderr, "see --help")
		return 2
	}
	cmd := fs.Arg(0)
	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "chatgpt-to-api", version)
		return 0
	case cmd == "help":
		application.Usage(stdout, version)
		return 0
	case cmd != "" && cmd != "serve" && !authcli.IsCommand(cmd):
		fmt.Fprintf(stderr, "unknown command %q; see --help\n", cmd)
		return 2
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(stderr, "configuration error:", err)
		return 2
	}
	cfg.Headless = cfg.Headless || *headless
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if authcli.IsCommand(cmd) {
		return authcli.Main(ctx, fs.Args(), stdin, stdout, stderr, cfg)
	}
	a := &application.App{Config: cfg, Version: version, Stderr: stderr}
	return application.ExitCode(a.Run(ctx))
}
