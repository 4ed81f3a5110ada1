package main

// More SAML end to end, on the environment of TestEndToEndSAML (real
// samlify IdPs, the real binary, moto's STS with IAM enforcement):
// Cognito Logins with a SAML response through the AWS SDK for Go, the
// signature-wrapping and comment-injection attacks posted to every surface
// that takes a SAML response, and saml-forward with an IdP set up for AWS.

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/beevik/etree"

	"fedgate/cmd/fedgate/internal/peers"
)

// cognitoSAMLLogins: the AWS SDKs send the same Logins to GetId and then to
// GetCredentialsForIdentity (and again on each refresh). A real samlify
// response works for that whole sequence; it is bound to its identity, so
// it is refused in another pool and at the JSON API, and a response spent
// at the JSON API is refused by Cognito.
func (e *samlEnv) cognitoSAMLLogins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sdk := cognitoSDK(e.url)
	arn := idpProviderARN("samlify")
	issued := e.idpInitiated("alice")
	logins := map[string]string{arn: issued}

	id, err := sdk.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolSAMLFwdSamlify), Logins: logins})
	if err != nil {
		t.Fatalf("GetId: %v", err)
	}
	for i := range 2 { // the SDK's credential provider calls again to refresh
		out, err := sdk.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: logins})
		if err != nil {
			t.Fatalf("GetCredentialsForIdentity %d after GetId with the same Logins: %v", i+1, err)
		}
		c := out.Credentials
		e.assertLeastPrivilege(peers.Creds(c.AccessKeyId, c.SecretKey, c.SessionToken))
		call := e.tap.Last(t)
		if call.Get("Action") != "AssumeRoleWithSAML" || call.Get("SAMLAssertion") != issued || call.Get("PrincipalArn") != arn || call.Get("RoleArn") != e.readerRole {
			t.Errorf("STS call: %s principal %s role %s, response forwarded unchanged: %v",
				call.Get("Action"), call.Get("PrincipalArn"), call.Get("RoleArn"), call.Get("SAMLAssertion") == issued)
		}
	}
	if again, err := sdk.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolSAMLFwdSamlify), Logins: logins}); err != nil || aws.ToString(again.IdentityId) != aws.ToString(id.IdentityId) {
		t.Errorf("GetId again: %v %v", aws.ToString(again.IdentityId), err)
	}

	w := e.watchVends()
	alreadyUsed := func(what string, err error) {
		t.Helper()
		var na *citypes.NotAuthorizedException
		if !errors.As(err, &na) || !strings.Contains(aws.ToString(na.Message), "already used") {
			t.Errorf("%s: %v, want NotAuthorizedException (already used)", what, err)
		}
	}
	// The broker pool takes samlify too, under its own IAM SAML provider ARN.
	_, err = sdk.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolSAMLBroker), Logins: map[string]string{brokerProviderARN: issued}})
	alreadyUsed("the bound response in another pool", err)
	if r := e.samlAPI(map[string]any{"pool": "fwd-samlify", "saml_response": issued}); r.status != http.StatusBadRequest || !strings.Contains(r.body["message"].(string), "already used") {
		t.Errorf("the bound response at the JSON API: HTTP %d %v", r.status, r.body)
	}
	w.none(t, "refused replays of the bound response")
	spent := e.idpInitiated("alice")
	if r := e.samlAPI(map[string]any{"pool": "fwd-samlify", "saml_response": spent}); r.status != http.StatusOK {
		t.Fatalf("JSON API: HTTP %d %v", r.status, r.body)
	}
	w = e.watchVends()
	_, err = sdk.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolSAMLFwdSamlify), Logins: map[string]string{arn: spent}})
	alreadyUsed("a response spent at the JSON API", err)
	w.none(t, "the refused replay of a spent response")
}

// samlAttack is a real samlify response changed the way an attacker would.
type samlAttack struct {
	name    string
	mutate  func(t *testing.T, doc []byte) []byte
	logSays string // the check fedgate's log must name
}

var samlAttacks = []samlAttack{
	// XSW3 (Somorovsky et al., "On Breaking SAML: Be Whoever You Want to
	// Be", USENIX Security 2012): an unsigned evil assertion before the
	// signed one, for a processor that reads the first.
	{"XSW3 evil assertion beside the signed one", func(t *testing.T, doc []byte) []byte {
		return wrapAssertion(t, doc, false)
	}, "holds 2 assertions"},
	// XSW7/8 family: the signed assertion hidden in an Extensions element,
	// the evil one where a processor looks.
	{"XSW7 signed assertion hidden in Extensions", func(t *testing.T, doc []byte) []byte {
		return wrapAssertion(t, doc, true)
	}, "holds 2 assertions"},
	// CVE-2017-11427 and siblings (Duo, "Duo Finds SAML Vulnerabilities
	// Affecting Multiple Implementations", 2018): a comment splits the
	// NameID text; exclusive C14N drops comments, so the signature still
	// verifies, and a parser reading the first text node sees "alice".
	{"comment injection in NameID", func(t *testing.T, doc []byte) []byte {
		re := regexp.MustCompile(`(<saml:NameID[^>]*>)alice-samlify(</saml:NameID>)`)
		if !re.Match(doc) {
			t.Fatal("NameID alice-samlify not found")
		}
		return re.ReplaceAll(doc, []byte("${1}alice<!---->-samlify${2}"))
	}, "carries an XML comment"},
}

