package bench_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	fhttp "github.com/bogdanfinn/fhttp"
	tls_client "github.com/bogdanfinn/tls-client"
	"github.com/bogdanfinn/tls-client/profiles"
)

// The bare relays are the floor the app is compared with: they forward
// the body and headers unchanged to upstream and stream the upstream body
// back, flushing after every read, like httputil.ReverseProxy with
// FlushInterval -1. (They read the request body first: handing the
// server's request body straight to the client transport made the
// standard library close the upstream connection mid-stream now and then.)
//
// "bare" uses net/http's client; "bare-tls" uses tls-client (fhttp), the
// client the app must use for its identity, so that the difference
// between the two is what that client costs and the difference between
// bare-tls and the app is what the app's own work costs.

// upstreamResponse is what a bare relay passes back.
type upstreamResponse struct {
	status int
	header http.Header
	body   io.ReadCloser
}

// forward sends one request upstream.
type forward func(ctx context.Context, method, url string, header http.Header, body []byte) (*upstreamResponse, error)

func netHTTPForward() forward {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2048, DisableCompression: true}}
	return func(ctx context.Context, method, url string, header http.Header, body []byte) (*upstreamResponse, error) {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header = header.Clone()
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		return &upstreamResponse{resp.StatusCode, resp.Header, resp.Body}, nil
	}
}

func tlsClientForward(tb testing.TB) forward {
	c, err := tls_client.NewHttpClient(tls_client.NewNoopLogger(), tls_client.WithClientProfile(profiles.Chrome_131),
		tls_client.WithTimeoutSeconds(0), tls_client.WithNotFollowRedirects(),
		tls_client.WithTransportOptions(&tls_client.TransportOptions{DisableCompression: true, MaxIdleConnsPerHost: 2048}))
	if err != nil {
		tb.Fatal(err)
	}
	return func(ctx context.Context, method, url string, header http.Header, body []byte) (*upstreamResponse, error) {
		req, err := fhttp.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header = fhttp.Header(header.Clone())
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		return &upstreamResponse{resp.StatusCode, http.Header(resp.Header), resp.Body}, nil
	}
}

// bareRelay relays every request to upstream with fwd.
func bareRelay(upstream string, fwd forward) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, in *http.Request) {
		body, err := io.ReadAll(in.Body)
		if err != nil {
			return
		}
		resp, err := fwd(in.Context(), in.Method, upstream, in.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.body.Close()
		for k, v := range resp.header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.status)
		rc := http.NewResponseController(w)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	})
}

// serveBare serves the bare relay kind ("bare" or "bare-tls") in front of
// upstream on a loopback port and returns its base URL and a stop func.
func serveBare(tb testing.TB, kind, upstream string) (string, func()) {
	tb.Helper()
	fwd := netHTTPForward()
	if kind == "bare-tls" {
		fwd = tlsClientForward(tb)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: bareRelay(upstream, fwd)}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }
}
