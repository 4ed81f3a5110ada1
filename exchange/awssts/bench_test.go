package awssts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAssumeRoleWithWebIdentity is one call at a time through the
// pooled transport to an in-process STS: what the client itself costs a
// vend (SDK stack, request encoding, XML decoding, connection I/O).
func BenchmarkAssumeRoleWithWebIdentity(b *testing.B) {
	fake := &switchableSTS{}
	fake.set(http.StatusOK, successXML)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := New(Options{Endpoint: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AssumeRoleWithWebIdentity(context.Background(), webInput); err != nil {
			b.Fatal(err)
		}
	}
}
