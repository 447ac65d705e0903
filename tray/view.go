package tray

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

// ItemID names a menu item. The event loop maps clicks back to actions by
// ID, and the applier updates items in place by ID.
type ItemID string

// The menu's items, in the order View returns them.
const (
	IDState       ItemID = "state"
	IDToken       ItemID = "token"
	IDSession     ItemID = "session"
	IDLastError   ItemID = "last-error"
	IDActionError ItemID = "action-error"
	IDRequests    ItemID = "requests"
	IDQuotaShort  ItemID = "quota-short"
	IDQuotaLong   ItemID = "quota-long"
	IDQuotaOther  ItemID = "quota-other"
	IDQuotaCache  ItemID = "quota-cache"
	IDCopyURL     ItemID = "copy-url"
	IDCopyKey     ItemID = "copy-key"
	IDCopyError   ItemID = "copy-error"
	IDSignIn      ItemID = "sign-in"
	IDSignInAgain ItemID = "sign-in-reopen"
	IDSignInStop  ItemID = "sign-in-cancel"
	IDSignOut     ItemID = "sign-out"
	IDRefresh     ItemID = "refresh"
	IDOpenLogs    ItemID = "open-logs"
	IDAutostart   ItemID = "autostart"
	IDQuit        ItemID = "quit"
)

// AppName is the name the tooltip starts with.
const AppName = "ChatGPT-to-API"

// Menu is the tray as the person sees it: the icon, the tooltip and the
// items. View builds it; the event loop applies it to systray.
type Menu struct {
	Icon    assets.State
	Tooltip string
	Items   []Item
}

// Item is one menu entry. A separator has only an ID and Separator set.
type Item struct {
	ID        ItemID
	Title     string
	Tooltip   string
	Enabled   bool
	Checkable bool
	Checked   bool
	Visible   bool
	Separator bool
	Children  []Item
}

// Find returns the item with id, searching children too.
func (m Menu) Find(id ItemID) (Item, bool) {
	var find func([]Item) (Item, bool)
	find = func(items []Item) (Item, bool) {
		for _, it := range items {
			if it.ID == id {
				return it, true
			}
			if c, ok := find(it.Children); ok {
				return c, true
			}
		}
		return Item{}, false
	}
	return find(m.Items)
}

// ViewOptions carries what View needs besides the Status: the tray's own
// state and what the application offers.
type ViewOptions struct {
	// BaseURL is the OpenAI base URL clients use, including /v1. Empty
	// means Status.BaseURL.
	BaseURL string
	// HasAPIKey shows "Copy API key".
	HasAPIKey bool
	// CanSignIn shows "Sign in…"; CanRefresh shows "Refresh token now";
	// CanOpenLogs shows "Open logs folder".
	CanSignIn, CanRefresh, CanOpenLogs bool
	// CanSignOut shows "Sign out (account)" while a stored sign-in is in
	// use; CanReopenSignIn shows "Open the sign-in page again" while
	// signing in. "Cancel sign-in" shows whenever SigningIn.
	CanSignOut, CanReopenSignIn bool
	// AutostartAvailable shows the "Start at login" checkbox, checked when
	// AutostartEnabled.
	AutostartAvailable, AutostartEnabled bool
	// SigningIn and Refreshing mark an action in progress.
	SigningIn, Refreshing bool
	// CopyError is the line shown after a failed copy, empty when the last
	// copy worked.
	CopyError string
	// ActionError is the last failure of a menu action (sign-in, refresh,
	// logs, autostart), empty when none.
	ActionError string
	// Location is the time zone times are shown in; nil means time.Local.
	Location *time.Location
	// MaxClients caps the per-client submenu; 0 means 8.
	MaxClients int
}

// Separator IDs are positional; they never change within a Menu's shape.
func separator(n int) Item {
	return Item{ID: ItemID("sep-" + strconv.Itoa(n)), Separator: true, Visible: true}
}

// maxLine is the longest line View produces, in runes.
const maxLine = 72

// maxTooltip keeps the tooltip under Windows's 127 UTF-16 unit limit.
const maxTooltip = 120

