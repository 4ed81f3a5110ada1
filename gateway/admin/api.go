package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp/registry"
	"fedgate/idp/settings"
)

// HeaderVersion tells API callers which configuration version a write made
// or a read saw.
const HeaderVersion = "Fedgate-Config-Version"

// providerBody is a provider as the API accepts it: a secret the body
// leaves out, or sends as the placeholder, keeps the stored one; ""
// removes it.
type providerBody struct {
	config.Provider
}

func (b *providerBody) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	var typ string
	_ = json.Unmarshal(fields["type"], &typ)
	if t, ok := registry.Lookup(typ); ok {
		placeholder, _ := json.Marshal(core.SecretPlaceholder)
		for _, f := range settings.Fields(t.New()) {
			if _, sent := fields[f.Key]; f.Secret && !sent {
				fields[f.Key] = placeholder
			}
		}
	}
	full, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return json.Unmarshal(full, &b.Provider)
}

func (b providerBody) provider() config.Provider { return b.Provider }

// etagged is one item of a list, with the ETag a write must send.
type etagged struct {
	ETag string `json:"etag"`
	Data any    `json:"data"`
}

func (s *Admin) latestForRead(c *gin.Context) (*liveDoc, bool) {
	cur, _, err := s.loadDoc(c.Request.Context(), 0)
	if err != nil {
		s.kit.Fail(c, core.Internal(err))
		return nil, false
	}
	c.Header(HeaderVersion, strconv.FormatInt(cur.version, 10))
	return cur, true
}

// readWrite reads a replacing write: its precondition (If-Match, checked
// first) and its JSON body into v. false when it answered a refusal.
func (s *Admin) readWrite(c *gin.Context, v any) (ifMatch, bool) {
	im, e := requireIfMatch(c)
	if e == nil {
		e = httpkit.DecodeJSON(c, v)
	}
	if e != nil {
		s.kit.Fail(c, e)
		return "", false
	}
	return im, true
}

// reply is what a write answers: the saved resource, its ETag and, for a
// create, where it now lives.
type reply struct {
	etag, location string
	body           any
}

// writeWith is every API create and replace: a create (status 201) reads
// the JSON body; a replace (200) needs If-Match, checked before the body.
// plan makes the change from the body (or refuses it), and saved reads the
// answer back from the committed document.
func writeWith[T any](s *Admin, c *gin.Context, status int, plan func(body *T, im ifMatch) (change, *core.Error), saved func(body *T, res *commitResult) reply) {
	var body T
	var im ifMatch
	if status == http.StatusCreated {
		if e := httpkit.DecodeJSON(c, &body); e != nil {
			s.kit.Fail(c, e)
			return
		}
	} else {
		var ok bool
		if im, ok = s.readWrite(c, &body); !ok {
			return
		}
	}
	ch, e := plan(&body, im)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	res, ok := s.commitFor(c, ch)
	if !ok {
		return
	}
	r := saved(&body, res)
	if r.location != "" {
		c.Header("Location", r.location)
	}
	written(c, status, res, r.etag, r.body)
}

// commitFor commits ch for the request's caller; false when it answered
// the refusal.
func (s *Admin) commitFor(c *gin.Context, ch change) (*commitResult, bool) {
	res, pe := s.commit(c.Request.Context(), principalOf(c), ch)
	if pe != nil {
		s.failChange(c, pe)
		return nil, false
	}
	return res, true
}

// written answers a successful write with the resource, its ETag and the version.
func written(c *gin.Context, status int, res *commitResult, etag string, body any) {
	c.Header(HeaderVersion, strconv.FormatInt(res.version, 10))
	if etag != "" {
		c.Header("ETag", etag)
	}
	c.JSON(status, body)
}

func (s *Admin) apiMe(c *gin.Context) {
	a := principalOf(c)
	c.JSON(http.StatusOK, gin.H{"actor": a.Actor, "display": a.Display, "role": a.Role, "csrf_token": a.CSRF})
}

func notFound(what string) *core.Error {
	return core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no %s with that id.", what)
}

// --- the whole document (GitOps) ---

func (s *Admin) apiGetMappings(c *gin.Context) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return
	}
	c.Header("ETag", docETag(cur.version))
	c.JSON(http.StatusOK, core.RedactMappings(cur.m))
}

func (s *Admin) apiPutMappings(c *gin.Context) {
	writeWith(s, c, http.StatusOK, func(next *config.Mappings, im ifMatch) (change, *core.Error) {
		summary := core.Truncate(c.Query("comment"), 200)
		if summary == "" {
			summary = "mappings document replaced"
		}
		return change{summary: summary, apply: func(m *config.Mappings, version int64) *core.Error {
			if e := im.check(docETag(version)); e != nil {
				return e
			}
			if ps := core.ReplaceDoc(m, *next); len(ps) > 0 {
				return changeProblems(ps)
			}
			return nil
		}}, nil
	}, func(_ *config.Mappings, res *commitResult) reply {
		return reply{etag: docETag(res.version), body: core.RedactMappings(res.m)}
	})
}

