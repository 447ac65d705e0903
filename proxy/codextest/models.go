package codextest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Model is one catalog entry of GET /codex/models, in the wire shape of
// the real backend.
type Model struct {
	Slug                       string           `json:"slug"`
	DisplayName                string           `json:"display_name"`
	Description                string           `json:"description"`
	Visibility                 string           `json:"visibility"` // "list" or "hide"
	Priority                   int              `json:"priority"`
	SupportedInAPI             bool             `json:"supported_in_api"`
	MinimalClientVersion       string           `json:"minimal_client_version"`
	DefaultReasoningLevel      string           `json:"default_reasoning_level"`
	SupportedReasoningLevels   []ReasoningLevel `json:"supported_reasoning_levels"`
	SupportsReasoningSummaries bool             `json:"supports_reasoning_summaries"`
	DefaultReasoningSummary    string           `json:"default_reasoning_summary"`
	SupportVerbosity           bool             `json:"support_verbosity"`
	DefaultVerbosity           *string          `json:"default_verbosity"`
	SupportsParallelToolCalls  bool             `json:"supports_parallel_tool_calls"`
	InputModalities            []string         `json:"input_modalities"`
	ContextWindow              int              `json:"context_window"`
	MaxContextWindow           int              `json:"max_context_window,omitempty"`
	AutoCompactTokenLimit      int              `json:"auto_compact_token_limit,omitempty"`
	ServiceTiers               []ServiceTier    `json:"service_tiers"`
	AvailableInPlans           []string         `json:"available_in_plans"`
	BaseInstructions           string           `json:"base_instructions"`
	TruncationPolicy           TruncationPolicy `json:"truncation_policy"`
	ShellType                  string           `json:"shell_type"`
	ApplyPatchToolType         string           `json:"apply_patch_tool_type"`
	PreferWebsockets           bool             `json:"prefer_websockets"`
	UseResponsesLite           bool             `json:"use_responses_lite"`
	// LiteOnly makes the classic body get 404 "Model not found", as the
	// backend answers for the Luna models (not part of the wire shape).
	LiteOnly bool `json:"-"`
}

// ReasoningLevel is one entry of supported_reasoning_levels.
type ReasoningLevel struct {
	Effort      string `json:"effort"`
	Description string `json:"description"`
}

// ServiceTier is one entry of service_tiers.
type ServiceTier struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// TruncationPolicy is the catalog's truncation_policy.
type TruncationPolicy struct {
	Mode  string `json:"mode"`
	Limit int    `json:"limit"`
}

// Efforts returns the slug's supported effort names in catalog order.
func (m Model) Efforts() []string {
	out := make([]string, len(m.SupportedReasoningLevels))
	for i, l := range m.SupportedReasoningLevels {
		out[i] = l.Effort
	}
	return out
}

// HasServiceTier reports whether the model lists tier in service_tiers.
func (m Model) HasServiceTier(tier string) bool {
	for _, t := range m.ServiceTiers {
		if t.ID == tier {
			return true
		}
	}
	return false
}

var effortDescriptions = map[string]string{
	"none":    "No reasoning",
	"minimal": "Fastest responses with very little reasoning",
	"low":     "Fast responses with lighter reasoning",
	"medium":  "Balances speed and reasoning depth for everyday tasks",
	"high":    "Greater reasoning depth for complex problems",
	"xhigh":   "Extra high reasoning depth for complex problems",
	"max":     "Maximum reasoning depth",
	"ultra":   "Longest, most thorough reasoning",
}

func levels(efforts ...string) []ReasoningLevel {
	out := make([]ReasoningLevel, len(efforts))
	for i, e := range efforts {
		out[i] = ReasoningLevel{Effort: e, Description: effortDescriptions[e]}
	}
	return out
}

var allPlans = []string{"plus", "pro", "team", "business", "enterprise", "edu", "go", "free"}

