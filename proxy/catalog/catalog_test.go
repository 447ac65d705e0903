package catalog

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

const liveBody = `{"models":[
 {"slug":"gpt-9","display_name":"GPT 9","visibility":"list","priority":1,"minimal_client_version":"0.1.0","supported_reasoning_levels":[{"effort":"low"},{"effort":"high"}],"supports_reasoning_summaries":true,"input_modalities":["text"]},
 {"slug":"gpt-8","visibility":"list","priority":0,"supported_reasoning_levels":[{"effort":"medium"}],"service_tiers":[{"id":"priority"}]},
 {"slug":"secret-model","visibility":"hide","priority":5}
]}`

func TestResolve(t *testing.T) {
	c := New(func(context.Context) ([]byte, http.Header, error) {
		return []byte(liveBody), http.Header{"X-Models-Etag": {"e1"}}, nil
	}, Options{ClientVersion: "0.169.0"})
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := c.Default(); d != "gpt-8" {
		t.Fatalf("default = %q, want the best (lowest priority) visible model", d)
	}
	cases := []struct {
		in, slug, effort string
		known, alias     bool
	}{
		{"gpt-9", "gpt-9", "", true, false},
		{"GPT-9 ", "gpt-9", "", true, false},
		{"secret-model", "secret-model", "", true, false},
		{"gpt-9-high", "gpt-9", "high", true, false},
		{"gpt-9:low", "gpt-9", "low", true, false},
		{"gpt-9_xhigh", "gpt-9", "xhigh", true, false},
		{"gpt-4o", "gpt-8", "", true, true},
		{"gpt-3.5-turbo", "gpt-8", "", true, true},
		{"auto", "gpt-8", "", true, true},
		{"gpt-4o-high", "gpt-8", "high", true, true},
		{"gpt-5.2", "gpt-5.2", "", false, false}, // retired: sent as is, the backend answers
		{"gpt-5.2-high", "gpt-5.2", "high", false, false},
		{"o3", "o3", "", false, false},
		{"gpt-foo", "gpt-foo", "", false, false}, // made-up slugs go upstream as they are
		{"gpt-nonexistent-9", "gpt-nonexistent-9", "", false, false},
		{"gpt-4", "gpt-8", "", true, true},
		{"default", "gpt-8", "", true, true},
		{"my-local-name", "gpt-8", "", true, false},
	}
	for _, tc := range cases {
		r, err := c.Resolve(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if r.Slug != tc.slug || r.Effort != tc.effort || r.Known != tc.known || r.Alias != tc.alias {
			t.Errorf("Resolve(%q) = %+v", tc.in, r)
		}
	}
	if r, _ := c.Resolve("my-local-name"); !r.Unknown {
		t.Error("an unknown name must be marked Unknown")
	}
	c.opts.Unknown = "reject"
	if _, err := c.Resolve("my-local-name"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("reject mode: %v", err)
	}
	c.opts.Unknown = "passthrough"
	if r, _ := c.Resolve("my-local-name"); r.Slug != "my-local-name" {
		t.Errorf("passthrough mode: %+v", r)
	}
	m, _ := c.Lookup("gpt-9")
	if !m.SupportsEffort("high") || m.SupportsEffort("medium") || m.SupportsImages() || m.HasServiceTier("priority") {
		t.Errorf("capabilities of gpt-9: %+v", m)
	}
	vis := c.Visible()
	if len(vis) != 2 || vis[0].Slug != "gpt-8" {
		t.Errorf("visible = %+v", vis)
	}
}

func TestETagKicksRefresh(t *testing.T) {
	var fetches atomic.Int32
	c := New(func(context.Context) ([]byte, http.Header, error) {
		fetches.Add(1)
		return []byte(liveBody), http.Header{"X-Models-Etag": {"e1"}}, nil
	}, Options{})
	_ = c.Refresh(context.Background())
	c.NoteETag("e1")
	select {
	case <-c.kick:
		t.Fatal("an unchanged etag must not trigger a refresh")
	default:
	}
	c.NoteETag("e2")
	select {
	case <-c.kick:
	default:
		t.Fatal("a new etag must trigger a refresh")
	}
}

func TestFallbackAndFailure(t *testing.T) {
	c := New(func(context.Context) ([]byte, http.Header, error) {
		return nil, nil, errors.New("offline")
	}, Options{ClientVersion: "0.150.0"})
	if err := c.Refresh(context.Background()); err == nil {
		t.Fatal("want the fetch error")
	}
	if c.Live() {
		t.Error("a failed fetch must not count as live")
	}
	for _, m := range c.Visible() {
		if !VersionAtLeast("0.150.0", m.MinimalClientVersion) {
			t.Errorf("fallback lists %s, which needs %s", m.Slug, m.MinimalClientVersion)
		}
	}
	if c.Default() == "" {
		t.Error("no default model without a live catalog")
	}
	if _, err := Parse([]byte(`{"models":[]}`)); err == nil {
		t.Error("an empty catalog must be an error")
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		want   bool
	}{{"0.169.0", "0.155.0", true}, {"0.98.0", "0.124.0", false}, {"1.0", "0.999.9", true}, {"0.155.0", "0.155.0", true}, {"0.155", "0.155.1", false}} {
		if got := VersionAtLeast(c.v, c.min); got != c.want {
			t.Errorf("VersionAtLeast(%s, %s) = %v", c.v, c.min, got)
		}
	}
}

// TestResponsesLite reads use_responses_lite from the live catalog and
// marks the Luna models in the fallback.
func TestResponsesLite(t *testing.T) {
	ms, err := Parse([]byte(`{"models":[{"slug":"gpt-6.2-sol","use_responses_lite":true},{"slug":"gpt-5.5"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !ms[0].UseResponsesLite || ms[1].UseResponsesLite {
		t.Errorf("parsed %+v", ms)
	}
	c := New(nil, Options{})
	if !c.UsesResponsesLite("gpt-6-luna") || !c.UsesResponsesLite("gpt-5.6-luna") || c.UsesResponsesLite("gpt-5.5") || c.UsesResponsesLite("gpt-unknown") {
		t.Error("fallback lite marks wrong")
	}
}

// TestResolveSuffixes covers the names Cursor users pick: effort
// suffixes, -extra (the highest effort the model supports) and -fast (the
// priority tier where the catalog offers it, else the model itself).
func TestResolveSuffixes(t *testing.T) {
	c := New(func(context.Context) ([]byte, http.Header, error) {
		return []byte(liveBody), nil, nil
	}, Options{})
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in, slug, effort, tier string
		known                  bool
	}{
		{"gpt-9-extra", "gpt-9", "high", "", true},    // levels low, high
		{"gpt-8-extra", "gpt-8", "medium", "", true},  // only medium
		{"gpt-8-fast", "gpt-8", "", "priority", true}, // offers priority
		{"gpt-9-fast", "gpt-9", "", "", true},         // no priority tier: the model itself
		{"gpt-8-high-fast", "gpt-8", "high", "priority", true},
		{"gpt-8-fast-extra", "gpt-8", "medium", "priority", true},
		{"gpt-8:fast", "gpt-8", "", "priority", true},
		{"GPT-9_XHIGH", "gpt-9", "xhigh", "", true},
		{"gpt-4o-fast", "gpt-8", "", "priority", true},   // alias of the default
		{"gpt-5.2-extra", "gpt-5.2", "xhigh", "", false}, // unknown slug: sent as is
		{"gpt-5.2-fast", "gpt-5.2", "", "", false},
		{"gpt-9-high-low", "gpt-9-high", "low", "", false}, // the first effort is part of an unknown slug
		{"gpt-9-fast-fast", "gpt-9-fast", "", "", false},
	}
	for _, tc := range cases {
		r, err := c.Resolve(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if r.Slug != tc.slug || r.Effort != tc.effort || r.ServiceTier != tc.tier || r.Known != tc.known {
			t.Errorf("Resolve(%q) = slug %q effort %q tier %q known %v; want %q %q %q %v",
				tc.in, r.Slug, r.Effort, r.ServiceTier, r.Known, tc.slug, tc.effort, tc.tier, tc.known)
		}
	}
	// The fallback catalog: gpt-6-sol goes up to ultra.
	f := New(nil, Options{})
	if r, _ := f.Resolve("gpt-6-sol-extra"); r.Effort != "ultra" || r.Slug != "gpt-6-sol" {
		t.Errorf("gpt-6-sol-extra = %+v", r)
	}
	if r, _ := f.Resolve("gpt-5.5-extra"); r.Effort != "xhigh" {
		t.Errorf("gpt-5.5-extra = %+v", r)
	}
}
