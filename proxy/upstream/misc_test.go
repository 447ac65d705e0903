package upstream

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	fhttp "github.com/bogdanfinn/fhttp"
)

func TestChromeBrands(t *testing.T) {
	// Values published by real Chrome releases.
	for major, want := range map[int]string{
		120: `"Not_A Brand";v="8", "Chromium";v="120", "Google Chrome";v="120"`,
		124: `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`,
		131: `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`,
		138: `"Not)A;Brand";v="8", "Chromium";v="138", "Google Chrome";v="138"`,
	} {
		if got := chromeBrands(major); got != want {
			t.Errorf("chromeBrands(%d) = %s, want %s", major, got, want)
		}
	}
}

func TestCodexUserAgent(t *testing.T) {
	ua := codexUserAgent("codex_exec", "0.169.0")
	re := regexp.MustCompile(`^codex_exec/0\.169\.0 \([^;()]+ [^;()]+; [a-z0-9_]+\) \S+ \(codex_exec; 0\.169\.0\)$`)
	if !re.MatchString(ua) {
		t.Fatalf("user agent %q does not have the Codex CLI's shape", ua)
	}
	if got := semver("24.04"); got != "24.4.0" {
		t.Fatalf("semver = %q", got)
	}
	name, ver := parseOSRelease("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n")
	if name != "Debian" || ver != "12.0.0" {
		t.Fatalf("os-release = %q %q", name, ver)
	}
}

func TestHeaderBuilderOverrides(t *testing.T) {
	var b headerBuilder
	b.add("host", "")
	b.add("a", "1")
	b.add("content-type", "")
	b.markExtras()
	b.add("b", "2")
	b.add("cookie", "")
	b.merge([][2]string{{"X-One", "x"}, {"B", "override"}, {"Content-Type", "text/plain"}, {"A", ""}, {"x-two", "y"}, {"Cookie", "c=1"}}, true)
	h := b.header()
	order := h[fhttp.HeaderOrderKey]
	want := []string{"host", "a", "content-type", "x-one", "x-two", "b", "cookie"}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if _, ok := h["a"]; ok {
		t.Fatal("an empty caller value should drop the default")
	}
	if h["b"][0] != "override" || h["content-type"][0] != "text/plain" || h["x-one"][0] != "x" {
		t.Fatalf("values %v", h)
	}
	if _, ok := h["cookie"]; ok {
		t.Fatal("cookie must be left to the jar merge")
	}
}

func TestCookieFamilies(t *testing.T) {
	for in, want := range map[string]string{"a.0": "a", "a.12": "a", "a": "a", "a.b": "a.b", "a.": "a.", "__Secure-next-auth.session-token.1": "__Secure-next-auth.session-token"} {
		if got := cookieFamily(in); got != want {
			t.Errorf("cookieFamily(%q) = %q", in, got)
		}
	}
	if got := callerCookie([][2]string{{"cookie", "a=1"}, {"X", "y"}, {"Cookie", "b=2"}}); got != "a=1; b=2" {
		t.Fatalf("callerCookie = %q", got)
	}
	if !strings.HasPrefix(newUUIDv7(), "") || len(newUUIDv7()) != 36 || newUUIDv7()[14] != '7' {
		t.Fatal("bad uuid v7")
	}
}

// writeCounter counts the writes that reach it (it is no io.ByteWriter,
// so fhttp puts its own buffer in front).
type writeCounter struct{ writes, bytes int }

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	w.bytes += len(p)
	return len(p), nil
}

// TestRequestWrittenInOneGo checks that fhttp writes a request with an
// in-memory body together with its headers: one write, not a flush of
// the headers and then the body.
func TestRequestWrittenInOneGo(t *testing.T) {
	body := []byte(`{"model":"gpt-5.4","input":[]}`)
	for _, tc := range []struct {
		name string
		body io.ReadCloser
		want int
	}{
		{"inMemoryBody", inMemoryBody(body), 1},
		// What fhttp does with a plain body today (should a new fhttp write
		// it in one go too, inMemoryBody is no longer needed).
		{"io.NopCloser", io.NopCloser(bytes.NewReader(body)), 2},
	} {
		req, err := fhttp.NewRequest(http.MethodPost, "http://127.0.0.1:1/codex/responses", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Body = tc.body
		var w writeCounter
		if err := req.Write(&w); err != nil {
			t.Fatal(err)
		}
		if w.writes != tc.want || w.bytes < len(body) {
			t.Errorf("%s: %d writes (%d bytes), want %d", tc.name, w.writes, w.bytes, tc.want)
		}
	}
	got, err := io.ReadAll(inMemoryBody(body))
	if err != nil || !bytes.Equal(got, body) {
		t.Errorf("inMemoryBody reads %q, %v", got, err)
	}
}
