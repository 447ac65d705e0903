// Package proxy assembles the proxy core: the upstream client, the model
// catalog, the status recorder and the HTTP server, with one lifecycle.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/catalog"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/server"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// Options are the core's dependencies besides the configuration.
type Options struct {
	Version string
	APIKey  string
	Auth    auth.Source
	Admin   server.Admin
	Status  *status.Recorder // nil: a new one
	Logger  *slog.Logger
	// Client is the upstream client to share (the credentials code uses it
	// for the web and OAuth routes); nil builds one from the config.
	Client *upstream.Client
	// Upstream replaces the tls-client based client (tests).
	Upstream server.Upstream
	// NewAuth builds the credentials source (and the admin API's backend)
	// on the core's upstream client, when Auth is nil.
	NewAuth func(client *upstream.Client) (auth.Source, server.Admin)
	// InstallationID is the Codex CLI installation id for the turn
	// metadata (config.InstallationID); empty means random per process.
	InstallationID string
}

// Core is the proxy core.
type Core struct {
	cfg     *config.Config
	log     *slog.Logger
	status  *status.Recorder
	client  *upstream.Client
	catalog *catalog.Catalog
	server  *server.Server
	ln      net.Listener
	auth    auth.Source
	// quotaKick asks pollQuota for a reading now.
	quotaKick chan struct{}
}

// New builds the core. Call Listen, then Run.
func New(cfg *config.Config, o Options) (*Core, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Status == nil {
		o.Status = status.NewRecorder(nil)
	}
	if o.Auth == nil && o.NewAuth == nil {
		return nil, errors.New("no credentials source")
	}
	c := &Core{cfg: cfg, log: o.Logger, status: o.Status, quotaKick: make(chan struct{}, 1)}
	client := o.Client
	if client == nil {
		var err error
		ucfg := upstream.Settings(cfg, o.Logger)
		ucfg.InstallationID = o.InstallationID
		client, err = upstream.New(ucfg)
		if err != nil {
			return nil, fmt.Errorf("building the upstream client: %w", err)
		}
	}
	c.client = client
	if o.Auth == nil {
		o.Auth, o.Admin = o.NewAuth(client)
	}
	c.auth = o.Auth
	c.catalog = catalog.New(c.fetchModels, catalog.Options{
		ClientVersion: cfg.ClientVersion,
		DefaultModel:  cfg.DefaultModel,
		Unknown:       cfg.UnknownModel,
		Refresh:       cfg.ModelsRefresh,
		Logger:        o.Logger,
		OnChange:      func([]catalog.Model, bool) { c.publishModels() },
	})
	up := o.Upstream
	if up == nil {
		up = server.FromClient(client)
	}
	var err error
	c.server, err = server.New(server.Options{
		Config: cfg, APIKey: o.APIKey, Upstream: up, Auth: o.Auth, Catalog: c.catalog,
		Status: c.status, Admin: o.Admin, Logger: o.Logger, OnUsageLimit: c.kickQuota,
	})
	if err != nil {
		return nil, err
	}
	c.status.Update(func(s *status.Status) { s.Version = o.Version })
	c.publishModels()
	return c, nil
}

// Client is the upstream client (the credentials code uses it for the web
// and OAuth routes).
func (c *Core) Client() *upstream.Client { return c.client }

// Status is the status recorder.
func (c *Core) Status() *status.Recorder { return c.status }

// Catalog is the model catalog.
func (c *Core) Catalog() *catalog.Catalog { return c.catalog }

// Handler is the HTTP handler (tests).
func (c *Core) Handler() http.Handler { return c.server.Handler() }

func (c *Core) fetchModels(ctx context.Context) ([]byte, http.Header, error) {
	creds, err := c.auth.Credentials(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("no credentials for the model catalog: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.client.Models(ctx, creds)
}

func (c *Core) publishModels() {
	var names []string
	for _, m := range c.catalog.Visible() {
		names = append(names, m.Slug)
	}
	def := c.catalog.Default()
	c.status.Update(func(s *status.Status) { s.Models, s.DefaultModel = names, def })
}

// ErrAddrInUse means the port is taken, most likely by another instance.
var ErrAddrInUse = errors.New("address already in use")

// Listen binds the configured address.
func (c *Core) Listen() error {
	ln, err := net.Listen("tcp", c.cfg.Addr())
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listening on %s: %w (is another copy already running? set CHATGPT_PORT to use another port)", c.cfg.Addr(), ErrAddrInUse)
		}
		return fmt.Errorf("listening on %s: %w", c.cfg.Addr(), err)
	}
	c.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	c.status.Update(func(s *status.Status) { s.BaseURL = c.cfg.PublicBaseURL(port) })
	return nil
}

// InstanceRunning reports whether the configured port answers this app's
// health check, i.e. another copy of the app already serves there.
func InstanceRunning(cfg *config.Config) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(strings.TrimSuffix(cfg.PublicBaseURL(0), "/v1") + "/healthz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		App string `json:"app"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&body) == nil && body.App == config.AppName
}

// BaseURL is the OpenAI base URL clients use (valid after Listen).
func (c *Core) BaseURL() string { return c.status.Snapshot().BaseURL }

// Run serves until ctx is done, refreshing the model catalog meanwhile.
func (c *Core) Run(ctx context.Context) error {
	if c.ln == nil {
		if err := c.Listen(); err != nil {
			return err
		}
	}
	defer c.client.CloseIdleConnections()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.catalog.Run(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.pollQuota(ctx)
	}()
	c.log.Info("serving the OpenAI API", "base_url", c.BaseURL(), "upstream", c.cfg.BaseURL, "identity", c.cfg.Identity)
	if !c.cfg.IsLoopback() {
		c.log.Warn("listening beyond this machine: anyone who can reach this address and has the API key can use your ChatGPT subscription; requests must also name a host in CHATGPT_ALLOWED_HOSTS",
			"host", c.cfg.Host, "allowed_hosts", c.cfg.AllowedHosts)
	}
	err := c.server.Serve(ctx, c.ln)
	wg.Wait()
	return err
}
