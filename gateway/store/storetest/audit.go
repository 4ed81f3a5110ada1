package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/store"
)

func (s *suite) auditAppendAndList(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	in := store.AuditEntry{
		Kind: store.AuditVend, IdentityID: "us-east-1:abc", Provider: "corp", Subject: "alice",
		Pool: "us-east-1:p", Role: "arn:aws:iam::123456789012:role/r", Source: "192.0.2.1",
		RequestID: "req-1", Result: store.AuditOK, Reason: "rule readers",
	}
	var ids []int64
	for i := range 3 {
		e := in
		e.RequestID = fmt.Sprintf("req-%d", i)
		id, err := st.AppendAudit(ctx, e)
		if err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Errorf("ids not increasing: %d after %d", id, ids[len(ids)-1])
		}
		ids = append(ids, id)
	}
	got, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 3 {
		t.Fatalf("ListAudit = %d entries, %v; want 3", len(got), err)
	}
	for i, e := range got {
		want := in
		want.ID, want.RequestID = ids[2-i], fmt.Sprintf("req-%d", 2-i)
		want.Time = e.Time
		if e != want {
			t.Errorf("entry %d = %+v, want %+v", i, e, want)
		}
		if !sameInstant(e.Time, s.now()) && s.clock != nil {
			t.Errorf("entry time %v, want the store clock's %v", e.Time, s.now())
		}
	}
	// An explicit time is kept.
	at := s.now().Add(-time.Hour)
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Time: at}); err != nil {
		t.Fatal(err)
	}
	got, err = st.ListAudit(ctx, store.AuditQuery{Limit: 1})
	if err != nil || len(got) != 1 || !sameInstant(got[0].Time, at) {
		t.Errorf("explicit time: %+v, %v; want %v", got, err, at)
	}
}

func (s *suite) auditFilters(t *testing.T) {
	s.needClock(t)
	st, ctx := s.fresh(t), context.Background()
	t0 := s.now()
	seed := []store.AuditEntry{
		{Kind: store.AuditVend, Subject: "alice", Pool: "team", Result: store.AuditOK, Source: "10.0.0.1"},
		{Kind: store.AuditVend, Subject: "bob", Pool: "team", Result: store.AuditRefused, Reason: "no_matching_rule"},
		{Kind: store.AuditAdminChange, Actor: "corp:carol", Result: store.AuditOK, Reason: "rule added to pool team", Version: 4},
		{Kind: store.AuditVend, Subject: "Carol", Pool: "other", Result: store.AuditOK, RequestID: "abc123"},
	}
	var ids []int64
	for _, e := range seed {
		s.clock.Advance(time.Minute)
		id, err := st.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tests := []struct {
		name string
		q    store.AuditQuery
		want []int // indexes into seed, newest first
	}{
		{"all", store.AuditQuery{}, []int{3, 2, 1, 0}},
		{"text in subject, any case", store.AuditQuery{Text: "CAROL"}, []int{3, 2}},
		{"text in reason", store.AuditQuery{Text: "no_matching"}, []int{1}},
		{"text in source", store.AuditQuery{Text: "10.0.0"}, []int{0}},
		{"text in request id", store.AuditQuery{Text: "abc1"}, []int{3}},
		{"kind", store.AuditQuery{Kind: store.AuditAdminChange}, []int{2}},
		{"result", store.AuditQuery{Result: store.AuditRefused}, []int{1}},
		{"kind and text", store.AuditQuery{Kind: store.AuditVend, Text: "team"}, []int{1, 0}},
		{"since", store.AuditQuery{Since: t0.Add(3 * time.Minute)}, []int{3, 2}},
		{"until", store.AuditQuery{Until: t0.Add(2 * time.Minute)}, []int{0}},
		{"before id", store.AuditQuery{Before: ids[2]}, []int{1, 0}},
		{"limit", store.AuditQuery{Limit: 2}, []int{3, 2}},
		{"nothing", store.AuditQuery{Text: "nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.ListAudit(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs, wantIDs []int64
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			for _, i := range tt.want {
				wantIDs = append(wantIDs, ids[i])
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
				t.Errorf("ids = %v, want %v", gotIDs, wantIDs)
			}
		})
	}
}

func (s *suite) auditTextIsLiteral(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	for _, subj := range []string{"a%b", "axb", "a_b"} {
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Subject: subj}); err != nil {
			t.Fatal(err)
		}
	}
	for text, want := range map[string]string{"a%b": "a%b", "a_b": "a_b", "'": ""} {
		got, err := st.ListAudit(ctx, store.AuditQuery{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0].Subject != want) {
			t.Errorf("Text %q matched %+v, want only %q", text, got, want)
		}
	}
}

