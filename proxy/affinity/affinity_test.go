package affinity

import (
	"fmt"
	"regexp"
	"sync"
	"testing"
)

var v7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSameConversationSameID(t *testing.T) {
	m := New(0)
	p := Prefix{Instructions: "be brief", Tools: []byte(`[{"name":"f"}]`), FirstUser: []byte(`"hi"`)}
	a := m.Key(Hints{}, p)
	if !v7.MatchString(a) {
		t.Fatalf("id %q is not a UUIDv7", a)
	}
	if b := m.Key(Hints{}, p); b != a {
		t.Fatalf("second turn got %q, first %q", b, a)
	}
	for name, q := range map[string]Prefix{
		"instructions": {Instructions: "be long", Tools: p.Tools, FirstUser: p.FirstUser},
		"tools":        {Instructions: p.Instructions, Tools: []byte(`[]`), FirstUser: p.FirstUser},
		"first user":   {Instructions: p.Instructions, Tools: p.Tools, FirstUser: []byte(`"hello"`)},
		"boundary":     {Instructions: p.Instructions + `[{"name":"f"}]`, FirstUser: p.FirstUser},
	} {
		if got := m.Key(Hints{}, q); got == a {
			t.Errorf("a different %s kept the id", name)
		}
	}
}

func TestClientKeysWin(t *testing.T) {
	m := New(0)
	p := Prefix{Instructions: "x"}
	byPrefix := m.Key(Hints{}, p)
	hints := []Hints{{CacheKey: "c1"}, {SessionID: "c1"}, {UserID: "c1"}}
	seen := map[string]bool{byPrefix: true}
	if m.Key(Hints{User: "someone"}, p) != byPrefix {
		t.Fatal("the user field split a conversation that has a prefix")
	}
	if u := m.Key(Hints{User: "someone"}, Prefix{}); u == byPrefix || u != m.Key(Hints{User: "someone"}, Prefix{}) {
		t.Fatal("the user field did not key a request without a prefix")
	}
	for _, h := range hints {
		id := m.Key(h, p)
		if seen[id] {
			t.Fatalf("%+v shares an id with another key kind", h)
		}
		seen[id] = true
		if again := m.Key(h, Prefix{Instructions: "other"}); again != id {
			t.Fatalf("%+v: the client's key did not keep the id across prefixes", h)
		}
	}
	// The strongest hint decides.
	if got := m.Key(Hints{CacheKey: "c1", SessionID: "zzz", User: "u"}, p); got != m.Key(Hints{CacheKey: "c1"}, p) {
		t.Fatal("prompt_cache_key did not win")
	}
}

func TestBoundedLRU(t *testing.T) {
	m := New(3)
	ids := make([]string, 4)
	for i := range 3 {
		ids[i] = m.Key(Hints{CacheKey: fmt.Sprint(i)}, Prefix{})
	}
	m.Key(Hints{CacheKey: "0"}, Prefix{}) // 0 is now the most recent
	ids[3] = m.Key(Hints{CacheKey: "3"}, Prefix{})
	if m.Len() != 3 {
		t.Fatalf("len %d", m.Len())
	}
	if m.Key(Hints{CacheKey: "0"}, Prefix{}) != ids[0] || m.Key(Hints{CacheKey: "2"}, Prefix{}) != ids[2] {
		t.Fatal("a recent conversation was evicted")
	}
	if m.Key(Hints{CacheKey: "1"}, Prefix{}) == ids[1] {
		t.Fatal("the least recently used conversation was kept beyond the bound")
	}
}

func TestConcurrent(t *testing.T) {
	m := New(8)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = m.Key(Hints{}, Prefix{Instructions: "same"}) }()
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatal("concurrent turns of one conversation got different ids")
		}
	}
}

// A client's key as long as its request is kept as a digest: the map's
// memory is bounded by its entry count, not by what clients send.
func TestLongClientKeysAreDigested(t *testing.T) {
	m := New(4)
	long := string(make([]byte, 1<<20))
	a := m.Key(Hints{CacheKey: long}, Prefix{})
	if b := m.Key(Hints{CacheKey: long}, Prefix{}); b != a {
		t.Fatalf("the same long key got %q then %q", a, b)
	}
	if c := m.Key(Hints{CacheKey: long + "x"}, Prefix{}); c == a {
		t.Fatal("two different long keys share an id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.byID {
		if len(k) > maxKeyLen {
			t.Errorf("a key of %d bytes is kept", len(k))
		}
	}
}

// TestNeedsPrefix checks that the prefix is asked for exactly when Key
// would read it: a key, session or user id makes it unnecessary.
func TestNeedsPrefix(t *testing.T) {
	m := New(8)
	p := Prefix{Instructions: "be brief"}
	for _, h := range []Hints{{CacheKey: "c"}, {SessionID: "s"}, {UserID: "u"}, {CacheKey: "c", User: "x"}} {
		if h.NeedsPrefix() {
			t.Errorf("%+v needs the prefix", h)
		}
		if m.Key(h, p) != m.Key(h, Prefix{}) {
			t.Errorf("%+v: the key depends on the prefix", h)
		}
	}
	for _, h := range []Hints{{}, {User: "x"}} {
		if !h.NeedsPrefix() {
			t.Errorf("%+v does not need the prefix", h)
		}
		if m.Key(h, p) == m.Key(h, Prefix{}) {
			t.Errorf("%+v: the key ignores the prefix", h)
		}
	}
}
