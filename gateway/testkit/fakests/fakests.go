// Package fakests is a recording stand-in for AWS STS, for tests of code
// that vends credentials through exchange.WebIdentitySTS or
// exchange.SAMLSTS. It is apart from testkit because it needs the exchange
// types, which the tests of packages below exchange cannot import.
package fakests

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/exchange"
)

// Input is what an Answer may depend on.
type Input struct {
	RoleARN     string
	SessionName string // empty for SAML: the assertion carries it
	Duration    time.Duration
	SAML        bool
}

// Answer makes the credentials of the nth call (counting both kinds from 1).
type Answer func(n int, in Input) exchange.Credentials

// STS records every call and answers with Answer's credentials or with the
// error set by Fail. It is safe for concurrent use.
type STS struct {
	now    func() time.Time
	answer Answer

	mu      sync.Mutex
	n       int
	err     error
	quiet   bool
	web     []exchange.WebIdentityInput
	saml    []exchange.SAMLInput
	vended  []exchange.Credentials
	gate    chan struct{}
	entered chan struct{}
}

var (
	_ exchange.WebIdentitySTS = (*STS)(nil)
	_ exchange.SAMLSTS        = (*STS)(nil)
)

// New is an STS answering with answer, or with Numbered when answer is
// nil. now, when not nil, sets each Expiration to now plus the duration
// asked for.
func New(now func() time.Time, answer Answer) *STS {
	if answer == nil {
		answer = Numbered
	}
	return &STS{now: now, answer: answer}
}

// Numbered answers like STS with numbered fake credentials and the
// assumed-role ARN of the call.
func Numbered(n int, in Input) exchange.Credentials {
	return exchange.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIAFAKE%08d", n),
		SecretAccessKey: fmt.Sprintf("fakeSecretAccessKey/%08d/zzzz", n),
		SessionToken:    fmt.Sprintf("FwoGZXIvYXdzFAKESESSIONTOKEN%08d", n),
		AssumedRoleARN:  strings.Replace(strings.Replace(in.RoleARN, ":iam:", ":sts:", 1), ":role/", ":assumed-role/", 1) + "/" + in.SessionName,
	}
}

func (f *STS) AssumeRoleWithWebIdentity(ctx context.Context, in exchange.WebIdentityInput) (*exchange.Credentials, error) {
	return f.call(ctx, Input{RoleARN: in.RoleARN, SessionName: in.SessionName, Duration: in.Duration}, func() {
		f.web = append(f.web, in)
	})
}

func (f *STS) AssumeRoleWithSAML(ctx context.Context, in exchange.SAMLInput) (*exchange.Credentials, error) {
	return f.call(ctx, Input{RoleARN: in.RoleARN, Duration: in.Duration, SAML: true}, func() {
		f.saml = append(f.saml, in)
	})
}

func (f *STS) call(ctx context.Context, in Input, record func()) (*exchange.Credentials, error) {
	f.mu.Lock()
	f.n++
	if !f.quiet {
		record()
	}
	n, err, gate, entered := f.n, f.err, f.gate, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	creds := f.answer(n, in)
	if f.now != nil {
		creds.Expiration = f.now().Add(in.Duration)
	}
	f.mu.Lock()
	if !f.quiet {
		f.vended = append(f.vended, creds)
	}
	f.mu.Unlock()
	return &creds, nil
}

// Fail makes every later call fail with err; nil answers again.
func (f *STS) Fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Quiet stops recording calls and credentials (benchmarks).
func (f *STS) Quiet() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quiet = true
}

// Hold makes each later call signal entered, then wait until release is
// called or its context ends (a slow STS).
func (f *STS) Hold() (entered <-chan struct{}, release func()) {
	in, gate := make(chan struct{}, 1), make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate, f.entered = gate, in
	return in, sync.OnceFunc(func() { close(gate) })
}

// Reset forgets the recorded inputs; the call count goes on, so later
// credentials stay distinct from earlier ones.
func (f *STS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.web, f.saml = nil, nil
}

// WebIdentityCalls returns the AssumeRoleWithWebIdentity inputs recorded.
func (f *STS) WebIdentityCalls() []exchange.WebIdentityInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]exchange.WebIdentityInput(nil), f.web...)
}

// SAMLCalls returns the AssumeRoleWithSAML inputs recorded.
func (f *STS) SAMLCalls() []exchange.SAMLInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]exchange.SAMLInput(nil), f.saml...)
}

// LastWebIdentity is the latest AssumeRoleWithWebIdentity input; none
// fails the test.
func (f *STS) LastWebIdentity(t testing.TB) exchange.WebIdentityInput {
	t.Helper()
	calls := f.WebIdentityCalls()
	if len(calls) == 0 {
		t.Fatal("STS was not called")
	}
	return calls[len(calls)-1]
}

// Vended returns the credentials answered so far.
func (f *STS) Vended() []exchange.Credentials {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]exchange.Credentials(nil), f.vended...)
}
