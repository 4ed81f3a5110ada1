package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

// withACME has fedgate get its certificate for fedgate.test from pebble,
// which validates tls-alpn-01 on fedgate's own listener.
func withACME(pb **peers.Pebble, rootFile *string) envOption {
	return func(e *env) string {
		*pb = peers.StartPebble(e.t, e.port)
		root := (*pb).IssuingRoot(e.t)
		*rootFile = filepath.Join(e.dir, "pebble-root.pem")
		if err := os.WriteFile(*rootFile, root, 0o644); err != nil {
			e.t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(root)
		e.serverYAML += fmt.Sprintf("  tls:\n    acme:\n      directory_url: %s\n      contact: ops@example.com\n      hosts: [fedgate.test]\n      ca_file: %s\n",
			(*pb).Directory, (*pb).CAFile)
		e.httpsOn("https://fedgate.test", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true,
			// fedgate.test is this machine: dial fedgate, keep the name for TLS.
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			}})
		e.url = fmt.Sprintf("https://fedgate.test:%d", e.port)
		return ""
	}
}

// TestEndToEndACME: fedgate orders its certificate from pebble (Let's
// Encrypt's test server), proving control of localhost through the
// tls-alpn-01 challenge on its own listener; the AWS SDK for Go reaches it
// over HTTP/2 trusting pebble's root and gets credentials. A second replica on the same store
// serves the same certificate without asking the CA (pebble is stopped).
func TestEndToEndACME(t *testing.T) {
	var pb *peers.Pebble
	var guestRole, rootFile string
	e := startEnv(t, withCognitoPool(&guestRole), withACME(&pb, &rootFile))

	resp, err := e.client.Get(e.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	leaf := resp.TLS.PeerCertificates[0]
	if resp.ProtoMajor != 2 || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "fedgate.test" || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Fatalf("served %s, certificate for %v from %q", resp.Proto, leaf.DNSNames, leaf.Issuer.CommonName)
	}
	if !strings.Contains(e.logs.String(), `"tls":"acme"`) {
		t.Errorf("the start-up line does not say tls=acme:\n%s", e.logs.String())
	}

	// An app of the AWS SDK for Go trusting pebble's root gets credentials.
	key := strings.TrimPrefix(e.idp.Issuer, "http://")
	alice := map[string]string{key: e.token("alice", e2eMobileClient, 10*time.Minute)}
	sdk := cognitoidentity.New(cognitoidentity.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), HTTPClient: e.client, RetryMaxAttempts: 1})
	ctx := context.Background()
	id, err := sdk.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolMobileID), Logins: alice})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := sdk.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: alice})
	if err != nil {
		t.Fatal(err)
	}
	c := creds.Credentials
	e.assertLeastPrivilege(peers.Creds(c.AccessKeyId, c.SecretKey, c.SessionToken))

	// Another replica, same store, another port; the CA is gone.
	pb.Stop()
	e.port = testkit.FreePort(t)
	e.url = fmt.Sprintf("https://fedgate.test:%d", e.port)
	e.configPath = filepath.Join(e.dir, "replica.yaml")
	e.writeConfig()
	e.start()
	resp, err = e.client.Get(e.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0]; !got.Equal(leaf) {
		t.Errorf("the second replica serves serial %s, want the shared %s", got.SerialNumber, leaf.SerialNumber)
	}
}
