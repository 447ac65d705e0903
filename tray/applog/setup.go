package applog

import (
	"io"
	"log/slog"

	"github.com/pkg/browser"
)

// Setup logs to a rotated file in dir (the OS's log folder when dir is
// empty) and to stderr, at level ("debug", "info", "warn" or "error"), and
// makes the result the default logger. A build without a console still
// leaves a log to read. It returns the folder, the logger and a function
// that closes the file.
func Setup(dir, level string, stderr io.Writer) (string, *slog.Logger, func()) {
	var err error
	if dir == "" {
		dir, err = Dir()
	}
	out := stderr
	closeFn := func() {}
	if err == nil {
		if f, ferr := Open(dir); ferr == nil {
			out = io.MultiWriter(f, stderr)
			closeFn = func() { _ = f.Close() }
		} else {
			err = ferr
		}
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: lvl}))
	slog.SetDefault(log)
	if err != nil {
		log.Warn("logging to stderr only", "err", err)
	}
	// The browser launcher's own chatter goes to the log, never the terminal.
	browser.Stdout, browser.Stderr = io.Discard, out
	return dir, log, closeFn
}
