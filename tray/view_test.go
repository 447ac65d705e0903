package tray

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// zone is a fixed zone so that the tests do not depend on the machine's.
var zone = time.FixedZone("CET", 60*60)

// now is Wednesday 25 November 2026, 13:13 in zone.
var now = time.Date(2026, 11, 25, 13, 13, 0, 0, zone)

const baseURL = "http://127.0.0.1:8100/v1"

func opts() ViewOptions {
	return ViewOptions{BaseURL: baseURL, HasAPIKey: true, CanSignIn: true, CanRefresh: true,
		CanOpenLogs: true, AutostartAvailable: true, Location: zone}
}

func signedIn() status.Status {
	return status.Status{
		BaseURL: baseURL,
		Auth: status.Auth{State: status.AuthSignedIn, Email: "ann@example.com", Plan: "plus",
			TokenExpires: now.Add(52*time.Minute + 30*time.Second)},
	}
}

// title returns the title of a visible item, or "" when hidden or absent.
func title(m Menu, id ItemID) string {
	it, ok := m.Find(id)
	if !ok || !it.Visible {
		return ""
	}
	return it.Title
}

func TestStateLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mod      func(*status.Status)
		want     string
		icon     assets.State
		signIn   string
		refresh  bool // enabled
		expiryOn bool // token line visible
	}{
		{"signed_in", func(*status.Status) {}, "Signed in as ann@example.com (Plus)", assets.StateOK, "Sign in again…", true, true},
		{"signed_in_pro_from_quota", func(s *status.Status) { s.Auth.Plan = ""; s.Quota.Plan = "pro" },
			"Signed in as ann@example.com (Pro)", assets.StateOK, "Sign in again…", true, true},
		{"signed_in_no_email", func(s *status.Status) { s.Auth.Email, s.Auth.Plan = "", "" },
			"Signed in", assets.StateOK, "Sign in again…", true, true},
		{"signed_in_token_expired", func(s *status.Status) { s.Auth.TokenExpires = now.Add(-time.Minute) },
			"Signed in as ann@example.com (Plus)", assets.StateWarning, "Sign in again…", true, true},
		{"not_signed_in", func(s *status.Status) { s.Auth = status.Auth{State: status.AuthSignedOut} },
			"Not signed in", assets.StateWarning, "Sign in…", false, false},
		{"unknown", func(s *status.Status) { s.Auth = status.Auth{} },
			"Checking sign-in…", assets.StateWarning, "Sign in…", false, false},
		{"needs_sign_in", func(s *status.Status) { s.Auth.State = status.AuthNeedsSignIn },
			"Sign-in needed", assets.StateWarning, "Sign in again…", true, true},
		{"blocked", func(s *status.Status) { s.Auth.State = status.AuthBlocked },
			"Blocked by Cloudflare", assets.StateError, "Sign in again…", true, true},
		{"error", func(s *status.Status) { s.Auth.State, s.Auth.Message = status.AuthError, "keychain locked" },
			"Sign-in error: keychain locked", assets.StateError, "Sign in again…", true, true},
		{"usage_limit", func(s *status.Status) { s.Quota.Lock(status.MainFamily, time.Date(2026, 11, 25, 14, 5, 0, 0, zone)) },
			"Usage limit reached until 14:05", assets.StateWarning, "Sign in again…", true, true},
		{"usage_limit_tomorrow", func(s *status.Status) { s.Quota.Lock(status.MainFamily, time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)) },
			"Usage limit reached until Thu 09:00", assets.StateWarning, "Sign in again…", true, true},
		{"usage_limit_over", func(s *status.Status) { s.Quota.Lock(status.MainFamily, now.Add(-time.Second)) },
			"Signed in as ann@example.com (Plus)", assets.StateOK, "Sign in again…", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := signedIn()
			tt.mod(&s)
			m := View(s, now, opts())
			if got := title(m, IDState); got != tt.want {
				t.Errorf("state line = %q, want %q", got, tt.want)
			}
			if m.Icon != tt.icon {
				t.Errorf("icon = %v, want %v", m.Icon, tt.icon)
			}
			if got := title(m, IDSignIn); got != tt.signIn {
				t.Errorf("sign-in item = %q, want %q", got, tt.signIn)
			}
			if r, _ := m.Find(IDRefresh); r.Enabled != tt.refresh {
				t.Errorf("refresh enabled = %v, want %v", r.Enabled, tt.refresh)
			}
			if got := title(m, IDToken) != ""; got != tt.expiryOn {
				t.Errorf("token line visible = %v, want %v", got, tt.expiryOn)
			}
			if !strings.Contains(m.Tooltip, baseURL) || !strings.Contains(m.Tooltip, tt.want) {
				t.Errorf("tooltip %q lacks the base URL or the state", m.Tooltip)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		token, session  time.Time
		refreshing      bool
		wantTok, wantSe string
	}{
		{"minutes", now.Add(52*time.Minute + 59*time.Second), time.Time{}, false, "Token expires in 52 min", ""},
		{"under_a_minute", now.Add(30 * time.Second), time.Time{}, false, "Token expires in under a minute", ""},
		{"hours", now.Add(3*time.Hour + 5*time.Minute), time.Time{}, false, "Token expires in 3 h 5 min", ""},
		{"whole_hours", now.Add(2 * time.Hour), time.Time{}, false, "Token expires in 2 h", ""},
		{"days", time.Date(2026, 12, 21, 10, 0, 0, 0, zone), time.Time{}, false, "Token valid until 21 Dec", ""},
		{"next_year", time.Date(2027, 1, 3, 10, 0, 0, 0, zone), time.Time{}, false, "Token valid until 3 Jan 2027", ""},
		{"just_expired", now.Add(-10 * time.Second), time.Time{}, false, "Token expired just now", ""},
		{"expired", now.Add(-4*time.Minute - 10*time.Second), time.Time{}, false, "Token expired 4 min ago", ""},
		{"expired_days", now.Add(-50 * time.Hour), time.Time{}, false, "Token expired 2 days ago", ""},
		{"refreshing", now.Add(-time.Minute), time.Time{}, true, "Refreshing token…", ""},
		{"session_only", time.Time{}, time.Date(2026, 12, 21, 23, 30, 0, 0, time.UTC), false, "", "Session valid until 22 Dec"},
		{"both", now.Add(52 * time.Minute), time.Date(2026, 12, 21, 12, 0, 0, 0, zone), false,
			"Token expires in 52 min", "Session valid until 21 Dec"},
		{"session_expired", time.Time{}, time.Date(2026, 11, 20, 12, 0, 0, 0, zone), false, "", "Session expired 20 Nov"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := signedIn()
			s.Auth.TokenExpires, s.Auth.SessionExpires, s.Auth.Refreshing = tt.token, tt.session, tt.refreshing
			m := View(s, now, opts())
			if got := title(m, IDToken); got != tt.wantTok {
				t.Errorf("token line = %q, want %q", got, tt.wantTok)
			}
			if got := title(m, IDSession); got != tt.wantSe {
				t.Errorf("session line = %q, want %q", got, tt.wantSe)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	clients := func(n int) []status.ClientCount {
		var cs []status.ClientCount
		for i := 0; i < n; i++ {
			cs = append(cs, status.ClientCount{Name: "client-" + string(rune('a'+i)), Total: int64(1000 * (n - i)), Today: int64(n - i)})
		}
		return cs
	}
	tests := []struct {
		name     string
		req      status.Requests
		max      int
		want     string
		children []string
		tooltip  string
	}{
		{"none", status.Requests{}, 0, "Requests: 0 today · 0 total", []string{"No clients yet"}, ""},
		{"thousands", status.Requests{Today: 12, Total: 3402, Errors: 3, Last: time.Date(2026, 11, 25, 13, 2, 0, 0, zone),
			Clients: []status.ClientCount{{Name: "curl/8.5.0", Today: 10, Total: 3000}, {Name: "OpenAI/Python 1.99", Today: 2, Total: 402}}},
			0, "Requests: 12 today · 3,402 total",
			[]string{"curl/8.5.0: 10 today · 3,000 total", "OpenAI/Python 1.99: 2 today · 402 total"}, "3 failed; last at 13:02"},
		{"millions", status.Requests{Today: 1234567, Total: 1234567890}, 0, "Requests: 1,234,567 today · 1,234,567,890 total",
			[]string{"No clients yet"}, ""},
		{"capped", status.Requests{Today: 6, Total: 6000, Clients: clients(3)}, 2, "Requests: 6 today · 6,000 total",
			[]string{"client-a: 3 today · 3,000 total", "client-b: 2 today · 2,000 total", "… and 1 more"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := signedIn()
			s.Requests = tt.req
			o := opts()
			o.MaxClients = tt.max
			m := View(s, now, o)
			it, _ := m.Find(IDRequests)
			if it.Title != tt.want || !it.Visible || !it.Enabled {
				t.Errorf("requests = %q (visible %v, enabled %v), want %q", it.Title, it.Visible, it.Enabled, tt.want)
			}
			var got []string
			for _, c := range it.Children {
				got = append(got, c.Title)
				if c.Enabled {
					t.Errorf("client line %q is enabled", c.Title)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.children, "\n") {
				t.Errorf("children = %q, want %q", got, tt.children)
			}
			if it.Tooltip != tt.tooltip {
				t.Errorf("tooltip = %q, want %q", it.Tooltip, tt.tooltip)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 3402: "3,402",
		100000: "100,000", 1234567: "1,234,567", -1234: "-1,234", -999: "-999"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestQuota(t *testing.T) {
	t.Parallel()
	w := func(p float64, minutes int, resets time.Time) *status.Window {
		return &status.Window{UsedPercent: p, WindowMinutes: minutes, ResetsAt: resets}
	}
	at1405 := time.Date(2026, 11, 25, 14, 5, 0, 0, zone)
	mon0900 := time.Date(2026, 11, 30, 9, 0, 0, 0, zone)
	tests := []struct {
		name        string
		quota       status.Quota
		short, long string
		other       []string
	}{
		{"none", status.Quota{}, "", "", nil},
		{"codex", status.Quota{Limits: []status.Limit{{ID: "codex", Primary: w(23.4, 300, at1405), Secondary: w(40.6, 10080, mon0900)}}},
			"5-hour: 23% used · resets 14:05", "Weekly: 41% used · resets Mon 09:00", nil},
		{"no_window_lengths", status.Quota{Limits: []status.Limit{{ID: "codex", Primary: w(0, 0, time.Time{}), Secondary: w(100, 0, time.Time{})}}},
			"5-hour: 0% used", "Weekly: 100% used", nil},
		{"reset_far_and_clamped", status.Quota{Limits: []status.Limit{{ID: "codex", Primary: w(130, 60, now.Add(-time.Minute)),
			Secondary: w(-5, 43200, time.Date(2026, 12, 24, 9, 0, 0, 0, zone))}}},
			"1-hour: 100% used", "30-day: 0% used · resets 24 Dec 09:00", nil},
		{"others_after_codex", status.Quota{Limits: []status.Limit{
			{ID: "gpt-5-mini", Name: "GPT-5 mini", Primary: w(10, 300, at1405), Secondary: w(3, 10080, mon0900)},
			{ID: "codex", Primary: w(5, 300, at1405)}}},
			"5-hour: 5% used · resets 14:05", "", []string{"GPT-5 mini: 5-hour 10% · weekly 3%"}},
		{"unlimited", status.Quota{Unlimited: true}, "Usage: unlimited", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := signedIn()
			s.Quota = tt.quota
			m := View(s, now, opts())
			if got := title(m, IDQuotaShort); got != tt.short {
				t.Errorf("short window = %q, want %q", got, tt.short)
			}
			if got := title(m, IDQuotaLong); got != tt.long {
				t.Errorf("long window = %q, want %q", got, tt.long)
			}
			other, _ := m.Find(IDQuotaOther)
			var got []string
			for _, c := range other.Children {
				got = append(got, c.Title)
			}
			if strings.Join(got, "|") != strings.Join(tt.other, "|") || other.Visible != (len(tt.other) > 0) {
				t.Errorf("other limits = %q (visible %v), want %q", got, other.Visible, tt.other)
			}
		})
	}
}

func TestErrorsAndActions(t *testing.T) {
	t.Parallel()
	s := signedIn()
	s.LastError = &status.ErrorInfo{Message: "upstream returned 502 Bad Gateway", Status: 502,
		At: time.Date(2026, 11, 25, 12, 58, 0, 0, zone)}
	o := opts()
	o.CopyError = "Copy failed: install xclip or wl-clipboard"
	o.ActionError = "Sign-in failed: browser not found"
	m := View(s, now, o)
	checks := map[ItemID]string{
		IDLastError:   "Last error (12:58): upstream returned 502 Bad Gateway [502]",
		IDCopyError:   "Copy failed: install xclip or wl-clipboard",
		IDActionError: "Sign-in failed: browser not found",
		IDCopyURL:     "Copy base URL (http://127.0.0.1:8100/v1)",
		IDCopyKey:     "Copy API key",
		IDRefresh:     "Refresh token now",
		IDOpenLogs:    "Open logs folder",
		IDAutostart:   "Start at login",
		IDQuit:        "Quit",
	}
	for id, want := range checks {
		if got := title(m, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	for _, id := range []ItemID{IDLastError, IDCopyError, IDActionError, IDState, IDToken} {
		if it, _ := m.Find(id); it.Enabled {
			t.Errorf("%s is enabled; information lines must be disabled", id)
		}
	}
	if it, _ := m.Find(IDCopyError); it.Tooltip != baseURL {
		t.Errorf("copy error tooltip = %q, want the URL to read", it.Tooltip)
	}

	// A long message is shortened.
	s.LastError.Message = strings.Repeat("very long error ", 20)
	if got := title(View(s, now, o), IDLastError); utf8.RuneCountInString(got) > maxLine || !strings.HasSuffix(got, "…") {
		t.Errorf("long error line = %q", got)
	}

	// Nothing to report: the lines are hidden.
	m = View(signedIn(), now, opts())
	for _, id := range []ItemID{IDLastError, IDCopyError, IDActionError, IDQuotaShort, IDQuotaLong, IDSession} {
		if got := title(m, id); got != "" {
			t.Errorf("%s is visible: %q", id, got)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	s := signedIn()
	m := View(s, now, ViewOptions{Location: zone})
	for _, id := range []ItemID{IDCopyKey, IDSignIn, IDRefresh, IDOpenLogs, IDAutostart} {
		if got := title(m, id); got != "" {
			t.Errorf("%s is visible without its option: %q", id, got)
		}
	}
	if got := title(m, IDCopyURL); got != "Copy base URL (http://127.0.0.1:8100/v1)" {
		t.Errorf("copy URL from the status = %q", got)
	}

	o := opts()
	o.AutostartEnabled, o.SigningIn, o.Refreshing = true, true, true
	m = View(s, now, o)
	if a, _ := m.Find(IDAutostart); !a.Checkable || !a.Checked {
		t.Errorf("autostart = %+v, want checked", a)
	}
	if it, _ := m.Find(IDSignIn); it.Title != "Signing in…" || it.Enabled {
		t.Errorf("sign-in while signing in = %+v", it)
	}
	if it, _ := m.Find(IDRefresh); it.Title != "Refreshing token…" || it.Enabled {
		t.Errorf("refresh while refreshing = %+v", it)
	}
	if got := title(m, IDToken); got != "Refreshing token…" {
		t.Errorf("token line while refreshing = %q", got)
	}
}

// TestShapeIsStable checks that every status gives the same top-level
// items, so that the tray can always update in place.
func TestShapeIsStable(t *testing.T) {
	t.Parallel()
	variants := []status.Status{{}, signedIn()}
	full := signedIn()
	full.Quota.Limits = []status.Limit{{ID: "codex", Primary: &status.Window{UsedPercent: 1}}, {ID: "x", Primary: &status.Window{}}}
	full.LastError = &status.ErrorInfo{Message: "x"}
	full.Requests.Clients = []status.ClientCount{{Name: "a"}}
	variants = append(variants, full)
	want := shapeOf(View(variants[0], now, ViewOptions{}).Items)
	for i, s := range variants {
		for _, o := range []ViewOptions{{}, opts()} {
			if got := shapeOf(View(s, now, o).Items); got != want {
				t.Errorf("variant %d: shape %q, want %q", i, got, want)
			}
		}
	}
}

func TestTooltipFitsWindows(t *testing.T) {
	t.Parallel()
	s := signedIn()
	s.Auth.Email = strings.Repeat("x", 200) + "@example.com"
	m := View(s, now, opts())
	if n := utf8.RuneCountInString(m.Tooltip); n > maxTooltip {
		t.Errorf("tooltip has %d runes, want at most %d", n, maxTooltip)
	}
}

// TestQuotaFamiliesAndCache: a family whose usage limit was reached gets a
// line with its reset (the main family's is the state line), other
// families keep their usage line, and the cached share has its own line.
func TestQuotaFamiliesAndCache(t *testing.T) {
	t.Parallel()
	at1405 := time.Date(2026, 11, 25, 14, 5, 0, 0, zone)
	s := signedIn()
	s.Quota = status.Quota{Limits: []status.Limit{
		{ID: "codex", Primary: &status.Window{UsedPercent: 20, WindowMinutes: 300}},
		{ID: "codex-bengalfox", Name: "GPT-5.3-Codex-Spark", Primary: &status.Window{UsedPercent: 100, WindowMinutes: 300}, LimitedUntil: at1405},
		{ID: "codex-old", Name: "Old", LimitedUntil: now.Add(-time.Minute)},
	}}
	m := View(s, now, opts())
	other, _ := m.Find(IDQuotaOther)
	var got []string
	for _, c := range other.Children {
		got = append(got, c.Title)
	}
	want := []string{"GPT-5.3-Codex-Spark: 5-hour 100%", "GPT-5.3-Codex-Spark: limit reached · resets 14:05"}
	if strings.Join(got, "|") != strings.Join(want, "|") || !other.Visible {
		t.Errorf("other limits = %q, want %q", got, want)
	}
	if st := title(m, IDState); strings.Contains(st, "Usage limit") {
		t.Errorf("another family's lock in the state line: %q", st)
	}
	if c, _ := m.Find(IDQuotaCache); c.Visible {
		t.Errorf("cache line before any answer: %q", c.Title)
	}

	r := status.NewRecorder(func() time.Time { return now })
	r.Record(status.Outcome{Succeeded: true, InputTokens: 1000, CachedTokens: 0})
	r.Record(status.Outcome{Succeeded: true, InputTokens: 1000, CachedTokens: 900})
	s.Cache = r.Snapshot().Cache
	m = View(s, now, opts())
	if got := title(m, IDQuotaCache); got != "Prompt cache: 45% of input (last 2 answers)" {
		t.Errorf("cache line %q", got)
	}
}

func TestSignInAndSignOutItems(t *testing.T) {
	t.Parallel()
	o := opts()
	o.CanSignOut, o.CanReopenSignIn = true, true
	s := signedIn()
	s.Auth.Source, s.Auth.Storage = "codex_oauth", "keychain"

	m := View(s, now, o)
	if got := title(m, IDSignOut); got != "Sign out (ann@example.com)" {
		t.Errorf("sign out = %q", got)
	}
	for _, id := range []ItemID{IDSignInAgain, IDSignInStop} {
		if got := title(m, id); got != "" {
			t.Errorf("%s is visible while no sign-in waits: %q", id, got)
		}
	}

	// While signing in: cancel and reopen, both clickable.
	o.SigningIn = true
	m = View(s, now, o)
	for id, want := range map[ItemID]string{IDSignIn: "Signing in…", IDSignInAgain: "Open the sign-in page again", IDSignInStop: "Cancel sign-in"} {
		it, _ := m.Find(id)
		if !it.Visible || it.Title != want {
			t.Errorf("%s = %q (visible %v), want %q", id, it.Title, it.Visible, want)
		}
		if id != IDSignIn && !it.Enabled {
			t.Errorf("%s is not clickable", id)
		}
	}
	o.CanReopenSignIn = false
	if got := title(View(s, now, o), IDSignInAgain); got != "" {
		t.Errorf("reopen without a reopener = %q", got)
	}
	o.SigningIn = false

	// No sign-out for an environment token, nor when signed out.
	env := s
	env.Auth.Storage = "environment"
	if got := title(View(env, now, o), IDSignOut); got != "" {
		t.Errorf("sign out for an environment token = %q", got)
	}
	out := status.Status{Auth: status.Auth{State: status.AuthSignedOut, Message: "not signed in"}}
	if got := title(View(out, now, o), IDSignOut); got != "" {
		t.Errorf("sign out while signed out = %q", got)
	}
	o.CanSignOut = false
	if got := title(View(s, now, o), IDSignOut); got != "" {
		t.Errorf("sign out without a SignOut function = %q", got)
	}
	o.CanSignOut = true
	noEmail := s
	noEmail.Auth.Email = ""
	if got := title(View(noEmail, now, o), IDSignOut); got != "Sign out" {
		t.Errorf("sign out without an email = %q", got)
	}
}

func TestClipCutsBetweenWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short enough", 20, "short enough"},
		{"waiting for the browser sign-in: context deadline exceeded", 40, "waiting for the browser sign-in…"},
		{"Supercalifragilisticexpialidocious", 10, "Supercali…"},
		{"line\nbreaks  and   spaces", 40, "line breaks and spaces"},
	} {
		got := clip(tt.in, tt.n)
		if got != tt.want || utf8.RuneCountInString(got) > tt.n {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
