package upstream

import (
	"log/slog"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// Settings maps the app's settings to the upstream client's configuration.
func Settings(cfg *config.Config, log *slog.Logger) Config {
	return Config{
		BaseURL:    cfg.BaseURL,
		Proxy:      cfg.Proxy,
		Identity:   Identity(cfg.Identity),
		Version:    cfg.ClientVersion,
		Originator: cfg.Originator,
		UserAgent:  cfg.UserAgent,
		PlainBody:  !cfg.CompressBody,
		Timing:     Timing{HeaderTimeout: cfg.HeaderTimeout, IdleTimeout: cfg.IdleTimeout, DialTimeout: dialTimeout(cfg.FirstByte)},
		Logger:     log,
	}
}

// dialTimeout is the bound of opening a connection: the default, or the
// first-byte timeout when that is shorter, so that a stalled connection
// cannot keep a client waiting past it.
func dialTimeout(firstByte time.Duration) time.Duration {
	if firstByte > 0 && firstByte < DefaultDialTimeout {
		return firstByte
	}
	return DefaultDialTimeout
}
