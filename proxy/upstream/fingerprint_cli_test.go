package upstream

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream/codexcli"
)

// cliRecord is one connection of the committed Codex CLI capture (the
// recorder's JSONL layout; only the fields compared here).
type cliRecord struct {
	TLS struct {
		Ciphers         []uint16 `json:"ciphers"`
		Extensions      []uint16 `json:"extensions"`
		SupportedGroups []uint16 `json:"supported_groups"`
		PointFormats    []uint8  `json:"ec_point_formats"`
		SigAlgs         []uint16 `json:"signature_algorithms"`
		ALPN            []string `json:"alpn"`
		Versions        []uint16 `json:"supported_versions"`
	} `json:"tls"`
	Fingerprints struct {
		JA3Sorted     string `json:"ja3_sorted"`
		JA3SortedHash string `json:"ja3_sorted_hash"`
		JA4           string `json:"ja4"`
	} `json:"fingerprints"`
	H2 struct {
		Akamai     string   `json:"akamai"`
		FrameOrder []string `json:"frame_order"`
	} `json:"h2"`
	Requests []struct {
		Proto       string      `json:"proto"`
		Method      string      `json:"method"`
		Path        string      `json:"path"`
		PseudoOrder []string    `json:"pseudo_order"`
		Headers     [][2]string `json:"headers"`
	} `json:"requests"`
	Source struct {
		Call string `json:"call"`
	} `json:"source"`
}

// loadCLIRecords reads the committed 0.171.0 capture, keyed by call.
func loadCLIRecords(t *testing.T) map[string]cliRecord {
	t.Helper()
	f, err := os.Open("testdata/codex-cli-" + codexcli.Version + "/records.jsonl")
	if err != nil {
		t.Fatalf("no reference capture for the imitated version %s: %v", codexcli.Version, err)
	}
	defer f.Close()
	out := map[string]cliRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r cliRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out[r.Source.Call] = r
	}
	if len(out) != 3 {
		t.Fatalf("records %d", len(out))
	}
	return out
}

func hex4(v []uint16) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprintf("%04x", x)
	}
	return out
}

func join16(v []uint16, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}

// ja4 computes the JA4 TLS client fingerprint of a ClientHello.
func ja4(h *tls.ClientHelloInfo) string {
	var ciphers, exts []uint16
	for _, c := range h.CipherSuites {
		if !isGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	for _, e := range h.Extensions {
		if !isGREASE(e) {
			exts = append(exts, e)
		}
	}
	ver := "00"
	for _, v := range h.SupportedVersions {
		if v == tls.VersionTLS13 {
			ver = "13"
		}
	}
	sni := "i"
	if h.ServerName != "" {
		sni = "d"
	}
	alpn := "00"
	if len(h.SupportedProtos) > 0 {
		p := h.SupportedProtos[0]
		alpn = p[:1] + p[len(p)-1:]
	}
	a := fmt.Sprintf("t%s%s%02d%02d%s", ver, sni, len(ciphers), len(exts), alpn)
	sum := func(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:])[:12] }
	b := sum(strings.Join(sorted4(hex4(ciphers)), ","))
	var rest []uint16
	for _, e := range exts {
		if e != 0 && e != 16 {
			rest = append(rest, e)
		}
	}
	var sigs []uint16
	for _, s := range h.SignatureSchemes {
		sigs = append(sigs, uint16(s))
	}
	c := sum(strings.Join(sorted4(hex4(rest)), ",") + "_" + strings.Join(hex4(sigs), ","))
	return a + "_" + b + "_" + c
}

