// Package testkit holds the fakes the unit and in-process tests share: a
// settable clock, a deterministic random source, a log sink safe for
// concurrent writers, and an in-process OIDC IdP that signs ID tokens.
// Only tests import it. It depends on nothing of fedgate, so the tests of
// any package can use it without an import cycle; the fake STS, which
// needs the exchange types, is in the fakests subpackage.
package testkit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock for the Now of the code under test, safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d; a negative d moves it back.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Rand is a deterministic random source safe for concurrent use, so keys,
// ids and tokens a test derives from it are the same on every run.
type Rand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

// NewRand returns the ChaCha8 stream whose seed is seed followed by zeros.
func NewRand(seed byte) *Rand {
	var s [32]byte
	s[0] = seed
	return &Rand{r: rand.NewChaCha8(s)}
}

func (g *Rand) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.Read(p)
}

// LogBuffer is a log sink the code under test and the test may use at
// once (server goroutines write while the test reads).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written since the last Reset.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset forgets what was written.
func (b *LogBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Records decodes the lines of a JSON log (slog.NewJSONHandler); a line
// that is not JSON fails the test.
func (b *LogBuffer) Records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// AtLevel returns the records logged at level ("INFO", "WARN", ...).
func (b *LogBuffer) AtLevel(t testing.TB, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range b.Records(t) {
		if r["level"] == level {
			out = append(out, r)
		}
	}
	return out
}

// StringFunc checks a string function against each input and the output
// wanted for it, reporting every mismatch.
func StringFunc(t testing.TB, name string, f func(string) string, want map[string]string) {
	t.Helper()
	for in, w := range want {
		if got := f(in); got != w {
			t.Errorf("%s(%q) = %q, want %q", name, in, got, w)
		}
	}
}