// --- providers ---

func (s *Admin) apiListProviders(c *gin.Context) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return
	}
	items := []etagged{}
	for _, p := range cur.m.Providers {
		items = append(items, etagged{ETag: providerETag(p), Data: core.RedactProvider(p)})
	}
	c.JSON(http.StatusOK, gin.H{"providers": items})
}

func (s *Admin) apiGetProvider(c *gin.Context) {
	s.readOne(c, "provider", func(m *config.Mappings) int { return core.FindProvider(m, c.Param("id")) }, providerReply)
}

// readOne answers one item of the latest document with its ETag: find
// looks it up (-1: there is none), answer shows it.
func (s *Admin) readOne(c *gin.Context, what string, find func(*config.Mappings) int, answer func(*config.Mappings, int) reply) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return
	}
	i := find(&cur.m)
	if i < 0 {
		s.kit.Fail(c, notFound(what))
		return
	}
	r := answer(&cur.m, i)
	c.Header("ETag", r.etag)
	c.JSON(http.StatusOK, r.body)
}

func (s *Admin) apiCreateProvider(c *gin.Context) {
	writeWith(s, c, http.StatusCreated, func(b *providerBody, _ ifMatch) (change, *core.Error) {
		return createProvider(b.provider()), nil
	}, func(b *providerBody, res *commitResult) reply {
		r := providerReply(&res.m, core.FindProvider(&res.m, b.ID))
		r.location = "/admin/api/v1/providers/" + url.PathEscape(b.ID)
		return r
	})
}

// providerReply shows provider i of m, secrets redacted.
func providerReply(m *config.Mappings, i int) reply {
	return reply{etag: providerETag(m.Providers[i]), body: core.RedactProvider(m.Providers[i])}
}

func createProvider(p config.Provider) change {
	return change{summary: fmt.Sprintf("provider %q added", p.ID), apply: func(m *config.Mappings, _ int64) *core.Error {
		if p.ID != "" && core.FindProvider(m, p.ID) >= 0 {
			return core.Errorf(http.StatusConflict, CodeConflict, "A provider with the id %q exists already.", core.Truncate(p.ID, 64))
		}
		np := p.Clone()
		core.KeepSecrets(&np, nil, "")
		m.Providers = append(m.Providers, np)
		return nil
	}}
}

func (s *Admin) apiPutProvider(c *gin.Context) {
	id := c.Param("id")
	writeWith(s, c, http.StatusOK, func(b *providerBody, im ifMatch) (change, *core.Error) {
		return updateProvider(id, im, b.provider()), nil
	}, func(_ *providerBody, res *commitResult) reply {
		return providerReply(&res.m, core.FindProvider(&res.m, id))
	})
}

func updateProvider(id string, im ifMatch, p config.Provider) change {
	return change{summary: fmt.Sprintf("provider %q changed", id), apply: func(m *config.Mappings, _ int64) *core.Error {
		i := core.FindProvider(m, id)
		if e := matched(m.Providers, i, "provider", im, providerETag); e != nil {
			return e
		}
		if p.ID == "" {
			p.ID = id
		}
		if p.ID != id {
			return core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "A provider's id cannot change (pools refer to it); add a new provider instead.")
		}
		np := p.Clone()
		ps := core.KeepSecrets(&np, &m.Providers[i], fmt.Sprintf("providers[%d].", i))
		m.Providers[i] = np
		if len(ps) > 0 {
			return changeProblems(ps)
		}
		return nil
	}}
}

func (s *Admin) apiDeleteProvider(c *gin.Context) {
	s.deleteWith(c, func(im ifMatch) change { return deleteProvider(c.Param("id"), im) })
}

// deleteWith answers a DELETE: it needs If-Match, commits the change made
// for it and answers 204 with the new version.
func (s *Admin) deleteWith(c *gin.Context, del func(ifMatch) change) {
	im, e := requireIfMatch(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	res, ok := s.commitFor(c, del(im))
	if !ok {
		return
	}
	c.Header(HeaderVersion, strconv.FormatInt(res.version, 10))
	c.Status(http.StatusNoContent)
}

func deleteProvider(id string, im ifMatch) change {
	return change{summary: fmt.Sprintf("provider %q deleted", id), apply: func(m *config.Mappings, _ int64) *core.Error {
		return deleteMatched(&m.Providers, core.FindProvider(m, id), "provider", im, providerETag)
	}}
}

// matched checks that a lookup found an item (i >= 0) whose ETag im allows.
func matched[T any](items []T, i int, what string, im ifMatch, etag func(T) string) *core.Error {
	if i < 0 {
		return notFound(what)
	}
	return im.check(etag(items[i]))
}

// deleteMatched removes the item a lookup found, under its ETag.
func deleteMatched[T any](items *[]T, i int, what string, im ifMatch, etag func(T) string) *core.Error {
	if e := matched(*items, i, what, im, etag); e != nil {
		return e
	}
	*items = slices.Delete(*items, i, i+1)
	return nil
}

// --- pools ---

func (s *Admin) apiListPools(c *gin.Context) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return
	}
	items := []etagged{}
	for _, p := range cur.m.Pools {
		items = append(items, etagged{ETag: poolETag(p), Data: p})
	}
	c.JSON(http.StatusOK, gin.H{"pools": items})
}

