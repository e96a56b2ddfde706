package calibrate

import (
	"context"
	"fmt"
	"time"

	"github.com/evsnn/evsnn/network"
)

type calibrator struct {
	ctx    context.Context // checked between layers and steps
	opts   Options
	snn    *network.Network // being calibrated in place
	stages []stage
	images []float32
	count  int
	xs     [][]float32 // per stage: ANN activations, images × neurons
}

// stopped returns an error naming layer k when the calibration's context
// is done (Ctrl-C in the CLI): nothing is returned half calibrated.
func (c *calibrator) stopped(k int) error {
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("calibration stopped at layer %d (%s): %w", k+1, c.snn.Layers[c.stages[k].index].Name(), err)
	}
	return nil
}

// layerResult is what the next layer needs from a calibrated one.
type layerResult struct {
	counts []int32   // images × neurons spike counts
	tr     *trains   // spike trains
	theta  []float32 // per channel
}

// biasOf returns the weighted layer's bias slice (shared, not copied).
func biasOf(l network.Layer) []float32 {
	switch l := l.(type) {
	case *network.Conv2d:
		return l.Bias
	case *network.Linear:
		return l.Bias
	}
	return nil
}

// layer calibrates stage k, given the calibrated previous layer.
func (c *calibrator) layer(k int, prev *layerResult) (LayerReport, *layerResult, error) {
	start := time.Now()
	st := &c.stages[k]
	opts := &c.opts
	T, count, workers := opts.T, c.count, opts.Workers
	sp := c.snn.Layers[st.index].(*network.Spiking)
	p := paramsOf(c.snn, st)
	annBias := append([]float32(nil), p.bias...)
	x := c.xs[k]
	lr := LayerReport{Name: sp.LayerName, Layer: st.index, Neurons: st.n}

	var prevTr *trains
	var prevTheta []float32
	if prev != nil {
		prevTr, prevTheta = prev.tr, prev.theta
	}
	d, err := computeDrive(c.snn, st, c.images, count, prevTr, prevTheta, T, workers)
	if err != nil {
		return lr, nil, err
	}
	if err := c.stopped(k); err != nil {
		return lr, nil, err
	}
	cur := measure(st, p, d, x, count, T, workers, true)
	perImage := func(sq float64) float64 { return sq / float64(count) }
	lr.Steps = append(lr.Steps, StepReport{Step: "convert", Before: perImage(cur.sq), After: perImage(cur.sq), Kept: true,
		Detail: "θ = " + formatTheta(p.theta)})

	// try measures q (with drive dq) and keeps it if it lowered the error.
	try := func(name, detail string, q *params, dq *drive) bool {
		m := measure(st, q, dq, x, count, T, workers, true)
		s := StepReport{Step: name, Before: perImage(cur.sq), After: perImage(m.sq), Detail: detail}
		if m.sq < cur.sq || opts.KeepWorse {
			p, cur, d, s.Kept = q, m, dq, true
		}
		lr.Steps = append(lr.Steps, s)
		return s.Kept
	}
	shifted := func(theta []float32) []float32 {
		b := append([]float32(nil), annBias...)
		if opts.Method.Shift {
			for ch := range b {
				b[ch] += theta[ch] / float32(2*T)
			}
		}
		return b
	}
	mx := channelMax(st, x, count)
	lr.MaxActivation = mx
	if !opts.PerChannel {
		var all float32
		for _, m := range mx {
			all = max(all, m)
		}
		lr.MaxActivation = []float32{all}
	}

	if opts.Method.Search {
		theta, detail := c.search(st, p, d, x, lr.MaxActivation, shifted)
		q := p.clone()
		q.theta, q.bias = theta, shifted(theta)
		name := "search"
		if opts.Method.Shift {
			name = "search+shift"
		}
		try(name, detail, q, d)
	} else if opts.Method.Shift {
		q := p.clone()
		q.bias = shifted(q.theta)
		try("shift", "b += θ/2T", q, d)
	}
	if opts.Method.WC {
		if err := c.stopped(k); err != nil {
			return lr, nil, err
		}
		var in []float32
		if prev == nil {
			in = between(c.snn, st, c.images, count)
		} else {
			in = rateInput(c.snn, st, prev, count, T)
		}
		wl2, q, detail := c.weightCalibrate(k, st, p, in, x)
		orig := c.snn.Layers[st.weighted]
		c.snn.Layers[st.weighted] = wl2
		d2, err := computeDrive(c.snn, st, c.images, count, prevTr, prevTheta, T, workers)
		if err != nil {
			return lr, nil, err
		}
		if !try("wc", detail, q, d2) {
			c.snn.Layers[st.weighted] = orig
		}
	}
	// correct applies a mean-error correction (BC or PC) at strength γ = 1;
	// if that raises the error (and KeepWorse is off) it retries at γ = ½
	// and ¼ before undoing it.
	correct := func(name, detail string, apply func(q *params, gamma float64)) {
		for _, gamma := range []float64{1, 0.5, 0.25} {
			q := p.clone()
			apply(q, gamma)
			msg := detail
			if gamma != 1 {
				msg = fmt.Sprintf("%s at strength %g", detail, gamma)
			}
			if try(name, msg, q, d) || opts.KeepWorse {
				return
			}
		}
	}
	if opts.Method.BC {
		e := cur.errSum
		correct("bc", "b += μ_c(e)", func(q *params, gamma float64) {
			for ch := range q.bias {
				var s float64
				for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
					s += e[j]
				}
				q.bias[ch] += float32(gamma * s / float64(count*st.perCh))
			}
		})
	}
	if opts.Method.PC {
		e := cur.errSum
		correct("pc", "v(0) += T·mean(e)", func(q *params, gamma float64) {
			if q.v0 == nil {
				q.v0 = make([]float32, st.n)
			}
			for j := range q.v0 {
				q.v0[j] += float32(gamma * float64(T) * e[j] / float64(count))
			}
		})
	}

	// Write the accepted parameters back into the SNN.
	copy(biasOf(c.snn.Layers[st.weighted]), p.bias)
	if opts.PerChannel {
		sp.Threshold = append([]float32(nil), p.theta...)
	} else {
		sp.Threshold = []float32{p.theta[0]}
	}
	sp.V0 = p.v0
	lr.Threshold = sp.Threshold
	lr.Error = perImage(cur.sq)
	lr.Wall = time.Since(start)
	lr.WallSeconds = lr.Wall.Seconds()
	return lr, &layerResult{counts: cur.counts, tr: cur.tr, theta: p.theta}, nil
}

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
	best := make([]int, chans)
	bestScore := make([]float64, chans)
	for ch := range bestScore {
		bestScore[ch] = -1
	}
	var bestTotal float64 = -1
	evaluated := 0
	eval := func(idxs [][]int) {
		cands := make([][]float32, len(idxs))
		for k, idx := range idxs {
			cands[k] = thetaOf(idx)
		}
		scores := searchScores(st, p, cands, biasFor, d, x, c.count, opts.T, opts.Workers)
		evaluated += len(idxs)
		for k, idx := range idxs {
			if perChannel {
				for ch, s := range scores[k] {
					if bestScore[ch] < 0 || s < bestScore[ch] {
						bestScore[ch], best[ch] = s, idx[ch]
					}
				}
				continue
			}
			var tot float64
			for _, s := range scores[k] {
				tot += s
			}
			if bestTotal < 0 || tot < bestTotal {
				bestTotal = tot
				copy(best, idx)
			}
		}
	}
	cheap := d.constant() && p.closedForm()
	if opts.FullSearch || nc <= 10 {
		var idxs [][]int
		for i := 0; i < nc; i++ {
			idxs = append(idxs, uniform(i))
		}
		eval(idxs)
	} else {
		const stride = 5
		var idxs [][]int
		for i := 0; i < nc; i += stride {
			idxs = append(idxs, uniform(i))
		}
		eval(idxs)
		idxs = idxs[:0]
		for o := -stride + 1; o < stride; o++ {
			if o == 0 {
				continue
			}
			idx := make([]int, chans)
			for ch := range idx {
				idx[ch] = max(0, min(nc-1, best[ch]+o))
			}
			idxs = append(idxs, idx)
		}
		eval(idxs)
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

// rateInput is the SNN's input to stage st's weighted layer, as rates:
// the previous layer's θ·count/T, pooled and flattened as the network does.
func rateInput(net *network.Network, st *stage, prev *layerResult, count, T int) []float32 {
	size := st.srcShape.Size()
	perCh := size / st.srcShape[0]
	r := make([]float32, count*size)
	for i, n := range prev.counts {
		if n != 0 {
			r[i] = prev.theta[(i%size)/perCh] * float32(n) / float32(T)
		}
	}
	return between(net, st, r, count)
}

// verify runs the calibrated SNN with opts.Engine on the calibration set
// and records each layer's error as the engine measures it.
func (c *calibrator) verify(snn *network.Network, rep *Report, finals [][]int32) error {
	res, err := c.opts.Engine.Run(snn, c.images, nil, network.SimOptions{T: c.opts.T, KeepCounts: true, Workers: c.opts.Workers})
	if err != nil {
		return fmt.Errorf("verify with the %s engine: %w", c.opts.Engine.Name(), err)
	}
	if len(res.Counts) != len(c.stages) {
		return fmt.Errorf("verify with the %s engine: %d layers of spike counts, want %d", c.opts.Engine.Name(), len(res.Counts), len(c.stages))
	}
	rep.Engine = c.opts.Engine.Name()
	for k := range c.stages {
		st := &c.stages[k]
		theta := expand(snn.Layers[st.index].(*network.Spiking).Threshold, st.channels)
		var sq float64
		mismatch := 0
		for i, n := range res.Counts[k] {
			e := float64(c.xs[k][i]) - float64(theta[(i%st.n)/st.perCh])*float64(n)/float64(c.opts.T)
			sq += e * e
			if n != finals[k][i] {
				mismatch++
			}
		}
		sq /= float64(c.count)
		rep.Layers[k].EngineError, rep.Layers[k].EngineMismatch = &sq, &mismatch
	}
	return nil
}
