package main

// End-to-end: saml-broker with an OIDC upstream, the audit log's
// refusals, `fedgate keys list` with the broker's keys, and simulate with
// a real SAML response (run inside TestEndToEndSAML). Real binary,
// real oidc-provider, moto with IAM enforcement, xmlsec1.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

const poolBrokerOIDC = "us-east-1:8d4c3f5b-3e4a-4b8c-8d9e-0f1a2b3c4d5e"

// startBrokerOIDCEnv: moto with IAM enforcement (roles trusting the broker's
// IAM SAML provider), oidc-provider as the only upstream, and fedgate with
// one saml-broker pool on it and an admin API token (viewer).
func startBrokerOIDCEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, brokerTrust)
	e.serve(e.startCorpIdP() + fmt.Sprintf(`pools:
  - id: %s
    name: broker-oidc
    providers: [corp]
    mode: saml-broker
    saml_provider_arn: %s
    principal_tags: {department: department}
    duration_seconds: 1800
%s
%s`, poolBrokerOIDC, brokerProviderARN, readersRule(e.readerRole), e.adminToken("viewer")))
	return e
}

// brokerXMLSecVerifier returns a check of a broker response's signature by
// xmlsec1 against the one certificate fedgate's IdP metadata publishes.
func brokerXMLSecVerifier(t *testing.T, baseURL string) func(doc []byte) (bool, string) {
	t.Helper()
	status, _, md := get(t, http.DefaultClient, baseURL+"/saml/idp/metadata")
	if status != http.StatusOK {
		t.Fatalf("IdP metadata: HTTP %d", status)
	}
	certs := regexp.MustCompile(`<ds:X509Certificate>([^<]+)</ds:X509Certificate>`).FindAllStringSubmatch(md, -1)
	if len(certs) != 1 || !strings.Contains(md, `entityID="`+baseURL+`/saml/idp"`) {
		t.Fatalf("IdP metadata has %d certificates:\n%s", len(certs), md)
	}
	der, err := base64.StdEncoding.DecodeString(certs[0][1])
	if err != nil {
		t.Fatal(err)
	}
	return peers.XMLSecVerifier(t, der)
}

