package upstream

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	fhttp "github.com/bogdanfinn/fhttp"
	"github.com/bogdanfinn/fhttp/cookiejar"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

// headerBuilder collects lowercase header names and values in wire order.
// An entry with an empty value is a slot: it keeps its place in the order
// (fhttp fills in host and content-length itself) but is not sent unless a
// later set gives it a value.
type headerBuilder struct {
	kv   [][2]string
	mark int  // where set inserts names the template lacks, when has is set
	has  bool // markExtras was called; otherwise set appends at the end
}

// add appends name: value (a slot when value is empty).
func (b *headerBuilder) add(name, value string) {
	b.kv = append(b.kv, [2]string{name, value})
}

// markExtras records that headers unknown to the template go here.
func (b *headerBuilder) markExtras() {
	b.mark = len(b.kv)
	b.has = true
}

// set replaces the value of name in place, or inserts it at the extras mark
// (or the end). An empty value turns an existing entry into a slot.
func (b *headerBuilder) set(name, value string) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return
	}
	for i := range b.kv {
		if b.kv[i][0] == name {
			b.kv[i][1] = value
			return
		}
	}
	if value == "" {
		return
	}
	if !b.has {
		b.kv = append(b.kv, [2]string{name, value})
		return
	}
	b.kv = append(b.kv, [2]string{})
	copy(b.kv[b.mark+1:], b.kv[b.mark:])
	b.kv[b.mark] = [2]string{name, value}
	b.mark++
}

// setDefault adds name: value unless the name is already present.
func (b *headerBuilder) setDefault(name, value string) {
	for i := range b.kv {
		if b.kv[i][0] == name {
			return
		}
	}
	b.add(name, value)
}

// merge applies caller headers in order; cookie is left to the caller when
// skipCookie is set (the Chrome identity merges it with its jar).
func (b *headerBuilder) merge(header [][2]string, skipCookie bool) {
	for _, kv := range header {
		if skipCookie && strings.EqualFold(kv[0], "cookie") {
			continue
		}
		b.set(kv[0], kv[1])
	}
}

