package upstream

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// The HTTP client is called in the request's own goroutine (no goroutine
// per request to wait for it) only when every way it can block honours the
// request's context or ends by itself. One does not by itself: tls-client
// opens a replacement HTTP/2 connection (after the backend closed or
// drained the old one) with context.Background, and the requests that
// need it wait for that dial without a way out. boundedDial bounds such a
// dial, TCP connect and TLS handshake together, so that a backend or
// middlebox that accepts the connection and then says nothing holds them
// for DialTimeout at most. With a proxy tls-client dials through its own
// dialer, so that case keeps a goroutine per request (see roundTrip).

// boundedDial returns the dial function of the upstream clients: d for a
// dial whose caller's context can cut it short, and for one with no such
// context (context.Background) the same dial with a deadline bound after
// it, covering the TLS handshake that follows.
func boundedDial(d *net.Dialer, bound time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ctx != context.Background() {
			return d.DialContext(ctx, network, addr)
		}
		deadline := time.Now().Add(bound)
		dctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return &handshakeConn{Conn: conn}, nil
	}
}

// handshakeConn is a connection whose deadline lasts until its TLS
// handshake is over: it is lifted at the third write. Every handshake the
// client makes has read all the server's handshake messages by then: TLS
// 1.3 writes ClientHello, then its Finished (with the compatibility
// ChangeCipherSpec, in one write or two), and its third write is either
// that Finished or HTTP/2's preface; TLS 1.2 writes ClientHello, then its
// key exchange and Finished, and reads the server's Finished before its
// third write, the preface; after a HelloRetryRequest the third write is
// the Finished. (Only a HelloRetryRequest answered with a separate
// ChangeCipherSpec lifts it one step early.) A connection this dial opens
// is always a TLS connection: tls-client dials without a context only for
// HTTP/2, which runs over TLS here.
type handshakeConn struct {
	net.Conn
	writes atomic.Int32
}

// liftAt is the write that lifts the deadline.
const liftAt = 3

func (c *handshakeConn) Write(p []byte) (int, error) {
	if c.writes.Load() < liftAt && c.writes.Add(1) == liftAt {
		if err := c.Conn.SetDeadline(time.Time{}); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}
