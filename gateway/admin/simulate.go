package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fedgate/exchange/rules"
	"fedgate/gateway/config"
	"fedgate/gateway/core"
	"fedgate/gateway/httpkit"
	"fedgate/idp"
)

// simulateRequest is the body of POST /admin/api/v1/simulate: claims as
// JSON, or a real ID token or SAML response that the pool's provider
// verifies.
type simulateRequest struct {
	Pool     string         `json:"pool"`
	Claims   map[string]any `json:"claims,omitempty"`
	IDToken  string         `json:"id_token,omitempty"`
	Provider string         `json:"provider,omitempty"`
	// SAMLResponse: base64, as posted to the ACS.
	SAMLResponse string `json:"saml_response,omitempty"`
}

// SimStep is one line of the decision trace.
type SimStep struct {
	Index   int    `json:"index"` // rule position, -1 for token/default/denial steps
	Number  int    `json:"-"`     // Index + 1, as the UI numbers rules
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	Detail  string `json:"detail"`
}

// SimGrant is one role the claims would get, with what STS would be sent.
type SimGrant struct {
	Role              string            `json:"role"`
	Rule              string            `json:"rule"`
	SessionPolicy     string            `json:"session_policy,omitempty"`
	DurationSeconds   int               `json:"duration_seconds"`
	Tags              map[string]string `json:"session_tags,omitempty"`
	TransitiveTagKeys []string          `json:"transitive_tag_keys,omitempty"`
	TagProblem        string            `json:"tag_problem,omitempty"`
	TrustPolicy       string            `json:"trust_policy,omitempty"`
	TrustWhy          string            `json:"trust_why,omitempty"`
}

// SimResult is the whole answer. Nothing is vended and nothing stored.
type SimResult struct {
	Pool        string         `json:"pool"`
	PoolName    string         `json:"pool_name"`
	Version     int64          `json:"version"`
	Mode        string         `json:"mode"`
	Resolution  string         `json:"resolution"`
	Subject     string         `json:"subject,omitempty"`
	Verified    bool           `json:"verified"` // claims came from a verified token
	Claims      map[string]any `json:"claims"`
	Source      string         `json:"source"`
	Granted     bool           `json:"granted"`
	Steps       []SimStep      `json:"steps"`
	Grants      []SimGrant     `json:"grants"`
	IssuerURL   string         `json:"issuer"`
	Audience    string         `json:"audience"`
	RegisterCmd string         `json:"register_command,omitempty"`

	// VerifiedFrom is what was verified: "id_token" or "saml_response".
	VerifiedFrom string `json:"verified_from,omitempty"`
}

