package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// SessionCookieName is chatgpt.com's NextAuth session cookie. Large values
// are split into SessionCookieName+".0", ".1", ….
const SessionCookieName = "__Secure-next-auth.session-token"

// SessionCookie is a web session token: one cookie, or the chunks of one
// chunked family in numeric order.
type SessionCookie struct {
	Parts []string
}

// Chunked reports whether the cookie is sent as .0, .1, … chunks.
func (c SessionCookie) Chunked() bool { return len(c.Parts) > 1 }

// Empty reports whether there is no cookie.
func (c SessionCookie) Empty() bool { return len(c.Parts) == 0 || strings.Join(c.Parts, "") == "" }

// Value returns the joined value (the whole token).
func (c SessionCookie) Value() string { return strings.Join(c.Parts, "") }

// Header returns the Cookie header value carrying the cookie.
func (c SessionCookie) Header() string {
	if len(c.Parts) == 1 {
		return SessionCookieName + "=" + c.Parts[0]
	}
	s := make([]string, len(c.Parts))
	for i, p := range c.Parts {
		s[i] = SessionCookieName + "." + strconv.Itoa(i) + "=" + p
	}
	return strings.Join(s, "; ")
}

// String returns the form the cookie is stored in: the bare value for one
// cookie, the Cookie header for a chunked family. ParseSessionToken reads
// both. It is a secret.
func (c SessionCookie) String() string {
	if len(c.Parts) == 1 {
		return c.Parts[0]
	}
	return c.Header()
}

// ParseSessionToken reads a session token the way people paste it: the
// bare cookie value, "name=value", or a Cookie header holding the whole
// cookie or its .0/.1 chunks (other cookies are ignored).
func ParseSessionToken(s string) (SessionCookie, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "Cookie:")
	s = strings.TrimSpace(s)
	if s == "" {
		return SessionCookie{}, errors.New("the session token is empty")
	}
	if !strings.Contains(s, SessionCookieName) {
		if strings.ContainsAny(s, " ;\t\r\n") {
			return SessionCookie{}, errors.New("the session token contains spaces or semicolons; paste only the value of the " + SessionCookieName + " cookie")
		}
		return SessionCookie{Parts: []string{s}}, nil
	}
	var whole string
	chunks := map[int]string{}
	for _, kv := range strings.Split(s, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if name == SessionCookieName {
			whole = value
		} else if rest, ok := strings.CutPrefix(name, SessionCookieName+"."); ok {
			i, err := strconv.Atoi(rest)
			if err != nil || i < 0 || i > 64 {
				return SessionCookie{}, fmt.Errorf("unexpected cookie chunk name %q", name)
			}
			chunks[i] = value
		}
	}
	if len(chunks) > 0 {
		parts, err := orderedChunks(chunks)
		if err != nil {
			return SessionCookie{}, err
		}
		return SessionCookie{Parts: parts}, nil
	}
	if whole == "" {
		return SessionCookie{}, errors.New("the " + SessionCookieName + " cookie is empty")
	}
	return SessionCookie{Parts: []string{whole}}, nil
}

// orderedChunks returns the chunks 0..n-1 in order, or an error when one is
// missing or empty.
func orderedChunks(chunks map[int]string) ([]string, error) {
	idx := make([]int, 0, len(chunks))
	for i := range chunks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	parts := make([]string, len(idx))
	for n, i := range idx {
		if i != n || chunks[i] == "" {
			return nil, fmt.Errorf("the session cookie chunk %s.%d is missing", SessionCookieName, n)
		}
		parts[n] = chunks[i]
	}
	return parts, nil
}

// rotatedCookie reads the Set-Cookie headers of a session answer. It
// returns the new cookie family when one was set, following the rule that
// whatever family arrives last wins and its stale siblings are dropped.
// cleared reports that the session cookie was deleted without a
// replacement.
func rotatedCookie(h http.Header, now time.Time) (next SessionCookie, rotated, cleared bool) {
	var whole string
	chunks := map[int]string{}
	touched := false
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		idx := -1
		if c.Name != SessionCookieName {
			rest, ok := strings.CutPrefix(c.Name, SessionCookieName+".")
			if !ok {
				continue
			}
			i, err := strconv.Atoi(rest)
			if err != nil || i < 0 || i > 64 {
				continue
			}
			idx = i
		}
		touched = true
		deleted := c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && !c.Expires.After(now) && c.MaxAge == 0)
		switch {
		case deleted && idx < 0:
			whole = ""
		case deleted:
			delete(chunks, idx)
		case idx < 0:
			// A new single cookie replaces any chunked family.
			whole, chunks = c.Value, map[int]string{}
		default:
			// A new chunk starts (or continues) a chunked family, which
			// replaces a single cookie.
			whole = ""
			chunks[idx] = c.Value
		}
	}
	if !touched {
		return SessionCookie{}, false, false
	}
	if len(chunks) > 0 {
		if parts, err := orderedChunks(chunks); err == nil {
			return SessionCookie{Parts: parts}, true, false
		}
		return SessionCookie{}, false, false
	}
	if whole != "" {
		return SessionCookie{Parts: []string{whole}}, true, false
	}
	return SessionCookie{}, false, true
}

