package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fedgate/exchange"
	"fedgate/gateway/core"
	"fedgate/gateway/wire"
)

func TestAPICredentialsSuccess(t *testing.T) {
	h := newGWHarness(t)
	for _, tc := range []struct {
		name, token, body, role string
		dur                     time.Duration
	}{
		{"one role, pool by name", gwTokenAlice, `{"pool":"team"}`, gwReader, time.Hour},
		{"pool by id, provider named", gwTokenAlice, `{"pool":"` + gwTeamID + `","provider":"app","duration_seconds":900}`, gwReader, 15 * time.Minute},
		{"picked role", gwTokenCarol, `{"pool":"team","role_arn":"` + gwAdmin + `"}`, gwAdmin, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.sts.Reset()
			w := h.api(tc.token, tc.body)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("credentials are cacheable")
			}
			var got wire.Credentials
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.AccessKeyID == "" || got.SecretAccessKey == "" || got.SessionToken == "" || got.RoleARN != tc.role ||
				!strings.HasPrefix(got.IdentityID, "us-east-1:") || !strings.Contains(got.AssumedRoleARN, ":assumed-role/") {
				t.Errorf("response %+v", got)
			}
			if exp, err := time.Parse(time.RFC3339, got.Expiration); err != nil || !exp.Equal(h.clock.Now().Add(tc.dur)) {
				t.Errorf("expiration %q, want now+%s", got.Expiration, tc.dur)
			}
			calls := h.sts.WebIdentityCalls()
			if len(calls) != 1 || calls[0].RoleARN != tc.role || calls[0].Duration != tc.dur || calls[0].Token == tc.token {
				t.Fatalf("STS calls %+v (gateway-token mode must send fedgate's own token)", calls)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	longToken := strings.Repeat("a", core.MaxTokenBytes+1)
	// 2^55 seconds wraps to exactly 0 when multiplied into nanoseconds.
	const wrap = 1 << 55
	tests := []struct {
		name      string
		req       func() *http.Request
		status    int
		code      string
		challenge string
	}{
		{"no authorization", func() *http.Request { return gwReq("", "application/json", `{"pool":"team"}`) },
			401, core.CodeUnauthorized, `Bearer realm="fedgate"`},
		{"basic auth", func() *http.Request {
			r := gwReq("", "application/json", `{"pool":"team"}`)
			r.Header.Set("Authorization", "Basic YWxpY2U6cHc=")
			return r
		}, 401, core.CodeUnauthorized, `Bearer realm="fedgate"`},
		{"empty bearer", func() *http.Request {
			r := gwReq("", "application/json", `{"pool":"team"}`)
			r.Header.Set("Authorization", "Bearer   ")
			return r
		}, 401, core.CodeUnauthorized, `Bearer realm="fedgate"`},
		{"bearer too long", func() *http.Request { return gwReq(longToken, "application/json", `{"pool":"team"}`) },
			401, core.CodeInvalidToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"forged token", func() *http.Request { return gwReq(gwTokenForged, "application/json", `{"pool":"team"}`) },
			401, core.CodeInvalidToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"not a JWT", func() *http.Request { return gwReq("opaque-access-token", "application/json", `{"pool":"team"}`) },
			401, core.CodeInvalidToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"issuer of no provider of the pool", func() *http.Request { return gwReq(gwTokenForeign, "application/json", `{"pool":"team"}`) },
			401, core.CodeInvalidToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"expired token", func() *http.Request { return gwReq(gwTokenExpired, "application/json", `{"pool":"team"}`) },
			401, core.CodeExpiredToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"no content type", func() *http.Request { return gwReq(gwTokenAlice, "", `{"pool":"team"}`) },
			415, core.CodeInvalidRequest, ""},
		{"form content type", func() *http.Request { return gwReq(gwTokenAlice, "application/x-www-form-urlencoded", `pool=team`) },
			415, core.CodeInvalidRequest, ""},
		{"json with charset is fine, bad json is not", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json; charset=utf-8", `{"pool":`)
		}, 400, core.CodeInvalidRequest, ""},
		{"body too large", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","x":"`+strings.Repeat("x", gwMaxBody)+`"}`)
		}, 413, core.CodeTooLarge, ""},
		{"empty body", func() *http.Request { return gwReq(gwTokenAlice, "application/json", ``) },
			400, core.CodeInvalidRequest, ""},
		{"unknown field", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{"pool":"team","admin":true}`) },
			400, core.CodeInvalidRequest, ""},
		{"huge unknown field", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","`+strings.Repeat("x", 10000)+`":1}`)
		}, 400, core.CodeInvalidRequest, ""},
		{"huge pool name", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"`+strings.Repeat("x", 10000)+`"}`)
		}, 404, core.CodeUnknownPool, ""},
		{"pool name cut inside a UTF-8 sequence", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"x`+strings.Repeat("é", 100)+`"}`)
		}, 404, core.CodeUnknownPool, ""},
		{"wrong type", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{"pool":7}`) },
			400, core.CodeInvalidRequest, ""},
		{"two objects", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{"pool":"team"}{"pool":"team"}`) },
			400, core.CodeInvalidRequest, ""},
		{"an array", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `[]`) },
			400, core.CodeInvalidRequest, ""},
		{"no pool", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{}`) },
			400, core.CodeInvalidRequest, ""},
		{"unknown pool", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{"pool":"nope"}`) },
			404, core.CodeUnknownPool, ""},
		{"provider not in pool", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","provider":"other"}`)
		},
			400, core.CodeUnknownProvider, ""},
		{"provider that takes no tokens", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","provider":"demo"}`)
		},
			400, core.CodeUnknownProvider, ""},
		{"app provider not in that pool", func() *http.Request { return gwReq(gwTokenAlice, "application/json", `{"pool":"solo"}`) },
			401, core.CodeInvalidToken, `Bearer realm="fedgate", error="invalid_token"`},
		{"no rule matches", func() *http.Request { return gwReq(gwTokenBob, "application/json", `{"pool":"team"}`) },
			403, core.CodeNoMatchingRule, ""},
		{"role required", func() *http.Request { return gwReq(gwTokenCarol, "application/json", `{"pool":"team"}`) },
			400, core.CodeRoleRequired, ""},
		{"role not entitled", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","role_arn":"`+gwAdmin+`"}`)
		}, 403, core.CodeRoleNotEntitled, ""},
		{"duration too short", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":899}`)
		},
			400, core.CodeInvalidRequest, ""},
		{"duration negative", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":-3600}`)
		},
			400, core.CodeInvalidRequest, ""},
		{"duration above the role's", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":3601}`)
		},
			400, core.CodeInvalidRequest, ""},
		{"duration not an int", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":1e99}`)
		},
			400, core.CodeInvalidRequest, ""},
		{"tag from a list claim", func() *http.Request {
			return gwReq(gwToken(gwAppIss, "multi"), "application/json", `{"pool":"team"}`)
		}, 403, "tag_limit", ""},
		// Regression: time.Duration(n)*time.Second overflowed and wrapped a
		// huge duration_seconds back into range.
		{"duration overflow wraps to 1800s", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":`+strconv.Itoa(wrap+1800)+`}`)
		}, 400, core.CodeInvalidRequest, ""},
		{"duration overflow wraps to 100s", func() *http.Request {
			return gwReq(gwTokenAlice, "application/json", `{"pool":"team","duration_seconds":`+strconv.Itoa(wrap+100)+`}`)
		}, 400, core.CodeInvalidRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newGWHarness(t)
			before := h.state()
			w := h.do(tt.req())
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Error("refusal is cacheable")
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			rid := w.Header().Get("X-Request-Id")
			e := gwAPIError(t, w)
			if e.Code != tt.code || e.Message == "" || e.RequestID != rid || rid == "" {
				t.Errorf("body %+v (request id header %q), want code %q", e, rid, tt.code)
			}
			if tt.code == core.CodeRoleRequired && (len(e.Roles) != 2 || e.Roles[0] != gwAdmin) {
				t.Errorf("roles %v, want both of carol's", e.Roles)
			}
			if tt.code != core.CodeRoleRequired && len(e.Roles) > 0 {
				t.Errorf("roles leaked on %s: %v", tt.code, e.Roles)
			}
			if after := h.state(); after != before {
				t.Errorf("refusal changed the store: %+v -> %+v", before, after)
			}
			if n := len(h.sts.WebIdentityCalls()); n != 0 {
				t.Errorf("%d STS calls on a refusal", n)
			}
			warns := h.logs.AtLevel(t, "WARN")
			wantWarns := 1
			if tt.status == http.StatusNotFound {
				wantWarns = 0 // 404s log at DEBUG
			}
			if len(warns) != wantWarns {
				t.Errorf("%d WARN lines, want %d:\n%s", len(warns), wantWarns, h.logs)
			}
			for _, r := range warns {
				if r["code"] != tt.code || r["request_id"] != rid {
					t.Errorf("WARN line %v lacks code %q / request id", r, tt.code)
				}
			}
			// The message never echoes a token and stays short whatever
			// the caller sent.
			if strings.Contains(e.Message, "sig-") || strings.Contains(e.Message, strings.Repeat("x", 100)) || len(e.Message) > 300 || !utf8.ValidString(e.Message) {
				t.Errorf("message echoes input: %q", e.Message)
			}
		})
	}
}

