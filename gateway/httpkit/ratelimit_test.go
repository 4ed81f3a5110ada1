package httpkit

import (
	"strings"
	"testing"
	"time"

	"fedgate/gateway/testkit"
)

func TestRateLimiter(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []struct {
			advance time.Duration
			want    bool
		}
	}{
		{"burst then refuse", 1, 2, []struct {
			advance time.Duration
			want    bool
		}{{0, true}, {0, true}, {0, false}, {500 * time.Millisecond, false}, {500 * time.Millisecond, true}, {0, false}}},
		{"refill caps at burst", 10, 1, []struct {
			advance time.Duration
			want    bool
		}{{0, true}, {time.Hour, true}, {0, false}}},
		{"clock going back grants nothing", 1, 1, []struct {
			advance time.Duration
			want    bool
		}{{0, true}, {-time.Hour, false}, {time.Hour, false}, {time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testkit.NewClock(fixedNow)
			l := NewRateLimiter(tt.rate, tt.burst, clock.Now)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				if got := l.Allow("k"); got != s.want {
					t.Fatalf("step %d: allow = %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

// TestRateLimiterMemoryIsBounded: a flood of distinct keys cannot grow the
// limiter past its bound, and a draining bucket survives eviction of
// refilled ones.
func TestRateLimiterMemoryIsBounded(t *testing.T) {
	clock := testkit.NewClock(fixedNow)
	l := NewRateLimiter(1, 2, clock.Now)
	l.max = 100
	l.Allow("victim")
	l.Allow("victim")
	for i := range 1000 {
		clock.Advance(time.Millisecond)
		l.Allow("flood-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := l.Size(); n > 100 {
		t.Errorf("%d buckets, bound 100", n)
	}
}

func TestSourceKey(t *testing.T) {
	testkit.StringFunc(t, "SourceKey", SourceKey, map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"2001:db8:1:2:aaaa::1":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::9": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":           "2001:db8:1:3::/64",
		"::ffff:192.0.2.7":          "::ffff:192.0.2.7",
		"not an ip":                 "not an ip",
	})
}

var fixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Take says how long until the bucket holds a token again, and
// RetryAfter writes it as whole seconds, never 0.
func TestRateLimiterTakeWait(t *testing.T) {
	clock := testkit.NewClock(fixedNow)
	l := NewRateLimiter(0.5, 1, clock.Now)
	if ok, wait := l.Take("k"); !ok || wait != 0 {
		t.Fatalf("first Take = %v, %v", ok, wait)
	}
	tests := []struct {
		advance time.Duration
		wait    time.Duration
		header  string
	}{
		{0, 2 * time.Second, "2"},
		{500 * time.Millisecond, 1500 * time.Millisecond, "2"},
		{time.Second, 500 * time.Millisecond, "1"},
		{499 * time.Millisecond, time.Millisecond, "1"},
	}
	for i, tt := range tests {
		clock.Advance(tt.advance)
		ok, wait := l.Take("k")
		if ok || (wait-tt.wait).Abs() > time.Microsecond || RetryAfter(wait) != tt.header {
			t.Errorf("step %d: Take = %v, %v (Retry-After %s); want false, %v (%s)", i, ok, wait, RetryAfter(wait), tt.wait, tt.header)
		}
	}
	clock.Advance(time.Millisecond)
	if ok, _ := l.Take("k"); !ok {
		t.Error("refilled bucket refused")
	}
}
