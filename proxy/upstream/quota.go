package upstream

import (
	"math"
	"net/http"
	"net/textproto"
	"slices"
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
	var buf [4]string
	ids := buf[:0] // usually one family, "codex"
	for k := range h {
		// Keys are canonical ("X-Codex-Primary-Used-Percent"); compared
		// without case, and lowered only when they name a family.
		if n := len(k) - len(familySuffix); n > len("x-") && strings.EqualFold(k[:len("x-")], "x-") && strings.EqualFold(k[n:], familySuffix) {
			ids = append(ids, strings.ToLower(k[len("x-"):n]))
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		if (a == mainLimitID) != (b == mainLimitID) {
			if a == mainLimitID {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, id := range ids {
		prefix := textproto.CanonicalMIMEHeaderKey("x-" + id + "-") // "X-Codex-"
		name, _ := header(h, prefix+"Limit-Name")
		q.Limits = append(q.Limits, status.Limit{
			ID:        id,
			Name:      name,
			Primary:   parseWindow(h, prefix+"Primary-", now),
			Secondary: parseWindow(h, prefix+"Secondary-", now),
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

// header returns the trimmed value of name (in canonical form, as the
// keys of h are) and whether the header exists.
func header(h http.Header, name string) (string, bool) {
	vs := h[name]
	if len(vs) == 0 {
		return "", false
	}
	return strings.TrimSpace(vs[0]), true
}

// parseWindow reads one window (prefix is "X-<Id>-Primary-" or
// "X-<Id>-Secondary-", canonical). It returns nil when the used percentage is missing
// or when every value is zero or empty.
func parseWindow(h http.Header, prefix string, now time.Time) *status.Window {
	v, _ := header(h, prefix+"Used-Percent")
	if v == "" {
		return nil
	}
	used, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(used) || math.IsInf(used, 0) {
		return nil
	}
	w := &status.Window{UsedPercent: used}
	if v, _ := header(h, prefix+"Window-Minutes"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			w.WindowMinutes = n
		}
	}
	if v, _ := header(h, prefix+"Reset-At"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			w.ResetsAt = time.Unix(n, 0).UTC()
		}
	}
	if w.ResetsAt.IsZero() {
		if v, _ := header(h, prefix+"Reset-After-Seconds"); v != "" {
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
