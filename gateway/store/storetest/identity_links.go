package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"fedgate/gateway/store"
)

func loginsString(ks []store.IdentityKey) string {
	out := ""
	for _, k := range ks {
		out += k.Provider + "/" + k.Subject + " "
	}
	return out
}

// A second login links to an identity and finds it; unlinking one login
// leaves the other; a login of another identity or pool is refused; a
// guest takes a login as its first and is a guest no more.
func (s *suite) identityLinks(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	okta := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "alice"}
	google := store.IdentityKey{PoolID: "p", Provider: "google", Subject: "a@example.com"}
	bob := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "bob"}
	id, _, err := st.GetOrCreateIdentity(ctx, okta, "r:alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.GetOrCreateIdentity(ctx, bob, "r:bob"); err != nil {
		t.Fatal(err)
	}
	if err := st.LinkLogin(ctx, id, google); err != nil {
		t.Fatalf("LinkLogin: %v", err)
	}
	if err := st.LinkLogin(ctx, id, google); err != nil {
		t.Errorf("linking again: %v, want no error", err)
	}
	if got, created, err := st.GetOrCreateIdentity(ctx, google, "r:new"); err != nil || created || got != id {
		t.Errorf("the linked login finds (%q, %v, %v), want alice's %q", got, created, err, id)
	}
	if got, err := st.IdentityOfLogin(ctx, google); err != nil || got != id {
		t.Errorf("IdentityOfLogin = %q, %v", got, err)
	}
	if logins, err := st.LoginsOf(ctx, id); err != nil || loginsString(logins) != "okta/alice google/a@example.com " {
		t.Errorf("LoginsOf = %q, %v; want the first login, then the link", loginsString(logins), err)
	}
	for name, c := range map[string]struct {
		id   string
		k    store.IdentityKey
		want error
	}{
		"another identity's login": {id, bob, store.ErrConflict},
		"another pool":             {id, store.IdentityKey{PoolID: "q", Provider: "x", Subject: "y"}, store.ErrInvalid},
		"unknown identity":         {"r:none", store.IdentityKey{PoolID: "p", Provider: "x", Subject: "y"}, store.ErrNotFound},
	} {
		if err := st.LinkLogin(ctx, c.id, c.k); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}

	if err := st.UnlinkLogin(ctx, id, okta); err != nil {
		t.Fatalf("unlinking the first login: %v", err)
	}
	if logins, _ := st.LoginsOf(ctx, id); loginsString(logins) != "google/a@example.com " {
		t.Errorf("after unlinking okta: %q, want google only", loginsString(logins))
	}
	if got, _, _ := st.GetOrCreateIdentity(ctx, google, "r:x"); got != id {
		t.Errorf("the remaining login finds %q, want %q", got, id)
	}
	if got, created, err := st.GetOrCreateIdentity(ctx, okta, "r:alice2"); err != nil || !created || got != "r:alice2" {
		t.Errorf("the unlinked login = (%q, %v, %v), want a new identity", got, created, err)
	}
	if err := st.UnlinkLogin(ctx, id, okta); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unlinking a login the identity no longer has: %v", err)
	}
	if err := st.UnlinkLogin(ctx, id, google); err != nil {
		t.Fatal(err)
	}
	if logins, err := st.LoginsOf(ctx, id); err != nil || len(logins) != 0 {
		t.Errorf("an identity without logins: %v, %v", logins, err)
	}
	// A login can be linked again to the identity that lost all of them.
	if err := st.LinkLogin(ctx, id, google); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.LookupIdentity(ctx, id); err != nil || rec.Provider != "google" {
		t.Errorf("the relinked login is the first: %+v, %v", rec, err)
	}

	guest := store.IdentityKey{PoolID: "p", Provider: store.GuestProvider, Subject: "r:guest"}
	if _, _, err := st.GetOrCreateIdentity(ctx, guest, "r:guest"); err != nil {
		t.Fatal(err)
	}
	if logins, err := st.LoginsOf(ctx, "r:guest"); err != nil || len(logins) != 0 {
		t.Errorf("a guest's logins: %v, %v", logins, err)
	}
	carol := store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "carol"}
	if err := st.LinkLogin(ctx, "r:guest", carol); err != nil {
		t.Fatal(err)
	}
	if rec, _ := st.LookupIdentity(ctx, "r:guest"); rec.Provider != "okta" || rec.Subject != "carol" {
		t.Errorf("the upgraded guest = %+v, want carol's login as its first", rec)
	}
	if got, _, _ := st.GetOrCreateIdentity(ctx, carol, "r:c"); got != "r:guest" {
		t.Errorf("carol finds %q, want the former guest", got)
	}
}

