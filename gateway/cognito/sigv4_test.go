package cognito

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fedgate/gateway/core"
)

const (
	suiteKeyID  = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	fgKeyID     = "FGAKAAAAAAAAAAAAAAAA"
)

// resolverOf knows suiteKeyID and fgKeyID with suiteSecret; disabled lists
// keys that are disabled.
func resolverOf(disabled ...string) keyResolver {
	return func(_ context.Context, id string) (signedKey, string, bool, error) {
		if id != suiteKeyID && id != fgKeyID {
			return signedKey{}, "", false, core.ErrAccessKeyNotFound
		}
		off := false
		for _, d := range disabled {
			off = off || d == id
		}
		return signedKey{ID: id, Role: "editor"}, suiteSecret, off, nil
	}
}

type sigVector struct {
	method, url, body string
	headers           map[string]string
}

func (v sigVector) request() (*http.Request, []byte) {
	r := httptest.NewRequest(v.method, v.url, strings.NewReader(v.body))
	for k, val := range v.headers {
		r.Header.Set(k, val)
	}
	return r, []byte(v.body)
}

// The AWS Signature Version 4 test suite's vectors (get-vanilla,
// post-vanilla, post-x-www-form-urlencoded), with their published
// signatures: the verifier accepts what AWS's reference signs.
func TestSigV4AWSSuiteVectors(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v := sigV4{service: "service", required: []string{"host", "x-amz-date"}, resolve: resolverOf()}
	for name, vec := range map[string]sigVector{
		"get-vanilla": {"GET", "https://example.amazonaws.com/", "", map[string]string{
			"X-Amz-Date":    "20150830T123600Z",
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}},
		"post-vanilla": {"POST", "https://example.amazonaws.com/", "", map[string]string{
			"X-Amz-Date":    "20150830T123600Z",
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"}},
		"post-x-www-form-urlencoded": {"POST", "https://example.amazonaws.com/", "Param1=value1", map[string]string{
			"Content-Type":  "application/x-www-form-urlencoded",
			"X-Amz-Date":    "20150830T123600Z",
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"}},
	} {
		t.Run(name, func(t *testing.T) {
			r, body := vec.request()
			key, e := v.verify(r, body, at)
			if e != nil || key.ID != suiteKeyID {
				t.Fatalf("verify = %+v, %v; want the key, accepted", key, e)
			}
		})
	}
}

// cognitoVector is a ListIdentities request as botocore 1.x's SigV4Auth
// signs it (User-Agent unsigned, as botocore leaves it).
func cognitoVector() sigVector {
	return sigVector{"POST", "http://127.0.0.1:8443/", `{"IdentityPoolId": "us-east-1:0f8c0000-0000-0000-0000-000000000001", "MaxResults": 10}`, map[string]string{
		"Content-Type":  "application/x-amz-json-1.1",
		"X-Amz-Target":  "AWSCognitoIdentityService.ListIdentities",
		"User-Agent":    "Boto3/1.x",
		"X-Amz-Date":    "20261203T120000Z",
		"Authorization": "AWS4-HMAC-SHA256 Credential=FGAKAAAAAAAAAAAAAAAA/20261203/us-east-1/cognito-identity/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=69cb12fc8bf098a229511d62454e097b0ba1bbda6723b836ebfc8e916c7aacb7",
	}}
}

func TestSigV4CognitoVectors(t *testing.T) {
	signedAt := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	v := sigV4{service: SigningService, required: requiredSigned, resolve: resolverOf()}
	tests := []struct {
		name     string
		edit     func(*sigVector)
		now      time.Time
		resolver keyResolver
		want     string // __type, "" = accepted
		msg      string // part of the message
	}{
		{name: "good", now: signedAt},
		{name: "good at the window's far edge", now: signedAt.Add(5 * time.Minute)},
		{name: "clock of the client ahead", now: signedAt.Add(-4 * time.Minute)},
		{name: "unsigned header changed", now: signedAt, edit: func(v *sigVector) { v.headers["User-Agent"] = "curl/8" }},
		{name: "unsigned header added", now: signedAt, edit: func(v *sigVector) { v.headers["X-Forwarded-For"] = "10.0.0.1" }},
		{name: "wrong secret", now: signedAt, resolver: func(context.Context, string) (signedKey, string, bool, error) {
			return signedKey{ID: fgKeyID}, "not-the-secret", false, nil
		}, want: ErrInvalidSignature, msg: "does not match"},
		{name: "expired", now: signedAt.Add(5*time.Minute + time.Second), want: ErrInvalidSignature, msg: "Signature expired"},
		{name: "from the future", now: signedAt.Add(-6 * time.Minute), want: ErrInvalidSignature, msg: "Signature expired"},
		{name: "signed header changed", now: signedAt, edit: func(v *sigVector) {
			v.headers["X-Amz-Target"] = "AWSCognitoIdentityService.DeleteIdentities"
		}, want: ErrInvalidSignature, msg: "does not match"},
		{name: "body changed", now: signedAt, edit: func(v *sigVector) { v.body = strings.Replace(v.body, "10", "60", 1) }, want: ErrInvalidSignature, msg: "does not match"},
		{name: "host changed", now: signedAt, edit: func(v *sigVector) { v.url = "http://127.0.0.1:9443/" }, want: ErrInvalidSignature},
		{name: "payload hash header lies", now: signedAt, edit: func(v *sigVector) {
			v.headers["X-Amz-Content-Sha256"] = strings.Repeat("0", 64)
		}, want: ErrInvalidSignature, msg: "x-amz-content-sha256"},
		{name: "unknown key", now: signedAt, resolver: func(context.Context, string) (signedKey, string, bool, error) {
			return signedKey{}, "", false, core.ErrAccessKeyNotFound
		}, want: ErrUnrecognizedClient},
		{name: "disabled key", now: signedAt, resolver: resolverOf(fgKeyID), want: ErrUnrecognizedClient},
		{name: "no authorization", now: signedAt, edit: func(v *sigVector) { delete(v.headers, "Authorization") }, want: ErrMissingAuth},
		{name: "other algorithm", now: signedAt, edit: func(v *sigVector) {
			v.headers["Authorization"] = strings.Replace(v.headers["Authorization"], "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1", 1)
		}, want: ErrIncompleteSig},
		{name: "no signature", now: signedAt, edit: func(v *sigVector) {
			a := v.headers["Authorization"]
			v.headers["Authorization"] = a[:strings.Index(a, ", Signature=")]
		}, want: ErrIncompleteSig, msg: "'Signature'"},
		{name: "target not signed", now: signedAt, edit: func(v *sigVector) {
			v.headers["Authorization"] = strings.Replace(v.headers["Authorization"], ";x-amz-target", "", 1)
		}, want: ErrIncompleteSig, msg: "x-amz-target"},
		{name: "another service", now: signedAt, edit: func(v *sigVector) {
			v.headers["Authorization"] = strings.Replace(v.headers["Authorization"], "/cognito-identity/", "/sts/", 1)
		}, want: ErrInvalidSignature, msg: "correct service"},
		{name: "scope date differs", now: signedAt, edit: func(v *sigVector) {
			v.headers["Authorization"] = strings.Replace(v.headers["Authorization"], "/20261203/", "/20261202/", 1)
		}, want: ErrInvalidSignature, msg: "Credential scope"},
		{name: "bad date", now: signedAt, edit: func(v *sigVector) { v.headers["X-Amz-Date"] = "yesterday" }, want: ErrIncompleteSig},
		{name: "session token", now: signedAt, edit: func(v *sigVector) { v.headers["X-Amz-Security-Token"] = "IQo" }, want: ErrUnrecognizedClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vec := cognitoVector()
			if tt.edit != nil {
				tt.edit(&vec)
			}
			ver := v
			if tt.resolver != nil {
				ver.resolve = tt.resolver
			}
			r, body := vec.request()
			key, e := ver.verify(r, body, tt.now)
			switch {
			case tt.want == "" && e != nil:
				t.Fatalf("refused: %s: %s (%v)", e.Code, e.Message, e.Cause)
			case tt.want == "" && key.ID != fgKeyID:
				t.Fatalf("key = %+v", key)
			case tt.want != "" && (e == nil || e.Code != tt.want || !strings.Contains(e.Message, tt.msg)):
				t.Fatalf("got %v, want %s containing %q", e, tt.want, tt.msg)
			case tt.want != "" && e.Status != http.StatusBadRequest:
				t.Errorf("status %d, want 400", e.Status)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(cognitoVector().headers["Authorization"])
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=, Signature=")
	f.Add("AWS4-HMAC-SHA256 ,,,==")
	f.Fuzz(func(t *testing.T, h string) {
		a, e := parseAuthorization(h)
		if (a == nil) == (e == nil) {
			t.Fatalf("parseAuthorization(%q) = %v, %v: exactly one must be set", h, a, e)
		}
		if a != nil && (a.keyID == "" || len(a.signature) != 64 || len(a.signedHeaders) == 0) {
			t.Fatalf("accepted an incomplete header %q: %+v", h, a)
		}
	})
}
