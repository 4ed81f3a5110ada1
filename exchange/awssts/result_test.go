package awssts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// webResult wraps the children of an AssumeRoleWithWebIdentityResult in
// the answer around it.
func webResult(children string) string {
	return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>` + children + `</AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`
}

const webCreds = `
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>2025-03-01T13:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>`

// The quick reading of a result gives exactly what the SDK's decoder gives,
// and leaves to the SDK whatever is not in the plain form STS writes.
func TestQuickResultsMatchTheSDK(t *testing.T) {
	for _, tc := range []struct {
		name  string
		saml  bool
		body  string
		quick bool // read without the SDK's decoder
	}{
		{name: "web identity answer", body: successXML, quick: true},
		{name: "SAML answer", saml: true, body: samlSuccessXML, quick: true},
		{name: "XML declaration", body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + successXML, quick: true},
		{name: "every field", quick: true, body: webResult(webCreds + `
    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
    <SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken><Audience>aud</Audience><Provider>p</Provider>
    <SourceIdentity>alice</SourceIdentity><PackedPolicySize>6</PackedPolicySize>
    <SessionTokenSize>512</SessionTokenSize><SessionTokenUtilization>40</SessionTokenUtilization>`)},
		{name: "fractional seconds", quick: true, body: webResult(strings.Replace(webCreds, "13:00:00Z", "13:00:00.250Z", 1))},
		{name: "whitespace-only value", quick: true, body: webResult(webCreds + `<Provider>  </Provider>`)},
		{name: "empty value", quick: true, body: webResult(webCreds + `<Provider></Provider>`)},
		{name: "no credentials", quick: true, body: webResult(`<Provider>p</Provider>`)},
		{name: "entity", body: webResult(webCreds + `<Provider>a&amp;b</Provider>`)},
		{name: "character reference", body: webResult(webCreds + `<Provider>a&#65;</Provider>`)},
		{name: "CDATA", body: webResult(webCreds + `<Provider><![CDATA[a<b]]></Provider>`)},
		{name: "comment", body: webResult(`<!-- <Credentials> -->` + webCreds)},
		{name: "attribute", body: webResult(strings.Replace(webCreds, "<Credentials>", `<Credentials a="1">`, 1))},
		{name: "namespace prefix", body: webResult(`<x:Provider xmlns:x="urn:x">p</x:Provider>` + webCreds)},
		{name: "self-closing element", body: webResult(webCreds + `<SourceIdentity/>`)},
		{name: "element the result does not have", body: webResult(webCreds + `<Issuer>i</Issuer>`)},
		{name: "unknown element", body: webResult(webCreds + `<Novel>n</Novel>`)},
		{name: "unknown credentials element", body: webResult(strings.Replace(webCreds, "<AccessKeyId>", "<Novel>n</Novel><AccessKeyId>", 1))},
		{name: "value twice", body: webResult(webCreds + `<Provider>a</Provider><Provider>b</Provider>`)},
		{name: "credentials twice", body: webResult(webCreds + webCreds)},
		{name: "result twice", body: webResult(webCreds) + webResult(webCreds)},
		{name: "carriage returns", body: strings.ReplaceAll(successXML, "\n", "\r\n")},
		{name: "non-ASCII value", body: webResult(webCreds + `<Provider>été</Provider>`)},
		{name: "control character", body: webResult(webCreds + "<Provider>a\x01b</Provider>")},
		{name: "text between elements", body: webResult(strings.Replace(webCreds, "<AccessKeyId>", "x<AccessKeyId>", 1))},
		{name: "nested leaf", body: webResult(webCreds + `<Provider><Name>p</Name></Provider>`)},
		{name: "bad expiration", body: webResult(strings.Replace(webCreds, "2025-03-01T13:00:00Z", "yesterday", 1))},
		{name: "bad size", body: webResult(webCreds + `<PackedPolicySize>big</PackedPolicySize>`)},
		{name: "size out of range", body: webResult(webCreds + `<PackedPolicySize>4294967296</PackedPolicySize>`)},
		{name: "unclosed result", body: `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>` + webCreds},
		{name: "mismatched closing tag", body: webResult(`<Provider>p</Audience>`)},
		{name: "no result", body: `<AssumeRoleWithWebIdentityResponse></AssumeRoleWithWebIdentityResponse>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			element := "AssumeRoleWithWebIdentityResult"
			var into smithy.Deserializable = &sts.AssumeRoleWithWebIdentityOutput{}
			if tc.saml {
				element = "AssumeRoleWithSAMLResult"
				into = &sts.AssumeRoleWithSAMLOutput{}
			}
			var r resultText
			if quick := scanResult(tc.body, element, &r) && r.fill(into); quick != tc.quick {
				t.Fatalf("read quickly = %v, want %v", quick, tc.quick)
			}
			quickOut, quickErr := callWith(t, tc.saml, tc.body, true)
			sdkOut, sdkErr := callWith(t, tc.saml, tc.body, false)
			if (quickErr == nil) != (sdkErr == nil) {
				t.Fatalf("error %v, the SDK's %v", quickErr, sdkErr)
			}
			if !reflect.DeepEqual(quickOut, sdkOut) {
				t.Fatalf("output\n%s\nthe SDK's\n%s", show(quickOut), show(sdkOut))
			}
		})
	}
}

// callWith makes the call through an SDK client with or without the quick
// reading, against an STS answering body.
func callWith(t *testing.T, saml bool, body string, quick bool) (any, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	var fns []func(*sts.Options)
	if quick {
		fns = append(fns, withQuickResults)
	}
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1}, fns...)
	var out any
	var err error
	if saml {
		var o *sts.AssumeRoleWithSAMLOutput
		o, err = c.AssumeRoleWithSAML(context.Background(), &sts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String("arn:aws:iam::1:role/r"), PrincipalArn: aws.String("arn:aws:iam::1:saml-provider/p"), SAMLAssertion: aws.String("a")})
		if o != nil {
			o.ResultMetadata = middleware.Metadata{}
			out = o
		}
	} else {
		var o *sts.AssumeRoleWithWebIdentityOutput
		o, err = c.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String("arn:aws:iam::1:role/r"), RoleSessionName: aws.String("s"), WebIdentityToken: aws.String("t")})
		if o != nil {
			o.ResultMetadata = middleware.Metadata{}
			out = o
		}
	}
	return out, err
}

// show prints an output with its pointers followed.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsNil() {
		return "<nil>"
	}
	var b strings.Builder
	rv = rv.Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		if !rv.Type().Field(i).IsExported() || rv.Type().Field(i).Name == "ResultMetadata" {
			continue
		}
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			if f.Elem().Kind() == reflect.Struct && f.Elem().Type().Name() != "Time" {
				fmt.Fprintf(&b, "%s: %s\n", rv.Type().Field(i).Name, show(f.Interface()))
				continue
			}
			f = f.Elem()
		}
		fmt.Fprintf(&b, "%s: %v\n", rv.Type().Field(i).Name, f)
	}
	return b.String()
}

// An answer past maxAnswer is refused as a deserialization error, not read
// to its end; one just under it is read as usual.
func TestQuickResultsBoundTheAnswer(t *testing.T) {
	padding := func(n int) string { return "<!--" + strings.Repeat("x", n) + "-->" }
	ok := webResult(webCreds) + padding(maxAnswer-len(webResult(webCreds))-7-100)
	if _, err := callWith(t, false, ok, true); err != nil {
		t.Fatalf("an answer of %d bytes: %v", len(ok), err)
	}
	big := webResult(webCreds) + padding(maxAnswer)
	_, err := callWith(t, false, big, true)
	var de *smithy.DeserializationError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("an answer of %d bytes: err = %v, want a deserialization error naming the bound", len(big), err)
	}
}
