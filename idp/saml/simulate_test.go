package saml

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"fedgate/idp"
)

// TestSAMLVerifyResponse: the verify-only path (admin simulate) accepts
// what ConsumeResponse accepts, returns the same identity, and never
// touches the replay cache: a simulated response still works once at the
// ACS, and a used one still simulates.
func TestSAMLVerifyResponse(t *testing.T) {
	f := newSAMLFixture(t, nil)
	posted := newSAMLCase().post(t)
	ctx := context.Background()
	simulated, err := f.sp.VerifyResponse(ctx, posted)
	if err != nil {
		t.Fatalf("VerifyResponse refused a valid response: %v", err)
	}
	if f.replay.len() != 0 {
		t.Fatal("VerifyResponse recorded the assertion in the replay cache")
	}
	consumed, err := f.consume(t, posted)
	if err != nil {
		t.Fatalf("the simulated response no longer works at the ACS: %v", err)
	}
	if !reflect.DeepEqual(simulated, consumed) {
		t.Errorf("identities differ:\nsimulated %+v\nconsumed  %+v", simulated, consumed)
	}
	if _, err := f.consume(t, posted); !errors.Is(err, idp.ErrReplay) {
		t.Fatalf("second use at the ACS: %v, want ErrReplay", err)
	}
	if _, err := f.sp.VerifyResponse(ctx, posted); err != nil {
		t.Errorf("a used response no longer simulates: %v", err)
	}
}

// TestSAMLVerifyResponseRefusals: every check but the replay cache still
// applies on the verify-only path.
func TestSAMLVerifyResponseRefusals(t *testing.T) {
	tampered := func(t *testing.T) string {
		doc := signedDoc(t, nil)
		assertionEl(doc.Root()).FindElement("./AttributeStatement/Attribute/AttributeValue").SetText("admin@example.com")
		return encodeDoc(t, doc)
	}
	tests := []struct {
		name   string
		cfg    func(*Config)
		posted func(t *testing.T) string
		later  time.Duration
		want   error
	}{
		{"tampered attribute", nil, tampered, 0, idp.ErrInvalidToken},
		{"unsigned", nil, func(t *testing.T) string {
			return newSAMLCase().postWith(t, func(c *samlCase) { c.SignAssertion = false })
		}, 0, idp.ErrInvalidToken},
		{"another audience", nil, func(t *testing.T) string {
			return newSAMLCase().postWith(t, func(c *samlCase) { c.Audiences = [][]string{{"https://other.example.com"}} })
		}, 0, idp.ErrWrongAudience},
		{"another destination", nil, func(t *testing.T) string {
			return newSAMLCase().postWith(t, func(c *samlCase) { c.Destination = "https://evil.example.com/acs" })
		}, 0, idp.ErrWrongRecipient},
		{"expired", nil, func(t *testing.T) string { return newSAMLCase().post(t) }, time.Hour, idp.ErrExpiredToken},
		{"unsolicited to a provider that refuses those", nil, func(t *testing.T) string {
			return newSAMLCase().postWith(t, func(c *samlCase) { c.InResponseTo = "" })
		}, 0, idp.ErrUnsolicited},
		{"not base64", nil, func(*testing.T) string { return "%%%" }, 0, idp.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSAMLFixture(t, tt.cfg)
			posted := tt.posted(t)
			f.clock.Advance(tt.later)
			id, err := f.sp.VerifyResponse(context.Background(), posted)
			if id != nil || !errors.Is(err, tt.want) {
				t.Fatalf("VerifyResponse = %v, %v; want %v", id, err, tt.want)
			}
			if f.replay.len() != 0 {
				t.Fatal("a refused response was recorded")
			}
		})
	}
	t.Run("unsolicited to a provider that allows those", func(t *testing.T) {
		f := newSAMLFixture(t, func(c *Config) { c.AllowIdPInitiated = true })
		posted := newSAMLCase().postWith(t, func(c *samlCase) { c.InResponseTo = "" })
		if _, err := f.sp.VerifyResponse(context.Background(), posted); err != nil {
			t.Fatal(err)
		}
	})
}

// postWith renders the case after mutate.
func (c *samlCase) postWith(t testing.TB, mutate func(*samlCase)) string {
	t.Helper()
	mutate(c)
	return c.post(t)
}
