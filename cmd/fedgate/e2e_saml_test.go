package main

// End-to-end SAML: the real binary, two independent upstream SAML
// IdPs (npm samlify, Debian's SimpleSAMLphp), moto's STS with IAM
// enforcement, and xmlsec1 verifying what fedgate signs as a SAML broker.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
)

const (
	poolSAMLFwdSamlify = "us-east-1:5a1f0c2e-0b1d-4e5f-9a6b-7c8d9e0f1a2b"
	poolSAMLFwdSSP     = "us-east-1:6b2a1d3f-1c2e-4f6a-8b7c-8d9e0f1a2b3c"
	poolSAMLBroker     = "us-east-1:7c3b2e4a-2d3f-4a7b-9c8d-9e0f1a2b3c4d"
	poolSAMLFwdAWS     = "us-east-1:8d4c3f5b-3e4a-4b8c-8d9e-0f1a2b3c4d5e" // e2e_saml_more_test.go
	samlRoleAttr       = "https://aws.amazon.com/SAML/Attributes/Role"
	samlSessionAttr    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	brokerProviderARN  = "arn:aws:iam::123456789012:saml-provider/fedgate"
)

func idpProviderARN(name string) string { return "arn:aws:iam::123456789012:saml-provider/" + name }

// brokerTrust is the trust the team roles get in the SAML environments:
// the broker's IAM SAML provider, for AWS's own audience.
const brokerTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + brokerProviderARN + `"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`

type samlEnv struct {
	*env
	samlify, ssp *peers.SAMLIdP
	// samlifyAWS is an IdP set up for AWS itself (audience
	// urn:amazon:webservices, Recipient the AWS sign-in endpoint); its
	// responses reach fedgate only through the API (e2e_saml_more_test.go).
	samlifyAWS *peers.SAMLIdP
}

func samlUsers(provider, readerRole, adminRole string) []peers.SAMLUser {
	arn := idpProviderARN(provider)
	return []peers.SAMLUser{
		{Username: "alice", Password: "alice-pw", NameID: "alice-" + provider, Attributes: map[string][]string{
			"email": {"alice@example.com"}, "groups": {"engineering", "s3-readers"}, "department": {"eng"},
			samlRoleAttr: {readerRole + "," + arn}, samlSessionAttr: {"alice@example.com"},
		}},
		{Username: "bob", Password: "bob-pw", NameID: "bob-" + provider, Attributes: map[string][]string{
			"email": {"bob@example.com"}, "groups": {"sales"}, "department": {"sales"},
			samlRoleAttr: {readerRole + "," + arn}, samlSessionAttr: {"bob@example.com"},
		}},
		// The rules give carol the reader role, but her IdP only offers her
		// the admin role: saml-forward must offer her nothing.
		{Username: "carol", Password: "carol-pw", NameID: "carol-" + provider, Attributes: map[string][]string{
			"email": {"carol@example.com"}, "groups": {"s3-readers"}, "department": {"eng"},
			samlRoleAttr: {adminRole + "," + arn}, samlSessionAttr: {"carol@example.com"},
		}},
	}
}

func startSAMLEnv(t *testing.T) *samlEnv {
	t.Helper()
	e := &samlEnv{env: newEnv(t, brokerTrust)}
	e.samlify = peers.StartSamlify(t, samlUsers("samlify", e.readerRole, e.adminRole), e.url+"/saml/metadata/samlify")
	e.samlifyAWS = peers.StartSamlify(t, samlUsers("aws-idp", e.readerRole, e.adminRole), e.url+"/saml/metadata/aws-idp")
	e.ssp = peers.StartSimpleSAMLphp(t, samlUsers("ssp", e.readerRole, e.adminRole),
		peers.SAMLSP{EntityID: e.url + "/saml/metadata/ssp", ACSURL: e.url + "/saml/acs/ssp"})

	rule := readersRule(e.readerRole)
	admin := e.adminToken("viewer") // simulate and the audit log (e2e_gaps_test.go)
	e.serve(fmt.Sprintf(`providers:
  - id: samlify
    type: saml
    display_name: samlify IdP
    idp_metadata_url: %s
    allow_idp_initiated: true
  - id: ssp
    type: saml
    display_name: SimpleSAMLphp
    idp_metadata_url: %s
  - id: aws-idp
    type: saml
    display_name: IdP configured for AWS
    idp_metadata_url: %s
    entity_id: urn:amazon:webservices
    acs_url: https://signin.aws.amazon.com/saml
    allow_idp_initiated: true
pools:
  - id: %s
    name: fwd-samlify
    providers: [samlify]
    mode: saml-forward
    saml_provider_arn: %s
%s
  - id: %s
    name: fwd-ssp
    providers: [ssp]
    mode: saml-forward
    saml_provider_arn: %s
%s
  - id: %s
    name: fwd-aws
    providers: [aws-idp]
    mode: saml-forward
    saml_provider_arn: %s
%s
  - id: %s
    name: broker
    providers: [samlify, ssp]
    mode: saml-broker
    saml_provider_arn: %s
    principal_tags: {department: department}
    duration_seconds: 1800
%s
%s`, e.samlify.MetadataURL, e.ssp.MetadataURL, e.samlifyAWS.MetadataURL,
		poolSAMLFwdSamlify, idpProviderARN("samlify"), rule,
		poolSAMLFwdSSP, idpProviderARN("ssp"), rule,
		poolSAMLFwdAWS, idpProviderARN("aws-idp"), rule,
		poolSAMLBroker, brokerProviderARN, rule, admin))
	return e
}

