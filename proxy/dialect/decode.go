package dialect

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
)

// ErrTooLarge is returned by DecodeJSON for a body over the size limit; the
// caller answers 413 in its own shape.
var ErrTooLarge = apierr.Errorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "The request body is too large (limit: CHATGPT_BODY_LIMIT).").WithCode("request_too_large")

// DecodeJSON decodes the request body into v. what names the expected
// request in the message for an empty body ("a JSON chat completion
// request"). Errors are *apierr.Error.
func DecodeJSON(body io.Reader, v any, what string) error {
	err := json.NewDecoder(body).Decode(v)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return apierr.InvalidRequest("", "the request body is empty; send %s", what).WithCode("invalid_json")
	}
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	if errors.As(err, &mbe) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge) {
		return ErrTooLarge
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		field := ute.Field
		if field == "" {
			field = "the request body"
		}
		return apierr.InvalidRequest(ute.Field, "invalid type for '%s': expected %s, got %s", field, jsonKind(ute.Type), ute.Value).WithCode("invalid_type")
	}
	return apierr.InvalidRequest("", "the request body is not valid JSON: %v", err).WithCode("invalid_json")
}

// jsonKind names the JSON kind a Go type decodes from, for messages that
// must not leak Go type names.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another JSON type"
}