func sorted4(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

// ja3Sorted is JA3 with the extensions sorted (stable across rustls's
// per-connection shuffle).
func ja3Sorted(h *tls.ClientHelloInfo) (string, string) {
	var curves []uint16
	for _, c := range h.SupportedCurves {
		curves = append(curves, uint16(c))
	}
	var points []string
	for _, p := range h.SupportedPoints {
		points = append(points, fmt.Sprint(p))
	}
	s := fmt.Sprintf("771,%s,%s,%s,%s", join16(h.CipherSuites, "-"), join16(sorted(h.Extensions), "-"),
		join16(curves, "-"), strings.Join(points, "-"))
	sum := md5.Sum([]byte(s))
	return s, hex.EncodeToString(sum[:])
}

// akamai renders the h2 fingerprint as the recorder does.
func akamai(cp capture) string {
	return settingsString(cp.settings) + "|" + fmt.Sprint(cp.window) + "|0|" + pseudoString(cp.pseudo)
}

var (
	uuidV7RE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	uuidV4RE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
	uaRE     = regexp.MustCompile(`^(codex_exec|codex-tui)/(\S+) \([^;()]+ [^;()]+; [^;()]+\) \S+ \((codex_exec|codex-tui); (\S+)\)$`)
)

// shape reduces a header value to its format: values the caller sets
// (tokens, account, ids, lengths, the OS in the user-agent, timestamps)
// become placeholders; everything else must match exactly.
func shape(t *testing.T, name, v string) string {
	switch name {
	case "authorization":
		if !strings.HasPrefix(v, "Bearer ") || len(v) <= len("Bearer ") {
			return "bad bearer " + v
		}
		return "Bearer <token>"
	case "chatgpt-account-id":
		return "<account>"
	case "content-length":
		return "<n>"
	case "x-codex-routing-hint":
		return strings.SplitN(v, "=", 2)[0] + "=<model>"
	case "user-agent":
		m := uaRE.FindStringSubmatch(v)
		if m == nil || m[1] != m[3] || m[2] != m[4] {
			return "bad user-agent " + v
		}
		return "<client>/" + m[2] + " (<os> <version>; <arch>) <terminal> (<client>; " + m[4] + ")"
	case "x-codex-turn-metadata":
		return metadataShape(t, v)
	}
	v = uuidV7RE.ReplaceAllString(v, "<uuidv7>")
	return uuidV4RE.ReplaceAllString(v, "<uuidv4>")
}

// metadataShape keeps the turn metadata's key order and value formats.
func metadataShape(t *testing.T, v string) string {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return "bad metadata " + v
	}
	var parts []string
	for dec.More() {
		k, _ := dec.Token()
		val, err := dec.Token()
		if err != nil {
			return "bad metadata " + v
		}
		key := k.(string)
		var s string
		switch x := val.(type) {
		case json.Number:
			s = "<number>"
			if key == "window_number" {
				s = x.String()
			}
		case string:
			s = uuidV4RE.ReplaceAllString(uuidV7RE.ReplaceAllString(x, "<uuidv7>"), "<uuidv4>")
			switch key {
			case "model", "reasoning_effort":
				s = "<" + key + ">"
			case "sandbox":
				s = "<os sandbox>"
			}
		default:
			s = fmt.Sprint(x)
		}
		parts = append(parts, key+"="+s)
	}
	return strings.Join(parts, ",")
}

// idsAgree checks the CLI's id rules: session-id = thread-id =
// x-client-request-id, the window id is "<that id>:0", and the turn
// metadata names the same thread and window.
func idsAgree(t *testing.T, vals map[string]string) {
	t.Helper()
	id := vals["session-id"]
	if !uuidV7RE.MatchString(id) || vals["thread-id"] != id || vals["x-client-request-id"] != id || vals["x-codex-window-id"] != id+":0" {
		t.Errorf("ids disagree: %v", vals)
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(vals["x-codex-turn-metadata"]), &md); err != nil {
		t.Fatal(err)
	}
	if md["session_id"] != id || md["thread_id"] != id || md["window_id"] != id+":0" || md["turn_id"] != md["root_turn_id"] {
		t.Errorf("turn metadata disagrees with the ids: %v", md)
	}
}

