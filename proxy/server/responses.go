package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// responses serves POST /v1/responses through the Responses dialect.
func (s *Server) responses(c echo.Context) error {
	return answered(c, s.responsesHandler.Serve(c.Response(), c.Request(), clientName(c.Request()), owner(c.Request())))
}

// getResponse serves GET /v1/responses/{id} from the store.
func (s *Server) getResponse(c echo.Context) error {
	b, err := s.responsesHandler.Get(c.Param("id"), owner(c.Request()))
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, b)
}

// responseInputItems serves GET /v1/responses/{id}/input_items.
func (s *Server) responseInputItems(c echo.Context) error {
	return s.responsesHandler.InputItems(c.Param("id"), owner(c.Request()))
}

// cancelResponse serves POST /v1/responses/{id}/cancel.
func (s *Server) cancelResponse(c echo.Context) error {
	return s.responsesHandler.Cancel(c.Param("id"), owner(c.Request()))
}

// deleteResponse serves DELETE /v1/responses/{id}.
func (s *Server) deleteResponse(c echo.Context) error {
	d, err := s.responsesHandler.Delete(c.Param("id"), owner(c.Request()))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// responsesUpgrade answers GET /v1/responses. The Codex CLI tries a
// WebSocket there first; 426 makes it fall back to HTTP at once, while
// other answers make it retry the upgrade for seconds.
func responsesUpgrade(c echo.Context) error {
	if strings.EqualFold(c.Request().Header.Get("Upgrade"), "websocket") {
		return apierr.Errorf(http.StatusUpgradeRequired, "invalid_request_error", "WebSocket transport is not supported; send POST /v1/responses over HTTP.").WithCode("websocket_not_supported")
	}
	return echo.ErrMethodNotAllowed
}

// owner identifies whose stored responses a request may use: a hash of
// the key it sent, so clients with different keys never see each other's.
func owner(r *http.Request) string {
	key := ""
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		key = strings.TrimSpace(a[7:])
	}
	if key == "" {
		key = strings.TrimSpace(r.Header.Get("X-Api-Key"))
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
