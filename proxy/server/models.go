package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/dialect/anthropic"
)

func modelObject(id string, created int64) Model {
	return Model{ID: id, Object: "model", Created: created, OwnedBy: "openai"}
}

func (s *Server) listModels(c echo.Context) error {
	defer s.Status.CountRequest(clientName(c.Request()), false)
	if anthropic.Wants(c.Request()) {
		return s.messagesHandler.ListModels(c.Response(), s.Status.Snapshot().StartedAt)
	}
	list := ModelList{Object: "list", Data: []Model{}}
	created := s.Status.Snapshot().StartedAt.Unix()
	for _, m := range s.Catalog.Visible() {
		list.Data = append(list.Data, modelObject(m.Slug, created))
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getModel(c echo.Context) error {
	id := c.Param("id")
	if anthropic.Wants(c.Request()) {
		return s.messagesHandler.GetModel(c.Response(), id, s.Status.Snapshot().StartedAt)
	}
	res, err := s.Catalog.Resolve(id)
	if err == nil && !res.Unknown && (res.Known || res.Alias) {
		created := s.Status.Snapshot().StartedAt.Unix()
		if res.Effort != "" || res.Alias {
			return c.JSON(http.StatusOK, modelObject(id, created))
		}
		return c.JSON(http.StatusOK, modelObject(res.Slug, created))
	}
	return apierr.Errorf(http.StatusNotFound, "invalid_request_error", "The model '%s' does not exist or is not available to this ChatGPT account.", id).WithParam("model").WithCode("model_not_found")
}
