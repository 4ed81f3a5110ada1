// Package storetest is the conformance suite every store backend runs:
//
//	func TestConformance(t *testing.T) {
//		clock := storetest.NewClock()
//		storetest.Run(t, func(t *testing.T) store.Store { return openMine(t, clock.Now) },
//			storetest.WithClock(clock), storetest.WithReopen(...))
//	}
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"fedgate/gateway/store"
	"fedgate/gateway/testkit"
)

// Clock is the test kit's clock, so a test driving a store and the issuer
// shares one; the suite only moves it forward.
type Clock = testkit.Clock

// NewClock starts at a fixed instant with whole microseconds, so times
// survive backends with microsecond precision exactly.
func NewClock() *Clock {
	return testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// Reopener returns an opener bound to one fresh, persistent location: every
// call of the opener opens a new store on that same data. The suite closes
// what it opens.
type Reopener func(t *testing.T) (open func() store.Store)

// Option adds capabilities the backend can offer the suite.
type Option func(*suite)

// WithClock tells the suite the stores open reads c.Now; without it the
// cases that need to move the store's clock are skipped.
func WithClock(c *Clock) Option { return func(s *suite) { s.clock = c } }

// WithReopen enables the persistence cases.
func WithReopen(r Reopener) Option { return func(s *suite) { s.reopen = r } }

// testCase is one conformance case; group and name show in test output as
// TestX/group/name.
type testCase struct {
	group, name string
	run         func(t *testing.T)
}

// cases is the whole suite, one row a case, a topic's rows together; the
// case bodies live in the file named after their topic.
func (s *suite) cases() []testCase {
	return []testCase{
		{"Identity", "CreateThenReuse", s.identityCreateThenReuse},
		{"Identity", "KeysAreDistinct", s.identityKeysAreDistinct},
		{"Identity", "LookupUnknown", s.identityLookupUnknown},
		{"Identity", "ListAndDelete", s.identityListAndDelete},
		{"Identity", "Links", s.identityLinks},
		{"Identity", "Merge", s.identityMerge},
		{"Identity", "LastSeenAdvances", s.identityLastSeenAdvances},
		{"Identity", "IDTakenByAnotherKey", s.identityIDTakenByAnotherKey},
		{"Identity", "InvalidArguments", s.identityInvalidArguments},
		{"Identity", "ConcurrentCreate", s.identityConcurrentCreate},
		{"Identity", "GenerationMoves", s.identityGenerationMoves},
		{"Identity", "RebindingMovesGeneration", s.identityRebindingMovesGeneration},
		{"Identity", "LinkRacesCreate", s.identityLinkRacesCreate},
		{"Identity", "MergeRacesSignIn", s.identityMergeRacesSignIn},
		{"Config", "NoneYet", s.configNoneYet},
		{"Config", "VersionsInSequence", s.configVersionsInSequence},
		{"Config", "StaleIfLatest", s.configStaleIfLatest},
		{"Config", "HashFilledWhenEmpty", s.configHashFilledWhenEmpty},
		{"Config", "CreatedAtFromClock", s.configCreatedAtFromClock},
		{"Config", "InvalidArguments", s.configInvalidArguments},
		{"Config", "ConcurrentPutOneWins", s.configConcurrentPutOneWins},
		{"Ephemeral", "PutGet", s.ephemeralPutGet},
		{"Ephemeral", "ExpiryBoundary", s.ephemeralExpiryBoundary},
		{"Ephemeral", "PutOverLiveConflicts", s.ephemeralPutOverLiveConflicts},
		{"Ephemeral", "PutOverExpiredReplaces", s.ephemeralPutOverExpiredReplaces},
		{"Ephemeral", "PutAlreadyExpired", s.ephemeralPutAlreadyExpired},
		{"Ephemeral", "KindsAreSeparate", s.ephemeralKindsAreSeparate},
		{"Ephemeral", "TakeOnce", s.ephemeralTakeOnce},
		{"Ephemeral", "TakeExpired", s.ephemeralTakeExpired},
		{"Ephemeral", "ConcurrentTakeOneWins", s.ephemeralConcurrentTakeOneWins},
		{"Ephemeral", "ConcurrentPutOneWins", s.ephemeralConcurrentPutOneWins},
		{"Ephemeral", "Delete", s.ephemeralDelete},
		{"Ephemeral", "PurgeExpired", s.ephemeralPurgeExpired},
		{"Ephemeral", "InvalidArguments", s.ephemeralInvalidArguments},
		{"Purge", "ExpiredInBatches", s.purgeExpiredInBatches},
		{"Purge", "IdleIdentities", s.purgeIdleIdentities},
		{"Purge", "TouchKeepsIdentity", s.purgeTouchKeepsIdentity},
		{"Keys", "EmptyList", s.keysEmptyList},
		{"Keys", "AddList", s.keysAddList},
		{"Keys", "DuplicateID", s.keysDuplicateID},
		{"Keys", "CreatedAtFromClock", s.keysCreatedAtFromClock},
		{"Keys", "Retire", s.keysRetire},
		{"Keys", "DeleteRetiredBefore", s.keysDeleteRetiredBefore},
		{"Keys", "InvalidArguments", s.keysInvalidArguments},
		{"CLISessions", "CreateGetList", s.cliCreateGetList},
		{"CLISessions", "ExpiryBoundary", s.cliExpiryBoundary},
		{"CLISessions", "DuplicatesConflict", s.cliDuplicatesConflict},
		{"CLISessions", "InvalidArguments", s.cliInvalidArguments},
		{"CLISessions", "CreateAlreadyExpired", s.cliCreateAlreadyExpired},
		{"CLISessions", "DeleteOnlyOwn", s.cliDeleteOnlyOwn},
		{"CLISessions", "Touch", s.cliTouch},
		{"CLISessions", "CreateDropsOwnersExpired", s.cliCreateDropsOwnersExpired},
		{"CLISessions", "CancelledContext", s.cliCancelledContext},
		{"Lifecycle", "Ping", s.lifecyclePing},
		{"Lifecycle", "CancelledContext", s.lifecycleCancelledContext},
		{"Lifecycle", "CloseTwice", s.lifecycleCloseTwice},
		{"Lifecycle", "Reopen", s.lifecycleReopen},
		// The audit log and the configuration history.
		{"Audit", "AppendAndListNewestFirst", s.auditAppendAndList},
		{"Audit", "Filters", s.auditFilters},
		{"Audit", "TextIsLiteral", s.auditTextIsLiteral},
		{"Audit", "LongFieldsClipped", s.auditLongFieldsClipped},
		{"Audit", "InvalidArguments", s.auditInvalidArguments},
		{"Audit", "ConfigWithAuditBothOrNeither", s.auditConfigBothOrNeither},
		{"Audit", "ConfigHistory", s.auditConfigHistory},
		{"Audit", "ConcurrentWritersEachOnce", s.auditConcurrentWritersEachOnce},
		{"Audit", "Persists", s.auditPersists},
		{"Audit", "ConcurrentAppendsEachOnce", s.auditConcurrentAppendsEachOnce},
		{"Audit", "PruneByAge", s.auditPruneByAge},
		{"Audit", "PruneByCount", s.auditPruneByCount},
		{"Audit", "PruneKeepsNewest", s.auditPruneKeepsNewest},
		{"Audit", "AppendsRacingCloseKeptOrRefused", s.auditAppendsRacingClose},
		{"SAMLKeys", "Contract", s.samlKeysContract},
		{"SAMLKeys", "RingsAreApart", s.samlKeysApart},
		{"AccessKeys", "Contract", s.accessKeysContract},
		// NUL and invalid UTF-8.
		{"Text", "RefusedOnWrite", s.textRefusedOnWrite},
		{"Text", "AbsentOnLookup", s.textAbsentOnLookup},
		{"Text", "AuditKeepsCleanedLine", s.textAuditCleaned},
	}
}

type suite struct {
	open   func(t *testing.T) store.Store
	clock  *Clock
	reopen Reopener
}

// Run runs every conformance case against stores from open, which must
// return a fresh, empty store (and close it in t.Cleanup, or leave it to the
// suite: stores are closed at the end of each case).
func Run(t *testing.T, open func(t *testing.T) store.Store, opts ...Option) {
	s := &suite{open: open}
	for _, o := range opts {
		o(s)
	}
	cases := s.cases()
	for len(cases) > 0 {
		n := 1
		for n < len(cases) && cases[n].group == cases[0].group {
			n++
		}
		group := cases[:n]
		t.Run(group[0].group, func(t *testing.T) {
			for _, c := range group {
				t.Run(c.name, c.run)
			}
		})
		cases = cases[n:]
	}
}

// fresh opens a store for one case and closes it when the case ends.
func (s *suite) fresh(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// now is the store's current time when the suite drives the clock, else
// the wall clock.
func (s *suite) now() time.Time {
	if s.clock != nil {
		return s.clock.Now()
	}
	return time.Now()
}

func (s *suite) needClock(t *testing.T) {
	t.Helper()
	if s.clock == nil {
		t.Skip("backend did not pass WithClock")
	}
}

// sameInstant tolerates backends that keep microseconds only.
func sameInstant(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Microsecond && d < time.Microsecond
}

// Parallel runs fn n times concurrently, all released at once, and returns
// the results in order. Backends use it for races of their own.
func Parallel[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait() // release all at once to maximise contention
			out[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return out
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// must stops the case when a step that sets it up fails.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr is a subtest that wants call's error to wrap want.
func wantErr(want error, call func() error) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if err := call(); !errors.Is(err, want) {
			t.Errorf("err = %v, want %v", err, want)
		}
	}
}

// wantOneWinner checks the outcome of a race: exactly one racer succeeded
// and every other one got loser.
func wantOneWinner(t *testing.T, errs []error, loser error, racers string) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loser):
			t.Errorf("loser got %v, want %v", err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%d %s won, want exactly 1", wins, racers)
	}
}

// instant is a time to look an entry up at and whether it is still alive then.
type instant struct {
	name  string
	at    time.Time
	alive bool
}

// aroundExpiry are the instants that pin an expiry: from (named before), just
// before expires, at it (already gone) and after it.
func aroundExpiry(before string, from, expires time.Time) []instant {
	return []instant{
		{before, from, true},
		{"just before", expires.Add(-time.Millisecond), true},
		{"at expiry", expires, false},
		{"after", expires.Add(time.Second), false},
	}
}
