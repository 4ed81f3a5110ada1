package awssts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/exchange"
)

const successXML = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>eu-west-1:1111</SubjectFromWebIdentityToken>
    <Audience>eu-west-1:pool</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/dev/alice</Arn>
      <AssumedRoleId>AROAEXAMPLE:alice</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>2025-03-01T13:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
    <Provider>fedgate.example.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`

func errorXML(code string) string {
	return fmt.Sprintf(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>%s</Code><Message>STS says no: %s</Message></Error>
  <RequestId>req-2</RequestId>
</ErrorResponse>`, code, code)
}

type reply struct {
	status int
	body   string
}

// fakeSTS speaks the STS Query/XML protocol, answering with canned replies in
// order (the last one repeats) and recording every request.
type fakeSTS struct {
	mu       sync.Mutex
	replies  []reply
	requests []recorded
}

type recorded struct {
	header http.Header
	form   url.Values
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, recorded{header: r.Header.Clone(), form: r.PostForm})
	rep := f.replies[min(len(f.requests), len(f.replies))-1]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(rep.status)
	fmt.Fprint(w, rep.body)
}

func (f *fakeSTS) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func newTestClient(t *testing.T, replies ...reply) (*Client, *fakeSTS) {
	t.Helper()
	fake := &fakeSTS{replies: replies}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := New(Options{Region: "eu-west-1", Endpoint: srv.URL, HTTPClient: srv.Client(), MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func TestAssumeRoleWithWebIdentitySuccess(t *testing.T) {
	c, fake := newTestClient(t, reply{http.StatusOK, successXML})
	in := exchange.WebIdentityInput{
		RoleARN:     "arn:aws:iam::123456789012:role/dev",
		Token:       "header.payload.signature",
		SessionName: "alice",
		Duration:    2 * time.Hour,
		Policy:      `{"Version":"2012-10-17","Statement":[]}`,
	}
	creds, err := c.AssumeRoleWithWebIdentity(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := exchange.Credentials{
		AccessKeyID:     "ASIAEXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		SessionToken:    "FwoGZXIvYXdzEXAMPLE",
		Expiration:      time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC),
		RoleARN:         in.RoleARN,
		AssumedRoleARN:  "arn:aws:sts::123456789012:assumed-role/dev/alice",
		SessionName:     "alice",
	}
	if !creds.Expiration.Equal(want.Expiration) {
		t.Fatalf("expiration = %v", creds.Expiration)
	}
	creds.Expiration = want.Expiration
	if *creds != want {
		t.Fatalf("credentials = %+v\nwant %+v", *creds, want)
	}

	req := fake.requests[0]
	if auth := req.header.Get("Authorization"); auth != "" {
		t.Fatalf("request is signed: Authorization = %q", auth)
	}
	if req.header.Get("X-Amz-Security-Token") != "" {
		t.Fatal("request carries a security token")
	}
	wantForm := map[string]string{
		"Action":           "AssumeRoleWithWebIdentity",
		"Version":          "2011-06-15",
		"RoleArn":          in.RoleARN,
		"RoleSessionName":  "alice",
		"WebIdentityToken": in.Token,
		"DurationSeconds":  "7200",
		"Policy":           in.Policy,
	}
	for k, v := range wantForm {
		if got := req.form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
}

func TestOptionalParamsOmitted(t *testing.T) {
	c, fake := newTestClient(t, reply{http.StatusOK, successXML})
	_, err := c.AssumeRoleWithWebIdentity(context.Background(), exchange.WebIdentityInput{
		RoleARN: "arn:aws:iam::123456789012:role/dev", Token: "t.t.t", SessionName: "s",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"DurationSeconds", "Policy"} {
		if _, ok := fake.requests[0].form[k]; ok {
			t.Errorf("%s sent though unset", k)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code         string
		httpStatus   int
		wantStatus   int
		wantPublic   string
		wantAttempts int
	}{
		{"InvalidIdentityToken", 400, 401, "the identity token was rejected by AWS STS", 1},
		{"ExpiredTokenException", 400, 401, "expired", 1},
		{"IDPRejectedClaim", 403, 403, "rejected a claim", 1},
		{"IDPCommunicationError", 400, 502, "signing keys", 3},
		{"AccessDenied", 403, 403, "the role's trust policy does not allow this identity — ask an admin to check the trust policy", 1},
		{"PackedPolicyTooLarge", 400, 400, "too large", 1},
		{"MalformedPolicyDocument", 400, 400, "malformed", 1},
		{"RegionDisabledException", 403, 403, "not activated in this region", 1},
		{"Throttling", 400, 503, "throttling", 3},
		{"ThrottlingException", 400, 503, "throttling", 3},
		{"InternalFailure", 500, 503, "unavailable", 3},
		{"ServiceUnavailable", 503, 503, "unavailable", 3},
		{"ValidationError", 400, 400, "maximum session duration", 1},
		{"SomethingNew", 400, 502, "unexpected error", 1},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			c, fake := newTestClient(t, reply{tt.httpStatus, errorXML(tt.code)})
			_, err := c.AssumeRoleWithWebIdentity(context.Background(), exchange.WebIdentityInput{
				RoleARN: "arn:aws:iam::123456789012:role/dev", Token: "t.t.t", SessionName: "s",
			})
			var se *exchange.STSError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not an STSError", err, err)
			}
			// Every throttle code is Throttling, every 5xx ServiceUnavailable.
			wantCode := map[string]string{"ThrottlingException": "Throttling", "InternalFailure": "ServiceUnavailable"}[tt.code]
			if wantCode == "" {
				wantCode = tt.code
			}
			if se.Code != wantCode || se.Status != tt.wantStatus || !strings.Contains(se.PublicMessage(), tt.wantPublic) {
				t.Fatalf("got code %q status %d public %q", se.Code, se.Status, se.PublicMessage())
			}
			if !strings.Contains(se.Error(), "STS says no") {
				t.Fatalf("Error() lost STS's message: %q", se.Error())
			}
			if strings.Contains(se.PublicMessage(), "STS says no") {
				t.Fatal("public message leaks STS's private message")
			}
			if se.Retryable != (tt.wantAttempts > 1) {
				t.Fatalf("Retryable = %v", se.Retryable)
			}
			if got := fake.attempts(); got != tt.wantAttempts {
				t.Fatalf("attempts = %d, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestRetriesIDPCommunicationErrorThenSucceeds(t *testing.T) {
	c, fake := newTestClient(t,
		reply{400, errorXML("IDPCommunicationError")},
		reply{200, successXML},
	)
	creds, err := c.AssumeRoleWithWebIdentity(context.Background(), exchange.WebIdentityInput{
		RoleARN: "arn:aws:iam::123456789012:role/dev", Token: "t.t.t", SessionName: "s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAEXAMPLE" || fake.attempts() != 2 {
		t.Fatalf("creds %q after %d attempts", creds.AccessKeyID, fake.attempts())
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there any more
	c, err := New(Options{Endpoint: endpoint, MaxAttempts: 2, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AssumeRoleWithWebIdentity(context.Background(), exchange.WebIdentityInput{
		RoleARN: "arn:aws:iam::123456789012:role/dev", Token: "t.t.t", SessionName: "s",
	})
	var se *exchange.STSError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an STSError", err)
	}
	if se.Code != exchange.CodeNetwork || se.Status != http.StatusServiceUnavailable || !se.Outage || se.PublicMessage() != "AWS STS could not be reached — try again shortly" {
		t.Fatalf("got %+v", se)
	}
}

func TestNewRejectsNegativeOptions(t *testing.T) {
	for _, o := range []Options{{MaxAttempts: -1}, {MaxBackoff: -time.Second}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): want error", o)
		}
	}
}
