package upstream

import (
	"log/slog"

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
		Timing:     Timing{HeaderTimeout: cfg.HeaderTimeout, IdleTimeout: cfg.IdleTimeout},
		Logger:     log,
	}
}