// wrapAssertion adds an unsigned copy of the assertion naming "admin",
// before the signed one or, with hide, with the signed one moved into
// samlp:Extensions.
func wrapAssertion(t *testing.T, raw []byte, hide bool) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	signed := root.FindElement("./Assertion")
	if signed == nil || signed.FindElement("./Signature") == nil {
		t.Fatal("no signed assertion in samlify's response")
	}
	evil := signed.Copy()
	evil.CreateAttr("ID", "_evil-assertion")
	evil.RemoveChild(evil.FindElement("./Signature"))
	evil.FindElement("./Subject/NameID").SetText("admin-samlify")
	if hide {
		root.RemoveChild(signed)
		ext := etree.NewElement("samlp:Extensions")
		ext.AddChild(signed)
		root.InsertChildAt(root.FindElement("./Status").Index(), ext)
		root.AddChild(evil)
	} else {
		root.InsertChildAt(signed.Index(), evil)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// attacksVendNothing posts each attack to the ACS (in a real browser flow),
// the JSON API and Cognito's GetId: each is refused with the precise
// public error, STS is never called, no identity is stored, and the log
// names the check. The untouched response they were made from still
// works afterwards, so nothing an attack did spent it.
func (e *samlEnv) attacksVendNothing(t *testing.T) {
	for _, a := range samlAttacks {
		t.Run(a.name, func(t *testing.T) {
			w := e.watchVends()
			logged := strings.Count(e.logs.String(), a.logSays)
			c := browser(t)
			posted := e.samlLogin(c, e.samlify, "fwd-samlify", "samlify", "alice")
			posted.SAMLResponse = mutateResponse(t, posted.SAMLResponse, a.mutate)
			if status, page := post(t, c, posted); status != http.StatusUnauthorized || !strings.Contains(page, "invalid_token") {
				t.Errorf("ACS: HTTP %d\n%.400s", status, page)
			}

			valid := e.idpInitiated("alice")
			attack := mutateResponse(t, valid, a.mutate)
			if r := e.samlAPI(map[string]any{"pool": "fwd-samlify", "provider": "samlify", "saml_response": attack}); r.status != http.StatusUnauthorized || r.body["code"] != "invalid_token" {
				t.Errorf("JSON API: HTTP %d %v", r.status, r.body)
			}
			body := `{"IdentityPoolId":"` + poolSAMLFwdSamlify + `","Logins":{"` + idpProviderARN("samlify") + `":"` + attack + `"}}`
			if r := postCognito(t, e.url, "AWSCognitoIdentityService.GetId", body); r.status != 400 || r.header.Get("x-amzn-ErrorType") != "NotAuthorizedException" {
				t.Errorf("Cognito GetId: HTTP %d %s", r.status, r.body)
			}
			w.none(t, "the attack")
			time.Sleep(100 * time.Millisecond) // let the log lines land
			if n := strings.Count(e.logs.String(), a.logSays) - logged; n < 3 {
				t.Errorf("the log names %q %d times, want once per surface (3)", a.logSays, n)
			}
			// The response the attack was made from was not spent.
			if r := e.samlAPI(map[string]any{"pool": "fwd-samlify", "provider": "samlify", "saml_response": valid}); r.status != http.StatusOK {
				t.Errorf("the untouched response: HTTP %d %v", r.status, r.body)
			}
		})
	}
}

func mutateResponse(t *testing.T, posted string, mutate func(*testing.T, []byte) []byte) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(posted)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(mutate(t, raw))
}

// samlForwardAWSAudience: the set-up that real AWS accepts. The IdP is
// configured for AWS (audience urn:amazon:webservices, Destination and
// Recipient https://signin.aws.amazon.com/saml), and fedgate's provider
// names AWS's values as its entity id and ACS; the app hands the response
// to the JSON API, and STS receives exactly the bytes the IdP issued.
func (e *samlEnv) samlForwardAWSAudience(t *testing.T) {
	issued := idpInitiatedFrom(t, e.samlifyAWS, "alice")
	raw, err := base64.StdEncoding.DecodeString(issued)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Destination="https://signin.aws.amazon.com/saml"`, `Recipient="https://signin.aws.amazon.com/saml"`, `<saml:Audience>urn:amazon:webservices</saml:Audience>`} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("the IdP's response lacks %s:\n%s", want, raw)
		}
	}
	r := e.samlAPI(map[string]any{"pool": "fwd-aws", "saml_response": issued})
	e.assertLeastPrivilege(r.creds(t))
	call := e.tap.Last(t)
	got, err := base64.StdEncoding.DecodeString(call.Get("SAMLAssertion"))
	if err != nil || call.Get("SAMLAssertion") != issued || string(got) != string(raw) {
		t.Errorf("STS did not receive the IdP's response byte for byte (%d bytes issued, %d received)", len(raw), len(got))
	}
	if call.Get("Action") != "AssumeRoleWithSAML" || call.Get("PrincipalArn") != idpProviderARN("aws-idp") || call.Get("RoleArn") != e.readerRole {
		t.Errorf("STS call: %s principal %s role %s", call.Get("Action"), call.Get("PrincipalArn"), call.Get("RoleArn"))
	}

	// carol's IdP offers only the admin role, which no rule gives her; a
	// response for fedgate's own SP is not for this provider.
	calls := e.tap.Count()
	if r := e.samlAPI(map[string]any{"pool": "fwd-aws", "saml_response": idpInitiatedFrom(t, e.samlifyAWS, "carol")}); r.status != http.StatusForbidden || r.body["code"] != "no_matching_rule" {
		t.Errorf("carol: HTTP %d %v", r.status, r.body)
	}
	if r := e.samlAPI(map[string]any{"pool": "fwd-aws", "saml_response": e.idpInitiated("alice")}); r.status != http.StatusUnauthorized {
		t.Errorf("a response addressed to another SP: HTTP %d %v", r.status, r.body)
	}
	if e.tap.Count() != calls {
		t.Error("a refused response called STS")
	}
}
