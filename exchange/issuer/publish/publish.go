// Package publish copies the issuer's documents (the discovery document of
// each issuer and the key set) to an S3 bucket, for a gateway that IAM
// cannot reach: IAM reads them from the bucket's, or its CDN's, public
// https URL instead.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"fedgate/exchange/issuer"
)

// Bucket is the part of an S3 client the publisher uses; *s3.Client has it.
type Bucket interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Options configure a Publisher.
type Options struct {
	Client Bucket
	Bucket string
	// Prefix is prepended to every key: empty or ending in "/".
	Prefix string
	// BaseURL is the root issuer's URL, the address at which the bucket
	// serves Prefix. Every published issuer lies at or below it.
	BaseURL string
	// CacheMaxAge is the objects' Cache-Control max-age.
	CacheMaxAge time.Duration
}

// Publisher writes issuer documents to one bucket. It is safe for
// concurrent use; writes of the same documents are idempotent.
type Publisher struct {
	o            Options
	cacheControl string
}

// New checks o and returns its Publisher.
func New(o Options) (*Publisher, error) {
	switch {
	case o.Client == nil:
		return nil, errors.New("publish: an S3 client is required")
	case o.Bucket == "":
		return nil, errors.New("publish: a bucket is required")
	case o.Prefix != "" && (!strings.HasSuffix(o.Prefix, "/") || strings.HasPrefix(o.Prefix, "/")):
		return nil, fmt.Errorf("publish: prefix %q must end in '/' and not start with one", o.Prefix)
	case o.BaseURL == "" || strings.HasSuffix(o.BaseURL, "/"):
		return nil, fmt.Errorf("publish: base URL %q must be set, without a trailing slash", o.BaseURL)
	case o.CacheMaxAge < time.Second:
		return nil, fmt.Errorf("publish: cache max-age %s is under a second", o.CacheMaxAge)
	}
	return &Publisher{o: o, cacheControl: fmt.Sprintf("public, max-age=%d", int(o.CacheMaxAge/time.Second))}, nil
}

// Object is one written object.
type Object struct {
	Key   string // its key in the bucket
	S3    string // s3://bucket/key
	URL   string // where verifiers read it
	Bytes int
}

// Location is where the objects go, for messages: s3://bucket/prefix.
func (p *Publisher) Location() string { return "s3://" + p.o.Bucket + "/" + p.o.Prefix }

type object struct {
	Object
	body []byte
}

// Plan lays docs out as objects: every issuer's key set, then every
// issuer's discovery document, which names its key set's URL.
func (p *Publisher) Plan(docs issuer.Documents) ([]Object, error) {
	objs, err := p.plan(docs)
	out := make([]Object, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out, err
}

func (p *Publisher) plan(docs issuer.Documents) ([]object, error) {
	if len(docs.Issuers) == 0 {
		return nil, errors.New("publish: no issuer to publish")
	}
	if len(docs.JWKS.Keys) == 0 {
		return nil, errors.New("publish: the key set is empty")
	}
	jwks, err := json.Marshal(docs.JWKS)
	if err != nil {
		return nil, fmt.Errorf("publish: encode key set: %w", err)
	}
	var keySets, discoveries []object
	for _, iss := range docs.Issuers {
		rel, err := p.relative(iss)
		if err != nil {
			return nil, err
		}
		disc, err := json.Marshal(issuer.Discovery(iss))
		if err != nil {
			return nil, fmt.Errorf("publish: encode discovery of %s: %w", iss, err)
		}
		keySets = append(keySets, p.object(rel+issuer.JWKSPath, iss+issuer.JWKSPath, jwks))
		discoveries = append(discoveries, p.object(rel+issuer.DiscoveryPath, iss+issuer.DiscoveryPath, disc))
	}
	return append(keySets, discoveries...), nil
}

// relative is the path of iss below the base URL: "" or "/pools/name".
func (p *Publisher) relative(iss string) (string, error) {
	rel, ok := strings.CutPrefix(iss, p.o.BaseURL)
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) || strings.HasSuffix(rel, "/") || strings.Contains(rel, "..") {
		return "", fmt.Errorf("publish: issuer %s is not served from %s", iss, p.o.BaseURL)
	}
	return rel, nil
}

func (p *Publisher) object(path, url string, body []byte) object {
	key := p.o.Prefix + strings.TrimPrefix(path, "/")
	return object{Object: Object{Key: key, S3: "s3://" + p.o.Bucket + "/" + key, URL: url, Bytes: len(body)}, body: body}
}

// Publish writes docs: the key sets first, so that no discovery document
// names a key set that is not there yet. It stops at the first failure and
// names the object; the objects written before it stay written.
func (p *Publisher) Publish(ctx context.Context, docs issuer.Documents) ([]Object, error) {
	objs, err := p.plan(docs)
	if err != nil {
		return nil, err
	}
	done := make([]Object, 0, len(objs))
	for _, o := range objs {
		_, err := p.o.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(p.o.Bucket),
			Key:           aws.String(o.Key),
			Body:          bytes.NewReader(o.body),
			ContentLength: aws.Int64(int64(len(o.body))),
			ContentType:   aws.String("application/json"),
			CacheControl:  aws.String(p.cacheControl),
		})
		if err != nil {
			return done, fmt.Errorf("publish: writing %s: %w", o.S3, err)
		}
		done = append(done, o.Object)
	}
	return done, nil
}