// header returns a fresh fhttp header with an explicit HeaderOrderKey.
func (b *headerBuilder) header() fhttp.Header {
	h := make(fhttp.Header, len(b.kv)+1)
	order := make([]string, 0, len(b.kv))
	for _, kv := range b.kv {
		if !contains(order, kv[0]) {
			order = append(order, kv[0])
		}
		if kv[1] != "" {
			h[kv[0]] = append(h[kv[0]], kv[1])
		}
	}
	h[fhttp.HeaderOrderKey] = order
	return h
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// codexResponsesHeaders builds the Codex CLI 0.171's POST /codex/responses
// header set in its wire order (docs/protocol.md §2).
// The lite marker and the routing hint go only with a Responses-Lite body,
// the only shape the CLI was captured sending them with.
func (c *Client) codexResponsesHeaders(b *headerBuilder, r Request, t turn, compressed bool) {
	b.add("version", c.cfg.Version)
	b.add("x-codex-beta-features", codexcli.BetaFeatures)
	b.add("x-codex-window-id", t.window)
	b.add("x-codex-turn-metadata", t.metadata)
	if r.Lite {
		b.add("x-openai-internal-codex-responses-lite", "true")
		if r.Model != "" {
			b.add("x-codex-routing-hint", "model="+r.Model)
		}
	}
	b.add("x-client-request-id", t.thread)
	b.add("session-id", t.thread)
	b.add("thread-id", t.thread)
	b.add("x-codex-turn-state", r.TurnState)
	b.add("accept", "text/event-stream")
	if compressed {
		b.add("content-encoding", "zstd")
	}
	b.add("content-type", "application/json")
	b.add("authorization", bearer(r.Creds.AccessToken))
	b.add("chatgpt-account-id", r.Creds.AccountID)
	b.add("originator", c.cfg.Originator)
	b.add("user-agent", c.codexUA)
	b.add("accept-encoding", codexcli.AcceptEncoding)
	b.add("host", "")
	b.add("content-length", "")
}

// chromeResponsesHeaders builds what chatgpt.com's Codex pages would send
// from Chrome: a same-origin fetch POST with the Codex headers as the
// page's own request headers.
func (c *Client) chromeResponsesHeaders(b *headerBuilder, r Request) {
	sid := r.SessionID
	if sid == "" {
		sid = newUUIDv7()
	}
	c.chromeFetch(b, "POST", true, c.routeUA, c.origin, c.origin+"/codex")
	b.set("content-type", "application/json")
	b.set("authorization", bearer(r.Creds.AccessToken))
	b.set("chatgpt-account-id", r.Creds.AccountID)
	b.set("originator", c.cfg.Originator)
	b.set("version", c.cfg.Version)
	b.set("openai-beta", "responses=experimental")
	b.set("session_id", sid)
	b.set("x-codex-turn-state", r.TurnState)
	b.set("accept", "text/event-stream")
	b.set("cookie", c.jar.header(c.base, ""))
}

// chromeFetchHeaders is chromeFetch for the Codex routes.
func (c *Client) chromeFetchHeaders(b *headerBuilder, method string, hasBody bool) {
	c.chromeFetch(b, method, hasBody, c.routeUA, c.origin, c.origin+"/codex")
}

// webHeaders builds a same-origin fetch from a chatgpt.com page.
func (c *Client) webHeaders(b *headerBuilder, method, rawURL string, hasBody bool, header [][2]string) {
	origin := c.origin
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		origin = u.Scheme + "://" + u.Host
	}
	c.chromeFetch(b, method, hasBody, c.chromeUA, origin, origin+"/")
	b.merge(header, true)
	b.set("cookie", c.jar.header(rawURL, callerCookie(header)))
}

// authHeaders builds a reqwest request of the Codex CLI's login client: the
// request's own headers first, then the client defaults, then reqwest's
// accept-encoding.
func (c *Client) authHeaders(b *headerBuilder, header [][2]string, originator, ua string) {
	b.merge(header, false)
	b.setDefault("originator", originator)
	b.setDefault("user-agent", ua)
	b.setDefault("accept", "*/*")
	b.setDefault("accept-encoding", codexcli.AcceptEncoding)
	b.add("host", "")
	b.add("content-length", "")
}

// chromeFetch lays out Chrome 156's header order for a fetch() request
// (docs/protocol.md §2), content-length first. The page's own headers
// (content-type and anything set later) sit between sec-ch-ua and
// sec-ch-ua-mobile, where Chrome puts request headers set by script.
func (c *Client) chromeFetch(b *headerBuilder, method string, hasBody bool, ua, origin, referer string) {
	b.add("host", "") // HTTP/1.1 only; Chrome sends it first
	if hasBody {
		b.add("content-length", "")
	}
	b.add("sec-ch-ua-platform", chromePlatform())
	b.add("user-agent", ua)
	b.add("sec-ch-ua", chromeBrands(chromeMajor))
	b.add("content-type", "")
	b.markExtras()
	b.add("sec-ch-ua-mobile", "?0")
	b.add("accept", "*/*")
	if method != "GET" && method != "HEAD" {
		b.add("origin", origin)
	}
	b.add("sec-fetch-site", "same-origin")
	b.add("sec-fetch-mode", "cors")
	b.add("sec-fetch-dest", "empty")
	b.add("referer", referer)
	b.add("accept-encoding", "gzip, deflate, br, zstd")
	b.add("accept-language", "en-US,en;q=0.9")
	b.add("cookie", "")
	b.add("priority", "u=1, i")
}

// chromeUserAgent is Chrome 156's reduced User-Agent for this OS.
func chromeUserAgent() string {
	return fmt.Sprintf("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", chromeUAPlatform, chromeMajor)
}

