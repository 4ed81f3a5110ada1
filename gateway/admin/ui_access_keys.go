package admin

// The access keys page (owners): list, create, disable or enable, rotate,
// delete. A new secret is shown on the page that made it, once.

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
)

type accessKeysPage struct {
	page
	Keys  []accessKeyView
	Pools []string
	// New is the key just created or rotated, with its secret.
	New *accessKeyView
	// Form keeps what was typed when creating failed.
	Name, Role, Pool string
}

func (s *Admin) renderAccessKeys(c *gin.Context, status int, data accessKeysPage) {
	keys, err := s.core.AccessKeys().List(c.Request.Context())
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return
	}
	for _, k := range keys {
		data.Keys = append(data.Keys, accessKeyViewOf(k))
	}
	for id, p := range s.core.Snapshot().Pools {
		if p.Cfg.ID == id {
			data.Pools = append(data.Pools, id)
		}
	}
	problems := data.Problems
	data.page = s.pageFor(c, "Access keys", "access-keys")
	data.Problems = problems
	if data.New != nil {
		data.Flash = "Copy the secret now: it is not shown again."
	}
	s.kit.Render(c, status, "admin_access_keys", data, true)
}

func (s *Admin) uiAccessKeys(c *gin.Context) {
	s.renderAccessKeys(c, http.StatusOK, accessKeysPage{Role: "viewer"})
}

func (s *Admin) uiCreateAccessKey(c *gin.Context) {
	n := core.NewAccessKey{Name: c.PostForm("name"), Role: c.PostForm("role"), PoolID: c.PostForm("pool")}
	v, e := s.createAccessKey(c, n)
	if e != nil {
		data := accessKeysPage{Name: n.Name, Role: n.Role, Pool: n.PoolID}
		data.Problems = []config.Problem{{Message: e.Message}}
		s.renderAccessKeys(c, http.StatusBadRequest, data)
		return
	}
	s.renderAccessKeys(c, http.StatusCreated, accessKeysPage{New: &v, Role: "viewer"})
}

func (s *Admin) uiAccessKeyAction(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, id, actor := c.Request.Context(), c.Param("id"), principalOf(c).Actor
		keys := s.core.AccessKeys()
		var err error
		switch action {
		case "rotate":
			var secret string
			if secret, err = keys.Rotate(ctx, id, actor); err == nil {
				k, gerr := s.store.GetAccessKey(ctx, id)
				if gerr != nil {
					s.kit.Fail(c, accessKeyError(gerr))
					return
				}
				v := accessKeyViewOf(*k)
				v.Secret = secret
				s.renderAccessKeys(c, http.StatusOK, accessKeysPage{New: &v, Role: "viewer"})
				return
			}
		case "delete":
			err = keys.Delete(ctx, id, actor)
		default:
			err = keys.SetDisabled(ctx, id, action == "disable", actor)
		}
		if err != nil {
			s.kit.Fail(c, accessKeyError(err))
			return
		}
		c.Redirect(http.StatusSeeOther, "/admin/access-keys")
	}
}
