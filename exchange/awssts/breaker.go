package awssts

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"
)

// callerGone wraps the failure of a call whose caller hung up: it says
// nothing about STS, so the breaker counts it neither way.
type callerGone struct{ err error }

func (c callerGone) Error() string { return c.err.Error() }
func (c callerGone) Unwrap() error { return c.err }

// newBreaker opens after failures outages in a row, refuses calls for
// cooldown, then lets one probe through: its success closes the circuit,
// its failure opens it for another cooldown. STS refusing a request
// (AccessDenied, an invalid token) is STS working, so it counts as success.
func newBreaker(failures int, cooldown time.Duration, log *slog.Logger) *gobreaker.CircuitBreaker[any] {
	return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "sts",
		MaxRequests: 1,
		Timeout:     cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		IsSuccessful: func(err error) bool {
			return err == nil || !isOutage(err)
		},
		IsExcluded: func(err error) bool {
			var gone callerGone
			return errors.As(err, &gone)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				log.Warn("sts circuit open: calls held back", "from", from.String(), "cooldown", cooldown.String())
			case gobreaker.StateHalfOpen:
				log.Info("sts circuit half-open: probing STS")
			default:
				log.Info("sts circuit closed: STS answers again")
			}
		},
	})
}

// isOutage reports a failure that means STS is not serving: throttling,
// 5xx, a timeout, a refused or reset connection.
func isOutage(err error) bool {
	return classify(err).Outage
}
