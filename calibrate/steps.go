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
	shapes []network.Shape
	plan   *plan
	images []float32
	count  int
	xs     [][]float32 // per stage: ANN activations, images × neurons
	// spikes holds the recorded spikes of calibrated spiking layers and
	// of the MaxPools behind them, by layer index, as long as a later
	// layer reads them.
	spikes map[int]*spikes
	life   map[int]int // spiking layer → last stage that reads it
	// sub: the steps are fitted to the first sub.fit images; the rest,
	// if any, are held out to judge them.
	sub subsets
}

// accept reports whether a step that turned measurement cur into m is
// kept.
func (c *calibrator) accept(cur, m *measurement) bool {
	if c.opts.KeepWorse {
		return true
	}
	switch c.opts.study.guard {
	case guardNone:
		return true
	case guardHeld:
		return m.sqHeld < cur.sqHeld
	}
	return m.sqFit < cur.sqFit
}

// stopped returns an error naming layer k when the calibration's context
// is done (Ctrl-C in the CLI): nothing is returned half calibrated.
func (c *calibrator) stopped(k int) error {
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("calibration stopped at layer %d (%s): %w", k+1, c.snn.Layers[c.plan.stages[k].index].Name(), err)
	}
	return nil
}

// source returns the recorded spikes of layer i, a calibrated spiking
// layer or a MaxPool behind one (derived on first use).
func (c *calibrator) source(i int) *spikes {
	if s, ok := c.spikes[i]; ok {
		return s
	}
	from := c.snn.InputOf(i)
	s := poolSpikes(c.snn.Layers[i].(*network.MaxPool2d), c.shapes[from], c.shapes[i], c.spikes[from], c.count, c.opts.T, c.opts.Workers)
	c.spikes[i] = s
	return s
}

// done records the spikes of calibrated stage k and drops those no later
// layer reads.
func (c *calibrator) done(k int, m *measurement, theta []float32) {
	st := &c.plan.stages[k]
	c.spikes[st.index] = &spikes{tr: m.tr, counts: m.counts, theta: theta, perCh: st.perCh}
	for i := range c.spikes {
		from := i
		if network.RoleOf(c.snn.Layers[i]) == network.RoleMaxPool {
			from = c.snn.InputOf(i)
		}
		if c.life[from] <= k {
			delete(c.spikes, i)
		}
	}
}

