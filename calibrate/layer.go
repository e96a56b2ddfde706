package calibrate

import (
	pool "github.com/evsnn/evsnn/internal/parallel"

	"github.com/evsnn/evsnn/network"
)

// parallel runs fn(0..n-1) on up to workers goroutines. Callers write
// results by index, so the outcome does not depend on scheduling.
func parallel(workers, n int, fn func(i int)) {
	_ = pool.For(workers, n, func(_, i int) error {
		fn(i)
		return nil
	})
}

// chunkSize is the number of images one parallel work item handles. It is
// fixed so that sums are reduced in the same order for any worker count.
const chunkSize = 8

func chunks(images int) int { return (images + chunkSize - 1) / chunkSize }

func chunkRange(c, images int) (int, int) {
	return c * chunkSize, min((c+1)*chunkSize, images)
}

// params are one spiking layer's neuron parameters in the form the layer
// simulator uses: everything per channel except the initial potential.
type params struct {
	theta  []float32 // per channel
	bias   []float32 // per channel: the weighted layer's bias
	v0frac float32   // v(0) = v0frac·θ + v0[i]
	v0     []float32 // per neuron, nil for none
	alpha  float32
	hard   bool
}

func (p *params) clone() *params {
	c := *p
	c.theta = append([]float32(nil), p.theta...)
	c.bias = append([]float32(nil), p.bias...)
	if p.v0 != nil {
		c.v0 = append([]float32(nil), p.v0...)
	}
	return &c
}

// simulate runs one image through the layer for T steps (SPEC §2) and
// writes the spike counts; bits, if not nil, receives the spike trains.
func (p *params) simulate(st *stage, d []float32, constant bool, T int, v []float32, counts []int32, tr *trains, image int) {
	n, perCh := st.n, st.perCh
	for c := 0; c < st.channels; c++ {
		base := p.v0frac * p.theta[c]
		for j := c * perCh; j < (c+1)*perCh; j++ {
			v[j] = base
			if p.v0 != nil {
				v[j] += p.v0[j]
			}
			counts[j] = 0
		}
	}
	alpha := p.alpha
	for t := 0; t < T; t++ {
		dt := d
		if !constant {
			dt = d[t*n : (t+1)*n]
		}
		var frame []uint64
		if tr != nil {
			frame = tr.frame(image, t)
			clear(frame)
		}
		for c := 0; c < st.channels; c++ {
			th, b := p.theta[c], p.bias[c]
			lo, hi := c*perCh, (c+1)*perCh
			vs, ds, cs := v[lo:hi], dt[lo:hi:hi], counts[lo:hi:hi]
			if alpha == 1 && !p.hard {
				// IF, soft reset: branch-free, since spikes are as
				// unpredictable as they are frequent.
				ds, cs = ds[:len(vs)], cs[:len(vs)]
				if frame == nil {
					for j, vv := range vs {
						vv += ds[j] + b
						var k int32
						if vv >= th {
							k = 1
						}
						vs[j] = vv - float32(k)*th
						cs[j] += k
					}
					continue
				}
				for j, vv := range vs {
					vv += ds[j] + b
					var k int32
					if vv >= th {
						k = 1
					}
					vs[j] = vv - float32(k)*th
					cs[j] += k
					i := lo + j
					frame[i>>6] |= uint64(k) << (i & 63)
				}
				continue
			}
			for j := range vs {
				vv := float32(alpha*vs[j]) + (ds[j] + b)
				if vv >= th {
					if p.hard {
						vv = 0
					} else {
						vv -= th
					}
					cs[j]++
					if frame != nil {
						k := lo + j
						frame[k>>6] |= 1 << (k & 63)
					}
				}
				vs[j] = vv
			}
		}
	}
}

// closedForm reports whether a constant drive's spike count has the closed
// form clip(floor((v(0) + T·I)/θ), 0, T): IF neurons (α = 1), soft reset and
// 0 ≤ v(0) < θ. The search uses it for layers with direct input.
func (p *params) closedForm() bool {
	return p.alpha == 1 && !p.hard && p.v0 == nil && p.v0frac >= 0 && p.v0frac < 1
}

// measurement is the conversion error of one layer configuration.
type measurement struct {
	sq     float64 // Σ over images and neurons of e², e = x − s̄
	sqFit  float64 // the same over the images corrections are fitted to
	sqHeld float64 // the same over the held-out images (0 without)
	// Per neuron: errSum is Σ e over the statistics images; live and
	// liveSum count those images where the neuron is in its linear range
	// (not silent in both the ANN and the SNN, not saturated in both: a
	// small change of its current moves its rate) and sum e over them;
	// sqN and sqNHeld are Σ e² over the fitted and the held-out images.
	errSum, liveSum, sqN, sqNHeld []float64
	live                          []int32
	counts                        []int32 // images × neurons spike counts
	tr                            *trains // the spike trains, if recorded
}

// measureGroups is the number of groups measure splits the images into.
const measureGroups = 16

// subsets says which calibration images what is fitted to: the first fit
// images (the rest are held out) and, of those, the first stat images
// for the mean errors of BC and PC.
type subsets struct{ fit, stat int }

