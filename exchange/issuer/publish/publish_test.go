package publish_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/issuer"
	"fedgate/exchange/issuer/publish"
)

// bucket records the objects put into it and fails the put of failKey.
type bucket struct {
	puts    []*s3.PutObjectInput
	bodies  map[string][]byte
	failKey string
}

func (b *bucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if aws.ToString(in.Key) == b.failKey {
		return nil, errors.New("api error AccessDenied: Access Denied")
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if b.bodies == nil {
		b.bodies = map[string][]byte{}
	}
	b.puts = append(b.puts, in)
	b.bodies[aws.ToString(in.Key)] = body
	return &s3.PutObjectOutput{}, nil
}

var testKeys = func() jose.JSONWebKeySet {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
}()

func TestPublishLayout(t *testing.T) {
	const base = "https://issuer.example.com/fedgate"
	for _, c := range []struct {
		name     string
		prefix   string
		issuers  []string
		wantKeys []string // in the order written
	}{
		{
			name: "root issuer, no prefix", issuers: []string{base},
			wantKeys: []string{".well-known/jwks.json", ".well-known/openid-configuration"},
		},
		{
			name: "root and a pool issuer under a prefix", prefix: "fedgate/", issuers: []string{base, base + "/pools/isolated"},
			wantKeys: []string{
				"fedgate/.well-known/jwks.json", "fedgate/pools/isolated/.well-known/jwks.json",
				"fedgate/.well-known/openid-configuration", "fedgate/pools/isolated/.well-known/openid-configuration",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &bucket{}
			p, err := publish.New(publish.Options{Client: b, Bucket: "issuer-bucket", Prefix: c.prefix, BaseURL: base, CacheMaxAge: 90 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := p.Publish(context.Background(), issuer.Documents{Issuers: c.issuers, JWKS: testKeys})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, in := range b.puts {
				keys = append(keys, aws.ToString(in.Key))
				if aws.ToString(in.Bucket) != "issuer-bucket" || aws.ToString(in.ContentType) != "application/json" || aws.ToString(in.CacheControl) != "public, max-age=90" {
					t.Errorf("%s: bucket %q, Content-Type %q, Cache-Control %q", aws.ToString(in.Key), aws.ToString(in.Bucket), aws.ToString(in.ContentType), aws.ToString(in.CacheControl))
				}
			}
			if !slices.Equal(keys, c.wantKeys) {
				t.Fatalf("wrote %v, want %v (key sets before discovery documents)", keys, c.wantKeys)
			}
			for i, o := range objs {
				if o.Key != c.wantKeys[i] || o.S3 != "s3://issuer-bucket/"+o.Key || o.Bytes != len(b.bodies[o.Key]) {
					t.Errorf("object %d reported as %+v", i, o)
				}
			}
			for _, iss := range c.issuers {
				rel := strings.TrimPrefix(strings.TrimPrefix(iss, base), "/")
				if rel != "" {
					rel += "/"
				}
				var disc map[string]any
				if err := json.Unmarshal(b.bodies[c.prefix+rel+".well-known/openid-configuration"], &disc); err != nil {
					t.Fatal(err)
				}
				if disc["issuer"] != iss || disc["jwks_uri"] != iss+issuer.JWKSPath {
					t.Errorf("discovery of %s names issuer %v, jwks_uri %v", iss, disc["issuer"], disc["jwks_uri"])
				}
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(b.bodies[c.prefix+rel+".well-known/jwks.json"], &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" {
					t.Errorf("key set of %s: %v %v", iss, set, err)
				}
			}
		})
	}
}

func TestPublishRefuses(t *testing.T) {
	const base = "https://issuer.example.com"
	for _, c := range []struct {
		name    string
		docs    issuer.Documents
		failKey string
		want    string
		written int
	}{
		{name: "an issuer outside the base URL", docs: issuer.Documents{Issuers: []string{"https://elsewhere.example.com"}, JWKS: testKeys}, want: "is not served from"},
		{name: "an issuer that only shares the base's prefix", docs: issuer.Documents{Issuers: []string{base + "x"}, JWKS: testKeys}, want: "is not served from"},
		{name: "no issuer", docs: issuer.Documents{JWKS: testKeys}, want: "no issuer"},
		{name: "an empty key set", docs: issuer.Documents{Issuers: []string{base}}, want: "key set is empty"},
		{
			name: "a failed write stops before the discovery documents", docs: issuer.Documents{Issuers: []string{base, base + "/pools/a"}, JWKS: testKeys},
			failKey: "pools/a/.well-known/jwks.json", want: "writing s3://b/pools/a/.well-known/jwks.json: api error AccessDenied", written: 1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &bucket{failKey: c.failKey}
			p, err := publish.New(publish.Options{Client: b, Bucket: "b", BaseURL: base, CacheMaxAge: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			objs, err := p.Publish(context.Background(), c.docs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
			if len(b.puts) != c.written || len(objs) != c.written {
				t.Errorf("%d objects written (%d reported), want %d", len(b.puts), len(objs), c.written)
			}
		})
	}
}

func TestNewChecksOptions(t *testing.T) {
	good := publish.Options{Client: &bucket{}, Bucket: "b", BaseURL: "https://i.example.com", CacheMaxAge: time.Minute}
	for _, c := range []struct {
		name   string
		change func(*publish.Options)
	}{
		{"no client", func(o *publish.Options) { o.Client = nil }},
		{"no bucket", func(o *publish.Options) { o.Bucket = "" }},
		{"prefix without a trailing slash", func(o *publish.Options) { o.Prefix = "fedgate" }},
		{"prefix with a leading slash", func(o *publish.Options) { o.Prefix = "/fedgate/" }},
		{"base URL with a trailing slash", func(o *publish.Options) { o.BaseURL += "/" }},
		{"no base URL", func(o *publish.Options) { o.BaseURL = "" }},
		{"cache max-age under a second", func(o *publish.Options) { o.CacheMaxAge = time.Millisecond }},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := good
			c.change(&o)
			if _, err := publish.New(o); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := publish.New(good); err != nil {
		t.Errorf("New refused good options: %v", err)
	}
}
