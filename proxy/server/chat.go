package server

import (
	"github.com/labstack/echo/v4"
)

// chat serves POST /v1/chat/completions through the chat dialect.
func (s *Server) chat(c echo.Context) error {
	return answered(c, s.chatHandler.Serve(c.Response(), c.Request(), clientName(c.Request())))
}