// TestCodexCLIFingerprint records the app's upstream client with a
// loopback TLS/HTTP2 recorder and compares it with the committed Codex CLI
// capture: TLS (JA4, sorted JA3 and the hello's lists), HTTP/2 (SETTINGS,
// WINDOW_UPDATE, frame and pseudo-header order, no priority) and every
// request header's name, order and value format.
func TestCodexCLIFingerprint(t *testing.T) {
	recs := loadCLIRecords(t)
	addr, caps, roots := captureServer(t)
	_, port, _ := net.SplitHostPort(addr)
	base := "https://localhost:" + port + "/backend-api"
	creds := auth.Credentials{AccessToken: "tok-abc.def.ghi", AccountID: "acct-42"}
	lite := "x-openai-internal-codex-responses-lite"
	tests := []struct {
		name, call string
		do         func(c *Client) error
		drop       []string // record headers the app leaves out here
		ids        bool
		model      string
	}{
		{name: "lite model", call: "responses", ids: true, model: "gpt-6.2-sol", do: func(c *Client) error {
			s, err := c.Responses(context.Background(), Request{Creds: creds, SessionID: NewThreadID(), Model: "gpt-6.2-sol", Effort: "low", Lite: true, Body: []byte(`{"model":"gpt-6.2-sol"}`)})
			if err == nil {
				s.Close()
			}
			return err
		}},
		{name: "classic model", call: "responses", ids: true, model: "gpt-5.5", drop: []string{lite, "x-codex-routing-hint"}, do: func(c *Client) error {
			s, err := c.Responses(context.Background(), Request{Creds: creds, Model: "gpt-5.5", Effort: "medium", Body: []byte(`{"model":"gpt-5.5"}`)})
			if err == nil {
				s.Close()
			}
			return err
		}},
		{name: "models", call: "models", do: func(c *Client) error { _, _, err := c.Models(context.Background(), creds); return err }},
		{name: "usage", call: "usage", drop: []string{"host"}, do: func(c *Client) error { _, _, err := c.Usage(context.Background(), creds); return err }},
	}
	a := recs["responses"] // the rustls (custom CA) connection
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, Config{BaseURL: base, RootCAs: roots})
			if err := tc.do(c); err != nil {
				t.Fatal(err)
			}
			cp := recv(t, caps, "capture")
			h := &cp.hello
			if got := ja4(h); got != a.Fingerprints.JA4 {
				t.Errorf("JA4 %s, CLI %s", got, a.Fingerprints.JA4)
			}
			if s, hash := ja3Sorted(h); s != a.Fingerprints.JA3Sorted || hash != a.Fingerprints.JA3SortedHash {
				t.Errorf("sorted JA3 %s (%s), CLI %s (%s)", s, hash, a.Fingerprints.JA3Sorted, a.Fingerprints.JA3SortedHash)
			}
			var sigs []uint16
			for _, s := range h.SignatureSchemes {
				sigs = append(sigs, uint16(s))
			}
			if !slices.Equal(h.CipherSuites, a.TLS.Ciphers) || !slices.Equal(sorted(h.Extensions), sorted(a.TLS.Extensions)) ||
				!slices.Equal(sigs, a.TLS.SigAlgs) || !slices.Equal(h.SupportedProtos, a.TLS.ALPN) ||
				!slices.Equal(h.SupportedVersions, a.TLS.Versions) || !slices.Equal(h.SupportedPoints, a.TLS.PointFormats) {
				t.Errorf("hello differs from the CLI's: %+v", h)
			}
			if got := akamai(cp); got != a.H2.Akamai || cp.hasPriority {
				t.Errorf("h2 %s (priority %v), CLI %s", got, cp.hasPriority, a.H2.Akamai)
			}
			if !slices.Equal(cp.frames, a.H2.FrameOrder) {
				t.Errorf("frames %v, CLI %v", cp.frames, a.H2.FrameOrder)
			}

			want := recs[tc.call].Requests[0]
			if got := pseudoString(cp.pseudo); want.Proto == "h2" && got != pseudoString(want.PseudoOrder) {
				t.Errorf("pseudo %s, CLI %v", got, want.PseudoOrder)
			}
			var wantShapes, gotShapes []string
			for _, kv := range want.Headers {
				if strings.HasPrefix(kv[0], ":") || slices.Contains(tc.drop, kv[0]) {
					continue
				}
				wantShapes = append(wantShapes, kv[0]+": "+shape(t, kv[0], kv[1]))
			}
			vals := map[string]string{}
			for _, kv := range cp.values {
				gotShapes = append(gotShapes, kv[0]+": "+shape(t, kv[0], kv[1]))
				vals[kv[0]] = kv[1]
			}
			if !slices.Equal(gotShapes, wantShapes) {
				t.Errorf("headers differ from the CLI's\n got:\n  %s\nwant:\n  %s", strings.Join(gotShapes, "\n  "), strings.Join(wantShapes, "\n  "))
			}
			if tc.ids {
				idsAgree(t, vals)
				var md map[string]any
				_ = json.Unmarshal([]byte(vals["x-codex-turn-metadata"]), &md)
				if md["model"] != tc.model {
					t.Errorf("turn metadata model %v, want %s", md["model"], tc.model)
				}
				if r := vals["x-codex-routing-hint"]; r != "" && r != "model="+tc.model {
					t.Errorf("routing hint %q", r)
				}
			}
			if vals["authorization"] != "Bearer "+creds.AccessToken || vals["chatgpt-account-id"] != "acct-42" {
				t.Errorf("caller values not sent as given: %v", vals)
			}
		})
	}
}
