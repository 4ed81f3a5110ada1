package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) accessKeysContract(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	if keys, err := st.ListAccessKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("ListAccessKeys on an empty store = %v, %v; want none", keys, err)
	}
	a := store.AccessKey{ID: "FGAKAAAA", Name: "backend", Role: "editor", PoolID: "us-east-1:p", Sealed: []byte{1, 0, 2},
		CreatedBy: "admin:alice", CreatedAt: now.Add(-time.Hour)}
	b := store.AccessKey{ID: "FGAKBBBB", Name: "scripts", Role: "viewer", Sealed: []byte("s"), CreatedAt: now}
	for _, k := range []store.AccessKey{b, a} {
		if err := st.CreateAccessKey(ctx, k); err != nil {
			t.Fatalf("CreateAccessKey(%s): %v", k.ID, err)
		}
	}
	if err := st.CreateAccessKey(ctx, a); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a duplicate id: err = %v, want ErrConflict", err)
	}
	for _, bad := range []store.AccessKey{{ID: "x", Name: "n", Role: "viewer", CreatedAt: now}, {ID: "x\x00", Name: "n", Role: "viewer", Sealed: []byte("s"), CreatedAt: now}} {
		if err := st.CreateAccessKey(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateAccessKey(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	got, err := st.GetAccessKey(ctx, a.ID)
	if err != nil || got.Name != a.Name || got.Role != a.Role || got.PoolID != a.PoolID || !bytes.Equal(got.Sealed, a.Sealed) ||
		got.Disabled || got.CreatedBy != a.CreatedBy || !sameInstant(got.CreatedAt, a.CreatedAt) ||
		!sameInstant(got.RotatedAt, a.CreatedAt) || !got.LastUsedAt.IsZero() {
		t.Fatalf("GetAccessKey = %+v, %v; want %+v, rotated at creation, never used", got, err, a)
	}
	keys, err := st.ListAccessKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != a.ID || keys[1].ID != b.ID {
		t.Fatalf("ListAccessKeys = %+v, %v; want a then b (oldest first)", keys, err)
	}

	if err := st.SetAccessKeyDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccessKey(ctx, a.ID); !got.Disabled {
		t.Error("the key is not disabled")
	}
	rotated := now.Add(time.Minute)
	if err := st.RotateAccessKey(ctx, a.ID, []byte("new"), rotated); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccessKey(ctx, a.ID); string(got.Sealed) != "new" || !sameInstant(got.RotatedAt, rotated) || !got.Disabled {
		t.Errorf("after rotation = %+v; want the new secret, the rotation time, still disabled", got)
	}
	if err := st.TouchAccessKey(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAccessKey(ctx, a.ID, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetAccessKey(ctx, a.ID); !sameInstant(got.LastUsedAt, now) {
		t.Errorf("last used = %v, want %v (never moving back)", got.LastUsedAt, now)
	}
	if err := st.TouchAccessKey(ctx, "nobody", now); err != nil {
		t.Errorf("touching an unknown key: %v", err)
	}
	if err := st.DeleteAccessKey(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":     func() error { _, err := st.GetAccessKey(ctx, a.ID); return err }(),
		"disable": st.SetAccessKeyDisabled(ctx, a.ID, true),
		"rotate":  st.RotateAccessKey(ctx, a.ID, []byte("x"), now),
		"delete":  st.DeleteAccessKey(ctx, a.ID),
		"NUL id":  func() error { _, err := st.GetAccessKey(ctx, "a\x00"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a deleted key: err = %v, want ErrNotFound", name, err)
		}
	}
	if keys, _ := st.ListAccessKeys(ctx); len(keys) != 1 || keys[0].ID != b.ID {
		t.Errorf("after delete: %+v, want only b", keys)
	}
}