// View returns the menu for status s at time now. It is a pure function:
// the same inputs always give the same Menu, and every item is always
// present (hidden when not relevant) so that the menu's shape is stable and
// updates can happen in place.
func View(s status.Status, now time.Time, opts ViewOptions) Menu {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	baseURL := opts.BaseURL
	if baseURL == "" {
		baseURL = s.BaseURL
	}
	stateLine, stateTip, icon := stateOf(s, now)

	var items []Item
	add := func(it Item) { items = append(items, it) }
	line := func(id ItemID, title, tip string, visible bool) Item {
		return Item{ID: id, Title: clip(title, maxLine), Tooltip: tip, Visible: visible}
	}

	// The account block.
	add(line(IDState, stateLine, stateTip, true))
	tokenLine, tokenVisible := tokenLine(s.Auth, now, opts.Refreshing)
	add(line(IDToken, tokenLine, "", tokenVisible))
	sessionLine, sessionVisible := sessionLine(s.Auth, now)
	add(line(IDSession, sessionLine, "", sessionVisible))
	errLine, errTip, errVisible := lastErrorLine(s.LastError, now)
	add(line(IDLastError, errLine, errTip, errVisible))
	add(line(IDActionError, opts.ActionError, opts.ActionError, opts.ActionError != ""))

	// Usage.
	add(requestsItem(s.Requests, opts.MaxClients, now))
	short, long, other := quotaLines(s.Quota, now)
	add(line(IDQuotaShort, short, "", short != ""))
	add(line(IDQuotaLong, long, "", long != ""))
	otherItem := line(IDQuotaOther, "Other limits", "", len(other) > 0)
	otherItem.Enabled = true
	other = append(other, familyLockLines(s.Quota, now)...)
	otherItem.Visible = len(other) > 0
	for i, o := range other {
		otherItem.Children = append(otherItem.Children, line(ItemID(fmt.Sprintf("%s-%d", IDQuotaOther, i)), o, "", true))
	}
	add(otherItem)
	cache := cacheLine(s.Cache)
	add(line(IDQuotaCache, cache, "Share of the input tokens of the recent answers the backend served from its prompt cache", cache != ""))

	// Copying.
	add(separator(1))
	add(Item{ID: IDCopyURL, Title: clip("Copy base URL ("+baseURL+")", maxLine), Tooltip: "Copy the OpenAI base URL for clients",
		Enabled: baseURL != "", Visible: true})
	add(Item{ID: IDCopyKey, Title: "Copy API key", Tooltip: "Copy the local API key clients send as the bearer token",
		Enabled: opts.HasAPIKey, Visible: opts.HasAPIKey})
	add(line(IDCopyError, opts.CopyError, baseURL, opts.CopyError != ""))

	// Account actions.
	add(separator(2))
	signIn := Item{ID: IDSignIn, Title: "Sign in…", Tooltip: "Sign in to ChatGPT in the browser",
		Enabled: !opts.SigningIn, Visible: opts.CanSignIn}
	switch {
	case opts.SigningIn:
		signIn.Title = "Signing in…"
		signIn.Tooltip = "Finish signing in in the browser"
	case s.Auth.State != status.AuthSignedOut && s.Auth.State != status.AuthUnknown:
		signIn.Title = "Sign in again…"
	}
	add(signIn)
	add(Item{ID: IDSignInAgain, Title: "Open the sign-in page again", Tooltip: "Open the same sign-in page, for a browser that was closed",
		Enabled: true, Visible: opts.SigningIn && opts.CanSignIn && opts.CanReopenSignIn})
	add(Item{ID: IDSignInStop, Title: "Cancel sign-in", Tooltip: "Stop waiting for the browser",
		Enabled: true, Visible: opts.SigningIn && opts.CanSignIn})
	add(signOutItem(s.Auth, opts.CanSignOut))
	refreshing := opts.Refreshing || s.Auth.Refreshing
	refresh := Item{ID: IDRefresh, Title: "Refresh token now", Tooltip: "Get a fresh access token now",
		Enabled: !refreshing && canRefresh(s.Auth.State), Visible: opts.CanRefresh}
	if refreshing {
		refresh.Title = "Refreshing token…"
	}
	add(refresh)

	// The application.
	add(separator(3))
	add(Item{ID: IDOpenLogs, Title: "Open logs folder", Enabled: true, Visible: opts.CanOpenLogs})
	add(Item{ID: IDAutostart, Title: "Start at login", Enabled: true, Checkable: true,
		Checked: opts.AutostartEnabled, Visible: opts.AutostartAvailable})
	add(separator(4))
	add(Item{ID: IDQuit, Title: "Quit", Tooltip: "Stop the API server and quit", Enabled: true, Visible: true})

	tip := AppName
	if baseURL != "" {
		tip += " · " + baseURL
	}
	tip += " · " + stateLine
	return Menu{Icon: icon, Tooltip: clip(tip, maxTooltip), Items: items}
}

