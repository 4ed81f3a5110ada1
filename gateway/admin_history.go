package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/config"
	"fedgate/gateway/store"
)

// diffLine is one difference between two documents, at a readable path
// such as pools[team].rules[2].role (providers by id, pools by name).
type DiffLine struct {
	Path string `json:"path"`
	Op   string `json:"op"` // added | removed | changed
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// secretFields are shown as "(secret)" in diffs, whatever their value.
var secretFields = map[string]bool{"client_secret": true, "password_hash": true, "sp_key": true}

// diffMappings lists what changed from a to b, sorted by path.
func DiffMappings(a, b config.Mappings) []DiffLine {
	fa, fb := flattenMappings(a), flattenMappings(b)
	var out []DiffLine
	for p, va := range fa {
		vb, ok := fb[p]
		switch {
		case !ok:
			out = append(out, DiffLine{Path: p, Op: "removed", Old: va.shown})
		case va.raw != vb.raw:
			out = append(out, DiffLine{Path: p, Op: "changed", Old: va.shown, New: vb.shown})
		}
	}
	for p, vb := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, DiffLine{Path: p, Op: "added", New: vb.shown})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

type leaf struct{ raw, shown string }

// flattenMappings turns a document into path -> leaf value.
func flattenMappings(m config.Mappings) map[string]leaf {
	out := map[string]leaf{}
	for _, p := range m.Providers {
		flattenValue(out, fmt.Sprintf("providers[%s]", p.ID), p, false)
	}
	for _, p := range m.Pools {
		flattenValue(out, fmt.Sprintf("pools[%s]", p.Name), p, false)
	}
	return out
}

func flattenValue(out map[string]leaf, path string, v any, secret bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return
	}
	flattenGeneric(out, path, generic, secret)
}

func flattenGeneric(out map[string]leaf, path string, v any, secret bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			flattenGeneric(out, path+"."+k, c, secret || secretFields[k])
		}
	case []any:
		for i, c := range t {
			flattenGeneric(out, fmt.Sprintf("%s[%d]", path, i), c, secret)
		}
	default:
		b, _ := json.Marshal(t)
		l := leaf{raw: string(b), shown: string(b)}
		if s, ok := t.(string); ok {
			l.shown = s
		}
		if secret {
			l.shown = "(secret)"
		}
		out[path] = l
	}
}

// versionView is one version in API answers.
type versionView struct {
	Version   int64     `json:"version"`
	Author    string    `json:"author"`
	Source    string    `json:"source"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
	Hash      string    `json:"hash"`
}

func viewOf(v store.ConfigVersion) versionView {
	return versionView{Version: v.Version, Author: v.Author, Source: v.Source, Comment: v.Comment, CreatedAt: v.CreatedAt, Hash: v.Hash}
}

// versionDiff is a version with what it changed from the one before.
type versionDiff struct {
	versionView
	Live     bool            `json:"live"`
	Mappings config.Mappings `json:"mappings"`
	Diff     []DiffLine      `json:"diff"`
}

func (s *Server) versionWithDiff(c *gin.Context) (*versionDiff, *Error) {
	n, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil || n < 1 {
		return nil, Errorf(http.StatusNotFound, CodeNotFound, "There is no such version.")
	}
	ctx := c.Request.Context()
	doc, meta, err := s.loadDoc(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, CodeNotFound, "There is no such version.")
	}
	if err != nil {
		return nil, Internal(err)
	}
	var prev config.Mappings
	if n > 1 {
		p, _, err := s.loadDoc(ctx, n-1)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, Internal(err)
		}
		if p != nil {
			prev = p.m
		}
	}
	latest, err := s.store.LatestConfig(ctx)
	if err != nil {
		return nil, Internal(err)
	}
	out := &versionDiff{versionView: viewOf(*meta), Live: latest.Version == n, Mappings: RedactMappings(doc.m), Diff: DiffMappings(prev, doc.m)}
	if out.Diff == nil {
		out.Diff = []DiffLine{}
	}
	return out, nil
}

func (s *Server) listVersions(c *gin.Context) ([]versionView, *Error) {
	var before int64
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, Errorf(http.StatusBadRequest, CodeInvalidRequest, "before must be a version number.")
		}
		before = n
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxAuditPage {
			return nil, Errorf(http.StatusBadRequest, CodeInvalidRequest, "limit must be between 1 and %d.", store.MaxAuditPage)
		}
		limit = n
	}
	vs, err := s.store.ListConfigs(c.Request.Context(), before, limit)
	if err != nil {
		return nil, Internal(err)
	}
	out := make([]versionView, 0, len(vs))
	for _, v := range vs {
		out = append(out, viewOf(v))
	}
	return out, nil
}

func (s *Server) apiListVersions(c *gin.Context) {
	vs, e := s.listVersions(c)
	if e != nil {
		s.fail(c, e)
		return
	}
	c.JSON(http.StatusOK, gin.H{"versions": vs})
}

func (s *Server) apiGetVersion(c *gin.Context) {
	v, e := s.versionWithDiff(c)
	if e != nil {
		s.fail(c, e)
		return
	}
	c.JSON(http.StatusOK, v)
}

// restore makes an old version's document the next version.
func (s *Server) restore(c *gin.Context) (*commitResult, *problemsError) {
	n, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil || n < 1 {
		return nil, &problemsError{Error: Errorf(http.StatusNotFound, CodeNotFound, "There is no such version.")}
	}
	old, _, err := s.loadDoc(c.Request.Context(), n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &problemsError{Error: Errorf(http.StatusNotFound, CodeNotFound, "There is no such version.")}
	}
	if err != nil {
		return nil, &problemsError{Error: Internal(err)}
	}
	return s.commit(c.Request.Context(), adminFrom(c), change{
		summary: fmt.Sprintf("restored version %d", n),
		apply: func(m *config.Mappings, _ int64) *Error {
			*m = CloneMappings(old.m)
			return nil
		},
	})
}

func (s *Server) apiRestoreVersion(c *gin.Context) {
	res, pe := s.restore(c)
	if pe != nil {
		s.failChange(c, pe)
		return
	}
	written(c, http.StatusOK, res, docETag(res.version), gin.H{"version": res.version})
}
