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
	"sync"
	"testing"
	"time"

	"fedgate/gateway/store"
)

// Clock is a manual clock for stores under test; it only moves forward.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at a fixed instant with whole microseconds, so times
// survive backends with microsecond precision exactly.
func NewClock() *Clock {
	return &Clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now is the func() time.Time to hand the store.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
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

type testCase struct {
	name string
	run  func(t *testing.T)
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
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Identity", s.identityCases()},
		{"Config", s.configCases()},
		{"Ephemeral", s.ephemeralCases()},
		{"Keys", s.keyCases()},
		{"CLISessions", s.cliSessionCases()},
		{"Lifecycle", s.lifecycleCases()},
		{"Audit", s.auditCases()},
		{"SAMLKeys", s.samlKeyCases()},
		{"Text", s.textCases()}, // NUL and invalid UTF-8
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, c.run)
			}
		})
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

// parallel runs fn n times concurrently and returns the results in order.
func parallel[T any](n int, fn func(i int) T) []T {
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
