package calibrate

import (
	"fmt"
	"math"
)

// The variants of the method that study_test.go compares (the table in
// doc.go): what the method was, and what it was compared with. They are
// unexported: the method is the zero value.

// guardMode is when a step is undone.
type guardMode int

const (
	guardFit  guardMode = iota // its error on the fitted images rose
	guardNone                  // never
	guardHeld                  // its error on the held-out images rose
)

// study is a variant of the method, for measuring what generalises.
type study struct {
	guard guardMode
	// heldOut is the fraction of the calibration images (the last ones)
	// the steps are not fitted to (0: none).
	heldOut float64
	// threshold, if set, replaces the simulated search by a criterion on
	// the ANN's own activations: "floor" (Li et al.'s code: the
	// clip-floor quantisation error over all fitted images), "floor-ema"
	// (their exact procedure: per batch of 128, EMA 0.9 over 7 batches),
	// "round" (the clip-round error the bias shift makes).
	threshold string
	// statImages, if set, limits the mean errors of BC and PC to the
	// first so many images (Li et al.'s code: one batch of 128).
	statImages int
	// wcFirstOnly trains only the first weighted layer into a layer
	// after an Add (a residual block's second conv, as Li et al.'s code
	// does); the others' outputs stay fixed.
	wcFirstOnly bool
	// correction is how BC and PC are sized: "" (the method: the mean
	// error over the images where the unit — channel or neuron — is in
	// its linear range, each unit at the strength of {0, ¼, …, 3/2} that
	// lowers its own error most), "mean" (the first version: the mean
	// error over all images, at strength 1, ½ or ¼ for the whole layer),
	// "live" (the live mean, strength for the whole layer), "unit" (the
	// plain mean, strength per unit).
	correction string
}

// annThreshold picks θ from the grid θmax·(1 − Step·i) by the
// quantisation error of the ANN's own activations x of the first images
// (no simulation): the error of clip-floor (Li et al.'s criterion),
// clip-floor per batch of 128 averaged by an EMA of momentum 0.9 over 7
// batches (their code), or clip-round (what the bias shift makes of the
// floor).
func annThreshold(st *stage, x []float32, images, T int, mx []float32, opts *Options, mode string) ([]float32, string) {
	// The per-layer (not per-channel) criterion, as their default.
	score := func(lo, hi int, theta float32, round bool) float64 {
		ft := float32(T)
		var s float64
		for _, v := range x[lo*st.n : hi*st.n] {
			q := v * ft / theta
			if round {
				q += 0.5
			}
			var k float32
			if q >= ft {
				k = ft
			} else if q > 0 {
				k = float32(math.Floor(float64(q)))
			}
			e := float64(v - k*theta/ft)
			s += e * e
		}
		return s
	}
	best := func(lo, hi int, round bool) float32 {
		var top float32
		for _, v := range x[lo*st.n : hi*st.n] {
			top = max(top, v)
		}
		if top <= 0 {
			top = mx[0]
		}
		bestTheta, bestScore := top, math.Inf(1)
		for i := 0; i < opts.Candidates; i++ {
			th := float32(float64(top) * (1 - opts.Step*float64(i)))
			if s := score(lo, hi, th, round); s < bestScore {
				bestTheta, bestScore = th, s
			}
		}
		return bestTheta
	}
	var theta float32
	switch mode {
	case "floor-ema":
		const batch, batches, momentum = 128, 7, 0.9
		for b := 0; b < batches && b*batch < images; b++ {
			th := best(b*batch, min((b+1)*batch, images), false)
			if b == 0 {
				theta = th
			} else {
				theta = momentum*theta + (1-momentum)*th
			}
		}
	case "round":
		theta = best(0, images, true)
	default:
		theta = best(0, images, false)
	}
	th := make([]float32, st.channels)
	for c := range th {
		th[c] = theta
	}
	return th, fmt.Sprintf("θ = %.4g by the %s criterion on the ANN's activations", theta, mode)
}
