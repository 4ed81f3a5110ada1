package httpkit

import (
	"math"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"fedgate/gateway/core"
)

// maxRateBuckets bounds the memory of one limiter. Past it, buckets that
// have refilled are dropped (a full bucket is the same as no bucket); if
// every bucket is still draining, the oldest half goes, so an address
// flood cannot grow memory without bound.
const maxRateBuckets = 100_000

// RateLimiter is a set of token buckets keyed by a string (a source
// address, an identity id). It is replica-local: each replica enforces the
// limits on what it serves. The clock is injected.
type RateLimiter struct {
	rate  float64 // tokens added per second
	burst float64 // bucket size
	now   func() time.Time
	max   int

	mu      sync.Mutex
	buckets map[string]*rateBucket
}

type rateBucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows burst requests per key at once, then perSecond.
func NewRateLimiter(perSecond float64, burst int, now func() time.Time) *RateLimiter {
	return &RateLimiter{rate: perSecond, burst: float64(burst), now: now, max: maxRateBuckets, buckets: map[string]*rateBucket{}}
}

// Allow takes one token from key's bucket and reports whether there was one.
func (l *RateLimiter) Allow(key string) bool {
	ok, _ := l.Take(key)
	return ok
}

// Take is Allow that also says, when the bucket is empty, how long until
// it holds a token again (for Retry-After).
func (l *RateLimiter) Take(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &rateBucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// RetryAfter is the Retry-After value (whole seconds, at least 1) of a wait.
func RetryAfter(wait time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10)
}

// CodeRateLimited is the code of a refusal by a per-address budget.
const CodeRateLimited = "rate_limited"

// OverBudget refuses a request over a per-address budget: 429 with
// Retry-After. Like every throttle it is not audited (Throttled), so a
// flood does not reach the audit log either.
func OverBudget(c *gin.Context, wait time.Duration, message string) *core.Error {
	c.Header("Retry-After", RetryAfter(wait))
	e := core.NewError(http.StatusTooManyRequests, CodeRateLimited, message+" Try again in "+RetryAfter(wait)+" s.", nil)
	e.Throttled = true
	return e
}

// evict makes room: refilled buckets first, then the least recently used
// half. Called with mu held.
func (l *RateLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	times := make([]time.Time, 0, len(l.buckets))
	for _, b := range l.buckets {
		times = append(times, b.last)
	}
	slices.SortFunc(times, time.Time.Compare)
	cutoff := times[len(times)/2]
	for k, b := range l.buckets {
		if !b.last.After(cutoff) {
			delete(l.buckets, k)
		}
	}
}

// Size is the number of live buckets (for tests).
func (l *RateLimiter) Size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// SourceKey is the rate-limit key of a client address: the address for
// IPv4, its /64 for IPv6, where one host commonly holds a whole /64 and
// could otherwise pick a fresh bucket per request.
func SourceKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return ip
	}
	return netip.PrefixFrom(addr, 64).Masked().String()
}
