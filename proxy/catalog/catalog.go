// Package catalog keeps the model catalog of the Codex backend: fetched from
// {base}/codex/models?client_version=V, refreshed hourly and whenever the
// backend's X-Models-Etag changes, with a built-in fallback. It also
// resolves the model names clients send (aliases, effort suffixes).
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Model is one catalog entry, reduced to what the proxy uses.
type Model struct {
	Slug                       string
	DisplayName                string
	Visible                    bool // visibility "list"
	Priority                   int
	MinimalClientVersion       string
	DefaultReasoningLevel      string
	ReasoningLevels            []string
	SupportsReasoningSummaries bool
	SupportVerbosity           bool
	SupportsParallelToolCalls  bool
	InputModalities            []string
	ContextWindow              int
	ServiceTiers               []string
	// UseResponsesLite: the backend expects the Responses-Lite body and
	// headers for this model (docs/protocol.md §1).
	UseResponsesLite bool
}

// SupportsEffort reports whether effort is one of the model's levels. A
// model with no listed levels accepts any.
func (m Model) SupportsEffort(effort string) bool {
	if len(m.ReasoningLevels) == 0 {
		return true
	}
	for _, l := range m.ReasoningLevels {
		if l == effort {
			return true
		}
	}
	return false
}

// SupportsImages reports whether the model accepts image input.
func (m Model) SupportsImages() bool {
	if len(m.InputModalities) == 0 {
		return true
	}
	for _, x := range m.InputModalities {
		if x == "image" {
			return true
		}
	}
	return false
}

// HasServiceTier reports whether tier is allowed for the model.
func (m Model) HasServiceTier(tier string) bool {
	for _, t := range m.ServiceTiers {
		if t == tier {
			return true
		}
	}
	return false
}

type wireModel struct {
	Slug                     string `json:"slug"`
	DisplayName              string `json:"display_name"`
	Visibility               string `json:"visibility"`
	Priority                 int    `json:"priority"`
	MinimalClientVersion     string `json:"minimal_client_version"`
	DefaultReasoningLevel    string `json:"default_reasoning_level"`
	SupportedReasoningLevels []struct {
		Effort string `json:"effort"`
	} `json:"supported_reasoning_levels"`
	SupportsReasoningSummaries bool     `json:"supports_reasoning_summaries"`
	SupportVerbosity           bool     `json:"support_verbosity"`
	SupportsParallelToolCalls  bool     `json:"supports_parallel_tool_calls"`
	InputModalities            []string `json:"input_modalities"`
	ContextWindow              int      `json:"context_window"`
	ServiceTiers               []struct {
		ID string `json:"id"`
	} `json:"service_tiers"`
	UseResponsesLite bool `json:"use_responses_lite"`
}