// post sends the IdP's HTTP-POST form to fedgate's ACS from browser c.
func post(t *testing.T, c *http.Client, r peers.PostedResponse) (int, string) {
	t.Helper()
	return postForm(t, c, r.ACS, url.Values{"SAMLResponse": {r.SAMLResponse}, "RelayState": {r.RelayState}})
}

// samlLogin signs user in to pool through the SAML IdP peer (fedgate's
// provider) in browser c and returns the form the IdP posts back.
func (e *samlEnv) samlLogin(c *http.Client, peer *peers.SAMLIdP, pool, provider, user string) peers.PostedResponse {
	e.t.Helper()
	return peer.Login(e.t, c, e.url+"/login/"+pool+"/"+provider, user, user+"-pw")
}

// samlAPI calls POST /api/v1/credentials with a SAML response and no bearer token.
func (e *samlEnv) samlAPI(body map[string]any) apiResult {
	e.t.Helper()
	return e.api("", body)
}

// idpInitiated fetches a signed unsolicited response from samlify.
func (e *samlEnv) idpInitiated(user string) string {
	e.t.Helper()
	return idpInitiatedFrom(e.t, e.samlify, user)
}

// tamperedResponse is a signed unsolicited response from samlify for user
// with one attribute value changed after signing.
func (e *samlEnv) tamperedResponse(user string) string {
	e.t.Helper()
	raw, err := base64.StdEncoding.DecodeString(e.idpInitiated(user))
	if err != nil {
		e.t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("s3-readers"), []byte("s3-admins!"), 1))
}

// idpInitiatedFrom fetches a signed unsolicited response from a samlify peer.
func idpInitiatedFrom(t *testing.T, peer *peers.SAMLIdP, user string) string {
	t.Helper()
	resp, err := http.Get(peer.BaseURL + "/idp-initiated?user=" + user)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ SAMLResponse string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.SAMLResponse == "" {
		t.Fatalf("samlify idp-initiated: %v", err)
	}
	return out.SAMLResponse
}

