package calibrate

import (
	"fmt"
	"math"
)

// search returns the per-channel thresholds among the candidates
// θmax·(1 − Step·i) that minimise the layer's error.
func (c *calibrator) search(st *stage, p *params, d *drive, x []float32, mx []float32, biasFor func([]float32) []float32) ([]float32, string) {
	opts := &c.opts
	nc := opts.Candidates
	chans := st.channels
	perChannel := opts.PerChannel
	// base[ch] is θmax of the channel's group.
	base := make([]float32, chans)
	for ch := range base {
		m := mx[0]
		if len(mx) > 1 {
			m = mx[ch]
		}
		if m <= 0 {
			m = p.theta[ch]
		}
		base[ch] = m
	}
	thetaOf := func(idx []int) []float32 {
		th := make([]float32, chans)
		for ch := range th {
			th[ch] = float32(float64(base[ch]) * (1 - opts.Step*float64(idx[ch])))
		}
		return th
	}
	uniform := func(i int) []int {
		idx := make([]int, chans)
		for ch := range idx {
			idx[ch] = i
		}
		return idx
	}
	// The search is separable: per channel, each channel's θ minimises
	// its own error; per layer, one θ minimises the sum. A unit is a
	// channel or the whole layer.
	units := 1
	if perChannel {
		units = chans
	}
	unitScores := func(sc []float64) []float64 {
		if perChannel {
			return sc
		}
		var tot float64
		for _, s := range sc {
			tot += s
		}
		return []float64{tot}
	}
	unitOf := func(ch int) int {
		if perChannel {
			return ch
		}
		return 0
	}
	best := make([]int, units)
	bestScore := make([]float64, units)
	for u := range bestScore {
		bestScore[u] = math.Inf(1)
	}
	evaluated := 0
	// eval scores candidates (one index per channel) and returns the
	// per-unit scores of each.
	eval := func(idxs [][]int) [][]float64 {
		cands := make([][]float32, len(idxs))
		for k, idx := range idxs {
			cands[k] = thetaOf(idx)
		}
		scores := searchScores(st, p, cands, biasFor, d, x, c.sub.fit, opts.T, opts.Workers)
		evaluated += len(idxs)
		out := make([][]float64, len(idxs))
		for k, idx := range idxs {
			out[k] = unitScores(scores[k])
			for u, s := range out[k] {
				ch := u // the unit's first channel: all of a unit's channels share the index
				if s < bestScore[u] {
					bestScore[u], best[u] = s, idx[ch]
				}
			}
		}
		return out
	}
	cheap := d.constant() && p.closedForm()
	if opts.FullSearch || nc <= 10 {
		var idxs [][]int
		for i := 0; i < nc; i++ {
			idxs = append(idxs, uniform(i))
		}
		eval(idxs)
	} else {
		// Every 5th candidate, then the 8 around each unit's best and
		// the 8 around its runner-up: at small T the error is not
		// unimodal in θ, and the runner-up's neighbourhood holds the
		// minimum often enough to be worth 8 more candidates.
		const stride = 5
		var coarse [][]int
		for i := 0; i < nc; i += stride {
			coarse = append(coarse, uniform(i))
		}
		scores := eval(coarse)
		second := make([]int, units)
		for u := range second {
			second[u] = -1
			var s2 float64
			for k, sc := range scores {
				if i := coarse[k][0]; i != best[u] && (second[u] < 0 || sc[u] < s2) {
					second[u], s2 = i, sc[u]
				}
			}
			if second[u] < 0 {
				second[u] = best[u]
			}
		}
		centres := [][]int{append([]int(nil), best...), second}
		seen := map[int]bool{}
		for _, idx := range coarse {
			seen[idx[0]] = true
		}
		var idxs [][]int
		for _, centre := range centres {
			for o := -stride + 1; o < stride; o++ {
				if o == 0 {
					continue
				}
				idx := make([]int, chans)
				for ch := range idx {
					idx[ch] = max(0, min(nc-1, centre[unitOf(ch)]+o))
				}
				if !perChannel {
					if seen[idx[0]] {
						continue
					}
					seen[idx[0]] = true
				}
				idxs = append(idxs, idx)
			}
		}
		eval(idxs)
	}
	if !perChannel {
		best = uniform(best[0])
	}
	theta := thetaOf(best)
	var detail string
	if perChannel {
		detail = fmt.Sprintf("θ = %s per channel, %d candidates simulated", formatTheta(theta), evaluated)
	} else {
		detail = fmt.Sprintf("θ = %.4g = θmax·(1−%.2f), %d candidates simulated", theta[0], opts.Step*float64(best[0]), evaluated)
		if cheap {
			detail += " (closed form)"
		}
	}
	return theta, detail
}

func formatTheta(th []float32) string {
	lo, hi := th[0], th[0]
	same := true
	for _, v := range th {
		lo, hi = min(lo, v), max(hi, v)
		same = same && v == th[0]
	}
	if same {
		return fmt.Sprintf("%.4g", th[0])
	}
	return fmt.Sprintf("%.4g..%.4g", lo, hi)
}