// Parse decodes a /codex/models body.
func Parse(body []byte) ([]Model, error) {
	var w struct {
		Models []wireModel `json:"models"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("decoding model catalog: %w", err)
	}
	out := make([]Model, 0, len(w.Models))
	for _, m := range w.Models {
		if m.Slug == "" {
			continue
		}
		mm := Model{
			Slug:                       m.Slug,
			DisplayName:                m.DisplayName,
			Visible:                    m.Visibility == "" || m.Visibility == "list",
			Priority:                   m.Priority,
			MinimalClientVersion:       m.MinimalClientVersion,
			DefaultReasoningLevel:      m.DefaultReasoningLevel,
			SupportsReasoningSummaries: m.SupportsReasoningSummaries,
			SupportVerbosity:           m.SupportVerbosity,
			SupportsParallelToolCalls:  m.SupportsParallelToolCalls,
			InputModalities:            m.InputModalities,
			ContextWindow:              m.ContextWindow,
			UseResponsesLite:           m.UseResponsesLite,
		}
		for _, l := range m.SupportedReasoningLevels {
			mm.ReasoningLevels = append(mm.ReasoningLevels, l.Effort)
		}
		for _, t := range m.ServiceTiers {
			mm.ServiceTiers = append(mm.ServiceTiers, t.ID)
		}
		out = append(out, mm)
	}
	if len(out) == 0 {
		return nil, errors.New("model catalog is empty")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Priority < out[j].Priority })
	return out, nil
}

// Fetcher fetches the raw catalog. The upstream client satisfies it through
// a closure that supplies credentials.
type Fetcher func(ctx context.Context) (body []byte, header http.Header, err error)

// Options configure a Catalog.
type Options struct {
	ClientVersion string        // filters the fallback list like the backend does
	DefaultModel  string        // explicit default; empty = best of the catalog
	Unknown       string        // default | passthrough | reject
	Refresh       time.Duration // default 1h
	RetryAfter    time.Duration // after a failed fetch; default 60s
	Logger        *slog.Logger
	// OnChange is called after the model list changed (for Status).
	OnChange func(models []Model, live bool)
}

// Catalog is the live model catalog. It is safe for concurrent use.
type Catalog struct {
	fetch Fetcher
	opts  Options
	log   *slog.Logger

	mu      sync.RWMutex
	models  []Model
	live    bool
	etag    string
	kicked  string // the last X-Models-Etag that triggered a refresh
	fetched time.Time

	kick chan struct{}
}

// New returns a Catalog that starts with the fallback list.
func New(fetch Fetcher, opts Options) *Catalog {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Hour
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Catalog{fetch: fetch, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1)}
	c.models = Fallback(opts.ClientVersion)
	return c
}

// Run refreshes the catalog until ctx is done: now, then every Refresh,
// after RetryAfter when a fetch failed, and at once after Kick.
func (c *Catalog) Run(ctx context.Context) error {
	for {
		wait := c.opts.Refresh
		if err := c.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("model catalog refresh failed; using the last known list", "err", err)
			wait = c.opts.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-c.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// Kick asks Run to refresh now (coalesced).
func (c *Catalog) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// NoteETag tells the catalog the X-Models-Etag a response carried; a new
// value triggers one refresh (not one per response while it is pending or
// when the catalog answers without an ETag).
func (c *Catalog) NoteETag(etag string) {
	if etag == "" {
		return
	}
	c.mu.Lock()
	fresh := etag != c.etag && etag != c.kicked
	if fresh {
		c.kicked = etag
	}
	c.mu.Unlock()
	if fresh {
		c.Kick()
	}
}

// Refresh fetches the catalog once.
func (c *Catalog) Refresh(ctx context.Context) error {
	if c.fetch == nil {
		return errors.New("no catalog fetcher")
	}
	body, header, err := c.fetch(ctx)
	if err != nil {
		return err
	}
	models, err := Parse(body)
	if err != nil {
		return err
	}
	etag := header.Get("X-Models-Etag")
	if etag == "" {
		etag = header.Get("ETag")
	}
	c.mu.Lock()
	c.models, c.live, c.etag, c.fetched = models, true, etag, time.Now()
	c.mu.Unlock()
	c.log.Debug("model catalog refreshed", "models", len(models), "etag", etag)
	if c.opts.OnChange != nil {
		c.opts.OnChange(models, true)
	}
	return nil
}

// Live reports whether the list came from the backend (not the fallback).
func (c *Catalog) Live() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// Visible returns the models to list, best first.
func (c *Catalog) Visible() []Model {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Model
	for _, m := range c.models {
		if m.Visible {
			out = append(out, m)
		}
	}
	return out
}

// Lookup finds a slug among all models, hidden ones included.
func (c *Catalog) Lookup(slug string) (Model, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, m := range c.models {
		if m.Slug == slug {
			return m, true
		}
	}
	return Model{}, false
}

// UsesResponsesLite reports whether the catalog marks slug
// use_responses_lite; slugs it does not know get the classic shape.
func (c *Catalog) UsesResponsesLite(slug string) bool {
	m, ok := c.Lookup(slug)
	return ok && m.UseResponsesLite
}

// Default returns the default model: the configured one, else the best
// visible model of the catalog.
func (c *Catalog) Default() string {
	if c.opts.DefaultModel != "" {
		return c.opts.DefaultModel
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, m := range c.models {
		if m.Visible {
			return m.Slug
		}
	}
	if len(c.models) > 0 {
		return c.models[0].Slug
	}
	return "gpt-5.5"
}

// Resolution is what a requested model name resolves to.
type Resolution struct {
	Requested string
	Slug      string // what is sent upstream
	Effort    string // from a suffix such as -high or -extra; "" when none
	// ServiceTier is "priority" for a -fast suffix on a model whose catalog
	// entry offers that tier; "" otherwise.
	ServiceTier string
	Model       Model // catalog entry; zero when the slug is not in the catalog
	Known       bool  // Model is valid
	Alias       bool  // the name was an alias of the default model
	Unknown     bool  // an unknown name mapped to the default model
}

// Efforts is the wire enum of reasoning efforts.
var Efforts = []string{"none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"}

// IsEffort reports whether s is a known effort value.
func IsEffort(s string) bool {
	for _, e := range Efforts {
		if s == e {
			return true
		}
	}
	return false
}

var aliases = map[string]bool{
	"": true, "auto": true, "default": true,
	"gpt-4o": true, "gpt-4o-mini": true, "gpt-4": true, "gpt-4-turbo": true,
	"gpt-3.5-turbo": true, "chatgpt-4o-latest": true,
}

// slugLike matches names that look like an OpenAI model slug; those are
// sent as they are, so that a retired or unknown slug gets the backend's
// own error rather than silently another model.
// Aliases are checked first, so gpt-4o and friends still map to the
// default model while gpt-foo goes upstream as it is.
var slugLike = regexp.MustCompile(`^(gpt-[a-z0-9]|o[0-9]|codex-|chatgpt-)`)

// ErrUnknownModel is returned by Resolve when Unknown is "reject".
var ErrUnknownModel = errors.New("unknown model")

// Resolve maps a requested name to an upstream slug.
func (c *Catalog) Resolve(name string) (Resolution, error) {
	r := Resolution{Requested: name}
	n := strings.ToLower(strings.TrimSpace(name))
	if m, ok := c.Lookup(n); ok {
		r.Slug, r.Model, r.Known = n, m, true
		return r, nil
	}
	if aliases[n] {
		return c.aliasTo(r), nil
	}
	if sr, ok := c.resolveSuffixed(r, n); ok {
		return sr, nil
	}
	if slugLike.MatchString(n) {
		r.Slug = n
		return r, nil
	}
	switch c.opts.Unknown {
	case "passthrough":
		r.Slug = n
		return r, nil
	case "reject":
		return r, ErrUnknownModel
	}
	r = c.aliasTo(r)
	r.Alias, r.Unknown = false, true
	return r, nil
}

// Suffixes that are not efforts: -fast asks for the priority service tier,
// -extra for the highest effort the model supports.
const (
	suffixFast  = "fast"
	suffixExtra = "extra"
)

// resolveSuffixed resolves names with up to two suffixes after -, : or _:
// an effort (gpt-5.5-high) or -extra, and -fast, in either order
// (gpt-5.5-high-fast, gpt-5.5-fast-extra). The base must be a catalog
// model, an alias or a slug-like name; otherwise ok is false.
func (c *Catalog) resolveSuffixed(r Resolution, n string) (Resolution, bool) {
	base, effort, fast, extra := n, "", false, false
	for range 2 {
		i := strings.LastIndexAny(base, "-:_")
		if i <= 0 {
			break
		}
		s := base[i+1:]
		if s == suffixFast && !fast {
			fast = true
		} else if (IsEffort(s) || s == suffixExtra) && effort == "" {
			effort, extra = s, s == suffixExtra
		} else {
			break
		}
		base = base[:i]
		if _, ok := c.Lookup(base); ok || aliases[base] {
			break
		}
	}
	if base == n {
		return r, false
	}
	switch m, ok := c.Lookup(base); {
	case ok:
		r.Slug, r.Model, r.Known = base, m, true
	case aliases[base]:
		r = c.aliasTo(r)
	case slugLike.MatchString(base):
		r.Slug = base
	default:
		return r, false
	}
	r.Effort = effort
	if extra {
		r.Effort = highestEffort(r)
	}
	if fast && r.Known && r.Model.HasServiceTier("priority") {
		r.ServiceTier = "priority"
	}
	return r, true
}

// highestEffort is the highest reasoning level of the resolved model, or
// xhigh when the model or its levels are not known.
func highestEffort(r Resolution) string {
	best, rank := "xhigh", -1
	if !r.Known {
		return best
	}
	for _, l := range r.Model.ReasoningLevels {
		for i, e := range Efforts {
			if e == l && i > rank {
				best, rank = l, i
			}
		}
	}
	return best
}

func (c *Catalog) aliasTo(r Resolution) Resolution {
	r.Alias = true
	r.Slug = c.Default()
	r.Model, r.Known = c.Lookup(r.Slug)
	return r
}

// Fallback is the built-in catalog used until the live one is fetched,
// filtered by clientVersion as the backend would. It reflects the
// backend as of late 2026 and is never authoritative.
func Fallback(clientVersion string) []Model {
	std := []string{"low", "medium", "high", "xhigh"}
	big := []string{"low", "medium", "high", "xhigh", "max", "ultra"}
	mk := func(slug, minV string, prio int, levels []string, def string) Model {
		return Model{
			Slug: slug, DisplayName: slug, Visible: true, Priority: prio, MinimalClientVersion: minV,
			DefaultReasoningLevel: def, ReasoningLevels: levels, SupportsReasoningSummaries: true,
			SupportVerbosity: true, SupportsParallelToolCalls: true, InputModalities: []string{"text", "image"},
			ContextWindow: 272000, ServiceTiers: []string{"priority"},
		}
	}
	all := []Model{
		mk("gpt-6-sol", "0.155.0", 0, big, "medium"),
		mk("gpt-6-luna", "0.155.0", 1, big[:5], "medium"),
		mk("gpt-6-astra", "0.153.0", 2, big, "medium"),
		mk("gpt-5.6-sol", "0.144.0", 3, big, "low"),
		mk("gpt-5.6-terra", "0.144.0", 4, big, "medium"),
		mk("gpt-5.6-luna", "0.144.0", 5, big[:5], "medium"),
		mk("gpt-5.5", "0.124.0", 6, std, "medium"),
		mk("gpt-5.4", "0.98.0", 7, std, "medium"),
		mk("gpt-5.4-mini", "0.98.0", 8, std, "medium"),
	}
	for i := range all {
		// The Luna models exist only behind Responses Lite (the classic
		// body gets 404); the live catalog decides for the others.
		all[i].UseResponsesLite = strings.HasSuffix(all[i].Slug, "-luna")
	}
	var out []Model
	for _, m := range all {
		if clientVersion == "" || VersionAtLeast(clientVersion, m.MinimalClientVersion) {
			out = append(out, m)
		}
	}
	return out
}

// VersionAtLeast compares dotted numeric versions: v >= min.
func VersionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(strings.TrimFunc(a[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if i < len(b) {
			y, _ = strconv.Atoi(strings.TrimFunc(b[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if x != y {
			return x > y
		}
	}
	return true
}