// compactJWT finds a JWS in compact form: header.payload.signature.
var compactJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// TestEndToEndSAMLBrokerOIDC: a person signs in through the real
// oidc-provider into a saml-broker pool; fedgate signs its own SAML
// response and moto's AssumeRoleWithSAML vends credentials that IAM limits
// to the mapped role; xmlsec1 verifies fedgate's signature.
func TestEndToEndSAMLBrokerOIDC(t *testing.T) {
	e := startBrokerOIDCEnv(t)
	var brokerAssertion []byte
	var vended []string

	t.Run("browser sign-in at oidc-provider into a saml-broker pool vends IAM-limited credentials", func(t *testing.T) {
		c, r := e.signInPage("broker-oidc", "alice")
		if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("callback: HTTP %d, Cache-Control %q\n%s", r.status, r.header.Get("Cache-Control"), r.body)
		}
		creds := credsFromPage(t, pickOnlyRole(t, c, e.url, r.body))
		vended = append(vended, creds.SecretAccessKey, creds.SessionToken)
		e.assertLeastPrivilege(creds)
		raw := e.assertBrokerResponse(t)
		// A JWT is dotted base64url starting with a JSON header; "eyJ" alone
		// also turns up in the base64 of the certificate or signature.
		if doc := string(raw); compactJWT.MatchString(doc) || strings.Contains(doc, e.idp.Issuer) {
			t.Errorf("broker response carries the upstream ID token or names the upstream issuer %s:\n%s", e.idp.Issuer, doc)
		}
		brokerAssertion = raw
	})

	t.Run("the JSON API exchanges an oidc-provider ID token through the broker", func(t *testing.T) {
		before := e.tap.Count()
		r := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "broker-oidc", "duration_seconds": 900})
		creds := r.creds(t)
		vended = append(vended, creds.SecretAccessKey, creds.SessionToken)
		e.assertLeastPrivilege(creds)
		if call := e.tap.Last(t); e.tap.Count() != before+1 || call.Get("Action") != "AssumeRoleWithSAML" || call.Get("DurationSeconds") != "900" {
			t.Errorf("STS call: %s duration %s", call.Get("Action"), call.Get("DurationSeconds"))
		}
	})

	t.Run("xmlsec1 verifies the broker's assertion and refuses it after any change", func(t *testing.T) {
		assertXMLSecVerifies(t, e.url, brokerAssertion, "alice@example.com", "team-data-reader", "saml-provider/fedgate", ">eng<", `NotOnOrAfter="`)
	})

	t.Run("bob is refused: no rule, no STS call, no identity", func(t *testing.T) {
		w := e.watchVends()
		if _, r := e.signInPage("broker-oidc", "bob"); r.status != http.StatusForbidden || !strings.Contains(r.body, "no_matching_rule") {
			t.Fatalf("bob: HTTP %d", r.status)
		}
		w.none(t, "a refused sign-in")
	})

	t.Run("the audit log holds every vend and refusal, and no token, assertion or credential", func(t *testing.T) {
		expired := e.token("alice", e2eClientID, -10*time.Minute)
		forged := forgedToken(t, e.idp.Issuer)
		for _, tc := range []struct {
			token  string
			status int
		}{{expired, 401}, {forged, 401}, {"", 401}} {
			if r := e.api(tc.token, map[string]any{"pool": "broker-oidc"}); r.status != tc.status {
				t.Fatalf("API refusal: HTTP %d %v", r.status, r.body)
			}
		}
		if status, _, _ := get(t, browser(t), e.url+"/callback?state=deadbeef&code=x"); status != http.StatusBadRequest {
			t.Fatalf("unknown state: HTTP %d", status)
		}
		entries := e.audit(t, "kind=vend&limit=100")
		find := func(result, reason string) *auditEntry {
			for i := range entries {
				if entries[i].Result == result && entries[i].Reason == reason {
					return &entries[i]
				}
			}
			t.Errorf("no %s entry with reason %q in %+v", result, reason, entries)
			return nil
		}
		if en := find("ok", "rule s3 readers"); en != nil && (en.Pool != poolBrokerOIDC || en.Provider != "corp" || en.Subject != "alice" || en.Role != e.readerRole || !strings.HasPrefix(en.IdentityID, "us-east-1:") || en.Source != "127.0.0.1") {
			t.Errorf("vend entry = %+v", *en)
		}
		if en := find("refused", "no_matching_rule"); en != nil && en.Subject != "bob" {
			t.Errorf("bob's refusal = %+v", *en)
		}
		for _, reason := range []string{"expired_token", "invalid_token"} {
			if en := find("refused", reason); en != nil && (en.Pool != poolBrokerOIDC || en.Provider != "corp" || en.Subject != "" || en.IdentityID != "" || en.RequestID == "") {
				t.Errorf("%s refusal = %+v", reason, *en)
			}
		}
		find("refused", "unauthorized")
		find("refused", "sign_in_expired")

		export := e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit/export", "")
		if export.status != http.StatusOK || strings.Count(export.body, "\n") < 7 {
			t.Fatalf("export: HTTP %d\n%s", export.status, export.body)
		}
		secrets := append([]string{expired, forged, e2eClientSecret, e2eMasterKey, e2eAdminToken, base64.StdEncoding.EncodeToString(brokerAssertion)}, vended...)
		secrets = append(secrets, strings.Split(expired, ".")...)
		for i, s := range secrets {
			if len(s) < 16 {
				continue
			}
			if strings.Contains(export.body, s) {
				t.Errorf("secret #%d (%.10s…) is in the audit log", i, s)
			}
		}
		if strings.Contains(export.body, "<saml") || strings.Contains(export.body, "PHNhbWxw") {
			t.Error("a SAML document is in the audit log")
		}
	})

	t.Run("fedgate keys list shows the broker's keys through a rotation", func(t *testing.T) {
		out, err := e.fedgate("keys", "list")
		if err != nil {
			t.Fatalf("keys list: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var saml []string
		for _, l := range lines {
			if strings.Contains(l, "\tSAML-RSA-SHA256\t") {
				saml = append(saml, l)
			}
		}
		if len(saml) != 1 || !strings.HasSuffix(saml[0], "\tactive") || len(lines) != 2 || !strings.Contains(lines[0], "\tES256\t") {
			t.Fatalf("keys list before rotation (want the issuer's ES256 key and one active broker key):\n%s", out)
		}
		if out, err := e.fedgate("saml-metadata", "--rotate", "--overlap", "1h"); err != nil {
			t.Fatalf("saml-metadata --rotate: %v\n%s", err, out)
		}
		out, err = e.fedgate("keys", "list")
		if err != nil || !strings.Contains(out, strings.Split(saml[0], "\t")[0]+"\tSAML-RSA-SHA256\t") ||
			strings.Count(out, "\tactive until ") != 1 || strings.Count(out, "\tannounced: signs from ") != 1 {
			t.Fatalf("keys list after rotation (%v):\n%s", err, out)
		}
	})
}

// simulateWithSAMLResponse is run by TestEndToEndSAML: an admin pastes a
// real samlify response into simulate; it is verified but not consumed, so
// the same response still vends once afterwards; a tampered one is
// refused; in a saml-forward pool the trace shows the narrowing to the
// roles the response offers.
func (e *samlEnv) simulateWithSAMLResponse(t *testing.T) {
	simulate := func(body map[string]any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		r := e.adminAPI(nil, http.MethodPost, "/admin/api/v1/simulate", string(raw))
		var out map[string]any
		r.json(t, &out)
		return r.status, out
	}
	calls := e.tap.Count()
	resp := e.idpInitiated("alice")
	for range 2 {
		status, res := simulate(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp})
		if status != http.StatusOK || res["verified"] != true || res["verified_from"] != "saml_response" ||
			res["subject"] != "alice-samlify" || res["granted"] != true {
			t.Fatalf("simulate: HTTP %d %v", status, res)
		}
		grants, _ := res["grants"].([]any)
		if g, _ := grants[0].(map[string]any); len(grants) != 1 || g["role"] != e.readerRole || !strings.Contains(fmt.Sprint(g["trust_policy"]), "sts:AssumeRoleWithSAML") {
			t.Errorf("grants = %v", grants)
		}
	}
	if e.tap.Count() != calls {
		t.Error("simulate called STS")
	}
	// Simulated twice, still unused: it vends once, then it is a replay.
	e.assertLeastPrivilege(e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp}).creds(t))
	if r := e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp}); r.status != http.StatusBadRequest {
		t.Errorf("second use: HTTP %d %v", r.status, r.body)
	}
	tampered := e.tamperedResponse("alice")
	if status, res := simulate(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": tampered}); status != http.StatusUnauthorized || res["code"] != "invalid_token" {
		t.Errorf("tampered: HTTP %d %v", status, res)
	}
	// carol's IdP offers only the admin role; the rules give her the reader role.
	status, res := simulate(map[string]any{"pool": "fwd-samlify", "saml_response": e.idpInitiated("carol")})
	if status != http.StatusOK || res["granted"] != false || !strings.Contains(fmt.Sprint(res["steps"]), "dropped: the SAML Role attribute does not offer "+e.readerRole) {
		t.Errorf("saml-forward simulate for carol: HTTP %d %v", status, res)
	}
}