func model(slug string, priority int, minVersion, defEffort string, efforts []string, verbosity, priorityTier bool) Model {
	m := Model{
		Slug:                       slug,
		DisplayName:                slug,
		Description:                "Fake " + slug + " model served by codextest.",
		Visibility:                 "list",
		Priority:                   priority,
		SupportedInAPI:             true,
		MinimalClientVersion:       minVersion,
		DefaultReasoningLevel:      defEffort,
		SupportedReasoningLevels:   levels(efforts...),
		SupportsReasoningSummaries: true,
		DefaultReasoningSummary:    "none",
		SupportVerbosity:           verbosity,
		SupportsParallelToolCalls:  true,
		InputModalities:            []string{"text", "image"},
		ContextWindow:              272000,
		AutoCompactTokenLimit:      244800,
		ServiceTiers:               []ServiceTier{},
		AvailableInPlans:           slices.Clone(allPlans),
		BaseInstructions:           "You are Codex, a coding agent. (codextest fake base instructions)",
		TruncationPolicy:           TruncationPolicy{Mode: "tokens", Limit: 10000},
		ShellType:                  "shell_command",
		ApplyPatchToolType:         "freeform",
		PreferWebsockets:           true,
	}
	if verbosity {
		v := "low"
		m.DefaultVerbosity = &v
	}
	if priorityTier {
		m.ServiceTiers = []ServiceTier{{ID: "priority", Description: "Fast mode"}}
	}
	return m
}

// DefaultModels returns the fake's default catalog, modelled on the live
// catalog of late 2026:
//
//   - list: gpt-6-sol and gpt-6-luna (minimal_client_version 0.155.0),
//     gpt-6-astra (0.153.0), gpt-5.6-sol, gpt-5.6-terra and gpt-5.6-luna
//     (0.144.0), gpt-5.5 (0.124.0), gpt-5.4 and gpt-5.4-mini (0.98.0);
//   - hide: codex-auto-review (0.98.0, no verbosity support);
//   - the Luna models are use_responses_lite and answer the classic body
//     with 404 (LiteOnly).
//
// gpt-5.2 and gpt-5.3-codex are retired: they are absent, so requests for
// them get the "not supported" error like any unknown slug.
func DefaultModels() []Model {
	std := []string{"low", "medium", "high", "xhigh"}
	upToMax := []string{"low", "medium", "high", "xhigh", "max"}
	upToUltra := []string{"low", "medium", "high", "xhigh", "max", "ultra"}
	ms := []Model{
		model("gpt-6-sol", 0, "0.155.0", "medium", upToUltra, true, true),
		model("gpt-6-luna", 1, "0.155.0", "medium", upToMax, true, true),
		model("gpt-6-astra", 2, "0.153.0", "medium", upToMax, true, true),
		model("gpt-5.6-sol", 3, "0.144.0", "low", upToUltra, true, true),
		model("gpt-5.6-terra", 4, "0.144.0", "medium", upToUltra, true, true),
		model("gpt-5.6-luna", 5, "0.144.0", "medium", upToMax, true, true),
		model("gpt-5.5", 6, "0.124.0", "medium", std, true, true),
		model("gpt-5.4", 7, "0.98.0", "medium", std, true, true),
		model("gpt-5.4-mini", 8, "0.98.0", "medium", std, true, false),
	}
	review := model("codex-auto-review", 20, "0.98.0", "medium", []string{"low", "medium", "high"}, false, false)
	review.Visibility = "hide"
	ms = append(ms, review)
	for i := range ms {
		if strings.HasPrefix(ms[i].Slug, "gpt-6") || strings.HasPrefix(ms[i].Slug, "gpt-5.6") {
			ms[i].MaxContextWindow = 1000000
		}
		if strings.HasSuffix(ms[i].Slug, "-luna") {
			// Luna exists only behind Responses Lite.
			ms[i].UseResponsesLite, ms[i].LiteOnly = true, true
		}
	}
	return ms
}

func cloneModels(in []Model) []Model {
	out := make([]Model, len(in))
	for i, m := range in {
		m.SupportedReasoningLevels = slices.Clone(m.SupportedReasoningLevels)
		m.InputModalities = slices.Clone(m.InputModalities)
		m.ServiceTiers = slices.Clone(m.ServiceTiers)
		m.AvailableInPlans = slices.Clone(m.AvailableInPlans)
		if m.DefaultVerbosity != nil {
			v := *m.DefaultVerbosity
			m.DefaultVerbosity = &v
		}
		out[i] = m
	}
	return out
}

func catalogETag(models []Model) string {
	b, _ := json.Marshal(models)
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:])[:32] + `"`
}