func TestEndToEndSAML(t *testing.T) {
	e := startSAMLEnv(t)

	for _, idp := range []struct {
		name, pool string
		peer       *peers.SAMLIdP
	}{{"samlify", "fwd-samlify", e.samlify}, {"ssp", "fwd-ssp", e.ssp}} {
		t.Run("saml-forward through "+idp.peer.Name+" vends least-privilege credentials", func(t *testing.T) {
			c := browser(t)
			posted := e.samlLogin(c, idp.peer, idp.pool, idp.name, "alice")
			if posted.ACS != e.url+"/saml/acs/"+idp.name || posted.RelayState == "" {
				t.Fatalf("IdP posts to %s with RelayState %q", posted.ACS, posted.RelayState)
			}
			status, page := post(t, c, posted)
			if status != http.StatusOK {
				t.Fatalf("ACS: HTTP %d\n%s", status, page)
			}
			e.assertLeastPrivilege(credsFromPage(t, pickOnlyRole(t, c, e.url, page)))
			call := e.tap.Last(t)
			if call.Get("Action") != "AssumeRoleWithSAML" || call.Get("SAMLAssertion") != posted.SAMLResponse ||
				call.Get("PrincipalArn") != idpProviderARN(idp.name) || call.Get("RoleArn") != e.readerRole {
				t.Errorf("saml-forward STS call: action %s, principal %s, role %s, assertion forwarded unchanged: %v",
					call.Get("Action"), call.Get("PrincipalArn"), call.Get("RoleArn"), call.Get("SAMLAssertion") == posted.SAMLResponse)
			}
		})
	}

	t.Run("saml-forward offers only roles both the assertion and the rules give", func(t *testing.T) {
		w := e.watchVends()
		c := browser(t)
		status, page := post(t, c, e.samlLogin(c, e.samlify, "fwd-samlify", "samlify", "carol"))
		if status != http.StatusForbidden || !strings.Contains(page, "no_matching_rule") {
			t.Fatalf("carol: HTTP %d, want 403 no_matching_rule\n%s", status, page)
		}
		w.none(t, "a refused sign-in")
	})

	var brokerAssertion []byte
	for _, idp := range []struct {
		name string
		peer *peers.SAMLIdP
	}{{"samlify", e.samlify}, {"ssp", e.ssp}} {
		t.Run("saml-broker through "+idp.peer.Name+" signs its own response for AWS", func(t *testing.T) {
			c := browser(t)
			status, page := post(t, c, e.samlLogin(c, idp.peer, "broker", idp.name, "alice"))
			if status != http.StatusOK {
				t.Fatalf("ACS: HTTP %d\n%s", status, page)
			}
			e.assertLeastPrivilege(credsFromPage(t, pickOnlyRole(t, c, e.url, page)))
			raw := e.assertBrokerResponse(t, "NotOnOrAfter=")
			if strings.Contains(string(raw), idpProviderARN(idp.name)) {
				t.Error("broker response carries the upstream IdP's Role values")
			}
			brokerAssertion = raw
		})
	}

	t.Run("the broker's assertion verifies with xmlsec1 and fails after any change", func(t *testing.T) {
		verify := assertXMLSecVerifies(t, e.url, brokerAssertion, "alice@example.com", "team-data-reader", "saml-provider/fedgate",
			`NotOnOrAfter="`, "signin.aws.amazon.com/saml</saml:Audience>", ">eng<", "PrincipalTag:department", "persistent")
		// A byte before the signature (the Assertion's Issuer) too.
		start := bytes.Index(brokerAssertion, []byte("<saml:Assertion"))
		sigStart := bytes.Index(brokerAssertion, []byte("<ds:Signature"))
		if start < 0 || sigStart < 0 {
			t.Fatal("assertion or signature not found")
		}
		i := bytes.Index(brokerAssertion[start:sigStart], []byte("/saml/idp<"))
		mutated := bytes.Clone(brokerAssertion)
		mutated[start+i+2] ^= 0x01
		if ok, _ := verify(mutated); ok {
			t.Error("xmlsec1 still verifies after changing the Assertion's Issuer")
		}
	})

	t.Run("fedgate saml-metadata prints the published certificate", func(t *testing.T) {
		out, err := e.fedgate("saml-metadata")
		if err != nil {
			t.Fatalf("saml-metadata: %v\n%s", err, out)
		}
		_, _, md := get(t, http.DefaultClient, e.url+"/saml/idp/metadata")
		cert := regexp.MustCompile(`<ds:X509Certificate>([^<]+)</ds:X509Certificate>`).FindStringSubmatch(md)
		if cert == nil || !strings.Contains(out, cert[1]) || !strings.Contains(out, "IDPSSODescriptor") {
			t.Fatalf("saml-metadata output differs from the served metadata:\n%s", out)
		}
		tp, err := e.fedgate("trust-policy", "--pool", "broker")
		if err != nil || !strings.Contains(tp, `"SAML:aud": "https://signin.aws.amazon.com/saml"`) ||
			!strings.Contains(tp, `"Federated": "`+brokerProviderARN+`"`) || !strings.Contains(tp, "sts:AssumeRoleWithSAML") ||
			!strings.Contains(tp, "create-saml-provider --name fedgate") {
			t.Fatalf("trust-policy for the broker pool (%v):\n%s", err, tp)
		}
	})

	t.Run("the JSON API takes a SAML response", func(t *testing.T) {
		r := e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": e.idpInitiated("alice"), "duration_seconds": 900})
		e.assertLeastPrivilege(r.creds(t))
		fwd := e.idpInitiated("alice")
		r = e.samlAPI(map[string]any{"pool": "fwd-samlify", "provider": "samlify", "saml_response": fwd})
		e.assertLeastPrivilege(r.creds(t))
		if e.tap.Last(t).Get("SAMLAssertion") != fwd {
			t.Error("saml-forward via the API did not pass the response to STS unchanged")
		}
	})

	t.Run("simulate checks a real SAML response without using it up", e.simulateWithSAMLResponse) // e2e_gaps_test.go
	// e2e_saml_more_test.go
	t.Run("Cognito Logins with a SAML response: GetId then GetCredentialsForIdentity (Go SDK)", e.cognitoSAMLLogins)
	t.Run("XSW and comment injection vend nothing (ACS, JSON API, Cognito)", e.attacksVendNothing)
	t.Run("saml-forward with an IdP set up for AWS: the response reaches STS byte for byte", e.samlForwardAWSAudience)
	t.Run("SAML refusals are in the audit log", e.auditOfSAMLRefusals) // e2e_gaps_test.go

	t.Run("bad input is refused, says why in the log, and stores nothing", func(t *testing.T) {
		w := e.watchVends()
		valid := e.idpInitiated("alice")
		tampered := e.tamperedResponse("alice")
		cases := []struct {
			name       string
			body       any
			wantStatus int
			wantCode   string
		}{
			{"tampered attribute", map[string]any{"pool": "broker", "provider": "samlify", "saml_response": tampered}, 401, "invalid_token"},
			{"not base64", map[string]any{"pool": "broker", "provider": "samlify", "saml_response": "%%%not-base64%%%"}, 401, "invalid_token"},
			{"not XML", map[string]any{"pool": "broker", "provider": "samlify", "saml_response": base64.StdEncoding.EncodeToString([]byte("hello"))}, 401, "invalid_token"},
			{"oversized", map[string]any{"pool": "broker", "provider": "samlify", "saml_response": strings.Repeat("A", 600<<10)}, 413, "request_too_large"},
			{"unknown pool", map[string]any{"pool": "nope", "saml_response": valid}, 404, "unknown_pool"},
			{"unsolicited to a provider that refuses it", map[string]any{"pool": "fwd-ssp", "saml_response": valid}, 400, "invalid_token"},
			{"unknown field", map[string]any{"pool": "broker", "provider": "samlify", "saml_response": valid, "extra": 1}, 400, "invalid_request"},
		}
		for _, tc := range cases {
			r := e.samlAPI(tc.body.(map[string]any))
			if r.status != tc.wantStatus || r.body["code"] != tc.wantCode {
				t.Errorf("%s: HTTP %d %v, want %d %s", tc.name, r.status, r.body["code"], tc.wantStatus, tc.wantCode)
			}
			if msg, _ := r.body["message"].(string); strings.Contains(msg, "/") && !strings.Contains(msg, "https://") {
				t.Errorf("%s: message may leak a path: %q", tc.name, msg)
			}
		}
		w.none(t, "refused responses")

		// A valid response works once; its replay is refused, across the API and the ACS alike.
		first := e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": valid})
		if first.status != http.StatusOK {
			t.Fatalf("first use: HTTP %d %v", first.status, first.body)
		}
		again := e.samlAPI(map[string]any{"pool": "broker", "provider": "samlify", "saml_response": valid})
		if again.status != http.StatusBadRequest || again.body["code"] != "invalid_token" || !strings.Contains(again.body["message"].(string), "already used") {
			t.Errorf("replay: HTTP %d %v", again.status, again.body)
		}
		// The replay cache is the gateway's, not a pool's.
		other := e.samlAPI(map[string]any{"pool": "fwd-samlify", "saml_response": valid})
		if other.status != http.StatusBadRequest || !strings.Contains(other.body["message"].(string), "already used") {
			t.Errorf("replay into another pool: HTTP %d %v", other.status, other.body)
		}

		// An SSP response posted without its flow is unsolicited, and that provider refuses those.
		c := browser(t)
		posted := e.samlLogin(c, e.ssp, "fwd-ssp", "ssp", "alice")
		status, page := postForm(t, c, posted.ACS, url.Values{"SAMLResponse": {posted.SAMLResponse}})
		if status != http.StatusBadRequest || !strings.Contains(page, "did not start this sign-in") {
			t.Errorf("unsolicited SSP response: HTTP %d\n%.500s", status, page)
		}
		// ... and its RelayState works only in the browser that started the
		// flow: without the flow cookie fedgate first re-posts the form from
		// its own origin (where a SameSite=Lax cookie would be sent), then refuses.
		stranger := browser(t)
		status, page = post(t, stranger, posted)
		if status != http.StatusOK || !strings.Contains(page, `name="fedgate_resubmit"`) {
			t.Fatalf("cross-site post without the flow cookie: HTTP %d\n%.500s", status, page)
		}
		status, page = postForm(t, stranger, posted.ACS, url.Values{"SAMLResponse": {posted.SAMLResponse}, "RelayState": {posted.RelayState}, "fedgate_resubmit": {"1"}})
		if status != http.StatusBadRequest || !strings.Contains(page, "another browser") {
			t.Errorf("a response posted from another browser: HTTP %d\n%.500s", status, page)
		}

		// bob's IdP offers the reader role, but no rule gives it to him.
		c = browser(t)
		status, page = post(t, c, e.samlLogin(c, e.samlify, "broker", "samlify", "bob"))
		if status != http.StatusForbidden || !strings.Contains(page, "no_matching_rule") {
			t.Errorf("bob: HTTP %d", status)
		}

		time.Sleep(200 * time.Millisecond) // let the log lines land
		logs := e.logs.String()
		for _, check := range []string{"assertion was already used", "unsolicited response", "response exceeds the size limit"} {
			if !strings.Contains(logs, check) {
				t.Errorf("operator log does not say %q", check)
			}
		}
		if strings.Contains(logs, valid[:60]) || strings.Contains(logs, "SAMLResponse=") {
			t.Error("the log contains a SAML response")
		}
	})
}