// layer calibrates stage k; every spiking layer before it is calibrated.
func (c *calibrator) layer(k int) (LayerReport, *measurement, error) {
	start := time.Now()
	st := &c.plan.stages[k]
	opts := &c.opts
	T, count, workers := opts.T, c.count, opts.Workers
	sp := c.snn.Layers[st.index].(*network.Spiking)
	p := paramsOf(c.snn, st)
	annBias := append([]float32(nil), p.bias...)
	x := c.xs[k]
	lr := LayerReport{Name: sp.LayerName, Layer: st.index, Neurons: st.n}

	d, err := computeDrive(c.snn, st, c.images, count, c.source, T, workers)
	if err != nil {
		return lr, nil, err
	}
	if err := c.stopped(k); err != nil {
		return lr, nil, err
	}
	fit, stat := c.sub.fit, c.sub.stat
	cur := measure(st, p, d, x, count, c.sub, T, workers, true)
	perImage := func(sq float64) float64 { return sq / float64(count) }
	lr.Steps = append(lr.Steps, StepReport{Step: "convert", Before: perImage(cur.sq), After: perImage(cur.sq), Kept: true,
		Detail: "θ = " + formatTheta(p.theta)})

	// try measures q (with drive dq) and keeps it if the guard accepts it.
	try := func(name, detail string, q *params, dq *drive) bool {
		m := measure(st, q, dq, x, count, c.sub, T, workers, true)
		s := StepReport{Step: name, Before: perImage(cur.sq), After: perImage(m.sq), Detail: detail}
		if c.accept(cur, m) {
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
		var theta []float32
		var detail string
		if c.opts.study.threshold != "" {
			theta, detail = annThreshold(st, x, fit, T, lr.MaxActivation, opts, c.opts.study.threshold)
		} else {
			theta, detail = c.search(st, p, d, x, lr.MaxActivation, shifted)
		}
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
		ins := make([][]float32, len(st.projs))
		for j := range st.projs {
			pj := &st.projs[j]
			var s *spikes
			if !pj.kind.constant() {
				s = c.source(pj.source)
			}
			ins[j] = rates(c.snn, pj, c.images, count, s, T)
		}
		trained, q, detail := c.weightCalibrate(k, st, p, ins, x)
		orig := make([]network.Layer, len(st.projs))
		for j, l := range trained {
			if l != nil {
				w := st.projs[j].weighted
				orig[j], c.snn.Layers[w] = c.snn.Layers[w], l
			}
		}
		d2, err := computeDrive(c.snn, st, c.images, count, c.source, T, workers)
		if err != nil {
			return lr, nil, err
		}
		if !try("wc", detail, q, d2) {
			for j, l := range orig {
				if l != nil {
					c.snn.Layers[st.projs[j].weighted] = l
				}
			}
		}
	}
	// A mean-error correction (BC, PC) moves unit u — a channel's bias,
	// a neuron's v(0) — by scale[u]·delta[u].
	type correction struct {
		name, detail string
		delta        func(m *measurement) []float64
		apply        func(q *params, delta, scale []float64)
		unitErr      func(m *measurement) []float64 // per unit Σ e² over the fitted images
	}
	uniform := func(n int, g float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = g
		}
		return s
	}
	// correct applies a correction at strength γ = 1; if that raises the
	// error (and KeepWorse is off) it retries at γ = ½ and ¼ before
	// undoing it. With the per-unit line search, every unit takes the
	// strength of {0, ¼, …, 3/2} that lowers its own error most (units
	// are independent given the layer's drive), and the result is judged
	// as a whole.
	correct := func(cr correction) {
		delta := cr.delta(cur)
		if mode := c.opts.study.correction; mode == "" || mode == "unit" {
			best := cr.unitErr(cur)
			scale := make([]float64, len(delta))
			for _, g := range []float64{0.25, 0.5, 0.75, 1, 1.25, 1.5} {
				q := p.clone()
				cr.apply(q, delta, uniform(len(delta), g))
				for u, e := range cr.unitErr(measure(st, q, d, x, count, c.sub, T, workers, false)) {
					if e < best[u] {
						best[u], scale[u] = e, g
					}
				}
			}
			q := p.clone()
			cr.apply(q, delta, scale)
			try(cr.name, cr.detail+", strength per unit", q, d)
			return
		}
		for _, gamma := range []float64{1, 0.5, 0.25} {
			q := p.clone()
			cr.apply(q, delta, uniform(len(delta), gamma))
			msg := cr.detail
			if gamma != 1 {
				msg = fmt.Sprintf("%s at strength %g", cr.detail, gamma)
			}
			if try(cr.name, msg, q, d) || opts.KeepWorse || c.opts.study.guard == guardNone {
				return
			}
		}
	}
	live := c.opts.study.correction == "" || c.opts.study.correction == "live"
	if opts.Method.BC {
		correct(correction{name: "bc", detail: "b += μ_c(e)",
			delta: func(m *measurement) []float64 {
				dl := make([]float64, st.channels)
				for ch := range dl {
					var s float64
					var k int32
					for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
						if live {
							s += m.liveSum[j]
							k += m.live[j]
						} else {
							s += m.errSum[j]
						}
					}
					if !live {
						k = int32(stat * st.perCh)
					}
					if k > 0 {
						dl[ch] = s / float64(k)
					}
				}
				return dl
			},
			apply: func(q *params, delta, scale []float64) {
				for ch := range q.bias {
					q.bias[ch] += float32(scale[ch] * delta[ch])
				}
			},
			unitErr: func(m *measurement) []float64 {
				e := make([]float64, st.channels)
				for j, v := range m.sqN {
					e[j/st.perCh] += v
				}
				return e
			}})
	}
	if opts.Method.PC {
		correct(correction{name: "pc", detail: "v(0) += T·mean(e)",
			delta: func(m *measurement) []float64 {
				dl := make([]float64, st.n)
				for j := range dl {
					switch {
					case !live:
						dl[j] = float64(T) * m.errSum[j] / float64(stat)
					case m.live[j] > 0:
						dl[j] = float64(T) * m.liveSum[j] / float64(m.live[j])
					}
				}
				return dl
			},
			apply: func(q *params, delta, scale []float64) {
				if q.v0 == nil {
					q.v0 = make([]float32, st.n)
				}
				for j := range q.v0 {
					q.v0[j] += float32(scale[j] * delta[j])
				}
			},
			unitErr: func(m *measurement) []float64 { return m.sqN }})
	}

	// Write the accepted parameters back into the SNN.
	setStageBias(c.snn, st, p.bias)
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
	c.done(k, cur, p.theta)
	return lr, cur, nil
}

// verify runs the calibrated SNN with opts.Engine on the calibration set
// and records each layer's error as the engine measures it.
func (c *calibrator) verify(snn *network.Network, rep *Report, finals [][]int32) error {
	res, err := c.opts.Engine.Run(snn, c.images, nil, network.SimOptions{T: c.opts.T, KeepCounts: true, Workers: c.opts.Workers})
	if err != nil {
		return fmt.Errorf("verify with the %s engine: %w", c.opts.Engine.Name(), err)
	}
	stages := c.plan.stages
	if len(res.Counts) != len(stages) {
		return fmt.Errorf("verify with the %s engine: %d layers of spike counts, want %d", c.opts.Engine.Name(), len(res.Counts), len(stages))
	}
	rep.Engine = c.opts.Engine.Name()
	for k := range stages {
		st := &stages[k]
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
