package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Stats summarises latencies. Percentiles are nearest-rank: the smallest
// sample with at least p% of the samples at or below it.
type Stats struct {
	Count int           `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

func computeStats(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Stats{
		Count: len(s),
		Min:   s[0],
		Mean:  sum / time.Duration(len(s)),
		P50:   percentile(s, 50),
		P95:   percentile(s, 95),
		P99:   percentile(s, 99),
		Max:   s[len(s)-1],
	}
}

// percentile of sorted samples (nearest rank), p in (0, 100].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// ratio is a/b, or 0 when b is 0 (no baseline to compare with).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// writeTable prints every result with its throughput and latencies as
// ratios to the first result, the baseline measured in the same run.
func writeTable(w io.Writer, results []Result) error {
	if len(results) == 0 {
		return nil
	}
	base := results[0]
	width := len("target")
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.Name
		if i == 0 {
			names[i] += " (baseline)"
		}
		width = max(width, len(names[i]))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\trequests\terrors\treq/s\tp50\tp95\tp99\treq/s ÷ base\tp50 ÷ base\tp99 ÷ base\t\n", width, "target")
	for i, r := range results {
		// Names are padded to one width, so they read left-aligned.
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", width, names[i], r.Requests, r.ErrorCount(), r.RPS(),
			ms(r.Stats.P50), ms(r.Stats.P95), ms(r.Stats.P99),
			times(ratio(r.RPS(), base.RPS())),
			times(ratio(float64(r.Stats.P50), float64(base.Stats.P50))),
			times(ratio(float64(r.Stats.P99), float64(base.Stats.P99))))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Errors) == 0 {
			continue
		}
		kinds := make([]string, 0, len(r.Errors))
		for k, v := range r.Errors {
			kinds = append(kinds, fmt.Sprintf("%s ×%d", k, v))
		}
		slices.Sort(kinds)
		fmt.Fprintf(w, "errors in %s: %s (first: %s)\n", r.Name, strings.Join(kinds, ", "), r.FirstFail)
	}
	return nil
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func times(x float64) string {
	switch {
	case x == 0:
		return "-"
	case x < 0.1:
		return fmt.Sprintf("%.3f×", x)
	case x < 10:
		return fmt.Sprintf("%.2f×", x)
	default:
		return fmt.Sprintf("%.0f×", x)
	}
}