func (s *Admin) apiGetPool(c *gin.Context) {
	s.readOne(c, "pool", func(m *config.Mappings) int { return core.FindPool(m, c.Param("pool")) }, poolReply)
}

func (s *Admin) apiCreatePool(c *gin.Context) {
	writeWith(s, c, http.StatusCreated, func(p *config.Pool, _ ifMatch) (change, *core.Error) {
		return createPool(*p), nil
	}, func(p *config.Pool, res *commitResult) reply {
		r := poolReply(&res.m, core.FindPool(&res.m, p.ID))
		r.location = "/admin/api/v1/pools/" + url.PathEscape(p.ID)
		return r
	})
}

// poolReply shows pool i of m.
func poolReply(m *config.Mappings, i int) reply {
	return reply{etag: poolETag(m.Pools[i]), body: m.Pools[i]}
}

func createPool(p config.Pool) change {
	return change{summary: fmt.Sprintf("pool %q added", p.Name), pool: p.ID, apply: func(m *config.Mappings, _ int64) *core.Error {
		if (p.ID != "" && core.FindPool(m, p.ID) >= 0) || (p.Name != "" && core.FindPool(m, p.Name) >= 0) {
			return core.Errorf(http.StatusConflict, CodeConflict, "A pool with this id or name exists already.")
		}
		m.Pools = append(m.Pools, p)
		return nil
	}}
}

func (s *Admin) apiPutPool(c *gin.Context) {
	writeWith(s, c, http.StatusOK, func(p *config.Pool, im ifMatch) (change, *core.Error) {
		return updatePool(c.Param("pool"), im, func(cur *config.Pool) *core.Error {
			if p.ID == "" {
				p.ID = cur.ID
			}
			if p.ID != cur.ID {
				return core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "A pool's id cannot change (it is the audience IAM trusts); add a new pool instead.")
			}
			*cur = *p
			return nil
		}, "settings changed"), nil
	}, func(p *config.Pool, res *commitResult) reply {
		return poolReply(&res.m, core.FindPool(&res.m, p.ID))
	})
}

// updatePool changes one pool under its ETag; what says what changed.
func updatePool(key string, im ifMatch, edit func(p *config.Pool) *core.Error, what string) change {
	ch := change{summary: fmt.Sprintf("pool %q: %s", key, what), poolKey: key}
	ch.apply = func(m *config.Mappings, _ int64) *core.Error {
		i := core.FindPool(m, key)
		if i < 0 {
			return notFound("pool")
		}
		if im != "" {
			if e := im.check(poolETag(m.Pools[i])); e != nil {
				return e
			}
		}
		return edit(&m.Pools[i])
	}
	return ch
}

func (s *Admin) apiDeletePool(c *gin.Context) {
	s.deleteWith(c, func(im ifMatch) change { return deletePool(c.Param("pool"), im) })
}

func deletePool(key string, im ifMatch) change {
	return change{summary: fmt.Sprintf("pool %q deleted", key), poolKey: key, apply: func(m *config.Mappings, _ int64) *core.Error {
		return deleteMatched(&m.Pools, core.FindPool(m, key), "pool", im, poolETag)
	}}
}

// apiTrustPolicy: what IAM needs for the pool's roles.
func (s *Admin) apiTrustPolicy(c *gin.Context) {
	cur, ok := s.latestForRead(c)
	if !ok {
		return
	}
	rep, err := core.TrustPolicies(s.fileWith(cur.m), c.Param("pool"))
	if err != nil {
		s.kit.Fail(c, notFound("pool"))
		return
	}
	type role struct {
		RoleARN string `json:"role_arn"`
		Why     string `json:"why"`
		Policy  string `json:"trust_policy"`
	}
	out := gin.H{"pool": rep.Pool.ID, "issuer": rep.IssuerURL, "register_command": rep.RegisterIn}
	roles := []role{}
	for _, r := range rep.Roles {
		roles = append(roles, role(r))
	}
	out["roles"] = roles
	c.JSON(http.StatusOK, out)
}

// fileWith is the file configuration with m's providers and pools, defaults applied.
func (s *Admin) fileWith(m config.Mappings) *config.File {
	f := *s.cfg
	m = core.CloneMappings(m)
	f.Providers, f.Pools = m.Providers, m.Pools
	f.ApplyDefaults()
	return &f
}