// chromePlatform is the sec-ch-ua-platform value for this OS.
func chromePlatform() string { return chromePlatformHint }

// chromeBrands computes Chrome's sec-ch-ua brand list with its GREASE brand,
// as Chromium's GenerateBrandVersionList does for a given major version.
func chromeBrands(major int) string {
	chars := []string{" ", "(", ":", "-", ".", "/", ")", ";", "=", "?", "_"}
	versions := []string{"8", "99", "24"}
	orders := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	grease := fmt.Sprintf(`"Not%sA%sBrand";v="%s"`, chars[major%len(chars)], chars[(major+1)%len(chars)], versions[major%len(versions)])
	order := orders[major%len(orders)]
	var list [3]string
	list[order[0]] = grease
	list[order[1]] = fmt.Sprintf(`"Chromium";v="%d"`, major)
	list[order[2]] = fmt.Sprintf(`"Google Chrome";v="%d"`, major)
	return strings.Join(list[:], ", ")
}

// newUUIDv7 returns a random UUIDv7, the id format of Codex threads.
func newUUIDv7() string { return newUUIDv7At(time.Now()) }

// newUUIDv7At returns a random UUIDv7 with the timestamp of t.
func newUUIDv7At(t time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	putUUIDv7(&b, uint64(t.UnixMilli()))
	return formatUUID(b)
}

// newUUIDv4 returns a random UUIDv4 (the CLI's installation id format).
func newUUIDv4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = 0x40 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return formatUUID(b)
}

// NewThreadID returns a fresh thread id in the Codex CLI's format (UUIDv7).
func NewThreadID() string { return newUUIDv7() }

// cookieStore is the Chrome client's cookie jar. fhttp calls SetCookies
// with every response's Set-Cookie; Cookies returns nothing, because the
// cookie header is built per request (merged with the caller's) so that it
// sits in Chrome's position and never duplicates a caller cookie.
type cookieStore struct {
	mu  sync.Mutex
	jar *cookiejar.Jar
}

func newCookieStore() *cookieStore {
	j, _ := cookiejar.New(nil) // never fails without options
	return &cookieStore{jar: j}
}

// SetCookies stores cookies received from u.
func (s *cookieStore) SetCookies(u *url.URL, cookies []*fhttp.Cookie) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jar.SetCookies(u, cookies)
}

// clear forgets every cookie (sign-out).
func (s *cookieStore) clear() {
	j, _ := cookiejar.New(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jar = j
}

// Cookies returns nil; see header.
func (s *cookieStore) Cookies(*url.URL) []*fhttp.Cookie { return nil }

// header returns the cookie header for rawURL: the caller's cookies first,
// then stored ones whose family (name without a ".N" chunk suffix) the
// caller did not set.
func (s *cookieStore) header(rawURL, caller string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return caller
	}
	s.mu.Lock()
	stored := s.jar.Cookies(u)
	s.mu.Unlock()
	if len(stored) == 0 {
		return caller
	}
	families := map[string]bool{}
	for _, part := range strings.Split(caller, ";") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if name != "" {
			families[cookieFamily(name)] = true
		}
	}
	parts := make([]string, 0, len(stored)+1)
	if strings.TrimSpace(caller) != "" {
		parts = append(parts, strings.TrimSpace(caller))
	}
	for _, ck := range stored {
		if families[cookieFamily(ck.Name)] {
			continue
		}
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// cookieFamily strips a NextAuth chunk suffix: "a.0" and "a.1" belong to "a".
func cookieFamily(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}

// callerCookie returns the caller's cookie header value, if any.
func callerCookie(header [][2]string) string {
	var parts []string
	for _, kv := range header {
		if strings.EqualFold(kv[0], "cookie") && kv[1] != "" {
			parts = append(parts, kv[1])
		}
	}
	return strings.Join(parts, "; ")
}
