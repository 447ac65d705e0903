// Command chatgpt-to-api serves a ChatGPT Plus/Pro subscription as an
// OpenAI-compatible API on 127.0.0.1, from the tray or headless.
//
// main only wires: it reads the configuration, builds the packages and runs
// their lifecycles. See README.md for usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatgpt-to-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	headless := fs.Bool("headless", false, "run without a tray icon")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "see --help")
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "chatgpt-to-api", version)
		return 0
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(stderr, "configuration error:", err)
		return 2
	}
	if *headless {
		cfg.Headless = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if fs.NArg() > 0 && fs.Arg(0) != "serve" {
		fmt.Fprintf(stderr, "unknown command %q; see --help\n", fs.Arg(0))
		return 2
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	slog.SetDefault(log)

	core, err := proxy.New(cfg, proxy.Options{
		Version: version,
		APIKey:  cfg.APIKey,
		Auth:    auth.NewStatic(cfg.AccessToken, cfg.AccountID),
		Logger:  log,
	})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := core.Listen(); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := core.Run(ctx); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

func logLevel(s string) slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(s))
	return l
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `chatgpt-to-api %s: your ChatGPT subscription as an OpenAI-compatible API on this machine.

Usage:
  chatgpt-to-api [--headless]        run (in the tray when there is one)
  chatgpt-to-api --version

Settings come from the environment, then ./.env, then the .env in the app's
config folder:

`, version)
	config.WriteHelp(w)
}
