package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fedgate/gateway/store"
)

// The Text cases pin what every backend does with text it cannot keep as
// given (PostgreSQL's TEXT refuses NUL and invalid UTF-8): writes of such
// keys and names are ErrInvalid, lookups by them find nothing, and audit
// lines are kept with the odd bytes replaced. No backend answers a backend
// failure for them.

var oddTexts = map[string]string{"NUL": "al\x00ice", "invalid UTF-8": "al\xffice"}

func (s *suite) textRefusedOnWrite(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	for name, odd := range oddTexts {
		t.Run(name, func(t *testing.T) {
			owner := store.CLISessionOwner{Provider: "corp", Subject: odd}
			calls := []struct {
				name string
				call func() error
			}{
				{"identity subject", func() error {
					_, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: odd}, "r:1")
					return err
				}},
				{"identity new id", func() error {
					_, _, err := st.GetOrCreateIdentity(ctx, store.IdentityKey{PoolID: "p", Provider: "okta", Subject: "bob"}, odd)
					return err
				}},
				{"config author", func() error {
					_, err := st.PutConfig(ctx, store.ConfigVersion{Doc: []byte(`{}`), Author: odd}, 0)
					return err
				}},
				{"ephemeral kind", func() error { return st.PutEphemeral(ctx, odd, "k", []byte("v"), now.Add(time.Hour)) }},
				{"signing key id", func() error {
					return st.AddSigningKey(ctx, store.StoredKey{ID: odd, Algorithm: "ES256", Sealed: []byte("x")})
				}},
				{"CLI session owner", func() error {
					return st.CreateCLISession(ctx, cliSession("s1", owner, now, time.Hour))
				}},
				{"audit query text", func() error { _, err := st.ListAudit(ctx, store.AuditQuery{Text: odd}); return err }},
			}
			for _, c := range calls {
				if err := c.call(); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: err = %v, want ErrInvalid", c.name, err)
				}
			}
		})
	}
	// Nothing was stored by the refused writes; an ephemeral key is only
	// stored hashed, so any bytes are fine there.
	if _, err := st.LatestConfig(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused PutConfig stored a version: %v", err)
	}
	if keys := mustList(t, st); len(keys) != 0 {
		t.Errorf("a refused AddSigningKey stored %+v", keys)
	}
	if err := st.PutEphemeral(ctx, "flow", "st\x00\xffate", []byte("v"), now.Add(time.Hour)); err != nil {
		t.Errorf("ephemeral key with odd bytes: %v", err)
	} else if got, err := st.TakeEphemeral(ctx, "flow", "st\x00\xffate", now); err != nil || string(got) != "v" {
		t.Errorf("take ephemeral key with odd bytes = %q, %v", got, err)
	}
}

func (s *suite) textAbsentOnLookup(t *testing.T) {
	st, ctx, now := s.fresh(t), context.Background(), s.now()
	for name, odd := range oddTexts {
		t.Run(name, func(t *testing.T) {
			if _, err := st.LookupIdentity(ctx, odd); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("LookupIdentity: %v, want ErrNotFound", err)
			}
			if _, err := st.GetCLISession(ctx, odd, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetCLISession: %v, want ErrNotFound", err)
			}
			owner := store.CLISessionOwner{Provider: "corp", Subject: odd}
			if got, err := st.ListCLISessions(ctx, owner, now); err != nil || len(got) != 0 {
				t.Errorf("ListCLISessions = %v, %v; want none", got, err)
			}
			if err := st.DeleteCLISession(ctx, owner, odd); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteCLISession: %v, want ErrNotFound", err)
			}
			if err := st.TouchCLISession(ctx, odd, now); err != nil {
				t.Errorf("TouchCLISession: %v, want nil", err)
			}
			if _, err := st.GetEphemeral(ctx, odd, odd, now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetEphemeral: %v, want ErrNotFound", err)
			}
		})
	}
}

func (s *suite) textAuditCleaned(t *testing.T) {
	st, ctx := s.fresh(t), context.Background()
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditVend, Result: store.AuditRefused,
		Subject: "al\x00ice", RequestID: "req-\xff", Reason: strings.Repeat("\xff", store.MaxAuditField)}); err != nil {
		t.Fatalf("AppendAudit with odd bytes: %v", err)
	}
	got, err := st.ListAudit(ctx, store.AuditQuery{Text: "al\uFFFDice"})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAudit = %+v, %v; want the cleaned entry", got, err)
	}
	e := got[0]
	for _, f := range []string{e.Subject, e.RequestID, e.Reason} {
		if !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
			t.Errorf("field %q kept NUL or invalid UTF-8", f)
		}
	}
	if e.Subject != "al\uFFFDice" || e.RequestID != "req-\uFFFD" {
		t.Errorf("subject %q, request id %q; want the odd bytes replaced by U+FFFD", e.Subject, e.RequestID)
	}
	if len(e.Reason) > store.MaxAuditField+len("…") {
		t.Errorf("reason has %d bytes, want at most %d", len(e.Reason), store.MaxAuditField+len("…"))
	}
}
