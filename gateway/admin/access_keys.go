package admin

// Access keys for signed Cognito API calls: owners create, list, disable,
// rotate and delete them here, as with `fedgate access-keys`. The secret
// is in the answer of create and rotate only.

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/gateway/store"
)

// accessKeyView is a key as the API and the UI show it.
type accessKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Pool       string     `json:"pool,omitempty"`
	Disabled   bool       `json:"disabled"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	RotatedAt  time.Time  `json:"rotated_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Secret is set only in the answer that created or rotated it.
	Secret string `json:"secret_access_key,omitempty"`
}

func accessKeyViewOf(k store.AccessKey) accessKeyView {
	v := accessKeyView{ID: k.ID, Name: k.Name, Role: k.Role, Pool: k.PoolID, Disabled: k.Disabled, CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, RotatedAt: k.RotatedAt}
	if !k.LastUsedAt.IsZero() {
		v.LastUsedAt = &k.LastUsedAt
	}
	return v
}

func accessKeyError(err error) *core.Error {
	var e *core.Error
	switch {
	case errors.Is(err, core.ErrAccessKeyNotFound):
		return core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no such access key.")
	case errors.As(err, &e):
		return e
	default:
		return core.Internal(err)
	}
}

// createAccessKey checks the pool exists, then creates the key.
func (s *Admin) createAccessKey(c *gin.Context, n core.NewAccessKey) (accessKeyView, *core.Error) {
	if err := n.Validate(); err != nil {
		return accessKeyView{}, core.NewError(http.StatusBadRequest, core.CodeInvalidRequest, "The access key is not valid: "+err.Error()+".", err)
	}
	if p := s.core.Snapshot().Pools[n.PoolID]; n.PoolID != "" && (p == nil || p.Cfg.ID != n.PoolID) {
		return accessKeyView{}, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "There is no identity pool with id %q.", n.PoolID)
	}
	k, secret, err := s.core.AccessKeys().Create(c.Request.Context(), n, principalOf(c).Actor)
	if err != nil {
		return accessKeyView{}, accessKeyError(err)
	}
	v := accessKeyViewOf(k)
	v.Secret = secret
	return v, nil
}

// apiListAccessKeys: GET /admin/api/v1/access-keys.
func (s *Admin) apiListAccessKeys(c *gin.Context) {
	keys, err := s.core.AccessKeys().List(c.Request.Context())
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	out := []accessKeyView{}
	for _, k := range keys {
		out = append(out, accessKeyViewOf(k))
	}
	httpkit.WriteJSON(c, http.StatusOK, gin.H{"access_keys": out})
}

// apiCreateAccessKey: POST /admin/api/v1/access-keys {name, role, pool}.
func (s *Admin) apiCreateAccessKey(c *gin.Context) {
	var body struct {
		Name string `json:"name"`
		Role string `json:"role"`
		Pool string `json:"pool"`
	}
	if e := httpkit.DecodeJSON(c, &body); e != nil {
		s.kit.Fail(c, e)
		return
	}
	v, e := s.createAccessKey(c, core.NewAccessKey{Name: body.Name, Role: body.Role, PoolID: body.Pool})
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	httpkit.WriteJSON(c, http.StatusCreated, v)
}

// apiAccessKeyAction: POST /admin/api/v1/access-keys/:id/{disable,enable,rotate}.
func (s *Admin) apiAccessKeyAction(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, id, actor := c.Request.Context(), c.Param("id"), principalOf(c).Actor
		keys := s.core.AccessKeys()
		var secret string
		var err error
		switch action {
		case "rotate":
			secret, err = keys.Rotate(ctx, id, actor)
		default:
			err = keys.SetDisabled(ctx, id, action == "disable", actor)
		}
		if err != nil {
			s.kit.Fail(c, accessKeyError(err))
			return
		}
		k, err := s.store.GetAccessKey(ctx, id)
		if err != nil {
			s.kit.Fail(c, accessKeyError(err))
			return
		}
		v := accessKeyViewOf(*k)
		v.Secret = secret
		httpkit.WriteJSON(c, http.StatusOK, v)
	}
}

// apiDeleteAccessKey: DELETE /admin/api/v1/access-keys/:id.
func (s *Admin) apiDeleteAccessKey(c *gin.Context) {
	if err := s.core.AccessKeys().Delete(c.Request.Context(), c.Param("id"), principalOf(c).Actor); err != nil {
		s.kit.Fail(c, accessKeyError(err))
		return
	}
	c.Status(http.StatusNoContent)
}