func (s *suite) auditLongFieldsClipped(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	long := strings.Repeat("é", store.MaxAuditField) // 2 bytes each
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Reason: long}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListAudit(ctx, store.AuditQuery{Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	r := got[0].Reason
	if len(r) > store.MaxAuditField+len("…") || !strings.HasSuffix(r, "…") || !strings.HasPrefix(long, strings.TrimSuffix(r, "…")) {
		t.Errorf("clipped reason has %d bytes (%q...), want a valid prefix of at most %d bytes plus …", len(r), r[:10], store.MaxAuditField)
	}
}

func (s *suite) auditInvalidArguments(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"entry without kind", func() error {
			_, err := st.AppendAudit(ctx, store.AuditEntry{Result: store.AuditOK})
			return err
		}},
		{"entry without result", func() error {
			_, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend})
			return err
		}},
		{"limit too high", func() error {
			_, err := st.ListAudit(ctx, store.AuditQuery{Limit: store.MaxAuditPage + 1})
			return err
		}},
		{"negative limit", func() error { _, err := st.ListAudit(ctx, store.AuditQuery{Limit: -1}); return err }},
		{"history limit 0", func() error { _, err := st.ListConfigs(ctx, 0, 0); return err }},
		{"config with audit without kind", func() error {
			_, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{}`)}, 0, store.AuditEntry{Result: store.AuditOK})
			return err
		}},
		{"config with audit, empty doc", func() error {
			_, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{}, 0, store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, wantErr(store.ErrInvalid, c.call))
	}
	if _, err := st.LatestConfig(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused PutConfigWithAudit stored a version: %v", err)
	}
}

func (s *suite) auditConfigBothOrNeither(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	change := store.AuditEntry{Kind: store.AuditAdminChange, Actor: "corp:carol", Result: store.AuditOK, Reason: "first", Version: 99}
	v, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":1}`), Author: "carol", Source: "admin"}, 0, change)
	if err != nil || v != 1 {
		t.Fatalf("PutConfigWithAudit = %d, %v", v, err)
	}
	// A stale write stores neither a version nor an audit entry.
	change.Reason = "stale"
	if _, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{"v":2}`)}, 0, change); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale PutConfigWithAudit: %v, want ErrConflict", err)
	}
	got, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 1 {
		t.Fatalf("audit after a stale write = %+v, %v; want only the first entry", got, err)
	}
	if got[0].Version != 1 || got[0].Reason != "first" {
		t.Errorf("audit entry = %+v, want version 1 (the store's, not the caller's 99)", got[0])
	}
	latest, err := st.LatestConfig(ctx)
	if err != nil || latest.Version != 1 || latest.Author != "carol" {
		t.Errorf("LatestConfig = %+v, %v", latest, err)
	}
	if s.clock != nil && !sameInstant(got[0].Time, latest.CreatedAt) {
		t.Errorf("audit time %v differs from the version's %v", got[0].Time, latest.CreatedAt)
	}
}

func (s *suite) auditConfigHistory(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	if _, err := st.GetConfig(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConfig on an empty store: %v, want ErrNotFound", err)
	}
	for i := 1; i <= 5; i++ {
		doc := []byte(fmt.Sprintf(`{"n":%d}`, i))
		if _, err := st.PutConfig(ctx, store.ConfigVersion{Doc: doc, Author: fmt.Sprintf("a%d", i), Source: "admin", Comment: fmt.Sprintf("c%d", i)}, int64(i-1)); err != nil {
			t.Fatal(err)
		}
	}
	v3, err := st.GetConfig(ctx, 3)
	if err != nil || v3.Version != 3 || string(v3.Doc) != `{"n":3}` || v3.Author != "a3" || v3.Comment != "c3" {
		t.Errorf("GetConfig(3) = %+v, %v", v3, err)
	}
	if _, err := st.GetConfig(ctx, 6); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConfig(6): %v, want ErrNotFound", err)
	}
	page, err := st.ListConfigs(ctx, 0, 2)
	if err != nil || len(page) != 2 || page[0].Version != 5 || page[1].Version != 4 {
		t.Fatalf("ListConfigs(0, 2) = %+v, %v", page, err)
	}
	if page[0].Doc != nil || page[0].Author != "a5" || page[0].Hash == "" {
		t.Errorf("listed version = %+v, want metadata without the document", page[0])
	}
	page, err = st.ListConfigs(ctx, 4, 10)
	if err != nil || len(page) != 3 || page[0].Version != 3 || page[2].Version != 1 {
		t.Errorf("ListConfigs(4, 10) = %+v, %v", page, err)
	}
}

// Writers that retry on conflict each land exactly once, each with exactly
// one audit entry naming its version.
func (s *suite) auditConcurrentWritersEachOnce(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	const n = 12
	versions := Parallel(n, func(i int) int64 {
		for {
			latest := int64(0)
			if v, err := st.LatestConfig(ctx); err == nil {
				latest = v.Version
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
				return 0
			}
			v, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(fmt.Sprintf(`{"writer":%d}`, i))}, latest,
				store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: fmt.Sprintf("writer-%d", i)})
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			if err != nil {
				t.Error(err)
				return 0
			}
			return v
		}
	})
	entries, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(entries) != n {
		t.Fatalf("%d audit entries (%v), want %d", len(entries), err, n)
	}
	byVersion := map[int64]string{}
	for _, e := range entries {
		if prev, dup := byVersion[e.Version]; dup {
			t.Errorf("version %d audited twice (%s, %s)", e.Version, prev, e.Actor)
		}
		byVersion[e.Version] = e.Actor
	}
	for i, v := range versions {
		if byVersion[v] != fmt.Sprintf("writer-%d", i) {
			t.Errorf("writer %d got version %d, audited as %q", i, v, byVersion[v])
		}
		got, err := st.GetConfig(ctx, v)
		if err != nil || string(got.Doc) != fmt.Sprintf(`{"writer":%d}`, i) {
			t.Errorf("version %d holds %s (%v), want writer %d's document", v, got.Doc, err, i)
		}
	}
}

func (s *suite) auditPersists(t *testing.T) {
	if s.reopen == nil {
		t.Skip("backend did not pass WithReopen")
	}
	open := s.reopen(t)
	st, ctx := open(), context.Background()
	if _, err := st.PutConfigWithAudit(ctx, store.ConfigVersion{Doc: []byte(`{}`)}, 0,
		store.AuditEntry{Kind: store.AuditAdminChange, Result: store.AuditOK, Actor: "x"}); err != nil {
		t.Fatal(err)
	}
	must(t, st.Close())
	st = open()
	defer st.Close()
	got, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(got) != 1 || got[0].Actor != "x" || got[0].Version != 1 {
		t.Errorf("after reopen: %+v, %v", got, err)
	}
}

// Close while appends are arriving, some committed by their callers and
// some queued: every append that returned an id is stored, and every one
// the closing store refused is not.
func (s *suite) auditAppendsRacingClose(t *testing.T) {
	if s.reopen == nil {
		t.Skip("backend did not pass WithReopen")
	}
	open := s.reopen(t)
	st, ctx := open(), context.Background()
	const writers, each = 8, 40
	var closeOnce sync.Once
	results := Parallel(writers, func(w int) map[string]int64 {
		kept := map[string]int64{}
		for i := range each {
			if w == 0 && i == each/2 {
				closeOnce.Do(func() {
					if err := st.Close(); err != nil {
						t.Error(err)
					}
				})
			}
			req := fmt.Sprintf("w%d-%d", w, i)
			if id, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, RequestID: req}); err == nil {
				kept[req] = id
			}
		}
		return kept
	})
	st = open()
	defer st.Close()
	entries, err := st.ListAudit(ctx, store.AuditQuery{Limit: store.MaxAuditPage})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	for _, e := range entries {
		stored[e.RequestID] = e.ID
	}
	answered := 0
	for _, kept := range results {
		for req, id := range kept {
			answered++
			if stored[req] != id {
				t.Errorf("append %s answered id %d; the reopened store holds %d", req, id, stored[req])
			}
		}
	}
	if len(stored) != answered {
		t.Errorf("%d entries stored, %d appends answered with an id", len(stored), answered)
	}
	if answered == writers*each {
		t.Errorf("every append succeeded: the store was not closed under them")
	}
}

func (s *suite) auditConcurrentAppendsEachOnce(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	const n = 64
	ids := Parallel(n, func(i int) int64 {
		id, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, RequestID: fmt.Sprintf("req-%d", i)})
		if err != nil {
			t.Error(err)
		}
		return id
	})
	entries, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(entries) != n {
		t.Fatalf("%d entries (%v), want %d", len(entries), err, n)
	}
	byID := map[int64]string{}
	for _, e := range entries {
		byID[e.ID] = e.RequestID
	}
	for i, id := range ids {
		if byID[id] != fmt.Sprintf("req-%d", i) {
			t.Errorf("append %d returned id %d, which holds %q", i, id, byID[id])
		}
	}
}

func (s *suite) auditPruneByAge(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Time: t0.Add(time.Duration(i) * time.Hour), RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	cut := t0.Add(2 * time.Hour) // entries 0 and 1 are older
	for _, want := range []int64{1, 1, 0} {
		if n, err := st.PruneAudit(ctx, cut, 0, 1); err != nil || n != want {
			t.Fatalf("PruneAudit = %d, %v; want %d", n, err, want)
		}
	}
	assertAuditRequests(t, st, "2", "3", "4")
}

func (s *suite) auditPruneByCount(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	for i := range 10 {
		if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, RequestID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Unix(0, 0) // no entry is that old: only the cap prunes
	for _, want := range []int64{3, 3, 0} {
		if n, err := st.PruneAudit(ctx, long, 4, 3); err != nil || n != want {
			t.Fatalf("PruneAudit = %d, %v; want %d", n, err, want)
		}
	}
	assertAuditRequests(t, st, "6", "7", "8", "9")
	for _, bad := range []struct {
		maxRows int64
		limit   int
	}{{-1, 10}, {0, 0}, {0, store.MaxAuditPrune + 1}} {
		if _, err := st.PruneAudit(ctx, long, bad.maxRows, bad.limit); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PruneAudit(max_rows %d, limit %d) = %v, want ErrInvalid", bad.maxRows, bad.limit, err)
		}
	}
}

// Pruning never empties the log: the newest entry stays, so the next
// entry's id is still larger than every id handed out before.
func (s *suite) auditPruneKeepsNewest(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last int64
	for i := range 3 {
		id, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, Time: t0.Add(time.Duration(i) * time.Hour), RequestID: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	future := t0.AddDate(10, 0, 0) // every entry is older
	if n, err := st.PruneAudit(ctx, future, 1, store.MaxAuditPrune); err != nil || n != 2 {
		t.Fatalf("PruneAudit = %d, %v; want 2", n, err)
	}
	if n, err := st.PruneAudit(ctx, future, 0, store.MaxAuditPrune); err != nil || n != 0 {
		t.Fatalf("PruneAudit again = %d, %v; want 0", n, err)
	}
	assertAuditRequests(t, st, "2")
	id, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditOK, RequestID: "3"})
	if err != nil {
		t.Fatal(err)
	}
	if id <= last {
		t.Errorf("id after pruning = %d, want above %d", id, last)
	}
}

// assertAuditRequests checks the log holds exactly the entries with these
// request ids, oldest first.
func assertAuditRequests(t *testing.T, st store.Store, want ...string) {
	t.Helper()
	entries, err := st.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		got = append(got, entries[i].RequestID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("entries left %v, want %v", got, want)
	}
}
