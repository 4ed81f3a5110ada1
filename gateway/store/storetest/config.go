package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) configNoneYet(t *testing.T) {
	st := s.fresh(t)
	if v, err := st.LatestConfig(context.Background()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestConfig on an empty store = %+v, %v; want ErrNotFound", v, err)
	}
}

func (s *suite) configVersionsInSequence(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	var ifLatest int64
	for i := 1; i <= 3; i++ {
		in := store.ConfigVersion{
			Version: 99, // ignored: the store numbers versions
			Doc:     []byte(fmt.Sprintf(`{"pools":[%d]}`, i)),
			Hash:    fmt.Sprintf("hash-%d", i),
			Author:  "admin@example.com", Source: "api", Comment: fmt.Sprintf("change %d", i),
		}
		got, err := st.PutConfig(ctx, in, ifLatest)
		if err != nil || got != int64(i) {
			t.Fatalf("PutConfig #%d = %d, %v; want %d", i, got, err, i)
		}
		ifLatest = got
		latest, err := st.LatestConfig(ctx)
		if err != nil {
			t.Fatalf("LatestConfig: %v", err)
		}
		if latest.Version != got || !bytes.Equal(latest.Doc, in.Doc) || latest.Hash != in.Hash ||
			latest.Author != in.Author || latest.Source != in.Source || latest.Comment != in.Comment {
			t.Errorf("LatestConfig = %+v, want version %d of %+v", latest, got, in)
		}
	}
}

func (s *suite) configStaleIfLatest(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	doc := store.ConfigVersion{Doc: []byte(`{}`)}
	if _, err := st.PutConfig(ctx, doc, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutConfig(ctx, doc, 1); err != nil {
		t.Fatal(err)
	}
	for _, stale := range []int64{0, 1, 3} {
		if v, err := st.PutConfig(ctx, store.ConfigVersion{Doc: []byte(`{"lost":true}`)}, stale); !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutConfig(ifLatest=%d) with latest 2 = %d, %v; want ErrConflict", stale, v, err)
		}
	}
	latest, err := st.LatestConfig(ctx)
	if err != nil || latest.Version != 2 || !bytes.Equal(latest.Doc, doc.Doc) {
		t.Errorf("after conflicts LatestConfig = %+v, %v; want version 2 unchanged", latest, err)
	}
}

func (s *suite) configHashFilledWhenEmpty(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	doc := []byte(`{"providers":[]}`)
	if _, err := st.PutConfig(ctx, store.ConfigVersion{Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
	latest, err := st.LatestConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(doc)
	if want := hex.EncodeToString(sum[:]); latest.Hash != want {
		t.Errorf("Hash = %q, want SHA-256 hex %q", latest.Hash, want)
	}
}

func (s *suite) configCreatedAtFromClock(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	s.clock.Advance(time.Minute)
	want := s.clock.Now()
	in := store.ConfigVersion{Doc: []byte(`{}`), CreatedAt: want.Add(-48 * time.Hour)} // ignored
	if _, err := st.PutConfig(ctx, in, 0); err != nil {
		t.Fatal(err)
	}
	latest, err := st.LatestConfig(ctx)
	if err != nil || !sameInstant(latest.CreatedAt, want) {
		t.Errorf("CreatedAt = %v (%v), want the store clock's %v", latest.CreatedAt, err, want)
	}
}

func (s *suite) configInvalidArguments(t *testing.T) {
	st := s.fresh(t)
	tests := []struct {
		name     string
		doc      []byte
		ifLatest int64
	}{
		{"empty doc", nil, 0},
		{"negative ifLatest", []byte(`{}`), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, wantErr(store.ErrInvalid, func() error {
			_, err := st.PutConfig(context.Background(), store.ConfigVersion{Doc: tt.doc}, tt.ifLatest)
			return err
		}))
	}
}

func (s *suite) configConcurrentPutOneWins(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	const n = 10
	errs := Parallel(n, func(i int) error {
		_, err := st.PutConfig(ctx, store.ConfigVersion{Doc: []byte(fmt.Sprintf(`{"writer":%d}`, i))}, 0)
		return err
	})
	wantOneWinner(t, errs, store.ErrConflict, "writers with ifLatest=0")
	if latest, err := st.LatestConfig(ctx); err != nil || latest.Version != 1 {
		t.Errorf("LatestConfig = %+v, %v; want version 1", latest, err)
	}
}