// signOutItem is "Sign out (ann@example.com)", shown while a stored
// sign-in is in use (an environment token cannot be signed out).
func signOutItem(a status.Auth, can bool) Item {
	title := "Sign out"
	if a.Email != "" {
		title += " (" + clip(a.Email, maxLine-len(title)-3) + ")"
	}
	visible := can && a.Source != "" && a.Storage != "environment" &&
		a.State != status.AuthSignedOut && a.State != status.AuthUnknown
	return Item{ID: IDSignOut, Title: title, Tooltip: "Forget the stored sign-in (the local API key stays)",
		Enabled: true, Visible: visible}
}

// shapeOf describes the top-level structure; children may vary without a
// rebuild.
func shapeOf(items []Item) string {
	var s []byte
	for _, it := range items {
		s = append(s, it.ID...)
		if it.Checkable {
			s = append(s, '+')
		}
		s = append(s, '|')
	}
	return string(s)
}

// stateOf returns the state line, its tooltip and the icon.
func stateOf(s status.Status, now time.Time) (string, string, assets.State) {
	a := s.Auth
	switch a.State {
	case status.AuthSignedIn:
		if until := s.Quota.LimitedUntil(); until.After(now) {
			return "Usage limit reached until " + clockOrDay(until.In(now.Location()), now), a.Message, assets.StateWarning
		}
		title := "Signed in"
		if a.Email != "" {
			title += " as " + a.Email
		}
		plan := a.Plan
		if plan == "" {
			plan = s.Quota.Plan
		}
		if plan != "" {
			title += " (" + planName(plan) + ")"
		}
		icon := assets.StateOK
		if !a.TokenExpires.IsZero() && !a.TokenExpires.After(now) && !a.Refreshing {
			icon = assets.StateWarning
		}
		return title, a.Message, icon
	case status.AuthSignedOut:
		return "Not signed in", a.Message, assets.StateWarning
	case status.AuthNeedsSignIn:
		return "Sign-in needed", a.Message, assets.StateWarning
	case status.AuthBlocked:
		return "Blocked by Cloudflare", a.Message, assets.StateError
	case status.AuthError:
		if a.Message != "" {
			return "Sign-in error: " + a.Message, a.Message, assets.StateError
		}
		return "Sign-in error", "", assets.StateError
	}
	return "Checking sign-in…", a.Message, assets.StateWarning
}

// planName turns a plan ID such as "plus" into "Plus".
func planName(p string) string {
	switch strings.ToLower(p) {
	case "plus":
		return "Plus"
	case "pro":
		return "Pro"
	case "team":
		return "Team"
	case "business":
		return "Business"
	case "enterprise":
		return "Enterprise"
	case "edu":
		return "Edu"
	case "free":
		return "Free"
	}
	return p
}

// canRefresh reports whether refreshing makes sense in state.
func canRefresh(st status.AuthState) bool {
	switch st {
	case status.AuthSignedIn, status.AuthError, status.AuthNeedsSignIn, status.AuthBlocked:
		return true
	}
	return false
}

