package issuer_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fedgate/exchange/issuer"
)

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// Announce sees the key set a rotation will give before the new key is
// stored; a failed announcement leaves the store and the signer as they were.
func TestAnnounceBeforeStore(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		fail      error
		wantErr   bool
		wantAdded int // keys stored by the rotation
	}{
		{name: "announced then stored", wantAdded: 1},
		{name: "a failed announcement aborts the rotation", fail: errors.New("bucket unreachable"), wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			var announced []jose.JSONWebKeySet
			var storedAtAnnounce []int
			o := f.options(issuer.AlgES256)
			o.PublishDelay = 5 * time.Second
			o.Announce = func(ctx context.Context, next jose.JSONWebKeySet) error {
				stored, _ := f.keys.ListSigningKeys(ctx)
				storedAtAnnounce = append(storedAtAnnounce, len(stored))
				announced = append(announced, next)
				if len(announced) > 1 {
					return c.fail // the first key's creation succeeds
				}
				return nil
			}
			iss, err := issuer.New(ctx, o)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if len(announced) != 1 || storedAtAnnounce[0] != 0 || !slices.Equal(kids(announced[0]), []string{iss.SigningKeyID()}) {
				t.Fatalf("first key: announced %v with %v stored, want the signer %s announced before it was stored", announced, storedAtAnnounce, iss.SigningKeyID())
			}
			oldKid := iss.SigningKeyID()
			kid, err := iss.Rotate(ctx)
			if (err != nil) != c.wantErr {
				t.Fatalf("Rotate: err %v, want error %v", err, c.wantErr)
			}
			if len(announced) != 2 || storedAtAnnounce[1] != 1 {
				t.Fatalf("rotation announced %d times with %v keys stored, want once with only the old key stored", len(announced)-1, storedAtAnnounce)
			}
			stored, _ := f.keys.ListSigningKeys(ctx)
			if len(stored) != 1+c.wantAdded {
				t.Errorf("%d keys stored after the rotation, want %d", len(stored), 1+c.wantAdded)
			}
			if c.wantErr {
				if !errors.Is(err, c.fail) || iss.SigningKeyID() != oldKid || len(iss.JWKS().Keys) != 1 {
					t.Errorf("after a failed announcement: err %v, signer %s (was %s), %d keys published", err, iss.SigningKeyID(), oldKid, len(iss.JWKS().Keys))
				}
				return
			}
			// What was announced is exactly what the issuer serves once stored.
			want := []string{kid, oldKid}
			slices.Sort(want)
			if !slices.Equal(kids(announced[1]), want) || !slices.Equal(kids(iss.JWKS()), want) {
				t.Errorf("announced %v, serving %v, want both of %v", kids(announced[1]), kids(iss.JWKS()), want)
			}
			if iss.SigningKeyID() != oldKid {
				t.Errorf("the new key signs before its publish delay")
			}
		})
	}
}
