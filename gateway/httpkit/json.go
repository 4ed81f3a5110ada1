package httpkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fedgate/gateway/core"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DecodeJSON reads exactly one JSON object with no unknown fields.
func DecodeJSON(c *gin.Context, v any) *core.Error {
	if ct := c.ContentType(); ct != "application/json" {
		return core.Errorf(http.StatusUnsupportedMediaType, core.CodeInvalidRequest, "Send the body as application/json.")
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if IsTooLarge(err) {
			return core.NewError(http.StatusRequestEntityTooLarge, core.CodeTooLarge, "The request body is too large.", err)
		}
		return core.NewError(http.StatusBadRequest, core.CodeInvalidRequest, "The request body could not be read.", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return core.NewError(http.StatusBadRequest, core.CodeInvalidRequest, "The body is not the JSON this endpoint expects: "+JSONProblem(err), err)
	}
	if dec.More() {
		return core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The body must hold one JSON object.")
	}
	return nil
}

// JSONProblem says what was wrong without echoing the input.
func JSONProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON"
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return core.Truncate(strings.TrimPrefix(err.Error(), "json: "), 80)
	case errors.Is(err, io.EOF):
		return "empty body"
	default:
		return "malformed JSON"
	}
}

// WriteJSON answers a CLI call; everything here may carry a secret.
func WriteJSON(c *gin.Context, status int, v any) {
	NoCache(c)
	b, err := json.Marshal(v)
	if err != nil {
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}

// CtxJSONErrors is the gin context key a route group sets to have its
// refusals answered as JSON whatever the Accept header says.
const CtxJSONErrors = "fedgate-json-errors"