// STS refusals keep their status and get an sts_ code; the identity exists
// (its id is the minted token's subject) but nothing else changes.
func TestAPISTSRefusals(t *testing.T) {
	for _, tc := range []struct {
		code, apiCode string
		status        int
	}{
		{exchange.CodeAccessDenied, "sts_access_denied", 403},
		{exchange.CodeInvalidIdentityToken, "sts_invalid_identity_token", 401},
		{exchange.CodeThrottling, "sts_throttling", 503},
		{exchange.CodeNetwork, "sts_network_error", 503},
		{exchange.CodeIDPCommunicationError, "sts_idp_communication_error", 502},
		{"SomethingNew", "sts_something_new", 502},
	} {
		t.Run(tc.code, func(t *testing.T) {
			h := newGWHarness(t)
			h.sts.Fail(exchange.NewSTSError(tc.code, errors.New("private STS detail 1234")))
			w := h.api(gwTokenAlice, `{"pool":"team"}`)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			e := gwAPIError(t, w)
			if e.Code != tc.apiCode || strings.Contains(e.Message, "private") {
				t.Errorf("error %+v", e)
			}
			if s := h.state(); s.configVersion != 1 {
				t.Errorf("config version %d", s.configVersion)
			}
			level := "WARN"
			if tc.status >= 500 {
				level = "ERROR"
			}
			n := 0
			for _, r := range h.logs.AtLevel(t, level) {
				if r["msg"] == "request refused" || r["msg"] == "request failed" {
					n++
				}
			}
			if n != 1 || len(h.logs.AtLevel(t, "WARN"))+len(h.logs.AtLevel(t, "ERROR")) != 1+boolInt(level == "ERROR") {
				t.Errorf("want the refusal logged once at %s (plus the access line for 5xx):\n%s", level, h.logs)
			}
			if !strings.Contains(h.logs.String(), "private STS detail 1234") {
				t.Error("the private cause is not in the operator's log")
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func gwReq(bearer, contentType, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/credentials", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// 404 and 405 answer in JSON under /api/ and to JSON clients, as pages
// elsewhere.
func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	h := newGWHarness(t)
	for _, tc := range []struct {
		method, path, accept string
		status               int
		code                 string
		json                 bool
	}{
		{"GET", "/api/v1/nope", "", 404, core.CodeNotFound, true},
		{"GET", "/api/v1/credentials", "", 405, core.CodeMethodNotAllowed, true},
		{"DELETE", "/api/v1/credentials", "text/html", 405, core.CodeMethodNotAllowed, true},
		{"GET", "/nope", "", 404, core.CodeNotFound, false},
		{"GET", "/nope", "text/html,application/xhtml+xml", 404, core.CodeNotFound, false},
		{"GET", "/nope", "application/json", 404, core.CodeNotFound, true},
		{"POST", "/healthz", "", 405, core.CodeMethodNotAllowed, false},
		{"PUT", "/roles", "", 405, core.CodeMethodNotAllowed, false},
		{"GET", "/pools/solo/nope", "", 404, core.CodeNotFound, false},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.accept, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			w := h.do(req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			ct := w.Header().Get("Content-Type")
			if tc.json {
				if e := gwAPIError(t, w); !strings.HasPrefix(ct, "application/json") || e.Code != tc.code || e.RequestID == "" {
					t.Errorf("%s %+v", ct, e)
				}
				return
			}
			body := w.Body.String()
			if !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "<code>"+tc.code+"</code>") ||
				!strings.Contains(body, "fedgate.css") {
				t.Errorf("%s, not a product page:\n%s", ct, body)
			}
		})
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 80, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"},  // é is 2 bytes: cutting at 2 would split it
		{"a€b", 3, "a…"}, // € is 3 bytes
		{"€€", 1, "…"},
	} {
		got := core.Truncate(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
