package convert

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Statistic is how a threshold is read off the calibration activations of
// a ReLU layer: a percentile (100 = the maximum) over all its elements, or
// over each channel's elements separately.
type Statistic struct {
	// Percentile in (0, 100]; 100 is the maximum.
	Percentile float64
	// PerChannel computes one threshold per channel (the first dimension
	// of the layer's shape; per neuron for a Linear) instead of one per
	// layer.
	PerChannel bool
}

// Max is the default statistic: the largest activation of each layer.
var Max = Statistic{Percentile: 100}

// ParseStatistic reads "max", "pNN.NN" (a percentile in (0,100], e.g.
// "p99.99"), optionally followed by "-per-channel": "max-per-channel",
// "p99.9-per-channel". The empty string means "max".
func ParseStatistic(s string) (Statistic, error) {
	str := strings.TrimSpace(strings.ToLower(s))
	var st Statistic
	if base, ok := strings.CutSuffix(str, "-per-channel"); ok {
		st.PerChannel = true
		str = base
	}
	switch {
	case str == "" && !st.PerChannel, str == "max":
		st.Percentile = 100
	case strings.HasPrefix(str, "p"):
		p, err := strconv.ParseFloat(str[1:], 64)
		if err != nil || math.IsNaN(p) || !(p > 0 && p <= 100) {
			return Statistic{}, fmt.Errorf("threshold statistic %q: the percentile must be a number in (0, 100], as in p99.99", s)
		}
		st.Percentile = p
	default:
		return Statistic{}, fmt.Errorf("threshold statistic %q: want max, pNN.NN (e.g. p99.99), or either with -per-channel", s)
	}
	return st, nil
}

// String is the canonical name, which ParseStatistic reads back: "max",
// "p99.99", "max-per-channel", ...
func (s Statistic) String() string {
	name := "max"
	if s.Percentile != 100 {
		name = "p" + strconv.FormatFloat(s.Percentile, 'f', -1, 64)
	}
	if s.PerChannel {
		name += "-per-channel"
	}
	return name
}

func (s Statistic) check() error {
	if math.IsNaN(s.Percentile) || !(s.Percentile > 0 && s.Percentile <= 100) {
		return fmt.Errorf("threshold statistic: percentile %v is not in (0, 100]", s.Percentile)
	}
	return nil
}

// Percentile is numpy.percentile(values, p) with numpy's default linear
// interpolation, computed in float64 over the float32 values: with the
// values sorted ascending as a[0..n-1], r = p/100·(n-1), i = floor(r),
// the result is a[i] + (r-i)·(a[i+1]-a[i]) (numpy's rounding of that
// expression included). It reorders values (a selection, not a full sort)
// and panics if values is empty.
func Percentile(values []float32, p float64) float64 {
	n := len(values)
	if n == 0 {
		panic("convert: percentile of no values")
	}
	if p >= 100 {
		return float64(maxOf(values))
	}
	q := p / 100
	r := q * float64(n-1)
	i := int(math.Floor(r))
	if i >= n-1 {
		return float64(maxOf(values))
	}
	t := r - float64(i)
	a := float64(selectKth(values, i))
	// values[i+1:] now holds the elements at or above a[i]: a[i+1] is
	// their minimum.
	b := float64(minOf(values[i+1:]))
	// numpy's _lerp: a + (b-a)·t, or b - (b-a)·(1-t) when t ≥ 0.5.
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

func maxOf(v []float32) float32 {
	m := v[0]
	for _, x := range v[1:] {
		if x > m {
			m = x
		}
	}
	return m
}

func minOf(v []float32) float32 {
	m := v[0]
	for _, x := range v[1:] {
		if x < m {
			m = x
		}
	}
	return m
}

// selectKth reorders v so that v[k] is the k-th smallest value, v[:k] ≤
// v[k] ≤ v[k+1:], and returns it (Hoare's quickselect with a median-of-3
// pivot and three-way partitioning, which copes with the many zeros of a
// ReLU output). NaNs are not expected.
func selectKth(v []float32, k int) float32 {
	lo, hi := 0, len(v)-1
	for hi-lo > 16 {
		m := lo + (hi-lo)/2
		a, b, c := v[lo], v[m], v[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		// Three-way partition: [lo,lt) < pivot, [lt,gt] == pivot, (gt,hi] > pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch x := v[i]; {
			case x < pivot:
				v[lt], v[i] = v[i], v[lt]
				lt++
				i++
			case x > pivot:
				v[gt], v[i] = v[i], v[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return v[k]
		}
	}
	slices.Sort(v[lo : hi+1])
	return v[k]
}