func findModel(models []Model, slug string) (Model, bool) {
	for _, m := range models {
		if m.Slug == slug {
			return m, true
		}
	}
	return Model{}, false
}

// parseVersion parses "1.2.3" (a pre-release or build suffix and a leading
// "v" are ignored). ok is false if no number could be read.
func parseVersion(v string) (ver [3]int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) == 0 || len(parts) > 3 {
		return ver, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return ver, false
		}
		ver[i] = n
	}
	return ver, true
}

// versionLess reports whether a < b; unparsable values count as 0.0.0.
func versionLess(a, b string) bool {
	va, _ := parseVersion(a)
	vb, _ := parseVersion(b)
	for i := range va {
		if va[i] != vb[i] {
			return va[i] < vb[i]
		}
	}
	return false
}

// ClientVersion returns the client version of a request: the "version"
// header, else the x.y.z version in a Codex-shaped User-Agent
// ("originator/1.2.3 (...)"; "Go-http-client/1.1" does not count), else "".
func ClientVersion(h http.Header) string {
	if v := strings.TrimSpace(h.Get("version")); v != "" {
		return v
	}
	ua := strings.TrimSpace(h.Get("User-Agent"))
	first, _, _ := strings.Cut(ua, " ")
	if _, v, ok := strings.Cut(first, "/"); ok && strings.Count(v, ".") == 2 {
		if _, ok := parseVersion(v); ok {
			return v
		}
	}
	return ""
}

// serveModels answers GET /codex/models?client_version=V.
func (s *Server) serveModels(w http.ResponseWriter, r *http.Request, idx int) {
	cv, present := r.URL.Query()["client_version"]
	if !present || len(cv) == 0 {
		body, _ := json.Marshal(map[string]any{"detail": []any{map[string]any{
			"type": "missing", "loc": []string{"query", "client_version"}, "msg": "Field required", "input": nil,
		}}})
		s.reject(w, idx, http.StatusBadRequest, body, "Field required")
		return
	}
	version := cv[0]
	s.mu.Lock()
	models := cloneModels(s.models)
	etag := s.etag
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	out := []Model{}
	for _, m := range models {
		if !versionLess(version, m.MinimalClientVersion) {
			out = append(out, m)
		}
	}
	b, _ := json.Marshal(map[string]any{"models": out})
	writeJSON(w, http.StatusOK, b)
}

// RateLimits is the quota state the fake reports in x-codex-* headers and
// in /wham/usage.
type RateLimits struct {
	PlanType    string // x-codex-plan-type, e.g. "plus"
	ActiveLimit string // x-codex-active-limit, e.g. "codex"

	PrimaryUsedPercent     float64
	PrimaryWindowMinutes   int
	PrimaryResetAfter      time.Duration
	SecondaryUsedPercent   float64
	SecondaryWindowMinutes int
	SecondaryResetAfter    time.Duration

	CreditsHasCredits bool
	CreditsUnlimited  bool
	CreditsBalance    string // empty means none

	// Families are the per-model limit families (x-<id>-* headers and
	// additional_rate_limits).
	Families []FamilyLimit
}

// FamilyLimit is one per-model limit family, such as the Spark model's
// "codex-bengalfox" (metered_feature "codex_bengalfox").
type FamilyLimit struct {
	ID                   string // header id, e.g. "codex-bengalfox"
	Name                 string // limit name: the model, e.g. "GPT-5.3-Codex-Spark"
	PrimaryUsedPercent   float64
	PrimaryWindowMinutes int
	PrimaryResetAfter    time.Duration
}

func (rl RateLimits) family(id string) int {
	for i, f := range rl.Families {
		if f.ID == id {
			return i
		}
	}
	return -1
}

// DefaultRateLimits returns a Plus account with a 5-hour primary window at
// 12% and a weekly secondary window at 34%.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		PlanType:               "plus",
		ActiveLimit:            "codex",
		PrimaryUsedPercent:     12,
		PrimaryWindowMinutes:   300,
		PrimaryResetAfter:      3*time.Hour + 20*time.Minute,
		SecondaryUsedPercent:   34,
		SecondaryWindowMinutes: 10080,
		SecondaryResetAfter:    4*24*time.Hour + 6*time.Hour,
	}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func fmtPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