// auditOfSAMLRefusals is run by TestEndToEndSAML: SAML responses refused
// before any identity exists (a tampered one, a replay) are in the audit
// log with the pool, the provider and the public code, and no subject.
func (e *samlEnv) auditOfSAMLRefusals(t *testing.T) {
	valid := e.idpInitiated("alice")
	tampered := e.tamperedResponse("alice")
	for _, resp := range []string{tampered, valid, valid} {
		e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp})
	}
	got := e.audit(t, "kind=vend&limit=3")
	want := []struct{ result, reason, subject string }{
		{"refused", "invalid_token", ""}, // the replay
		{"ok", "rule s3 readers", "alice-samlify"},
		{"refused", "invalid_token", ""}, // the tampered response
	}
	if len(got) != len(want) {
		t.Fatalf("audit = %+v", got)
	}
	for i, w := range want {
		en := got[i]
		if en.Result != w.result || en.Reason != w.reason || en.Subject != w.subject || en.Pool != poolSAMLBroker || en.Provider != "samlify" || en.RequestID == "" {
			t.Errorf("entry %d = %+v, want %+v", i, en, w)
		}
	}
	export := e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit/export", "").body
	if strings.Contains(export, valid[:40]) || strings.Contains(export, tampered[:40]) || strings.Contains(export, "PHNhbWxw") {
		t.Error("a SAML response is in the audit log")
	}
}

// cognitoAudit is run by TestEndToEndCognito after the SDKs' calls: guest
// vends (boto3, JS), GetOpenIdToken and the refusals the SDKs parsed are in
// the audit log, and every Cognito vend counts in fedgate_vends_total.
func (e *env) cognitoAudit(t *testing.T, guestRole string) {
	var guests, okVends, openID int
	reasons := map[string]bool{}
	for _, en := range e.audit(t, "kind=vend&limit=1000") {
		switch {
		case en.Result == "ok" && en.Reason == "unauthenticated role":
			guests++
			okVends++
			if en.Provider != "cognito:unauthenticated" || en.Role != guestRole || en.Pool != poolMobileID || !strings.HasPrefix(en.IdentityID, "us-east-1:") || en.Subject != "" {
				t.Errorf("guest vend entry = %+v", en)
			}
		case en.Result == "ok" && en.Reason == "open id token (classic flow)":
			openID++
		case en.Result == "ok":
			okVends++
		default:
			reasons[en.Reason] = true
		}
	}
	if guests < 2 || openID == 0 {
		t.Errorf("%d guest vends and %d GetOpenIdToken entries audited; want the SDKs' guest vends and the classic flow", guests, openID)
	}
	for _, r := range []string{"role_not_entitled", "NotAuthorizedException"} {
		if !reasons[r] {
			t.Errorf("no refusal with reason %q in the audit log; reasons: %v", r, reasons)
		}
	}
	_, _, metrics := get(t, http.DefaultClient, e.url+"/metrics")
	m := regexp.MustCompile(`fedgate_vends_total\{result="ok",surface="cognito"\} (\d+)`).FindStringSubmatch(metrics)
	if m == nil || m[1] != fmt.Sprint(okVends) {
		t.Errorf("fedgate_vends_total for cognito = %v, want %d (the audited Cognito vends)", m, okVends)
	}
}
