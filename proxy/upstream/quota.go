package upstream

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/status"
)

const (
	mainLimitID       = "codex"
	familySuffix      = "-primary-used-percent"
	headerPlanType    = "X-Codex-Plan-Type"
	headerActiveLimit = "X-Codex-Active-Limit"
	headerHasCredits  = "X-Codex-Credits-Has-Credits"
	headerBalance     = "X-Codex-Credits-Balance"
	headerUnlimited   = "X-Codex-Credits-Unlimited"
)

// ParseQuota reads the x-codex-* rate-limit headers (docs/protocol.md §4)
// into a status.Quota. The "codex" family comes first, then other families
// (x-<id>-primary-used-percent, with an optional x-<id>-limit-name) by id.
// Reset times come from -reset-at (epoch seconds) or, failing that,
// -reset-after-seconds relative to now. A window whose values are all zero
// or empty is left out, as the Codex CLI does. ok is false when none of
// these headers is present.
func ParseQuota(h http.Header, now time.Time) (q status.Quota, ok bool) {
	var ids []string
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-") && strings.HasSuffix(lk, familySuffix) && len(lk) > len("x-")+len(familySuffix) {
			ids = append(ids, lk[len("x-"):len(lk)-len(familySuffix)])
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if (ids[i] == mainLimitID) != (ids[j] == mainLimitID) {
			return ids[i] == mainLimitID
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		prefix := "x-" + id + "-"
		q.Limits = append(q.Limits, status.Limit{
			ID:        id,
			Name:      strings.TrimSpace(h.Get(prefix + "limit-name")),
			Primary:   parseWindow(h, prefix+"primary-", now),
			Secondary: parseWindow(h, prefix+"secondary-", now),
		})
		ok = true
	}
	if v, present := header(h, headerPlanType); present {
		q.Plan, ok = v, true
	}
	if v, present := header(h, headerActiveLimit); present {
		q.ActiveLimit, ok = v, true
	}
	if v, present := header(h, headerHasCredits); present {
		q.HasCredits, ok = parseBool(v), true
	}
	if v, present := header(h, headerBalance); present {
		q.Credits, ok = v, true
	}
	if v, present := header(h, headerUnlimited); present {
		q.Unlimited, ok = parseBool(v), true
	}
	return q, ok
}

// header returns the trimmed value of name and whether the header exists.
func header(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return strings.TrimSpace(vs[0]), true
}

// parseWindow reads one window (prefix is "x-<id>-primary-" or
// "x-<id>-secondary-"). It returns nil when the used percentage is missing
// or when every value is zero or empty.
func parseWindow(h http.Header, prefix string, now time.Time) *status.Window {
	v, _ := header(h, prefix+"used-percent")
	if v == "" {
		return nil
	}
	used, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(used) || math.IsInf(used, 0) {
		return nil
	}
	w := &status.Window{UsedPercent: used}
	if v, _ := header(h, prefix+"window-minutes"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			w.WindowMinutes = n
		}
	}
	if v, _ := header(h, prefix+"reset-at"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			w.ResetsAt = time.Unix(n, 0).UTC()
		}
	}
	if w.ResetsAt.IsZero() {
		if v, _ := header(h, prefix+"reset-after-seconds"); v != "" {
			if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
				w.ResetsAt = now.Add(time.Duration(secs * float64(time.Second))).UTC()
			}
		}
	}
	if w.UsedPercent == 0 && w.WindowMinutes == 0 && w.ResetsAt.IsZero() {
		return nil
	}
	return w
}

// parseBool accepts True/False/true/1 and friends; anything else is false.
func parseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "y", "t":
		return true
	}
	return false
}