// measure simulates the layer on every calibration image and compares the
// rates with the ANN activations x (images × neurons); sqFit and sqHeld
// split the error at sub.fit, errSum sums the first sub.stat images. With
// x nil it only simulates.
func measure(st *stage, p *params, d *drive, x []float32, images int, sub subsets, T, workers int, record bool) *measurement {
	fit, stat := sub.fit, sub.stat
	n := st.n
	m := &measurement{counts: make([]int32, images*n)}
	if record {
		m.tr = newTrains(images, n, T)
	}
	type partial struct {
		sqFit, sqHeld                 float64
		errSum, liveSum, sqN, sqNHeld []float64
		live                          []int32
	}
	// The images are split into a fixed number of groups, each summed
	// on its own and the groups in order, so the sums do not depend on
	// the number of workers; few groups keep the per-neuron partial sums
	// small.
	per := (images + measureGroups - 1) / measureGroups
	nc := (images + per - 1) / per
	parts := make([]partial, nc)
	parallel(workers, nc, func(c int) {
		lo, hi := c*per, min((c+1)*per, images)
		v := make([]float32, n)
		pt := &parts[c]
		if x != nil {
			pt.errSum, pt.liveSum, pt.sqN, pt.sqNHeld = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
			pt.live = make([]int32, n)
		}
		for i := lo; i < hi; i++ {
			counts := m.counts[i*n : (i+1)*n]
			p.simulate(st, d.image(i), d.constant(), T, v, counts, m.tr, i)
			if x == nil {
				continue
			}
			xi := x[i*n : (i+1)*n]
			sqN := pt.sqN
			if i >= fit {
				sqN = pt.sqNHeld
			}
			var s float64
			for ch := 0; ch < st.channels; ch++ {
				th := p.theta[ch]
				scale := float64(th) / float64(T)
				for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
					e := float64(xi[j]) - scale*float64(counts[j])
					s += e * e
					sqN[j] += e * e
					if i < stat {
						pt.errSum[j] += e
						if !(counts[j] == 0 && xi[j] <= 0) && !(int(counts[j]) == T && xi[j] >= th) {
							pt.live[j]++
							pt.liveSum[j] += e
						}
					}
				}
			}
			if i < fit {
				pt.sqFit += s
			} else {
				pt.sqHeld += s
			}
		}
	})
	if x != nil {
		m.errSum, m.liveSum, m.sqN, m.sqNHeld = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		m.live = make([]int32, n)
	}
	for c := range parts {
		pt := &parts[c]
		m.sqFit += pt.sqFit
		m.sqHeld += pt.sqHeld
		if x == nil {
			continue
		}
		for j := range n {
			m.errSum[j] += pt.errSum[j]
			m.liveSum[j] += pt.liveSum[j]
			m.sqN[j] += pt.sqN[j]
			m.sqNHeld[j] += pt.sqNHeld[j]
			m.live[j] += pt.live[j]
		}
	}
	m.sq = m.sqFit + m.sqHeld
	return m
}

// searchScores evaluates threshold candidates (each a per-channel θ
// vector) on the calibration set and returns the squared error per
// candidate and channel. bias(θ) gives the per-channel bias a candidate
// runs with (the bias shift depends on θ). Constant drives whose counts
// have a closed form use it; everything else is simulated step by step.
func searchScores(st *stage, base *params, cands [][]float32, biasFor func(theta []float32) []float32, d *drive, x []float32, images, T, workers int) [][]float64 {
	ps := make([]*params, len(cands))
	for k, th := range cands {
		p := base.clone()
		p.theta = th
		p.bias = biasFor(th)
		ps[k] = p
	}
	nc := chunks(images)
	partial := make([][][]float64, nc)
	parallel(workers, nc, func(c int) {
		lo, hi := chunkRange(c, images)
		v := make([]float32, st.n)
		counts := make([]int32, st.n)
		scores := make([][]float64, len(ps))
		for k := range scores {
			scores[k] = make([]float64, st.channels)
		}
		for i := lo; i < hi; i++ {
			di, xi := d.image(i), x[i*st.n:(i+1)*st.n]
			for k, p := range ps {
				sc := scores[k]
				if d.constant() && p.closedForm() {
					closedFormScores(st, p, di, xi, T, sc)
					continue
				}
				p.simulate(st, di, d.constant(), T, v, counts, nil, 0)
				for ch := 0; ch < st.channels; ch++ {
					scale := float64(p.theta[ch]) / float64(T)
					var s float64
					for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
						e := float64(xi[j]) - scale*float64(counts[j])
						s += e * e
					}
					sc[ch] += s
				}
			}
		}
		partial[c] = scores
	})
	out := make([][]float64, len(ps))
	for k := range out {
		out[k] = make([]float64, st.channels)
		for c := 0; c < nc; c++ {
			for ch, s := range partial[c][k] {
				out[k][ch] += s
			}
		}
	}
	return out
}

// closedFormScores adds to sc (per channel) the squared error of IF
// neurons with soft reset under a constant drive d, whose count has the
// closed form n(T) = clip(floor((v(0) + T·(D+b))/θ), 0, T) =
// clip(floor(T·(D+b)/θ + v0frac), 0, T). It equals the step-by-step
// simulation up to float rounding at exact ties.
func closedFormScores(st *stage, p *params, d, x []float32, T int, sc []float64) {
	ft := float32(T)
	for c := 0; c < st.channels; c++ {
		th, b := p.theta[c], p.bias[c]
		scale := ft / th
		out := th / ft
		lo, hi := c*st.perCh, (c+1)*st.perCh
		ds, xs := d[lo:hi], x[lo:hi]
		var s float32
		for j, dj := range ds {
			q := (dj+b)*scale + p.v0frac
			var k float32
			if q >= ft {
				k = ft
			} else if q > 0 {
				k = float32(int32(q))
			}
			e := xs[j] - out*k
			s += e * e
		}
		sc[c] += float64(s)
	}
}

// paramsOf reads a spiking layer's parameters from a network.
func paramsOf(net *network.Network, st *stage) *params {
	sp := net.Layers[st.index].(*network.Spiking)
	return &params{
		theta:  expand(sp.Threshold, st.channels),
		bias:   stageBias(net, st),
		v0frac: sp.V0Fraction,
		v0:     sp.V0,
		alpha:  sp.Alpha,
		hard:   sp.Reset == network.ResetHard,
	}
}