// tokenLine describes the access token's expiry.
func tokenLine(a status.Auth, now time.Time, refreshing bool) (string, bool) {
	if a.State == status.AuthSignedOut || a.State == status.AuthUnknown {
		return "", false
	}
	if a.Refreshing || refreshing {
		return "Refreshing token…", true
	}
	if a.TokenExpires.IsZero() {
		return "", false
	}
	return "Token " + expiry(a.TokenExpires, now), true
}

// sessionLine describes the session's expiry.
func sessionLine(a status.Auth, now time.Time) (string, bool) {
	if a.State == status.AuthSignedOut || a.State == status.AuthUnknown || a.SessionExpires.IsZero() {
		return "", false
	}
	t := a.SessionExpires.In(now.Location())
	if !t.After(now) {
		return "Session expired " + date(t, now), true
	}
	return "Session valid until " + date(t, now), true
}

// expiry formats how long until t: "expires in 52 min", "expires in
// 3 h 5 min", "valid until 21 Dec", "expired 4 min ago".
func expiry(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		ago := now.Sub(t)
		if ago < time.Minute {
			return "expired just now"
		}
		return "expired " + duration(ago) + " ago"
	case d < time.Minute:
		return "expires in under a minute"
	case d < 24*time.Hour:
		return "expires in " + duration(d)
	}
	return "valid until " + date(t.In(now.Location()), now)
}

// duration formats d, at least a minute, as "52 min", "3 h 5 min", "3 h"
// or "2 days", rounding down.
func duration(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 60:
		return strconv.Itoa(m) + " min"
	case m < 24*60:
		if m%60 == 0 {
			return strconv.Itoa(m/60) + " h"
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	case m < 2*24*60:
		return "1 day"
	}
	return strconv.Itoa(m/(24*60)) + " days"
}

