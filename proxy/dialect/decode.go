package dialect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/apierr"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// ErrTooLarge is returned by DecodeJSON for a body over the size limit; the
// caller answers 413 in its own shape.
var ErrTooLarge = apierr.Errorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "The request body is too large (limit: CHATGPT_BODY_LIMIT).").WithCode("request_too_large")

// DecodeJSON decodes the request body into v. what names the expected
// request in the message for an empty body ("a JSON chat completion
// request"). Errors are *apierr.Error.
//
// A body the server has read already (one with a Bytes method, as the
// server's UTF-8 check leaves it: Bytes must return the whole body, none
// of it read yet) is decoded from its bytes: no second copy, and the
// whole body must be one JSON value.
func DecodeJSON(body io.Reader, v any, what string) error {
	var err error
	if b, ok := body.(interface{ Bytes() []byte }); ok {
		raw := b.Bytes()
		if len(bytes.TrimSpace(raw)) == 0 {
			err = io.EOF
		} else {
			err = json.Unmarshal(raw, v)
		}
	} else {
		err = json.NewDecoder(body).Decode(v)
	}
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

// UnmarshalString decodes the JSON string raw into s, as json.Unmarshal
// does, but without reflection or a second validity scan for the usual
// string (message contents may be most of a large request).
func UnmarshalString(raw []byte, s *string) error {
	if v, ok := codex.UnquoteString(raw); ok {
		*s = v
		return nil
	}
	return json.Unmarshal(raw, s)
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
