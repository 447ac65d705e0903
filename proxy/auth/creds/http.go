// Package creds turns what the person gave the app (a ChatGPT web session
// token, a Codex OAuth sign-in, an imported Codex CLI login or a plain
// access token) into the access tokens the proxy core needs.
//
// A Manager implements auth.Source. It picks the active credential source,
// refreshes tokens before they expire with a single flight per process,
// recovers from upstream 401s, keeps rotated secrets in the secret store
// (keychain.Secrets) and publishes the sign-in state, never a secret, to a
// status.Recorder.
//
// The package talks to chatgpt.com and auth.openai.com only through the
// small HTTP interface, which upstream.Client implements with the right
// client identity per route.
package creds

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// HTTP sends one small request and reads the whole answer. upstream.Client
// implements it; route picks the client identity (RouteWeb for chatgpt.com
// pages, RouteAuth for the OAuth issuer).
type HTTP interface {
	Do(ctx context.Context, route upstream.Route, method, url string, header [][2]string, body []byte) (*upstream.Response, error)
}

// NetHTTP implements HTTP with net/http and no client identity at all. It
// exists for tests against local fakes; chatgpt.com's edge would refuse it,
// so the app uses upstream.Client instead.
type NetHTTP struct {
	Client *http.Client // http.DefaultClient when nil
}

// Do sends the request and reads at most 4 MiB of the answer.
func (n NetHTTP) Do(ctx context.Context, route upstream.Route, method, url string, header [][2]string, body []byte) (*upstream.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for _, h := range header {
		req.Header.Add(h[0], h[1])
	}
	c := n.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	return &upstream.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