// assertBrokerResponse checks the last STS call, fedgate's broker's
// AssumeRoleWithSAML for alice, and the response it carries: addressed to
// AWS, issued by fedgate's IdP, naming only the mapped role, with alice's
// session name, department tag and the pool's duration (1800 s), and
// holding want too. It returns the decoded response.
func (e *env) assertBrokerResponse(t *testing.T, want ...string) []byte {
	t.Helper()
	call := e.tap.Last(t)
	if call.Get("Action") != "AssumeRoleWithSAML" || call.Get("PrincipalArn") != brokerProviderARN ||
		call.Get("RoleArn") != e.readerRole || call.Get("DurationSeconds") != "1800" {
		t.Fatalf("broker STS call: action %s principal %s role %s duration %s", call.Get("Action"), call.Get("PrincipalArn"), call.Get("RoleArn"), call.Get("DurationSeconds"))
	}
	raw, err := base64.StdEncoding.DecodeString(call.Get("SAMLAssertion"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, w := range append([]string{
		`Destination="https://signin.aws.amazon.com/saml"`, `Recipient="https://signin.aws.amazon.com/saml"`,
		`<saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience>`,
		">" + e.readerRole + "," + brokerProviderARN + "<", ">alice@example.com<", ">1800<",
		`PrincipalTag:department"`, ">eng<", "<saml:Issuer>" + e.url + "/saml/idp</saml:Issuer>",
	}, want...) {
		if !strings.Contains(doc, w) {
			t.Errorf("broker response lacks %s", w)
		}
	}
	if n := strings.Count(doc, ":role/"); n != 1 {
		t.Errorf("broker response names %d roles, want only the mapped one", n)
	}
	return raw
}

// assertXMLSecVerifies has xmlsec1 verify doc, a broker response, against
// the one certificate fedgate's IdP metadata at baseURL publishes, and
// refuse it once a bit is flipped in any of targets (each in the signed
// part after the signature). It returns the check, for other changes.
func assertXMLSecVerifies(t *testing.T, baseURL string, doc []byte, targets ...string) func([]byte) (bool, string) {
	t.Helper()
	if doc == nil {
		t.Fatal("no broker assertion recorded")
	}
	verify := brokerXMLSecVerifier(t, baseURL) // e2e_gaps_test.go
	if ok, out := verify(doc); !ok {
		t.Fatalf("xmlsec1 does not verify fedgate's assertion against its published certificate:\n%s", out)
	}
	sigEnd := bytes.Index(doc, []byte("</ds:Signature>"))
	if sigEnd < 0 {
		t.Fatal("no signature in the broker assertion")
	}
	for _, target := range targets {
		i := bytes.Index(doc[sigEnd:], []byte(target))
		if i < 0 {
			t.Fatalf("%q not in the signed part", target)
		}
		pos := sigEnd + i + len(target)/2
		mutated := bytes.Clone(doc)
		mutated[pos] ^= 0x01
		if ok, _ := verify(mutated); ok {
			t.Errorf("xmlsec1 still verifies after changing byte %d (in %q)", pos, target)
		}
	}
	return verify
}
