package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestClearCookies checks that sign-out forgets what chatgpt.com set.
func TestClearCookies(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Cookie"))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "__cf_bm", Value: "edge", Path: "/"})
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/backend-api", Version: "0.169.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for i := 0; i < 2; i++ {
		if _, err := c.Do(context.Background(), RouteWeb, "GET", srv.URL+"/api/auth/session", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.ClearCookies()
	if _, err := c.Do(context.Background(), RouteWeb, "GET", srv.URL+"/api/auth/session", nil, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[0] != "" || seen[1] != "__cf_bm=edge" || seen[2] != "" {
		t.Errorf("cookies sent = %q, want none, the stored one, then none after ClearCookies", seen)
	}
}