// simulate explains what the live rules of a pool decide for claims.
func (s *Admin) simulate(ctx context.Context, req simulateRequest) (*SimResult, *core.Error) {
	if req.Pool == "" {
		return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Choose a pool.")
	}
	snap := s.core.Snapshot()
	pool := snap.Pools[req.Pool]
	if pool == nil {
		return nil, core.Errorf(http.StatusNotFound, core.CodeUnknownPool, "There is no pool named %q.", core.Truncate(req.Pool, 80))
	}
	res := &SimResult{Pool: pool.Cfg.ID, PoolName: pool.Cfg.Name, Version: snap.Version, Mode: pool.Cfg.Mode,
		Resolution: nonEmpty(pool.Cfg.Resolution, rules.FirstMatch), IssuerURL: pool.IssuerURL, Audience: pool.Cfg.Audience()}
	claims := req.Claims
	switch {
	case req.SAMLResponse != "":
		if req.IDToken != "" || req.Claims != nil {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Give claims, an ID token or a SAML response, only one.")
		}
		ident, e := s.simulateSAML(ctx, pool, req.Provider, req.SAMLResponse)
		if e != nil {
			return nil, e
		}
		claims, res.Subject, res.Verified, res.VerifiedFrom = ident.Claims, ident.Subject, true, "saml_response"
	case req.IDToken != "" && req.Claims != nil:
		return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Give claims or an ID token, not both.")
	case req.IDToken != "":
		if len(req.IDToken) > core.MaxTokenBytes {
			return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidToken, "The ID token is too long.")
		}
		prov, e := core.TokenProvider(pool, req.Provider, strings.TrimSpace(req.IDToken))
		if e != nil {
			return nil, e
		}
		ident, err := prov.Provider.(idp.TokenVerifier).VerifyToken(ctx, strings.TrimSpace(req.IDToken))
		if err != nil {
			return nil, core.FromIdP(err)
		}
		claims, res.Subject, res.Verified, res.VerifiedFrom = ident.Claims, ident.Subject, true, "id_token"
	case claims == nil:
		return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "Give the claims as a JSON object, or paste an ID token.")
	default:
		if sub, ok := claims["sub"].(string); ok {
			res.Subject = sub
		}
	}
	res.Claims = claims
	d, steps := pool.Mapping.Explain(claims)
	d, steps = narrowSimulated(pool, claims, d, steps) // what saml-forward keeps
	res.Source, res.Granted = d.Source, !d.Denied()
	for _, st := range steps {
		res.Steps = append(res.Steps, SimStep{Index: st.Index, Number: st.Index + 1, Rule: st.Rule, Matched: st.Matched, Detail: st.Detail})
	}
	trust := map[string][2]string{}
	if rep, err := core.TrustPolicies(s.fileWith(snapshotMappings(snap)), pool.Cfg.ID); err == nil {
		for _, r := range rep.Roles {
			trust[r.RoleARN] = [2]string{r.Policy, r.Why}
		}
		res.RegisterCmd = rep.RegisterIn
	}
	for _, g := range d.Grants {
		sg := SimGrant{Role: g.Role, Rule: g.Rule, SessionPolicy: g.SessionPolicy, DurationSeconds: pool.Cfg.DurationSeconds}
		if g.Duration > 0 {
			sg.DurationSeconds = int(g.Duration.Seconds())
		}
		tags, transitive, err := pool.Mapping.PrincipalTags(claims, g)
		if err != nil {
			sg.TagProblem = err.Error()
		} else {
			sg.Tags, sg.TransitiveTagKeys = tags, transitive
		}
		if t, ok := trust[g.Role]; ok {
			sg.TrustPolicy, sg.TrustWhy = t[0], t[1]
		} else if len(d.Grants) > 0 && d.Source == rules.SourceToken {
			sg.TrustWhy = "role named by the token; give it the trust policy of the pool's other roles"
		}
		res.Grants = append(res.Grants, sg)
	}
	if res.Grants == nil {
		res.Grants = []SimGrant{}
	}
	return res, nil
}

// snapshotMappings is the document a snapshot was built from.
func snapshotMappings(snap *core.Snapshot) (m config.Mappings) {
	for _, id := range core.SortedProviderIDs(snap) {
		m.Providers = append(m.Providers, snap.Providers[id].Cfg)
	}
	seen := map[*core.Pool]bool{}
	for _, p := range snap.Ordered {
		if !seen[p] {
			seen[p] = true
			m.Pools = append(m.Pools, p.Cfg)
		}
	}
	return m
}

func nonEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// apiSimulate: POST /admin/api/v1/simulate.
func (s *Admin) apiSimulate(c *gin.Context) {
	var req simulateRequest
	if e := httpkit.DecodeJSON(c, &req); e != nil {
		s.kit.Fail(c, e)
		return
	}
	res, e := s.simulate(c.Request.Context(), req)
	if e != nil {
		s.kit.Fail(c, e)
		return
	}
	c.JSON(http.StatusOK, res)
}

// parseClaims reads pasted claims: one JSON object.
func parseClaims(raw string) (map[string]any, *core.Error) {
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&claims); err != nil || claims == nil || dec.More() {
		return nil, core.Errorf(http.StatusBadRequest, core.CodeInvalidRequest, "The claims must be one JSON object, e.g. {\"sub\": \"alice\", \"groups\": [\"admins\"]}.")
	}
	return claims, nil
}
