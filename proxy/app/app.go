// Package app runs the whole application for `chatgpt-to-api serve`: it
// sets up logging, opens the secret store, makes sure there is a local API
// key, builds the credentials manager and the proxy core, and runs them
// with the tray (or headless) until the context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/authcli"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth/creds"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/server"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray"
	"github.com/chatgpt-to-api/chatgpt-to-api/tray/applog"
)

// ExitError is a stop with a specific exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps Run's error to the process exit code.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

// App is one run of the application.
type App struct {
	Config  *config.Config
	Version string
	Stderr  io.Writer

	log *slog.Logger
}

// Run runs the app until ctx is done. Its error says why it could not
// start or stopped badly; ExitCode turns it into an exit code.
func (a *App) Run(ctx context.Context) error {
	cfg := a.Config
	logDir, log, closeLog := applog.Setup(cfg.LogDir, cfg.LogLevel, a.Stderr)
	defer closeLog()
	a.log = log
	if unknown := config.UnknownVariables(os.Environ()); len(unknown) > 0 {
		log.Warn("ignoring unknown settings (typos?); see --help", "variables", strings.Join(unknown, ", "))
	}
	useTray := a.trayWanted()
	p, err := a.prepare(ctx, useTray)
	if err != nil {
		return a.fail(err)
	}
	if err := p.core.Listen(); err != nil {
		return a.listenFailed(err, useTray)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g group
	g.Go(func() error { return p.core.Run(ctx) })
	g.Go(func() error {
		if err := p.counts.Run(ctx); err != nil {
			log.Warn("request counts not saved", "err", err)
		}
		return nil
	})
	g.Go(func() error { p.mgr.Run(ctx); return nil })
	if useTray {
		a.runTray(ctx, p, logDir)
	} else {
		<-ctx.Done()
	}
	cancel()
	if err := g.Wait(); err != nil {
		log.Error("server stopped", "err", err)
		return &ExitError{Code: 1, Err: err}
	}
	log.Info("stopped")
	return nil
}

// parts are the pieces Run starts.
type parts struct {
	rec    *status.Recorder
	counts *status.Persister
	mgr    *creds.Manager
	core   *proxy.Core
	apiKey string
}

// trayWanted reports whether to run in the tray.
func (a *App) trayWanted() bool {
	if a.Config.Headless {
		return false
	}
	ok, reason := tray.Available()
	if !ok {
		a.log.Info("no tray available; running headless", "reason", reason)
		return false
	}
	if reason != "" {
		a.log.Info("the tray icon appears when a panel starts", "reason", reason)
	}
	return true
}

// prepare builds the status, the secret store, the API key, the
// credentials manager and the core.
func (a *App) prepare(ctx context.Context, useTray bool) (*parts, error) {
	cfg, log := a.Config, a.log
	p := &parts{rec: status.NewRecorder(nil)}
	cfgDir, err := config.Dir()
	if err != nil {
		return nil, err
	}
	p.counts = status.NewPersister(p.rec, filepath.Join(cfgDir, status.CountsFileName), log)
	if err := p.counts.Load(); err != nil {
		log.Warn("request counts not restored", "err", err)
	}
	secrets, note, err := creds.OpenSecrets(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if note != "" {
		log.Warn(note)
	}
	apiKey, created, err := creds.LoadOrCreateAPIKey(ctx, secrets, cfg)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated the local API key", "where", creds.APIKeyLocation(secrets, cfg))
		if secrets.Where() == "memory" && !useTray && !announceKey(a.Stderr, apiKey) {
			return nil, errors.New("no keychain to keep a generated API key and no terminal to show it; set CHATGPT_API_KEY (for example in .env), choose CHATGPT_SECRET_STORE=file, or CHATGPT_NO_API_KEY=true")
		}
	}
	p.apiKey = apiKey
	p.core, err = proxy.New(cfg, proxy.Options{
		Version: a.Version, APIKey: apiKey, Status: p.rec, Logger: log,
		InstallationID: config.InstallationID(),
		NewAuth: func(client *upstream.Client) (auth.Source, server.Admin) {
			p.mgr = creds.NewManager(creds.Options{Config: cfg, Secrets: secrets, HTTP: client, Status: p.rec, OpenURL: authcli.OpenURL, Log: log})
			return p.mgr, p.mgr
		},
	})
	return p, err
}

// listenFailed explains a failed Listen: a second copy of the app is not
// an error from the tray, but a failed start for a service manager.
func (a *App) listenFailed(err error, useTray bool) error {
	cfg := a.Config
	if !errors.Is(err, proxy.ErrAddrInUse) || !proxy.InstanceRunning(cfg) {
		return a.fail(err)
	}
	if !useTray {
		a.log.Error("ChatGPT-to-API is already running at this address; not starting a second copy", "base_url", cfg.PublicBaseURL(0))
		return &ExitError{Code: 1, Err: err}
	}
	a.log.Info("ChatGPT-to-API is already running; use its tray icon", "base_url", cfg.PublicBaseURL(0))
	tray.Alert("ChatGPT-to-API", "ChatGPT-to-API is already running at "+cfg.PublicBaseURL(0)+". Use its tray icon.")
	return nil
}

// runTray shows the tray until ctx ends; without a working tray it waits
// headless.
func (a *App) runTray(ctx context.Context, p *parts, logDir string) {
	var copyKey func() (string, error) // nil hides "Copy API key" when there is no key
	if p.apiKey != "" {
		key := p.apiKey
		copyKey = func() (string, error) { return key, nil }
	}
	err := tray.Run(ctx, tray.Config{
		APIKey:   copyKey,
		Source:   p.rec,
		BaseURL:  p.core.BaseURL(),
		SignIn:   p.mgr.SignIn,
		Refresh:  p.mgr.RefreshNow,
		OpenLogs: func() error { return applog.OpenFolder(logDir) },
		Autostart: tray.NewAutostart(tray.AutostartSpec{
			ID: "chatgpt-to-api", BundleID: "com.chatgpt-to-api.app", Name: "ChatGPT-to-API",
			Comment: "Serve your ChatGPT subscription as an OpenAI-compatible API on 127.0.0.1",
		}),
		SignOut:      p.mgr.Logout,
		ReopenSignIn: p.mgr.ReopenSignIn,
		Logger:       a.log,
	})
	if err != nil {
		a.log.Warn("tray unavailable; running headless", "err", err, "base_url", p.core.BaseURL())
		<-ctx.Done()
	}
}

// fail logs why the app cannot start, shows it to a person who
// double-clicked a GUI build, and returns it as exit code 1.
func (a *App) fail(err error) error {
	a.log.Error("cannot start", "err", err)
	tray.Alert("ChatGPT-to-API cannot start", err.Error())
	return &ExitError{Code: 1, Err: err}
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
