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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pkg/browser"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/authcli"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/creds"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray/applog"
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
	cfg.Headless = cfg.Headless || *headless
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if fs.NArg() > 0 && fs.Arg(0) == "help" {
		usage(stdout)
		return 0
	}
	if fs.NArg() > 0 && authcli.IsCommand(fs.Arg(0)) {
		return authcli.Main(ctx, fs.Args(), stdin, stdout, stderr, cfg)
	}
	if fs.NArg() > 0 && fs.Arg(0) != "serve" {
		fmt.Fprintf(stderr, "unknown command %q; see --help\n", fs.Arg(0))
		return 2
	}
	return serve(ctx, cfg, stderr)
}

// serve runs the server, in the tray when there is one.
func serve(ctx context.Context, cfg *config.Config, stderr io.Writer) int {
	logDir, log, closeLog := setupLogging(cfg, stderr)
	defer closeLog()
	if unknown := config.UnknownVariables(os.Environ()); len(unknown) > 0 {
		log.Warn("ignoring unknown settings (typos?); see --help", "variables", strings.Join(unknown, ", "))
	}

	rec := status.NewRecorder(nil)
	cfgDir, err := config.Dir()
	if err != nil {
		return fail(log, err)
	}
	counts := status.NewPersister(rec, filepath.Join(cfgDir, status.CountsFileName), log)
	if err := counts.Load(); err != nil {
		log.Warn("request counts not restored", "err", err)
	}

	useTray := !cfg.Headless
	if useTray {
		ok, reason := tray.Available()
		if !ok {
			log.Info("no tray available; running headless", "reason", reason)
			useTray = false
		} else if reason != "" {
			log.Info("the tray icon appears when a panel starts", "reason", reason)
		}
	}

	secrets, note, err := creds.OpenSecrets(ctx, cfg)
	if err != nil {
		return fail(log, err)
	}
	if note != "" {
		log.Warn(note)
	}
	apiKey, created, err := creds.LoadOrCreateAPIKey(ctx, secrets, cfg)
	if err != nil {
		return fail(log, err)
	}
	if created {
		log.Info("generated the local API key", "where", creds.APIKeyLocation(secrets, cfg))
		if secrets.Where() == "memory" && !useTray && !announceKey(stderr, apiKey) {
			return fail(log, errors.New("no keychain to keep a generated API key and no terminal to show it; set CHATGPT_API_KEY (for example in .env), choose CHATGPT_SECRET_STORE=file, or CHATGPT_NO_API_KEY=true"))
		}
	}

	ucfg := proxy.UpstreamConfig(cfg, log)
	ucfg.InstallationID = config.InstallationID()
	client, err := upstream.New(ucfg)
	if err != nil {
		return fail(log, err)
	}
	mgr := creds.NewManager(creds.Options{Config: cfg, Secrets: secrets, HTTP: client, Status: rec, OpenURL: authcli.OpenURL, Log: log})
	core, err := proxy.New(cfg, proxy.Options{
		Version: version,
		APIKey:  apiKey,
		Auth:    mgr,
		Admin:   mgr,
		Client:  client,
		Status:  rec,
		Logger:  log,
	})
	if err != nil {
		return fail(log, err)
	}
	if err := core.Listen(); err != nil {
		if errors.Is(err, proxy.ErrAddrInUse) && proxy.InstanceRunning(cfg) {
			if !useTray {
				// For a service manager a second copy is a failed start.
				log.Error("ChatGPT-to-API is already running at this address; not starting a second copy", "base_url", cfg.PublicBaseURL(0))
				return 1
			}
			log.Info("ChatGPT-to-API is already running; use its tray icon", "base_url", cfg.PublicBaseURL(0))
			tray.Alert("ChatGPT-to-API", "ChatGPT-to-API is already running at "+cfg.PublicBaseURL(0)+". Use its tray icon.")
			return 0
		}
		return fail(log, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	coreDone := make(chan error, 1)
	go func() { coreDone <- core.Run(ctx) }()
	countsDone := make(chan error, 1)
	go func() { countsDone <- counts.Run(ctx) }()
	mgrDone := make(chan struct{})
	go func() { mgr.Run(ctx); close(mgrDone) }()

	var copyKey func() (string, error) // nil hides "Copy API key" when there is no key
	if apiKey != "" {
		copyKey = func() (string, error) { return apiKey, nil }
	}
	if useTray {
		err := tray.Run(ctx, tray.Config{
			APIKey:   copyKey,
			Source:   rec,
			BaseURL:  core.BaseURL(),
			SignIn:   mgr.SignIn,
			Refresh:  mgr.RefreshNow,
			OpenLogs: func() error { return applog.OpenFolder(logDir) },
			Autostart: tray.NewAutostart(tray.AutostartSpec{
				ID: "chatgpt-to-api", BundleID: "com.chatgpt-to-api.app", Name: "ChatGPT-to-API",
				Comment: "Serve your ChatGPT subscription as an OpenAI-compatible API on 127.0.0.1",
			}),
			Logger: log,
		})
		if err != nil {
			log.Warn("tray unavailable; running headless", "err", err, "base_url", core.BaseURL())
			<-ctx.Done()
		}
	} else {
		<-ctx.Done()
	}
	cancel()
	code := 0
	if err := <-coreDone; err != nil {
		log.Error("server stopped", "err", err)
		code = 1
	}
	<-mgrDone
	if err := <-countsDone; err != nil {
		log.Warn("request counts not saved", "err", err)
	}
	log.Info("stopped")
	return code
}

// fail logs why the app cannot start, shows it to a person who
// double-clicked a GUI build, and returns the exit code.
func fail(log *slog.Logger, err error) int {
	log.Error("cannot start", "err", err)
	tray.Alert("ChatGPT-to-API cannot start", err.Error())
	return 1
}

// setupLogging logs to a rotated file in the OS's log folder (a GUI build
// has no console) and to stderr. It returns the folder, the logger and a
// close function.
func setupLogging(cfg *config.Config, stderr io.Writer) (string, *slog.Logger, func()) {
	dir := cfg.LogDir
	var err error
	if dir == "" {
		dir, err = applog.Dir()
	}
	out := stderr
	closeFn := func() {}
	if err == nil {
		if f, ferr := applog.Open(dir); ferr == nil {
			out = io.MultiWriter(f, stderr)
			closeFn = func() { _ = f.Close() }
		} else {
			err = ferr
		}
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	slog.SetDefault(log)
	if err != nil {
		log.Warn("logging to stderr only", "err", err)
	}
	browser.Stdout, browser.Stderr = io.Discard, out
	return dir, log, closeFn
}

// announceKey shows a generated API key that cannot be stored, once, on
// the terminal (never in the log file). It reports false when stderr is
// not a terminal, so the key could not reach a person.
func announceKey(stderr io.Writer, key string) bool {
	f, ok := stderr.(*os.File)
	if !ok {
		return false
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	fmt.Fprintf(f, "\nNo keychain is available, so this run's API key is not saved anywhere:\n\n    %s\n\nSet CHATGPT_API_KEY to choose a permanent key.\n\n", key)
	return true
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
  chatgpt-to-api login [--device]    sign in with your ChatGPT account (browser or device code)
  chatgpt-to-api set-session-token   store a chatgpt.com session token read from standard input
  chatgpt-to-api import-codex        copy the Codex CLI's login (~/.codex/auth.json) once
  chatgpt-to-api status              account, plan, expiry and where secrets are kept
  chatgpt-to-api api-key             print the local API key clients must send
  chatgpt-to-api logout              forget the stored credentials
  chatgpt-to-api --version

Settings come from the environment, then ./.env, then the .env in the app's
config folder:

`, version)
	config.WriteHelp(w)
}