// SessionInfo is the result of one session exchange. Credentials.AccessToken
// is a secret; so is Rotated.
type SessionInfo struct {
	Credentials    auth.Credentials
	SessionExpires time.Time
	// Rotated is the new cookie when chatgpt.com rotated it; the caller must
	// persist it. It is empty otherwise.
	Rotated SessionCookie
}

// sessionResponse is the part of /api/auth/session the app reads.
type sessionResponse struct {
	User struct {
		Email string `json:"email"`
	} `json:"user"`
	Expires string `json:"expires"`
	Account struct {
		ID       string `json:"id"`
		PlanType string `json:"planType"`
	} `json:"account"`
	AccessToken string `json:"accessToken"`
}

// SignInHint is appended to every message that asks the person to act.
const SignInHint = "sign in again: run `chatgpt-to-api login` or use the tray's Sign in, or give a new session token with `chatgpt-to-api set-session-token`"

// ExchangeSession trades a web session cookie for an access token at
// {origin}/api/auth/session through route RouteWeb. Failures are *auth.Error
// values: KindSignInRequired when the session is signed out or rejected,
// KindBlocked for a Cloudflare challenge, KindTransient for network errors
// and 5xx answers.
func ExchangeSession(ctx context.Context, h HTTP, origin string, cookie SessionCookie, now time.Time) (SessionInfo, error) {
	if cookie.Empty() {
		return SessionInfo{}, &auth.Error{Kind: auth.KindSignedOut, Message: "no ChatGPT session token is configured"}
	}
	header := [][2]string{
		{"Accept", "application/json"},
		{"Cookie", cookie.Header()},
		{"Referer", origin + "/"},
	}
	resp, err := h.Do(ctx, upstream.RouteWeb, http.MethodGet, origin+"/api/auth/session", header, nil)
	if err != nil {
		return SessionInfo{}, &auth.Error{Kind: auth.KindTransient, Message: "could not reach " + hostOf(origin) + " to exchange the session token; check the network or CHATGPT_PROXY", Err: err}
	}
	if looksLikeHTML(resp) {
		if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusOK || resp.Header.Get("Cf-Mitigated") != "" {
			return SessionInfo{}, &auth.Error{Kind: auth.KindBlocked, Message: fmt.Sprintf("%s's Cloudflare protection blocked the session exchange (HTTP %d with a challenge page); this is not an expired session: try again later or through another network (CHATGPT_PROXY), or use `chatgpt-to-api login` instead", hostOf(origin), resp.StatusCode)}
		}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return SessionInfo{}, &auth.Error{Kind: auth.KindSignInRequired, Message: fmt.Sprintf("%s rejected the session token (HTTP %d); %s", hostOf(origin), resp.StatusCode, SignInHint)}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return SessionInfo{}, &auth.Error{Kind: auth.KindTransient, Message: fmt.Sprintf("%s answered the session exchange with HTTP %d; will retry", hostOf(origin), resp.StatusCode)}
	case resp.StatusCode != http.StatusOK:
		return SessionInfo{}, &auth.Error{Kind: auth.KindTransient, Message: fmt.Sprintf("unexpected HTTP %d from the session exchange", resp.StatusCode)}
	}
	var sr sessionResponse
	if err := json.Unmarshal(resp.Body, &sr); err != nil {
		return SessionInfo{}, &auth.Error{Kind: auth.KindTransient, Message: "the session exchange answered something that is not JSON", Err: err}
	}
	if sr.AccessToken == "" {
		return SessionInfo{}, &auth.Error{Kind: auth.KindSignInRequired, Message: "the ChatGPT web session is signed out or expired (the session endpoint returned no access token); " + SignInHint}
	}
	info := SessionInfo{Credentials: credentialsFromToken(sr.AccessToken, "session_token")}
	if sr.Account.ID != "" {
		info.Credentials.AccountID = sr.Account.ID
	}
	if sr.Account.PlanType != "" {
		info.Credentials.Plan = sr.Account.PlanType
	}
	if sr.User.Email != "" {
		info.Credentials.Email = sr.User.Email
	}
	if t, err := time.Parse(time.RFC3339, sr.Expires); err == nil {
		info.SessionExpires = t
	}
	if next, rotated, _ := rotatedCookie(resp.Header, now); rotated && next.Value() != cookie.Value() {
		info.Rotated = next
	} else if rotated && !sameParts(next, cookie) {
		info.Rotated = next // same value, new chunking
	}
	return info, nil
}

func sameParts(a, b SessionCookie) bool {
	if len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		if a.Parts[i] != b.Parts[i] {
			return false
		}
	}
	return true
}

// looksLikeHTML reports whether an answer is an HTML page.
func looksLikeHTML(resp *upstream.Response) bool {
	if strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		return true
	}
	b := strings.TrimSpace(string(resp.Body[:min(len(resp.Body), 64)]))
	return strings.HasPrefix(strings.ToLower(b), "<!doctype html") || strings.HasPrefix(strings.ToLower(b), "<html")
}

// credentialsFromToken fills Credentials from the claims of an access token.
func credentialsFromToken(token, kind string) auth.Credentials {
	c := auth.Credentials{AccessToken: token, Kind: kind}
	if claims, err := auth.ParseJWT(token); err == nil {
		c.AccountID = claims.AccountID
		c.ExpiresAt = claims.ExpiresAt
		c.Email = claims.Email
		c.Plan = claims.Plan
	}
	return c
}

// hostOf returns the host of an origin for messages.
func hostOf(origin string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}
