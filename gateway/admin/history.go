package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// VersionView is one version in API answers.
type VersionView struct {
	Version   int64     `json:"version"`
	Author    string    `json:"author"`
	Source    string    `json:"source"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
	Hash      string    `json:"hash"`
}

func viewOf(v store.ConfigVersion) VersionView {
	return VersionView{Version: v.Version, Author: v.Author, Source: v.Source, Comment: v.Comment, CreatedAt: v.CreatedAt, Hash: v.Hash}
}

// VersionDiff is a version with what it changed from the one before.
type VersionDiff struct {
	VersionView
	Live     bool            `json:"live"`
	Mappings config.Mappings `json:"mappings"`
	Diff     []core.DiffLine `json:"diff"`
}

func (s *Admin) versionWithDiff(c *gin.Context) (*VersionDiff, *core.Error) {
	n, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil || n < 1 {
		return nil, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no such version.")
	}
	ctx := c.Request.Context()
	doc, meta, err := s.loadDoc(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no such version.")
	}
	if err != nil {
		return nil, core.Internal(err)
	}
	var prev config.Mappings
	if n > 1 {
		p, _, err := s.loadDoc(ctx, n-1)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, core.Internal(err)
		}
		if p != nil {
			prev = p.m
		}
	}
	latest, err := s.store.LatestConfig(ctx)
	if err != nil {
		return nil, core.Internal(err)
	}
	out := &VersionDiff{VersionView: viewOf(*meta), Live: latest.Version == n, Mappings: core.RedactMappings(doc.m), Diff: core.DiffMappings(prev, doc.m)}
	if out.Diff == nil {
		out.Diff = []core.DiffLine{}
	}
	return out, nil
}

func (s *Admin) listVersions(c *gin.Context) ([]VersionView, *core.Error) {
	var before int64
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "before must be a version number.")
		}
		before = n
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxAuditPage {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "limit must be between 1 and %d.", store.MaxAuditPage)
		}
		limit = n
	}
	vs, err := s.store.ListConfigs(c.Request.Context(), before, limit)
	if err != nil {
		return nil, core.Internal(err)
	}
	out := make([]VersionView, 0, len(vs))
	for _, v := range vs {
		out = append(out, viewOf(v))
	}
	return out, nil
}

func (s *Admin) apiListVersions(c *gin.Context) {
	vs, e := s.listVersions(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": vs})
}

func (s *Admin) apiGetVersion(c *gin.Context) {
	v, e := s.versionWithDiff(c)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	c.JSON(http.StatusOK, v)
}

// restore makes an old version's document the next version.
func (s *Admin) restore(c *gin.Context) (*commitResult, *problemsError) {
	n, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil || n < 1 {
		return nil, &problemsError{Error: core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no such version.")}
	}
	old, _, err := s.loadDoc(c.Request.Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &problemsError{Error: core.Errorf(http.StatusNotFound, core.CodeNotFound, "There is no such version.")}
	}
	if err != nil {
		return nil, &problemsError{Error: core.Internal(err)}
	}
	return s.commit(c.Request.Context(), principalOf(c), change{
		summary: fmt.Sprintf("restored version %d", n),
		apply: func(m *config.Mappings, _ int64) *core.Error {
			*m = core.CloneMappings(old.m)
			return nil
		},
	})
}

func (s *Admin) apiRestoreVersion(c *gin.Context) {
	res, pe := s.restore(c)
	if pe != nil {
		s.failChange(c, pe)
		return
	}
	written(c, http.StatusOK, res, docETag(res.version), gin.H{"version": res.version})
}
