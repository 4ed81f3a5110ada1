package saml

import (
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/idp"
)

// TestSAMLVerifyUnsolicited: the Cognito path verifies an unsolicited
// response fully, can verify it again (the SDKs send the same Logins to
// GetId and GetCredentialsForIdentity), records nothing itself, and names
// the assertion and how long a replay record must last.
func TestSAMLVerifyUnsolicited(t *testing.T) {
	f := newSAMLFixture(t, func(c *Config) { c.AllowIdPInitiated = true })
	c := newSAMLCase()
	c.InResponseTo = ""
	posted := c.post(t)
	ctx := context.Background()
	for i := range 2 {
		id, ref, err := f.sp.VerifyUnsolicited(ctx, posted)
		if err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
		if id.Subject != testAlice || ref.ID != c.AssertionID || ref.Issuer != testIdPEntityID {
			t.Fatalf("use %d: subject %q, ref %+v", i+1, id.Subject, ref)
		}
	}
	if f.replay.len() != 0 {
		t.Fatal("VerifyUnsolicited wrote to the replay cache")
	}
	// Every other check applies: one answering a request, one tampered,
	// one expired, and none at all when IdP-initiated is off.
	solicited := newSAMLCase().post(t)
	if _, _, err := f.sp.VerifyUnsolicited(ctx, solicited); !errors.Is(err, idp.ErrNonceMismatch) && !errors.Is(err, idp.ErrUnsolicited) {
		t.Errorf("a response to an AuthnRequest: %v", err)
	}
	doc := signedDoc(t, func(c *samlCase) { c.InResponseTo = "" })
	setNameID(assertionEl(doc.Root()), "admin@example.com")
	if _, _, err := f.sp.VerifyUnsolicited(ctx, encodeDoc(t, doc)); !errors.Is(err, idp.ErrInvalidToken) {
		t.Errorf("tampered NameID: %v", err)
	}
	// At ref.Until the response is no longer accepted: a replay record
	// kept that long outlives every possible use.
	_, ref, _ := f.sp.VerifyUnsolicited(ctx, posted)
	f.clock.Advance(ref.Until.Sub(f.clock.Now()))
	if _, _, err := f.sp.VerifyUnsolicited(ctx, posted); !errors.Is(err, idp.ErrExpiredToken) {
		t.Errorf("at ref.Until: %v, want expired", err)
	}
	f.clock.Advance(-2 * time.Second)
	if _, _, err := f.sp.VerifyUnsolicited(ctx, posted); err != nil {
		t.Errorf("just before ref.Until: %v (the record would be far longer than needed)", err)
	}
	off := newSAMLFixture(t, nil)
	if _, _, err := off.sp.VerifyUnsolicited(ctx, posted); !errors.Is(err, idp.ErrUnsolicited) {
		t.Errorf("IdP-initiated off: %v", err)
	}
}
