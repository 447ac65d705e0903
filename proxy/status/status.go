// Package status holds the one Status value the proxy core publishes for
// its observers (the tray, /admin/status, the status command). The core
// writes through a Recorder; observers read copies with Snapshot and wait on
// the coalescing Changed channel.
package status

import (
	"sort"
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

// Limit is one limit family (the main one is "codex"; others are per model).
type Limit struct {
	ID        string  `json:"id"`
	Name      string  `json:"name,omitempty"`
	Primary   *Window `json:"primary,omitempty"`   // the short window (5 hours on paid plans)
	Secondary *Window `json:"secondary,omitempty"` // the weekly window
}

// Quota is what the backend last told us about the account's usage.
type Quota struct {
	Plan         string    `json:"plan,omitempty"`
	ActiveLimit  string    `json:"active_limit,omitempty"`
	Limits       []Limit   `json:"limits,omitempty"` // "codex" first when present
	HasCredits   bool      `json:"has_credits,omitempty"`
	Credits      string    `json:"credits,omitempty"`
	Unlimited    bool      `json:"unlimited,omitempty"`
	LimitedUntil time.Time `json:"limited_until,omitzero"` // set by a 429 usage_limit_reached
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
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
	LastError    *ErrorInfo `json:"last_error,omitempty"`
}

// Clone returns a deep copy of s.
func (s Status) Clone() Status {
	c := s
	c.Models = append([]string(nil), s.Models...)
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

// SetQuota merges a fresh quota reading; a zero LimitedUntil keeps the old one
// only while it is still in the future.
func (r *Recorder) SetQuota(q Quota) {
	r.Update(func(s *Status) { r.mergeQuota(s, q, r.now()) })
}

func (r *Recorder) mergeQuota(s *Status, q Quota, now time.Time) {
	if q.LimitedUntil.IsZero() && s.Quota.LimitedUntil.After(now) {
		// A successful response means the limit is lifted; a bare header
		// reading without success keeps it.
		q.LimitedUntil = s.Quota.LimitedUntil
	}
	if q.Plan == "" {
		q.Plan = s.Quota.Plan
	}
	q.UpdatedAt = now
	s.Quota = q
}

// UsageLimit returns the time until which the usage limit holds (zero when
// none holds) and the plan it was reported for.
func (r *Recorder) UsageLimit() (until time.Time, plan string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s.Quota.LimitedUntil.After(r.now()) {
		return r.s.Quota.LimitedUntil, r.s.Quota.Plan
	}
	return time.Time{}, r.s.Quota.Plan
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
	// LimitedUntil and Plan are set when the backend reported the usage limit.
	LimitedUntil time.Time
	Plan         string
}

// Record counts one request and applies what it learnt, in one update.
func (r *Recorder) Record(o Outcome) {
	r.Update(func(s *Status) {
		now := r.now()
		if o.Quota != nil {
			r.mergeQuota(s, *o.Quota, now)
		}
		switch {
		case o.Succeeded:
			s.LastError = nil
			s.Quota.LimitedUntil = time.Time{}
		case o.Err != nil:
			e := *o.Err
			e.At = now
			s.LastError = &e
		}
		if !o.LimitedUntil.IsZero() {
			s.Quota.LimitedUntil = o.LimitedUntil
			if o.Plan != "" {
				s.Quota.Plan = o.Plan
			}
		}
		r.count(s, o.Client, o.Failed, now)
	})
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
