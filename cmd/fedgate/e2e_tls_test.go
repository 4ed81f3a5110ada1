package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

// withTLSFiles serves fedgate over https with a certificate of ca for
// localhost, from files in the environment's folder.
func withTLSFiles(ca *testkit.CA, certFile, keyFile *string) envOption {
	return func(e *env) string {
		*certFile, *keyFile = filepath.Join(e.dir, "tls.crt"), filepath.Join(e.dir, "tls.key")
		cert, key := ca.Issue(e.t, "localhost", "127.0.0.1")
		replaceFile(e.t, *certFile, cert)
		replaceFile(e.t, *keyFile, key)
		e.serverYAML += "  tls:\n    cert_file: tls.crt\n    key_file: tls.key\n"
		e.httpsOn("https://localhost", &http.Transport{TLSClientConfig: ca.TLSClientConfig(), ForceAttemptHTTP2: true})
		return ""
	}
}

// httpsOn points the environment at fedgate's https listener: publicURL is
// server.public_url (IAM's issuers have no port), rt trusts its CA.
func (e *env) httpsOn(publicURL string, rt http.RoundTripper) {
	e.url = fmt.Sprintf("https://localhost:%d", e.port)
	e.publicURL = publicURL
	e.client = &http.Client{Timeout: 30 * time.Second, Transport: rt}
}

// replaceFile writes path as a deploy tool does: a new file renamed over it.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndTLSFiles: fedgate serves https from certificate files with
// HTTP/2; boto3 and both AWS CLIs reach its Cognito API trusting the test
// CA through AWS_CA_BUNDLE and get least-privilege credentials from moto;
// the files are replaced while clients keep calling, no request fails and
// the new certificate is served without a restart.
func TestEndToEndTLSFiles(t *testing.T) {
	ca := testkit.NewCA(t)
	var guestRole, certFile, keyFile string
	e := startEnv(t, withCognitoPool(&guestRole), withTLSFiles(ca, &certFile, &keyFile))
	caFile := ca.WriteFile(t, t.TempDir())
	key := strings.TrimPrefix(e.idp.Issuer, "http://")
	alice := map[string]string{key: e.token("alice", e2eMobileClient, 10*time.Minute)}

	t.Run("HTTP/2 with the configured certificate", func(t *testing.T) {
		resp, err := e.client.Get(e.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "localhost" {
			t.Errorf("answered over %s, TLS %v", resp.Proto, resp.TLS != nil)
		}
		// Go's TLS server answers plain HTTP with a bare 400, never a page.
		if resp, err := http.Get("http://" + strings.TrimPrefix(e.url, "https://") + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain http on the TLS listener: HTTP %d", resp.StatusCode)
			}
		}
	})

	t.Run("boto3 with AWS_CA_BUNDLE", func(t *testing.T) {
		out := peers.RunBoto3(t, map[string]any{"endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice, "ca_bundle": caFile})
		e.assertLeastPrivilege(out.Creds(t))
	})

	for version, aws := range peers.AWSCLIs(t) {
		t.Run("AWS CLI "+version+" with AWS_CA_BUNDLE", func(t *testing.T) {
			logins := fmt.Sprintf("%s=%s", key, alice[key])
			cli := func(bundle string, args ...string) ([]byte, error) {
				cmd := exec.Command(aws, append(args, "--endpoint-url", e.url, "--region", "us-east-1", "--no-sign-request", "--output", "json")...)
				cmd.Env = append(awsCLIEnv(t), "AWS_CA_BUNDLE="+bundle)
				return cmd.CombinedOutput()
			}
			if out, err := cli(filepath.Join(t.TempDir(), "none.pem"), "cognito-identity", "get-id", "--identity-pool-id", poolMobileID, "--logins", logins); err == nil {
				t.Errorf("without the test CA the AWS CLI trusted fedgate:\n%s", out)
			}
			out, err := cli(caFile, "cognito-identity", "get-id", "--identity-pool-id", poolMobileID, "--logins", logins)
			if err != nil {
				t.Fatalf("get-id: %v\n%s", err, out)
			}
			var id struct{ IdentityId string }
			if err := json.Unmarshal(out, &id); err != nil || id.IdentityId == "" {
				t.Fatalf("get-id printed %s", out)
			}
			out, err = cli(caFile, "cognito-identity", "get-credentials-for-identity", "--identity-id", id.IdentityId, "--logins", logins)
			if err != nil {
				t.Fatalf("get-credentials-for-identity: %v\n%s", err, out)
			}
			var creds struct {
				Credentials struct{ AccessKeyId, SecretKey, SessionToken string }
			}
			if err := json.Unmarshal(out, &creds); err != nil {
				t.Fatalf("get-credentials-for-identity printed %s", out)
			}
			c := creds.Credentials
			e.assertLeastPrivilege(peers.Creds(&c.AccessKeyId, &c.SecretKey, &c.SessionToken))
		})
	}

	t.Run("certificate files replaced while serving", func(t *testing.T) {
		old := servedSerial(t, e)
		var requests, failures atomic.Int64
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A new connection (and handshake) for every request.
				c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.TLSClientConfig(), DisableKeepAlives: true}}
				for {
					select {
					case <-stop:
						return
					default:
					}
					requests.Add(1)
					resp, err := c.Get(e.url + "/.well-known/openid-configuration")
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("HTTP %d", resp.StatusCode)
						}
					}
					if err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		cert, k := ca.Issue(t, "localhost", "127.0.0.1")
		replaceFile(t, certFile, cert)
		time.Sleep(1200 * time.Millisecond) // a recheck sees a certificate without its key
		replaceFile(t, keyFile, k)
		var now string
		rotated := testkit.Eventually(10*time.Second, 100*time.Millisecond, func() bool {
			now = servedSerial(t, e)
			return now != old
		})
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		if !rotated {
			t.Errorf("still serving serial %s after the files were replaced", old)
		}
		if failures.Load() > 0 {
			t.Errorf("%d of %d requests failed during the rotation; first: %v", failures.Load(), requests.Load(), firstErr.Load())
		}
		t.Logf("%d requests during the rotation, none failed; serial %s -> %s", requests.Load(), old, now)
		// The API still vends over the new certificate.
		out := peers.RunBoto3(t, map[string]any{"endpoint": e.url, "region": "us-east-1", "pool": poolMobileID, "logins": alice, "ca_bundle": caFile})
		e.assertLeastPrivilege(out.Creds(t))
	})
}

// servedSerial is the serial of the certificate fedgate presents now.
func servedSerial(t *testing.T, e *env) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(e.url, "https://"), &tls.Config{ServerName: "localhost", RootCAs: e.client.Transport.(*http.Transport).TLSClientConfig.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// awsCLIEnv is an environment for the AWS CLI without the machine's AWS
// settings.
func awsCLIEnv(t *testing.T) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(out, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none)
}