func (rl RateLimits) writeHeaders(h http.Header, now time.Time) {
	h.Set("x-codex-plan-type", rl.PlanType)
	h.Set("x-codex-active-limit", rl.ActiveLimit)
	h.Set("x-codex-primary-used-percent", fmtPercent(rl.PrimaryUsedPercent))
	h.Set("x-codex-primary-window-minutes", strconv.Itoa(rl.PrimaryWindowMinutes))
	h.Set("x-codex-primary-reset-after-seconds", strconv.Itoa(int(rl.PrimaryResetAfter/time.Second)))
	h.Set("x-codex-primary-reset-at", strconv.FormatInt(now.Add(rl.PrimaryResetAfter).Unix(), 10))
	h.Set("x-codex-primary-over-secondary-limit-percent", "0")
	h.Set("x-codex-secondary-used-percent", fmtPercent(rl.SecondaryUsedPercent))
	h.Set("x-codex-secondary-window-minutes", strconv.Itoa(rl.SecondaryWindowMinutes))
	h.Set("x-codex-secondary-reset-after-seconds", strconv.Itoa(int(rl.SecondaryResetAfter/time.Second)))
	h.Set("x-codex-secondary-reset-at", strconv.FormatInt(now.Add(rl.SecondaryResetAfter).Unix(), 10))
	h.Set("x-codex-credits-has-credits", pyBool(rl.CreditsHasCredits))
	h.Set("x-codex-credits-unlimited", pyBool(rl.CreditsUnlimited))
	h.Set("x-codex-credits-balance", rl.CreditsBalance)
	for _, f := range rl.Families {
		p := "x-" + f.ID + "-"
		h.Set(p+"primary-used-percent", fmtPercent(f.PrimaryUsedPercent))
		h.Set(p+"primary-window-minutes", strconv.Itoa(f.PrimaryWindowMinutes))
		h.Set(p+"primary-reset-after-seconds", strconv.Itoa(int(f.PrimaryResetAfter/time.Second)))
		h.Set(p+"primary-reset-at", strconv.FormatInt(now.Add(f.PrimaryResetAfter).Unix(), 10))
		h.Set(p+"limit-name", f.Name)
	}
}

func (rl RateLimits) usageBody(now time.Time) map[string]any {
	window := func(used float64, minutes int, after time.Duration) map[string]any {
		return map[string]any{
			"used_percent":         used,
			"limit_window_seconds": minutes * 60,
			"reset_after_seconds":  int(after / time.Second),
			"reset_at":             now.Add(after).Unix(),
		}
	}
	var balance any
	if rl.CreditsBalance != "" {
		balance = rl.CreditsBalance
	}
	return map[string]any{
		"plan_type": rl.PlanType,
		"rate_limit": map[string]any{
			"allowed":          rl.PrimaryUsedPercent < 100 && rl.SecondaryUsedPercent < 100,
			"limit_reached":    rl.PrimaryUsedPercent >= 100 || rl.SecondaryUsedPercent >= 100,
			"primary_window":   window(rl.PrimaryUsedPercent, rl.PrimaryWindowMinutes, rl.PrimaryResetAfter),
			"secondary_window": window(rl.SecondaryUsedPercent, rl.SecondaryWindowMinutes, rl.SecondaryResetAfter),
		},
		"credits": map[string]any{
			"has_credits": rl.CreditsHasCredits,
			"unlimited":   rl.CreditsUnlimited,
			"balance":     balance,
		},
		"additional_rate_limits":  rl.additional(window),
		"rate_limit_reached_type": nil,
	}
}

func (rl RateLimits) additional(window func(float64, int, time.Duration) map[string]any) []any {
	out := []any{}
	for _, f := range rl.Families {
		out = append(out, map[string]any{
			"limit_name":      f.Name,
			"metered_feature": strings.ReplaceAll(f.ID, "-", "_"),
			"rate_limit": map[string]any{
				"allowed":          f.PrimaryUsedPercent < 100,
				"limit_reached":    f.PrimaryUsedPercent >= 100,
				"primary_window":   window(f.PrimaryUsedPercent, f.PrimaryWindowMinutes, f.PrimaryResetAfter),
				"secondary_window": nil,
			},
		})
	}
	return out
}
