package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fedgate/gateway/config"
	"fedgate/gateway/testkit"
	"fedgate/idp"
	samlidp "fedgate/idp/saml"
)

// refreshMetadataServer serves IdP metadata, or fails, and counts fetches.
type refreshMetadataServer struct {
	srv   *httptest.Server
	body  atomic.Pointer[string]
	fail  atomic.Bool
	calls atomic.Int32
}

func newRefreshMetadataServer(t *testing.T) *refreshMetadataServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	m := &refreshMetadataServer{}
	body := fmt.Sprintf(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/metadata">`+
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`+
		`<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`+
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>`+
		`</md:IDPSSODescriptor></md:EntityDescriptor>`, base64.StdEncoding.EncodeToString(der))
	m.body.Store(&body)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.calls.Add(1)
		if m.fail.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(*m.body.Load()))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// TestSAMLMetadataRefreshedOnSchedule: metadata is refreshed by the
// gateway's loop with nobody signing in; a failure streak is logged once
// at WARN (no document in the log) and shown in the metrics while the
// last good copy stays in use; recovery is logged and a new streak is
// reported again.
func TestSAMLMetadataRefreshedOnSchedule(t *testing.T) {
	ctx := context.Background()
	m := newRefreshMetadataServer(t)
	clock := testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	sp, err := samlidp.New(ctx, samlidp.Config{
		ID: "okta", IdPMetadataURL: m.srv.URL + "/metadata", RefreshInterval: time.Minute,
		EntityID: "https://fedgate.example.com/saml/metadata/okta", ACSURL: "https://fedgate.example.com/saml/acs/okta",
		MetadataURL: "https://fedgate.example.com/saml/metadata/okta",
	}, m.srv.Client(), clock.Now, forgetReplay{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	s := &Core{log: slog.New(slog.NewJSONHandler(logs, nil)), now: clock.Now}
	s.snap.Store(&Snapshot{Providers: map[string]*Provider{
		"okta":   {Cfg: config.Provider{ID: "okta", Type: config.ProviderSAML}, Provider: sp},
		"static": {Cfg: config.Provider{ID: "static", Type: config.ProviderStatic}, Provider: nil},
	}})
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.SAMLMetadataCollector())
	gauge := func(name string) (float64, bool) {
		t.Helper()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == name && len(f.GetMetric()) == 1 && f.GetMetric()[0].GetLabel()[0].GetValue() == "okta" {
				return f.GetMetric()[0].GetGauge().GetValue(), true
			}
		}
		return 0, false
	}
	if m.calls.Load() != 1 {
		t.Fatalf("initial fetches: %d", m.calls.Load())
	}

	// The loop, driven by an injected ticker: a refresh is due after the
	// interval and happens with nobody signing in.
	tick := make(chan time.Time)
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.RefreshSAMLMetadata(loopCtx, tick); close(done) }()
	clock.Advance(30 * time.Second)
	tick <- clock.Now()
	clock.Advance(31 * time.Second)
	tick <- clock.Now()
	tick <- clock.Now() // the second tick's refresh has finished once the third is taken
	stop()
	<-done
	if m.calls.Load() != 2 {
		t.Fatalf("fetches after the interval passed: %d, want 2 (one refresh, on schedule)", m.calls.Load())
	}
	if age, _ := gauge("fedgate_saml_metadata_age_seconds"); age != 0 {
		t.Errorf("age after the refresh: %vs", age)
	}

	w := &samlMetadataWatch{log: s.log, reported: map[idp.MetadataRefresher]bool{}}
	m.fail.Store(true)
	for range 3 { // a streak of three failed fetches (each after the retry floor)
		clock.Advance(time.Minute)
		w.refresh(ctx, s.Snapshot())
	}
	if m.calls.Load() != 5 {
		t.Fatalf("fetches: %d, want 5", m.calls.Load())
	}
	if n := strings.Count(logs.String(), "saml metadata refresh failed; keeping the last good copy"); n != 1 {
		t.Errorf("a streak of 3 failures logged %d WARN lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), `"provider":"okta"`) || !strings.Contains(logs.String(), "status 503") {
		t.Errorf("the WARN line does not name the provider and cause:\n%s", logs.String())
	}
	if f, ok := gauge("fedgate_saml_metadata_refresh_failures"); !ok || f != 3 {
		t.Errorf("failures gauge %v (present %v), want 3", f, ok)
	}
	if age, _ := gauge("fedgate_saml_metadata_age_seconds"); age != 180 {
		t.Errorf("age of the copy in use: %vs, want 180", age)
	}
	if err := sp.Ready(ctx); err != nil {
		t.Errorf("provider not ready while a good copy is kept: %v", err)
	}

	// A bad document is a failure too, and never reaches the log.
	m.fail.Store(false)
	good := *m.body.Load()
	bad := "<html>maintenance page with SECRET-ISH-CONTENT</html>"
	m.body.Store(&bad)
	clock.Advance(time.Minute)
	w.refresh(ctx, s.Snapshot())
	if strings.Contains(logs.String(), "SECRET-ISH-CONTENT") {
		t.Error("the metadata document reached the log")
	}

	// Recovery ends the streak; the next failure starts a new one.
	m.body.Store(&good)
	clock.Advance(time.Minute)
	w.refresh(ctx, s.Snapshot())
	if !strings.Contains(logs.String(), "saml metadata refreshed again after failures") {
		t.Error("recovery is not logged")
	}
	if f, _ := gauge("fedgate_saml_metadata_refresh_failures"); f != 0 {
		t.Errorf("failures gauge after recovery: %v", f)
	}
	m.fail.Store(true)
	clock.Advance(2 * time.Minute)
	w.refresh(ctx, s.Snapshot())
	if n := strings.Count(logs.String(), "saml metadata refresh failed"); n != 2 {
		t.Errorf("two streaks logged %d WARN lines, want 2", n)
	}
}

// forgetReplay is a replay cache that never refuses (no response is consumed here).
type forgetReplay struct{}

func (forgetReplay) Remember(context.Context, string, time.Time) error { return nil }