// date formats t as "21 Dec", with the year when it differs from now's.
func date(t, now time.Time) string {
	if t.Year() != now.Year() {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan")
}

// clockOrDay formats a coming time: "14:05" today, "Mon 09:00" within a
// week, "21 Dec 09:00" later.
func clockOrDay(t, now time.Time) string {
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	if ty == ny && tm == nm && td == nd {
		return t.Format("15:04")
	}
	if t.After(now) && t.Sub(now) < 6*24*time.Hour {
		return t.Format("Mon 15:04")
	}
	return date(t, now) + " " + t.Format("15:04")
}

// lastErrorLine describes the last upstream error.
func lastErrorLine(e *status.ErrorInfo, now time.Time) (string, string, bool) {
	if e == nil || e.Message == "" {
		return "", "", false
	}
	title := "Last error"
	if !e.At.IsZero() {
		title += " (" + clockOrDay(e.At.In(now.Location()), now) + ")"
	}
	title += ": " + e.Message
	if e.Status != 0 {
		title += " [" + strconv.Itoa(e.Status) + "]"
	}
	return title, e.Message, true
}

// requestsItem is "Requests: 12 today · 3,402 total" with a submenu of the
// clients.
func requestsItem(r status.Requests, max int, now time.Time) Item {
	if max <= 0 {
		max = 8
	}
	it := Item{
		ID:      IDRequests,
		Title:   fmt.Sprintf("Requests: %s today · %s total", thousands(r.Today), thousands(r.Total)),
		Enabled: true,
		Visible: true,
	}
	var tip []string
	if r.Errors > 0 {
		tip = append(tip, thousands(r.Errors)+" failed")
	}
	if !r.Last.IsZero() {
		tip = append(tip, "last at "+clockOrDay(r.Last.In(now.Location()), now))
	}
	it.Tooltip = strings.Join(tip, "; ")
	child := func(i int, title string) Item {
		return Item{ID: ItemID(fmt.Sprintf("%s-%d", IDRequests, i)), Title: clip(title, maxLine), Visible: true}
	}
	if len(r.Clients) == 0 {
		it.Children = append(it.Children, child(0, "No clients yet"))
		return it
	}
	for i, c := range r.Clients {
		if i == max {
			it.Children = append(it.Children, child(i, fmt.Sprintf("… and %d more", len(r.Clients)-max)))
			break
		}
		it.Children = append(it.Children, child(i, fmt.Sprintf("%s: %s today · %s total",
			clip(c.Name, 40), thousands(c.Today), thousands(c.Total))))
	}
	return it
}

// quotaLines returns the lines for the main limit's two windows and one
// line per other limit family.
func quotaLines(q status.Quota, now time.Time) (short, long string, other []string) {
	if q.Unlimited {
		return "Usage: unlimited", "", nil
	}
	main := q.Main()
	if main == nil {
		return "", "", nil
	}
	if main.Primary != nil {
		short = windowLine(*main.Primary, "5-hour", now)
	}
	if main.Secondary != nil {
		long = windowLine(*main.Secondary, "Weekly", now)
	}
	for _, l := range q.Limits {
		if l.ID == main.ID {
			continue
		}
		name := l.Name
		if name == "" {
			name = l.ID
		}
		var parts []string
		for _, w := range []*status.Window{l.Primary, l.Secondary} {
			if w != nil {
				parts = append(parts, fmt.Sprintf("%s %d%%", strings.ToLower(windowName(w.WindowMinutes, "")), percent(w.UsedPercent)))
			}
		}
		if len(parts) > 0 {
			other = append(other, clip(name+": "+strings.Join(parts, " · "), maxLine))
		}
	}
	return short, long, other
}

// familyLockLines says, per limit family other than the main one whose
// usage limit was reached, until when its models are held back:
// "GPT-5.3-Codex-Spark: limit reached · resets 14:05". The main family's
// lock is the state line.
func familyLockLines(q status.Quota, now time.Time) []string {
	var out []string
	for _, l := range q.Limits {
		if l.ID == status.MainFamily || !l.LimitedUntil.After(now) {
			continue
		}
		name := l.Name
		if name == "" {
			name = l.ID
		}
		out = append(out, clip(name+": limit reached · resets "+clockOrDay(l.LimitedUntil.In(now.Location()), now), maxLine))
	}
	return out
}

// cacheLine is "Prompt cache: 45% of input" over the recent answers, or ""
// before any answer reported usage.
func cacheLine(c status.Cache) string {
	if c.Requests == 0 || c.InputTokens <= 0 {
		return ""
	}
	return fmt.Sprintf("Prompt cache: %d%% of input (last %d answers)", percent(100*c.Share()), c.Requests)
}

// windowLine is "5-hour: 23% used · resets 14:05".
func windowLine(w status.Window, fallback string, now time.Time) string {
	s := fmt.Sprintf("%s: %d%% used", windowName(w.WindowMinutes, fallback), percent(w.UsedPercent))
	if w.ResetsAt.After(now) {
		s += " · resets " + clockOrDay(w.ResetsAt.In(now.Location()), now)
	}
	return s
}

// windowName names a window by its length: 300 minutes is "5-hour",
// 10080 is "Weekly".
func windowName(minutes int, fallback string) string {
	switch {
	case minutes <= 0:
		if fallback == "" {
			return "Window"
		}
		return fallback
	case minutes == 7*24*60:
		return "Weekly"
	case minutes == 24*60:
		return "Daily"
	case minutes%(24*60) == 0:
		return strconv.Itoa(minutes/(24*60)) + "-day"
	case minutes%60 == 0:
		return strconv.Itoa(minutes/60) + "-hour"
	}
	return strconv.Itoa(minutes) + "-minute"
}

// percent rounds p to a whole percentage between 0 and 100.
func percent(p float64) int {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	if p > 100 {
		return 100
	}
	return int(math.Round(p))
}

// thousands formats n with comma thousands separators: 3402 is "3,402".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clip shortens s to at most n runes, ending with "…" when cut, and
// flattens line breaks. It cuts between words when a word boundary lies in
// the last third, so that a line never ends on half a word.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	cut := n - 1
	for i := cut; i > (n*2)/3; i-- {
		if r[i] == ' ' {
			return strings.TrimRight(string(r[:i]), " ,;:—-") + "…"
		}
	}
	return string(r[:cut]) + "…"
}
