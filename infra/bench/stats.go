package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// spread is one figure over repeated runs.
type spread []float64

func (s spread) median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	v := slices.Clone(s)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (s spread) min() float64 { return slices.Min(s) }
func (s spread) max() float64 { return slices.Max(s) }

// format renders "median [min–max]" with f; a single run renders alone.
func (s spread) format(f func(float64) string) string {
	if len(s) == 0 {
		return "–"
	}
	if len(s) == 1 {
		return f(s[0])
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.median()), f(s.min()), f(s.max()))
}

// ms renders milliseconds with 2 significant decimals below 10.
func ms(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(v float64) string { return fmt.Sprintf("%.1f×", v) }

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func units(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func toMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