// Merging moves every login to the identity kept and deletes the other.
func (s *suite) identityMerge(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	k := func(p, sub string) store.IdentityKey {
		return store.IdentityKey{PoolID: "p", Provider: p, Subject: sub}
	}
	for i, key := range []store.IdentityKey{k("okta", "a"), k("google", "a"), k(store.GuestProvider, "r:2")} {
		if _, _, err := st.GetOrCreateIdentity(ctx, key, fmt.Sprint("r:", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.LinkLogin(ctx, "r:1", k("github", "a")); err != nil {
		t.Fatal(err)
	}
	if err := st.MergeIdentity(ctx, "r:1", "r:0"); err != nil {
		t.Fatalf("MergeIdentity: %v", err)
	}
	if logins, _ := st.LoginsOf(ctx, "r:0"); len(logins) != 3 {
		t.Errorf("merged logins %q, want okta, google and github", loginsString(logins))
	}
	if _, err := st.LookupIdentity(ctx, "r:1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the merged-away identity remains: %v", err)
	}
	for _, key := range []store.IdentityKey{k("google", "a"), k("github", "a")} {
		if got, _, _ := st.GetOrCreateIdentity(ctx, key, "r:x"); got != "r:0" {
			t.Errorf("%v finds %q, want r:0", key, got)
		}
	}
	if err := st.MergeIdentity(ctx, "r:2", "r:0"); err != nil {
		t.Fatalf("merging a guest: %v", err)
	}
	if logins, _ := st.LoginsOf(ctx, "r:0"); len(logins) != 3 {
		t.Errorf("after merging a guest: %q", loginsString(logins))
	}
	if _, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "q", Provider: "okta", Subject: "z"}, "r:q"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		from, into string
		want       error
	}{
		"itself":       {"r:0", "r:0", store.ErrInvalid},
		"another pool": {"r:q", "r:0", store.ErrInvalid},
		"unknown from": {"r:none", "r:0", store.ErrNotFound},
		"unknown into": {"r:0", "r:none", store.ErrNotFound},
	} {
		if err := st.MergeIdentity(ctx, c.from, c.into); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
	if err := st.DeleteIdentity(ctx, "r:0"); err != nil {
		t.Fatal(err)
	}
	if got, created, err := st.GetOrCreateIdentity(ctx, k("github", "a"), "r:gh"); err != nil || !created || got != "r:gh" {
		t.Errorf("a link of a deleted identity = (%q, %v, %v), want a new identity", got, created, err)
	}
}

// identityRebindingMovesGeneration: every store change that rebinds a
// login or deletes an identity moves the identity generation, which
// replicas poll to drop their identity caches.
func (s *suite) identityRebindingMovesGeneration(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	key := func(sub string) store.IdentityKey {
		return store.IdentityKey{PoolID: "p", Provider: "okta", Subject: sub}
	}
	for _, id := range []string{"g:1", "g:2"} {
		if _, _, err := st.GetOrCreateIdentity(ctx, key(id), id); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func() error
	}{
		{"LinkLogin", func() error { return st.LinkLogin(ctx, "g:1", key("second")) }},
		{"UnlinkLogin", func() error { return st.UnlinkLogin(ctx, "g:1", key("second")) }},
		{"MergeIdentity", func() error { return st.MergeIdentity(ctx, "g:2", "g:1") }},
		{"DeleteIdentity", func() error { return st.DeleteIdentity(ctx, "g:1") }},
	}
	for _, step := range steps {
		before, err := st.IdentityGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if after, err := st.IdentityGeneration(ctx); err != nil || after <= before {
			t.Errorf("%s: generation %d → %d (%v); want it moved", step.name, before, after, err)
		}
	}
}
