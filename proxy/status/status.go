// Package status holds the one Status value the proxy core publishes for
// its observers (the tray, /admin/status, the status command). The core
// writes through a Recorder; observers read copies with Snapshot and wait on
// the coalescing Changed channel.
package status

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// AuthState is the coarse sign-in state shown to the person.
type AuthState string

// The sign-in states. The tray maps each one to an icon and a line of text.
const (
	AuthUnknown     AuthState = ""             // not checked yet
	AuthSignedIn    AuthState = "signed_in"    // a usable access token is at hand
	AuthSignedOut   AuthState = "signed_out"   // no credentials were configured
	AuthNeedsSignIn AuthState = "needs_signin" // credentials exist but were rejected or expired for good
	AuthBlocked     AuthState = "blocked"      // Cloudflare or another edge refused us
	AuthError       AuthState = "error"        // a transient failure (network, keychain)
)

// Auth describes the account and its credentials, never the secrets.
type Auth struct {
	State          AuthState `json:"state"`
	Message        string    `json:"message,omitempty"`
	Source         string    `json:"source,omitempty"`  // "access_token", "session_token", "codex_oauth"
	Storage        string    `json:"storage,omitempty"` // "environment", "keychain", "file"
	Email          string    `json:"email,omitempty"`
	Plan           string    `json:"plan,omitempty"`
	AccountID      string    `json:"account_id,omitempty"`
	TokenExpires   time.Time `json:"token_expires,omitzero"`
	SessionExpires time.Time `json:"session_expires,omitzero"`
	LastRefresh    time.Time `json:"last_refresh,omitzero"`
	Refreshing     bool      `json:"refreshing,omitempty"`
}

// Window is one rate-limit window reported by the x-codex-* headers.
type Window struct {
	UsedPercent   float64   `json:"used_percent"`
	WindowMinutes int       `json:"window_minutes,omitempty"`
	ResetsAt      time.Time `json:"resets_at,omitzero"`
}

// MainFamily is the limit family of every model no other family names.
const MainFamily = "codex"

// Limit is one limit family (the main one is "codex"; others are per model,
// named by their limit name, such as "gpt-5.3-codex-spark").
type Limit struct {
	ID        string  `json:"id"`
	Name      string  `json:"name,omitempty"`
	Primary   *Window `json:"primary,omitempty"`   // the short window (5 hours on paid plans)
	Secondary *Window `json:"secondary,omitempty"` // the weekly window
	// LimitedUntil is set by a 429 usage_limit_reached for this family:
	// its models are answered locally until then.
	LimitedUntil time.Time `json:"limited_until,omitzero"`
}

// Covers reports whether model belongs to this (non-main) family: its
// limit name is the model's slug.
func (l Limit) Covers(model string) bool {
	return l.ID != MainFamily && l.Name != "" && strings.EqualFold(l.Name, model)
}

