package awssts

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"fedgate/exchange"
)

const samlSuccessXML = `<AssumeRoleWithSAMLResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithSAMLResult>
    <Audience>https://signin.aws.amazon.com/saml</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:alice</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/dev/alice</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIASAMLEXAMPLE</AccessKeyId>
      <SecretAccessKey>secret/EXAMPLE</SecretAccessKey>
      <SessionToken>tokenEXAMPLE</SessionToken>
      <Expiration>2025-03-01T13:00:00Z</Expiration>
    </Credentials>
    <Issuer>https://idp.example.com</Issuer>
    <NameQualifier>abc</NameQualifier>
    <Subject>alice</Subject>
    <SubjectType>persistent</SubjectType>
  </AssumeRoleWithSAMLResult>
  <ResponseMetadata><RequestId>req-3</RequestId></ResponseMetadata>
</AssumeRoleWithSAMLResponse>`

func TestAssumeRoleWithSAMLSuccess(t *testing.T) {
	c, fake := newTestClient(t, reply{http.StatusOK, samlSuccessXML})
	in := exchange.SAMLInput{
		RoleARN:      "arn:aws:iam::123456789012:role/dev",
		PrincipalARN: "arn:aws:iam::123456789012:saml-provider/corp",
		Assertion:    "PHNhbWxwOlJlc3BvbnNlLz4=",
		Duration:     time.Hour,
		Policy:       `{"Version":"2012-10-17","Statement":[]}`,
	}
	creds, err := c.AssumeRoleWithSAML(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIASAMLEXAMPLE" || creds.SessionToken != "tokenEXAMPLE" ||
		creds.AssumedRoleARN != "arn:aws:sts::123456789012:assumed-role/dev/alice" || creds.RoleARN != in.RoleARN ||
		!creds.Expiration.Equal(time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("credentials = %+v", creds)
	}
	req := fake.requests[0]
	if req.header.Get("Authorization") != "" {
		t.Fatal("AssumeRoleWithSAML request is signed; it must be anonymous")
	}
	for k, v := range map[string]string{
		"Action": "AssumeRoleWithSAML", "RoleArn": in.RoleARN, "PrincipalArn": in.PrincipalARN,
		"SAMLAssertion": in.Assertion, "DurationSeconds": "3600", "Policy": in.Policy,
	} {
		if got := req.form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
}

func TestAssumeRoleWithSAMLErrorMapping(t *testing.T) {
	tests := []struct {
		code       string
		wantStatus int
	}{
		{"InvalidIdentityToken", 401},
		{"ExpiredTokenException", 401},
		{"IDPRejectedClaim", 403},
		{"AccessDenied", 403},
		{"MalformedPolicyDocument", 400},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, _ := newTestClient(t, reply{400, errorXML(tt.code)})
			_, err := c.AssumeRoleWithSAML(context.Background(), exchange.SAMLInput{
				RoleARN: "arn:aws:iam::123456789012:role/dev", PrincipalARN: "arn:aws:iam::123456789012:saml-provider/p", Assertion: "eA==",
			})
			var se *exchange.STSError
			if !errors.As(err, &se) || se.Code != tt.code || se.Status != tt.wantStatus {
				t.Fatalf("err = %v, want STSError %s/%d", err, tt.code, tt.wantStatus)
			}
			if strings.Contains(se.PublicMessage(), "STS says no") {
				t.Fatal("public message leaks STS's private message")
			}
		})
	}
}
