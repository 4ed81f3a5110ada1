package main

// End-to-end: saml-broker with an OIDC upstream, the audit log's
// refusals, `fedgate keys list` with the broker's keys, and simulate with
// a real SAML response (run inside TestEndToEndSAML). Real binary,
// real oidc-provider, moto with IAM enforcement, xmlsec1.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

const poolBrokerOIDC = "us-east-1:8d4c3f5b-3e4a-4b8c-8d9e-0f1a2b3c4d5e"

type brokerOIDCEnv struct {
	*env
	stap *samlTap
}

// startBrokerOIDCEnv: moto with IAM enforcement (roles trusting the broker's
// IAM SAML provider), oidc-provider as the only upstream, and fedgate with
// one saml-broker pool on it and an admin API token (viewer).
func startBrokerOIDCEnv(t *testing.T) *brokerOIDCEnv {
	t.Helper()
	t.Setenv(e2eAdminTokenEnv, e2eAdminToken)
	e := &brokerOIDCEnv{env: &env{t: t, bin: fedgateBinary(t), dir: t.TempDir(), tap: &stsTap{}}, stap: &samlTap{}}
	e.moto = peers.StartMoto(t)
	port := freePort(t)
	e.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	e.idp = peers.StartOIDC(t, []peers.OIDCClient{{ID: e2eClientID, Secret: e2eClientSecret, RedirectURIs: []string{e.url + "/callback"}}})

	e.readerRole, e.adminRole = setupTeamAccount(t, e.moto, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+brokerProviderARN+`"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`)

	tapURL := startSTSTap(t, e.moto, e.stap)

	cfg := fmt.Sprintf(`
server:
  listen: 127.0.0.1:%d
  public_url: %s
  reload_interval: 1s
store:
  path: fedgate.db
keys:
  master_key: ${FEDGATE_MASTER_KEY}
sts:
  endpoint: %s
providers:
  - id: corp
    type: oidc
    display_name: Corp SSO
    issuer: %s
    client_id: %s
    client_secret: ${CORP_CLIENT_SECRET}
    scopes: [openid, profile, email, groups]
pools:
  - id: %s
    name: broker-oidc
    providers: [corp]
    mode: saml-broker
    saml_provider_arn: %s
    principal_tags: {department: department}
    duration_seconds: 1800
    rules:
      - name: s3 readers
        match: [{claim: groups, op: equals, value: s3-readers}]
        role: %s
admin:
  api_token_env: %s
  api_token_role: viewer
`, port, e.url, tapURL, e.idp.Issuer, e2eClientID, poolBrokerOIDC, brokerProviderARN, e.readerRole, e2eAdminTokenEnv)
	e.configPath = filepath.Join(e.dir, "fedgate.yaml")
	if err := os.WriteFile(e.configPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	return e
}

// brokerXMLSecVerifier returns a check of a broker response's signature by
// xmlsec1 against the one certificate fedgate's IdP metadata publishes.
func brokerXMLSecVerifier(t *testing.T, baseURL string) func(doc []byte) (bool, string) {
	t.Helper()
	xmlsec, err := exec.LookPath("xmlsec1")
	if err != nil {
		peers.Required(t, "xmlsec1 (apt-get install xmlsec1)")
	}
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
	dir := t.TempDir()
	certPath := filepath.Join(dir, "fedgate-idp.pem")
	pemCert := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(certPath, []byte(pemCert), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(doc []byte) (bool, string) {
		p := filepath.Join(dir, "response.xml")
		if err := os.WriteFile(p, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(xmlsec, "--verify", "--pubkey-cert-pem", certPath,
			"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", p).CombinedOutput()
		return err == nil, string(out)
	}
}

// auditEntry is one line of the admin audit API.
type auditEntry struct {
	IdentityID string `json:"identity_id"`
	Provider   string `json:"provider"`
	Subject    string `json:"subject"`
	Pool       string `json:"pool"`
	Role       string `json:"role"`
	Source     string `json:"source_address"`
	RequestID  string `json:"request_id"`
	Kind       string `json:"kind"`
	Result     string `json:"result"`
	Reason     string `json:"reason"`
}

// TestEndToEndSAMLBrokerOIDC: a person signs in through the real
// oidc-provider into a saml-broker pool; fedgate signs its own SAML
// response and moto's AssumeRoleWithSAML vends credentials that IAM limits
// to the mapped role; xmlsec1 verifies fedgate's signature.
func TestEndToEndSAMLBrokerOIDC(t *testing.T) {
	e := startBrokerOIDCEnv(t)
	var brokerAssertion []byte
	var vended []string

	t.Run("browser sign-in at oidc-provider into a saml-broker pool vends IAM-limited credentials", func(t *testing.T) {
		c := browser(t)
		cb := e.idp.Login(t, c, e.url+"/login/broker-oidc/corp", "alice")
		status, h, page := get(t, c, cb.String())
		if status != http.StatusOK || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("callback: HTTP %d, Cache-Control %q\n%s", status, h.Get("Cache-Control"), page)
		}
		creds := credsFromPage(t, page)
		vended = append(vended, creds.SecretAccessKey, creds.SessionToken)
		e.assertLeastPrivilege(creds)
		call := e.stap.last(t)
		if call.Get("Action") != "AssumeRoleWithSAML" || call.Get("PrincipalArn") != brokerProviderARN ||
			call.Get("RoleArn") != e.readerRole || call.Get("DurationSeconds") != "1800" {
			t.Fatalf("STS call: action %s principal %s role %s duration %s", call.Get("Action"), call.Get("PrincipalArn"), call.Get("RoleArn"), call.Get("DurationSeconds"))
		}
		raw, err := base64.StdEncoding.DecodeString(call.Get("SAMLAssertion"))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(raw)
		for _, want := range []string{
			`Destination="https://signin.aws.amazon.com/saml"`, `Recipient="https://signin.aws.amazon.com/saml"`,
			`<saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience>`,
			">" + e.readerRole + "," + brokerProviderARN + "<", ">alice@example.com<", ">1800<",
			`PrincipalTag:department"`, ">eng<", "<saml:Issuer>" + e.url + "/saml/idp</saml:Issuer>",
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("broker response lacks %s", want)
			}
		}
		if n := strings.Count(doc, ":role/"); n != 1 {
			t.Errorf("broker response names %d roles, want only the mapped one", n)
		}
		if strings.Contains(doc, "eyJ") || strings.Contains(doc, e.idp.Issuer) {
			t.Error("broker response carries the upstream ID token or names the upstream issuer")
		}
		brokerAssertion = raw
	})

	t.Run("the JSON API exchanges an oidc-provider ID token through the broker", func(t *testing.T) {
		before := e.stap.count()
		r := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "broker-oidc", "duration_seconds": 900})
		creds := r.creds(t)
		vended = append(vended, creds.SecretAccessKey, creds.SessionToken)
		e.assertLeastPrivilege(creds)
		if call := e.stap.last(t); e.stap.count() != before+1 || call.Get("Action") != "AssumeRoleWithSAML" || call.Get("DurationSeconds") != "900" {
			t.Errorf("STS call: %s duration %s", call.Get("Action"), call.Get("DurationSeconds"))
		}
	})

	t.Run("xmlsec1 verifies the broker's assertion and refuses it after any change", func(t *testing.T) {
		if brokerAssertion == nil {
			t.Fatal("no broker assertion recorded")
		}
		verify := brokerXMLSecVerifier(t, e.url)
		if ok, out := verify(brokerAssertion); !ok {
			t.Fatalf("xmlsec1 does not verify fedgate's assertion against its published certificate:\n%s", out)
		}
		sigEnd := bytes.Index(brokerAssertion, []byte("</ds:Signature>"))
		for _, target := range []string{"alice@example.com", "team-data-reader", "saml-provider/fedgate", ">eng<", `NotOnOrAfter="`} {
			i := bytes.Index(brokerAssertion[sigEnd:], []byte(target))
			if sigEnd < 0 || i < 0 {
				t.Fatalf("%q not in the signed part", target)
			}
			mutated := bytes.Clone(brokerAssertion)
			mutated[sigEnd+i+len(target)/2] ^= 0x01
			if ok, _ := verify(mutated); ok {
				t.Errorf("xmlsec1 still verifies after changing %q", target)
			}
		}
	})

	t.Run("bob is refused: no rule, no STS call, no identity", func(t *testing.T) {
		calls, ids := e.stap.count(), e.identityCount()
		c := browser(t)
		status, _, page := get(t, c, e.idp.Login(t, c, e.url+"/login/broker-oidc/corp", "bob").String())
		if status != http.StatusForbidden || !strings.Contains(page, "no_matching_rule") {
			t.Fatalf("bob: HTTP %d", status)
		}
		if e.stap.count() != calls || e.identityCount() != ids {
			t.Error("a refused sign-in called STS or stored an identity")
		}
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
		var got struct{ Entries []auditEntry }
		e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit?kind=vend&limit=100", "").json(t, &got)
		find := func(result, reason string) *auditEntry {
			for i := range got.Entries {
				if got.Entries[i].Result == result && got.Entries[i].Reason == reason {
					return &got.Entries[i]
				}
			}
			t.Errorf("no %s entry with reason %q in %+v", result, reason, got.Entries)
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
		if export.status != http.StatusOK || strings.Count(string(export.raw), "\n") < 7 {
			t.Fatalf("export: HTTP %d\n%s", export.status, export.raw)
		}
		secrets := append([]string{expired, forged, e2eClientSecret, e2eMasterKey, e2eAdminToken, base64.StdEncoding.EncodeToString(brokerAssertion)}, vended...)
		secrets = append(secrets, strings.Split(expired, ".")...)
		for i, s := range secrets {
			if len(s) < 16 {
				continue
			}
			if bytes.Contains(export.raw, []byte(s)) {
				t.Errorf("secret #%d (%.10s…) is in the audit log", i, s)
			}
		}
		if bytes.Contains(export.raw, []byte("<saml")) || bytes.Contains(export.raw, []byte("PHNhbWxw")) {
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
	calls := e.stap.count()
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
	if e.stap.count() != calls {
		t.Error("simulate called STS")
	}
	// Simulated twice, still unused: it vends once, then it is a replay.
	e.assertLeastPrivilege(e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp}).creds(t))
	if r := e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp}); r.status != http.StatusBadRequest {
		t.Errorf("second use: HTTP %d %v", r.status, r.body)
	}
	raw, _ := base64.StdEncoding.DecodeString(e.idpInitiated("alice"))
	tampered := base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("s3-readers"), []byte("s3-admins!"), 1))
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
	raw, _ := base64.StdEncoding.DecodeString(e.idpInitiated("alice"))
	tampered := base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("s3-readers"), []byte("s3-admins!"), 1))
	for _, resp := range []string{tampered, valid, valid} {
		e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": resp})
	}
	var got struct{ Entries []auditEntry }
	e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit?kind=vend&limit=3", "").json(t, &got)
	want := []struct{ result, reason, subject string }{
		{"refused", "invalid_token", ""}, // the replay
		{"ok", "rule s3 readers", "alice-samlify"},
		{"refused", "invalid_token", ""}, // the tampered response
	}
	if len(got.Entries) != len(want) {
		t.Fatalf("audit = %+v", got.Entries)
	}
	for i, w := range want {
		en := got.Entries[i]
		if en.Result != w.result || en.Reason != w.reason || en.Subject != w.subject || en.Pool != poolSAMLBroker || en.Provider != "samlify" || en.RequestID == "" {
			t.Errorf("entry %d = %+v, want %+v", i, en, w)
		}
	}
	export := e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit/export", "").raw
	if bytes.Contains(export, []byte(valid[:40])) || bytes.Contains(export, []byte(tampered[:40])) || bytes.Contains(export, []byte("PHNhbWxw")) {
		t.Error("a SAML response is in the audit log")
	}
}

// cognitoAudit is run by TestEndToEndCognito after the SDKs' calls: guest
// vends (boto3, JS), GetOpenIdToken and the refusals the SDKs parsed are in
// the audit log, and every Cognito vend counts in fedgate_vends_total.
func (e *env) cognitoAudit(t *testing.T, guestRole string) {
	var got struct{ Entries []auditEntry }
	e.adminAPI(nil, http.MethodGet, "/admin/api/v1/audit?kind=vend&limit=1000", "").json(t, &got)
	var guests, okVends, openID int
	reasons := map[string]bool{}
	for _, en := range got.Entries {
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
