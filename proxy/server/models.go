package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/openai"
)

func (s *Server) modelObject(id string) openai.Model {
	return openai.Model{ID: id, Object: "model", Created: s.Status.Snapshot().StartedAt.Unix(), OwnedBy: "openai"}
}

func (s *Server) listModels(c echo.Context) error {
	defer s.Status.CountRequest(clientName(c.Request()), false)
	list := openai.ModelList{Object: "list", Data: []openai.Model{}}
	for _, m := range s.Catalog.Visible() {
		list.Data = append(list.Data, s.modelObject(m.Slug))
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getModel(c echo.Context) error {
	id := c.Param("id")
	res, err := s.Catalog.Resolve(id)
	if err == nil && !res.Unknown && (res.Known || res.Alias) {
		if res.Effort != "" || res.Alias {
			return c.JSON(http.StatusOK, s.modelObject(id))
		}
		return c.JSON(http.StatusOK, s.modelObject(res.Slug))
	}
	return openai.Errorf(http.StatusNotFound, "invalid_request_error", "The model '%s' does not exist or is not available to this ChatGPT account.", id).WithParam("model").WithCode("model_not_found")
}
