package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"fedgate/cmd/fedgate/internal/peers"
	"fedgate/gateway/testkit"
)

const (
	issuerBucket   = "fedgate-issuer"
	issuerPrefix   = "issuer/"
	poolIsolatedID = "us-east-1:5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
)

// publishSetup is the bucket side of keys.publish: the address verifiers
// read the issuer at, and the IAM users fedgate may run as.
type publishSetup struct {
	site   *peers.BucketSite
	issuer string          // keys.publish.issuer_url: the site's address of the prefix
	writer aws.Credentials // the publisher: s3:PutObject on the issuer's objects only
	denied aws.Credentials // an IAM user with no S3 rights
}

// withKeysPublish gives fedgate a bucket to publish its issuer to, as the
// operations guide sets it up: a writer limited to the issuer's objects,
// and a reader (the CDN) limited to reading them. It adds a pool with an
// issuer of its own, whose documents go to the bucket too.
func withKeysPublish(ps *publishSetup) envOption {
	return func(e *env) string {
		e.moto.CreateBucket(e.t, issuerBucket, nil)
		objects := fmt.Sprintf(`["arn:aws:s3:::%[1]s/%[2]s.well-known/*","arn:aws:s3:::%[1]s/%[2]spools/*"]`, issuerBucket, issuerPrefix)
		ps.writer = e.moto.CreateUser(e.t, "fedgate-publisher", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":`+objects+`}]}`)
		reader := e.moto.CreateUser(e.t, "issuer-cdn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":`+objects+`}]}`)
		ps.denied = e.moto.CreateUser(e.t, "not-a-publisher", "")
		ps.site = e.moto.StartBucketSite(e.t, issuerBucket, reader)
		ps.issuer = ps.site.URL + "/" + strings.TrimSuffix(issuerPrefix, "/")
		e.keysYAML = fmt.Sprintf(`  publish:
    bucket: %s
    prefix: %s
    region: us-east-1
    endpoint: %s
    path_style: true
    issuer_url: %s
    cache_max_age: 2s
`, issuerBucket, issuerPrefix, e.moto.URL, ps.issuer)
		e.extraEnv = append(e.extraEnv, awsEnv(ps.writer)...)
		return fmt.Sprintf("  - id: %s\n    name: isolated\n    providers: [corp]\n    own_issuer: true\n%s\n", poolIsolatedID, readersRule(e.readerRole))
	}
}

// awsEnv is the standard AWS chain's environment for creds, and nothing
// else of the host's (no profile, no instance metadata).
func awsEnv(creds aws.Credentials) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
	}
}

// A private gateway with a public issuer: fedgate writes its discovery
// documents and key set to a bucket that a CDN serves, IAM (here jose)
// verifies its tokens from there alone, and a rotated key is in the bucket
// before any token carries it.
func TestEndToEndKeysPublish(t *testing.T) {
	var ps publishSetup
	e := startEnv(t, withKeysPublish(&ps))

	t.Run("the bucket serves what fedgate serves", func(t *testing.T) {
		for _, issuerPath := range []string{"", "/pools/isolated"} {
			for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
				var served, published map[string]any
				status, _, body := get(t, nil, e.url+issuerPath+doc)
				if status != http.StatusOK || json.Unmarshal([]byte(body), &served) != nil {
					t.Fatalf("fedgate %s%s: HTTP %d %s", issuerPath, doc, status, body)
				}
				status, header, body := get(t, nil, ps.issuer+issuerPath+doc)
				if status != http.StatusOK || json.Unmarshal([]byte(body), &published) != nil {
					t.Fatalf("bucket %s%s: HTTP %d %s", issuerPath, doc, status, body)
				}
				if !reflect.DeepEqual(served, published) {
					t.Errorf("%s%s differs:\nfedgate: %v\nbucket:  %v", issuerPath, doc, served, published)
				}
				if ct, cc := header.Get("Content-Type"), header.Get("Cache-Control"); ct != "application/json" || cc != "public, max-age=2" {
					t.Errorf("bucket %s%s: Content-Type %q, Cache-Control %q; want application/json and public, max-age=2", issuerPath, doc, ct, cc)
				}
				if doc == "/.well-known/openid-configuration" {
					if published["issuer"] != ps.issuer+issuerPath || published["jwks_uri"] != ps.issuer+issuerPath+"/.well-known/jwks.json" {
						t.Errorf("published discovery names issuer %v and jwks_uri %v, want the bucket's", published["issuer"], published["jwks_uri"])
					}
				}
			}
		}
	})

	t.Run("tokens verify against the bucket alone", func(t *testing.T) {
		for _, c := range []struct{ pool, aud, issuer string }{
			{"team", poolGatewayID, ps.issuer},
			{"isolated", poolIsolatedID, ps.issuer + "/pools/isolated"},
		} {
			e.assertLeastPrivilege(e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": c.pool}).creds(t))
			_, minted := e.tap.Snapshot()
			claims := peers.VerifyWithJose(t, c.issuer, c.aud, minted)
			if claims["iss"] != c.issuer {
				t.Errorf("pool %s: token iss %v, want %s", c.pool, claims["iss"], c.issuer)
			}
		}
	})

	t.Run("trust-policy registers the bucket's issuer", func(t *testing.T) {
		out, err := e.fedgate("trust-policy", "--pool", "isolated")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		host := strings.TrimPrefix(ps.issuer, "http://")
		for _, want := range []string{
			"aws iam create-open-id-connect-provider --url " + ps.issuer + "/pools/isolated",
			`"` + host + `/pools/isolated:aud": "` + poolIsolatedID + `"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("trust-policy output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("after keys rotate the bucket has the new key before any token carries it", func(t *testing.T) {
		oldToken := vendUntilKid(t, e, "")
		w := watchBucketKeys(t, ps.site, ps.issuer, e.tap)
		out, err := e.fedgate("keys", "rotate")
		if err != nil {
			t.Fatalf("fedgate keys rotate: %v\n%s", err, out)
		}
		newKid := regexpFind(t, out, `new signing key (\S+) is`)
		if !strings.Contains(out, "s3://"+issuerBucket+"/"+issuerPrefix) {
			t.Errorf("keys rotate does not say where it published:\n%s", out)
		}
		// The command has returned: the bucket already holds both keys.
		if kids := bucketKids(t, ps.issuer); !slices.Contains(kids, newKid) || !slices.Contains(kids, kid(t, oldToken)) {
			t.Fatalf("when keys rotate returned, the bucket's key set was %v; want the new %s and the old %s", kids, newKid, kid(t, oldToken))
		}
		newToken := vendUntilKid(t, e, newKid)
		sightings, firstSeen := w.stop()
		checkPublishedBeforeUse(t, newKid, sightings, firstSeen, e.tap.Tokens())
		peers.VerifyWithJose(t, ps.issuer, poolGatewayID, newToken)
		peers.VerifyWithJose(t, ps.issuer, poolGatewayID, oldToken) // the old key stays published
	})

	t.Run("a rotation from a host without keys.publish reaches the bucket through the gateway's reload", func(t *testing.T) {
		plain := filepath.Join(e.dir, "no-publish.yaml")
		raw, err := os.ReadFile(e.configPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(plain, []byte(strings.Replace(string(raw), e.keysYAML, "", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		w := watchBucketKeys(t, ps.site, ps.issuer, e.tap)
		out, err := e.command("keys", "rotate", "--config", plain).CombinedOutput()
		if err != nil || strings.Contains(string(out), "s3://") {
			t.Fatalf("fedgate keys rotate without keys.publish: %v\n%s", err, out)
		}
		newKid := regexpFind(t, string(out), `new signing key (\S+) is`)
		vendUntilKid(t, e, newKid)
		sightings, firstSeen := w.stop()
		checkPublishedBeforeUse(t, newKid, sightings, firstSeen, e.tap.Tokens())
	})

	t.Run("keys publish writes the documents and says where", func(t *testing.T) {
		out, err := e.fedgate("keys", "publish")
		if err != nil {
			t.Fatalf("fedgate keys publish: %v\n%s", err, out)
		}
		for _, want := range []string{
			"wrote s3://" + issuerBucket + "/" + issuerPrefix + ".well-known/jwks.json",
			"wrote s3://" + issuerBucket + "/" + issuerPrefix + ".well-known/openid-configuration",
			"wrote s3://" + issuerBucket + "/" + issuerPrefix + "pools/isolated/.well-known/jwks.json",
			"read at " + ps.issuer + "/pools/isolated/.well-known/openid-configuration",
			"signing with ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("keys publish output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, ps.writer.SecretAccessKey) {
			t.Error("keys publish printed the AWS secret key")
		}
	})

	t.Run("a rotation whose publication fails stores no key", func(t *testing.T) {
		before, err := e.fedgate("keys", "list")
		if err != nil {
			t.Fatalf("keys list: %v\n%s", err, before)
		}
		cmd := e.command("keys", "rotate", "--config", e.configPath)
		cmd.Env = append(cmd.Env, awsEnv(ps.denied)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "s3://"+issuerBucket+"/"+issuerPrefix) || !strings.Contains(string(out), "AccessDenied") {
			t.Fatalf("keys rotate that cannot publish: err %v, output:\n%s\nwant a failure naming the object and AccessDenied", err, out)
		}
		if after, _ := e.fedgate("keys", "list"); after != before {
			t.Errorf("a failed rotation changed the keys:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})

	t.Run("serve refuses to start when it cannot publish", func(t *testing.T) {
		cmd := e.command("serve", "--config", e.configPath)
		cmd.Env = append(cmd.Env, awsEnv(ps.denied)...)
		done := make(chan []byte, 1)
		go func() { out, _ := cmd.CombinedOutput(); done <- out }()
		select {
		case out := <-done:
			if cmd.ProcessState.Success() || !strings.Contains(string(out), "keys.publish") || !strings.Contains(string(out), "AccessDenied") {
				t.Errorf("serve that cannot publish: %v\n%s\nwant a refusal naming keys.publish and AccessDenied", cmd.ProcessState, out)
			}
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("serve that cannot publish is still running after 90s")
		}
	})

	t.Run("logs say what was published and hold no AWS secret", func(t *testing.T) {
		logs := e.logs.String()
		if strings.Count(logs, `"msg":"issuer documents published"`) < 3 {
			t.Errorf("want a publication at start and after each rotation's reload in fedgate's log:\n%s", logs)
		}
		if strings.Contains(logs, ps.writer.SecretAccessKey) {
			t.Error("fedgate's log holds the publisher's AWS secret key")
		}
	})
}

// bucketWatch follows the bucket's key set while a rotation happens: when
// each key id was first seen there, and, for each token STS received,
// whether the bucket held its key at that moment.
type bucketWatch struct {
	tap       *peers.STSTap
	done      chan struct{}
	stopped   sync.WaitGroup
	mu        sync.Mutex
	firstSeen map[string]time.Time
	sightings []sighting
}

// sighting is a token's key id as STS received it, and whether the bucket
// held that key then.
type sighting struct {
	kid      string
	inBucket bool
}

func watchBucketKeys(t *testing.T, site *peers.BucketSite, issuer string, tap *peers.STSTap) *bucketWatch {
	t.Helper()
	w := &bucketWatch{tap: tap, done: make(chan struct{}), firstSeen: map[string]time.Time{}}
	tap.OnCall(func(form url.Values) {
		k := tokenKid(form.Get("WebIdentityToken"))
		kids, err := fetchKids(issuer)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.sightings = append(w.sightings, sighting{kid: k, inBucket: err == nil && slices.Contains(kids, k)})
	})
	w.stopped.Add(1)
	go func() {
		defer w.stopped.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			kids, err := fetchKids(issuer)
			now := time.Now()
			if err == nil {
				w.mu.Lock()
				for _, k := range kids {
					if _, ok := w.firstSeen[k]; !ok {
						w.firstSeen[k] = now
					}
				}
				w.mu.Unlock()
			}
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the watch (again is harmless) and returns what it saw.
func (w *bucketWatch) stop() ([]sighting, map[string]time.Time) {
	w.tap.OnCall(nil)
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.stopped.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sightings), w.firstSeen
}

// checkPublishedBeforeUse: every token signed with kid reached STS when the
// bucket held kid, and was minted (iat) after the watch first saw it there.
func checkPublishedBeforeUse(t *testing.T, kid string, sightings []sighting, firstSeen map[string]time.Time, tokens []string) {
	t.Helper()
	used := 0
	for _, s := range sightings {
		if s.kid == kid {
			used++
			if !s.inBucket {
				t.Errorf("STS received a token signed with %s while the bucket's key set lacked it", kid)
			}
		}
	}
	if used == 0 {
		t.Fatalf("no token signed with %s reached STS during the watch; the check proves nothing", kid)
	}
	seen, ok := firstSeen[kid]
	if !ok {
		t.Fatalf("the bucket never showed %s", kid)
	}
	for _, tok := range tokens {
		if tokenKid(tok) != kid {
			continue
		}
		if iat := time.Unix(tokenIAT(t, tok), 0); !seen.Before(iat) {
			t.Errorf("a token signed with %s was minted at %s, but the bucket first showed the key at %s", kid, iat.Format(time.RFC3339Nano), seen.Format(time.RFC3339Nano))
		}
	}
}

// vendUntilKid vends to the team pool through the API until the token
// fedgate sends STS is signed with kid (any key when kid is empty), and
// returns that token.
func vendUntilKid(t *testing.T, e *env, kid string) string {
	t.Helper()
	var tok string
	ok := testkit.Eventually(20*time.Second, 250*time.Millisecond, func() bool {
		if r := e.api(e.token("alice", e2eClientID, 5*time.Minute), map[string]any{"pool": "team"}); r.status != http.StatusOK {
			t.Fatalf("vend during rotation: HTTP %d %v", r.status, r.body)
		}
		_, tok = e.tap.Snapshot()
		return kid == "" || tokenKid(tok) == kid
	})
	if !ok {
		t.Fatalf("fedgate does not sign with %s 20s after the rotation", kid)
	}
	return tok
}

// bucketKids are the key ids of the key set the bucket serves now.
func bucketKids(t *testing.T, issuer string) []string {
	t.Helper()
	kids, err := fetchKids(issuer)
	if err != nil {
		t.Fatal(err)
	}
	return kids
}

func fetchKids(issuer string) ([]string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(issuer + "/.well-known/jwks.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bucket key set: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("bucket key set: %w", err)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.Kid
	}
	return kids, nil
}

// tokenKid is the kid of a JWT's header, "" when it has none.
func tokenKid(tok string) string {
	header, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &h)
	return h.Kid
}

func tokenIAT(t *testing.T, tok string) int64 {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s…", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		IAT int64 `json:"iat"`
	}
	if err != nil || json.Unmarshal(raw, &claims) != nil || claims.IAT == 0 {
		t.Fatalf("token has no iat: %s", raw)
	}
	return claims.IAT
}