// Quota is what the backend last told us about the account's usage.
type Quota struct {
	Plan        string    `json:"plan,omitempty"`
	ActiveLimit string    `json:"active_limit,omitempty"`
	Limits      []Limit   `json:"limits,omitempty"` // "codex" first when present
	HasCredits  bool      `json:"has_credits,omitempty"`
	Credits     string    `json:"credits,omitempty"`
	Unlimited   bool      `json:"unlimited,omitempty"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	// UsageReadAt is when the usage endpoint was last read.
	UsageReadAt time.Time `json:"usage_read_at,omitzero"`
}

// FamilyOf names the limit family of model: the family whose limit name is
// the model, else the main one.
func (q Quota) FamilyOf(model string) string {
	for _, l := range q.Limits {
		if l.Covers(model) {
			return l.ID
		}
	}
	return MainFamily
}

// limit returns the family id, or nil.
func (q *Quota) limit(id string) *Limit {
	for i := range q.Limits {
		if q.Limits[i].ID == id {
			return &q.Limits[i]
		}
	}
	return nil
}

// LimitedUntil is the main family's usage-limit lock, zero when none.
func (q Quota) LimitedUntil() time.Time {
	if l := q.limit(MainFamily); l != nil {
		return l.LimitedUntil
	}
	return time.Time{}
}

// Lock records a usage limit of family until until (zero lifts it).
func (q *Quota) Lock(family string, until time.Time) {
	l := q.limit(family)
	if l == nil {
		if until.IsZero() {
			return
		}
		q.Limits = append(q.Limits, Limit{ID: family})
		l = &q.Limits[len(q.Limits)-1]
	}
	l.LimitedUntil = until
}

// Main returns the "codex" limit family, or the first one, or nil.
func (q Quota) Main() *Limit {
	for i := range q.Limits {
		if q.Limits[i].ID == "codex" {
			return &q.Limits[i]
		}
	}
	if len(q.Limits) > 0 {
		return &q.Limits[0]
	}
	return nil
}

// ClientCount counts the requests of one client (by User-Agent or key).
type ClientCount struct {
	Name  string `json:"name"`
	Total int64  `json:"total"`
	Today int64  `json:"today"`
}

// Requests holds request counters. Today rolls over at local midnight.
type Requests struct {
	Total   int64         `json:"total"`
	Today   int64         `json:"today"`
	Errors  int64         `json:"errors"`
	Day     string        `json:"day"` // the local date "today" refers to, 2006-01-02
	Last    time.Time     `json:"last,omitzero"`
	Clients []ClientCount `json:"clients,omitempty"` // most requests first
}

// ErrorInfo is the last upstream or credentials error.
type ErrorInfo struct {
	Message string    `json:"message"`
	Status  int       `json:"status,omitempty"`
	At      time.Time `json:"at"`
}

// cacheWindow is how many recent answers the cached share covers.
const cacheWindow = 50

// Cache is the prompt cache's share of the input tokens over the last
// answers that reported usage: cached input tokens / input tokens.
type Cache struct {
	InputTokens  int64 `json:"input_tokens"`
	CachedTokens int64 `json:"cached_tokens"`
	Requests     int   `json:"requests"`
	// recent holds the last answers' (input, cached) tokens, oldest first.
	recent [][2]int64
}

// Share is CachedTokens / InputTokens, 0 without input.
func (c Cache) Share() float64 {
	if c.InputTokens <= 0 {
		return 0
	}
	return float64(c.CachedTokens) / float64(c.InputTokens)
}

// add counts one answer's usage, forgetting the oldest beyond cacheWindow.
func (c *Cache) add(input, cached int64) {
	if input <= 0 {
		return
	}
	cached = min(max(cached, 0), input)
	if len(c.recent) == cacheWindow {
		old := c.recent[0]
		c.InputTokens, c.CachedTokens = c.InputTokens-old[0], c.CachedTokens-old[1]
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, [2]int64{input, cached})
	c.InputTokens += input
	c.CachedTokens += cached
	c.Requests = len(c.recent)
}

// Status is the snapshot the core publishes. It holds no secrets.
type Status struct {
	BaseURL      string     `json:"base_url"`
	Version      string     `json:"version,omitempty"`
	StartedAt    time.Time  `json:"started_at"`
	DefaultModel string     `json:"default_model,omitempty"`
	Models       []string   `json:"models,omitempty"`
	Auth         Auth       `json:"auth"`
	Requests     Requests   `json:"requests"`
	Quota        Quota      `json:"quota"`
	Cache        Cache      `json:"cache"`
	LastError    *ErrorInfo `json:"last_error,omitempty"`
}

// Clone returns a deep copy of s.
func (s Status) Clone() Status {
	c := s
	c.Models = append([]string(nil), s.Models...)
	c.Cache.recent = nil // the window is the recorder's own
	c.Requests.Clients = append([]ClientCount(nil), s.Requests.Clients...)
	c.Quota.Limits = make([]Limit, len(s.Quota.Limits))
	for i, l := range s.Quota.Limits {
		c.Quota.Limits[i] = l
		if l.Primary != nil {
			w := *l.Primary
			c.Quota.Limits[i].Primary = &w
		}
		if l.Secondary != nil {
			w := *l.Secondary
			c.Quota.Limits[i].Secondary = &w
		}
	}
	if len(s.Quota.Limits) == 0 {
		c.Quota.Limits = nil
	}
	if s.LastError != nil {
		e := *s.LastError
		c.LastError = &e
	}
	return c
}

// maxClients bounds the per-client counters; further clients are counted
// as otherClients.
const (
	maxClients   = 50
	otherClients = "other clients"
)

// Recorder owns the live Status. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	s       Status
	now     func() time.Time
	changed chan struct{}
	account uint64 // the sign-in generation, advanced by ClearAccount
}

// NewRecorder returns a Recorder whose clock is now (time.Now when nil).
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	r := &Recorder{now: now, changed: make(chan struct{}, 1)}
	r.s.StartedAt = now()
	r.s.Requests.Day = day(r.s.StartedAt)
	return r
}

// Now returns the Recorder's clock reading.
func (r *Recorder) Now() time.Time { return r.now() }

// Snapshot returns a copy of the current Status.
func (r *Recorder) Snapshot() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollover()
	return r.s.Clone()
}

// Changed returns a channel that receives a value after one or more
// changes. Many changes between two reads collapse into one wakeup.
func (r *Recorder) Changed() <-chan struct{} { return r.changed }

// Update applies f to the Status under the lock and signals a change.
func (r *Recorder) Update(f func(*Status)) {
	r.mu.Lock()
	r.rollover()
	f(&r.s)
	r.mu.Unlock()
	r.signal()
}

// SetAuth replaces the sign-in description.
func (r *Recorder) SetAuth(a Auth) { r.Update(func(s *Status) { s.Auth = a }) }

// Account returns the sign-in generation, which ClearAccount advances. A
// reading taken under one generation belongs to that sign-in: applied
// after a sign-out it would bring the old account's quota back.
func (r *Recorder) Account() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.account
}

// SetQuota merges a quota reading taken under sign-in generation account
// (see Account); it is dropped when the account has changed since. A zero
// LimitedUntil keeps the old one only while it is still in the future.
func (r *Recorder) SetQuota(account uint64, q Quota) {
	r.Update(func(s *Status) {
		if account == r.account {
			r.mergeQuota(s, q, r.now())
		}
	})
}

// mergeQuota merges a reading (response headers or the usage endpoint)
// into the one quota: families in the reading replace the same family,
// others are kept; a family's usage-limit lock is kept while it holds (a
// successful response lifts it, a bare reading does not); plan and
// credits are replaced when the reading has them.
func (r *Recorder) mergeQuota(s *Status, q Quota, now time.Time) {
	old := s.Quota
	merged := make([]Limit, 0, len(old.Limits)+len(q.Limits))
	for _, l := range q.Limits {
		if o := old.limit(l.ID); o != nil && l.LimitedUntil.IsZero() && o.LimitedUntil.After(now) {
			l.LimitedUntil = o.LimitedUntil
		}
		if o := old.limit(l.ID); o != nil && l.Name == "" {
			l.Name = o.Name
		}
		merged = append(merged, l)
	}
	for _, o := range old.Limits {
		if q.limit(o.ID) == nil {
			merged = append(merged, o)
		}
	}
	sortLimits(merged)
	q.Limits = merged
	if q.Plan == "" {
		q.Plan = old.Plan
	}
	if !q.HasCredits && q.Credits == "" && !q.Unlimited && q.UsageReadAt.IsZero() {
		// Headers without credit values keep the last known ones.
		q.HasCredits, q.Credits, q.Unlimited = old.HasCredits, old.Credits, old.Unlimited
	}
	if q.ActiveLimit == "" {
		q.ActiveLimit = old.ActiveLimit
	}
	if q.UsageReadAt.IsZero() {
		q.UsageReadAt = old.UsageReadAt
	}
	q.UpdatedAt = now
	s.Quota = q
}

// sortLimits puts the main family first, then the others by id.
func sortLimits(ls []Limit) {
	sort.SliceStable(ls, func(i, j int) bool {
		if (ls[i].ID == MainFamily) != (ls[j].ID == MainFamily) {
			return ls[i].ID == MainFamily
		}
		return ls[i].ID < ls[j].ID
	})
}

// UsageLimit returns the time until which the main family's usage limit
// holds (zero when none holds) and the plan it was reported for.
func (r *Recorder) UsageLimit() (until time.Time, plan string) {
	until, plan, _ = r.UsageLimitFor("")
	return until, plan
}

// UsageLimitFor returns the usage limit that holds for model (zero when
// none), the plan, and the model's limit family.
func (r *Recorder) UsageLimitFor(model string) (until time.Time, plan, family string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := &r.s.Quota
	family = q.FamilyOf(model)
	if l := q.limit(family); l != nil && l.LimitedUntil.After(r.now()) {
		return l.LimitedUntil, q.Plan, family
	}
	return time.Time{}, q.Plan, family
}

// Outcome is what one API request did, recorded once at its end.
type Outcome struct {
	Client string
	// Failed marks a request answered with an error (in band or not).
	Failed bool
	// Succeeded marks a complete answer from the backend: it clears the
	// last error and any usage limit.
	Succeeded bool
	// Err is the last upstream or credentials error the request met.
	Err *ErrorInfo
	// Quota is the last rate-limit reading of the request's upstream answers.
	Quota *Quota
	// LimitedUntil and Plan are set when the backend reported the usage
	// limit, for LimitFamily (the main family when empty).
	LimitedUntil time.Time
	Plan         string
	LimitFamily  string
	// Family is the limit family of the request's model: a success lifts
	// its lock only.
	Family string
	// InputTokens and CachedTokens are the usage of a completed answer.
	InputTokens, CachedTokens int64
	// Account is the sign-in generation the request began under (see
	// Recorder.Account): what it learnt about the account (quota, usage
	// limit, error) is dropped when the account changed meanwhile; the
	// request is still counted.
	Account uint64
}

// Record counts one request and applies what it learnt, in one update.
func (r *Recorder) Record(o Outcome) {
	r.Update(func(s *Status) {
		now := r.now()
		if o.Account == r.account {
			r.learn(s, o, now)
		}
		s.Cache.add(o.InputTokens, o.CachedTokens)
		r.count(s, o.Client, o.Failed, now)
	})
}

// learn applies what a request of the current sign-in learnt about the
// account: its quota reading, its error, a usage limit reached or lifted.
func (r *Recorder) learn(s *Status, o Outcome, now time.Time) {
	if o.Quota != nil {
		r.mergeQuota(s, *o.Quota, now)
	}
	switch {
	case o.Succeeded:
		s.LastError = nil
		s.Quota.Lock(familyOr(o.Family), time.Time{})
	case o.Err != nil:
		e := *o.Err
		e.At = now
		s.LastError = &e
	}
	if !o.LimitedUntil.IsZero() {
		s.Quota.Lock(familyOr(o.LimitFamily), o.LimitedUntil)
		if o.Plan != "" {
			s.Quota.Plan = o.Plan
		}
	}
}

func familyOr(f string) string {
	if f == "" {
		return MainFamily
	}
	return f
}

// SetError records the last error; an empty message clears it.
func (r *Recorder) SetError(message string, status int) {
	r.Update(func(s *Status) {
		if message == "" {
			s.LastError = nil
			return
		}
		s.LastError = &ErrorInfo{Message: message, Status: status, At: r.now()}
	})
}

// ClearAccount forgets what belonged to the previous sign-in: the quota
// readings (with a reached usage limit) and the last error. The credentials
// manager calls it when the account signs out or another sign-in takes
// over.
func (r *Recorder) ClearAccount() {
	r.Update(func(s *Status) {
		r.account++
		s.Quota = Quota{}
		s.LastError = nil
	})
}

// CountRequest counts one request from client; failed marks an error.
func (r *Recorder) CountRequest(client string, failed bool) {
	r.Update(func(s *Status) { r.count(s, client, failed, r.now()) })
}

func (r *Recorder) count(s *Status, client string, failed bool, now time.Time) {
	s.Requests.Total++
	s.Requests.Today++
	s.Requests.Last = now
	if failed {
		s.Requests.Errors++
	}
	if client == "" {
		client = "unknown"
	}
	i := clientIndex(s.Requests.Clients, client)
	if i < 0 && len(s.Requests.Clients) >= maxClients {
		// Bound the list: rare newcomers share one line.
		client = otherClients
		i = clientIndex(s.Requests.Clients, client)
	}
	if i < 0 {
		s.Requests.Clients = append(s.Requests.Clients, ClientCount{Name: client})
		i = len(s.Requests.Clients) - 1
	}
	s.Requests.Clients[i].Total++
	s.Requests.Clients[i].Today++
	sort.SliceStable(s.Requests.Clients, func(i, j int) bool {
		return s.Requests.Clients[i].Total > s.Requests.Clients[j].Total
	})
}

// clientIndex finds name in cs, or returns -1.
func clientIndex(cs []ClientCount, name string) int {
	for i := range cs {
		if cs[i].Name == name {
			return i
		}
	}
	return -1
}

// rollover resets the "today" counters after local midnight. It must be
// called with r.mu held.
func (r *Recorder) rollover() {
	d := day(r.now())
	if d == r.s.Requests.Day {
		return
	}
	r.s.Requests.Day = d
	r.s.Requests.Today = 0
	for i := range r.s.Requests.Clients {
		r.s.Requests.Clients[i].Today = 0
	}
}

func (r *Recorder) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func day(t time.Time) string { return t.Local().Format("2006-01-02") }
