package server

import (
	"context"
	"net/http"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// FromClient adapts the tls-client based upstream client to Upstream.
func FromClient(c *upstream.Client) Upstream { return clientAdapter{c} }

type clientAdapter struct{ c *upstream.Client }

func (a clientAdapter) Responses(ctx context.Context, r upstream.Request) (Stream, error) {
	s, err := a.c.Responses(ctx, r)
	if err != nil {
		return nil, err
	}
	return streamAdapter{s}, nil
}

// CloseIdleConnections closes the idle upstream connections.
func (a clientAdapter) CloseIdleConnections() { a.c.CloseIdleConnections() }

type streamAdapter struct{ s *upstream.Stream }

func (a streamAdapter) Next() (upstream.Event, error) { return a.s.Next() }
func (a streamAdapter) Close() error                  { return a.s.Close() }
func (a streamAdapter) Finish() error                 { return a.s.Finish() }
func (a streamAdapter) Header() http.Header           { return a.s.Header }
func (a streamAdapter) Pending() bool                 { return a.s.Pending() }
