package server

import (
	"github.com/labstack/echo/v4"
)

// messages serves POST /v1/messages through the Anthropic dialect.
func (s *Server) messages(c echo.Context) error {
	return answered(c, s.messagesHandler.Serve(c.Response(), c.Request(), clientName(c.Request())))
}

// countTokens serves POST /v1/messages/count_tokens.
func (s *Server) countTokens(c echo.Context) error {
	defer s.Status.CountRequest(clientName(c.Request()), false)
	return s.messagesHandler.CountTokens(c.Response(), c.Request())
}
