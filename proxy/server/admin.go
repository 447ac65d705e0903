package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/relay"
)

// requireAdminKey is requireKey, except that the admin API is refused
// outright when the server runs without a key.
func (s *Server) requireAdminKey(next echo.HandlerFunc) echo.HandlerFunc {
	check := s.requireKey(next)
	return func(c echo.Context) error {
		if len(s.keyHash) == 0 {
			return apierr.Errorf(http.StatusForbidden, "invalid_request_error", "The admin API needs an API key; it is disabled while CHATGPT_NO_API_KEY is set.").WithCode("admin_disabled")
		}
		return check(c)
	}
}

func (s *Server) adminStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, s.Status.Snapshot())
}

func (s *Server) adminToken(c echo.Context) error {
	if s.Admin == nil {
		return apierr.Errorf(http.StatusNotImplemented, "invalid_request_error", "this build cannot change credentials at run time").WithCode("not_implemented")
	}
	var body struct {
		AccessToken  string `json:"access_token"`
		SessionToken string `json:"session_token"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he
		}
		return apierr.InvalidRequest("", "the body must be JSON like {\"access_token\":\"…\"} or {\"session_token\":\"…\"}").WithCode("invalid_json")
	}
	ctx := c.Request().Context()
	var err error
	switch {
	case body.AccessToken != "" && body.SessionToken != "":
		return apierr.InvalidRequest("", "send either access_token or session_token, not both").WithCode("invalid_value")
	case body.AccessToken != "":
		err = s.Admin.SetAccessToken(ctx, body.AccessToken)
	case body.SessionToken != "":
		err = s.Admin.SetSessionToken(ctx, body.SessionToken)
	default:
		return apierr.InvalidRequest("", "missing access_token or session_token").WithCode("missing_required_parameter")
	}
	if err != nil {
		return relay.AuthError(err)
	}
	return c.JSON(http.StatusOK, s.Status.Snapshot().Auth)
}

func (s *Server) adminRefresh(c echo.Context) error {
	if s.Admin == nil {
		return apierr.Errorf(http.StatusNotImplemented, "invalid_request_error", "this build cannot refresh credentials").WithCode("not_implemented")
	}
	if err := s.Admin.RefreshNow(c.Request().Context()); err != nil {
		return relay.AuthError(err)
	}
	return c.JSON(http.StatusOK, s.Status.Snapshot().Auth)
}
