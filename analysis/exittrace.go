package analysis

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/parallel"
	"github.com/evsnn/evsnn/network"
)

// ExitTrace is one full run (every image for T steps) that kept, per image
// and step, what an early-exit rule decides on: the prediction after
// every step, the readout margin after every step t < T as
// network.MarginExit computes it, the spikes up to every step, and the
// step at which the exact rule (network.ExactExit) would have stopped the
// image. A margin rule only looks at A(t) after each step and stopping
// changes nothing before the stop, so replaying any margin:M@S on the
// trace (Replay) gives exactly the predictions and steps a run with that
// rule gives: one full run prices every M.
type ExitTrace struct {
	T      int
	Images int
	// Labels are the images' labels (nil: none).
	Labels []int
	// Result is the full run.
	Result *network.SimResult
	// pred[i*T+t-1] is image i's prediction after t steps.
	pred []int32
	// q[i*(T-1)+t-1] is image i's per-step margin after step t < T:
	// (top1 − top2)/t of A(t), the quantity MarginExit compares with M.
	q []float64
	// spikes[i*T+t-1] are image i's spikes (all spiking layers) in steps
	// 1..t; sops[i*T+t-1] the SOPs they and the Poisson input spikes of
	// those steps stand for, estimated (see SOPs).
	spikes []int64
	sops   []float64
	// exact[i] is the step after which the exact rule stops image i (T if
	// it never does); nil if the network has no exact rule.
	exact []int
	// settled[i] is the first step from which image i's prediction no
	// longer changes: the fewest steps any rule can stop it after without
	// changing its prediction at any later step.
	settled []int
}

// maxTraceValues bounds images × T of a trace (about 24 bytes each).
const maxTraceValues = 1 << 28

// TraceExits runs engine over the images of set for opts.T steps (any
// opts.Exit is ignored: the trace is of the full run) and records the
// ExitTrace. The images are cut into one contiguous chunk per worker, each
// run by the engine on one worker (a dense engine with batches of one
// image), so that the probe that reads A(t) after each step knows which
// image it belongs to; an engine that interleaves images within one worker
// is detected and refused. The result is the full run's, identical to
// Simulate's (engines give the same numbers for any batching), with the
// raster of image 0 if opts.Raster is set; opts.OnImage, if set, is
// called with each image's position in set, as an engine calls it.
func TraceExits(engine network.Engine, net *network.Network, set *dataset.Set, opts network.SimOptions, env Env) (*ExitTrace, error) {
	T, n := opts.T, set.N
	if T < 1 || n < 1 {
		return nil, BadInput(fmt.Errorf("exit trace: T = %d, %d images: both must be ≥ 1", T, n))
	}
	if n > maxTraceValues/T {
		return nil, BadInput(fmt.Errorf("exit trace: %d images × T = %d is more than %d per-step values: use fewer images", n, T, maxTraceValues))
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, BadInput(fmt.Errorf("exit trace: %w", err))
	}
	if classes := shapes[len(shapes)-1].Size(); classes < 2 {
		// A margin needs a runner-up (MarginExit never stops such a net).
		return nil, BadInput(fmt.Errorf("exit trace: the readout has %d output: early exit needs at least 2 classes", classes))
	}
	if d, ok := engine.(dense.Engine); ok {
		d.BatchSize = 1
		engine = d
	}
	tr := &ExitTrace{T: T, Images: n, Labels: set.Labels,
		pred: make([]int32, n*T), q: make([]float64, n*max(T-1, 0)),
		spikes: make([]int64, n*T), sops: make([]float64, n*T), settled: make([]int, n)}
	exact, err := network.NewExactExit(net)
	if err == nil {
		tr.exact = make([]int, n)
	} else {
		env.log().Debug("no exact exit rule for the trace", "reason", err.Error())
		exact = nil
	}
	workers := parallel.Workers(opts.Workers, n)
	size := set.Size()
	results := make([]*network.SimResult, workers)
	track := env.track(fmt.Sprintf("%s T=%d (traced)", engine.Name(), T), n)
	var done atomic.Int64
	start := time.Now()
	err = parallel.For(workers, workers, func(_, c int) error {
		first, end := c*n/workers, (c+1)*n/workers
		if first == end {
			return nil
		}
		p := &probe{tr: tr, first: first, exact: exact}
		o := opts
		o.Exit, o.Workers, o.ImageOffset = p, 1, opts.ImageOffset+first
		o.Raster = opts.Raster && first == 0
		o.OnImage = func(i int, rec *network.ImageRecord) error {
			if err := p.onImage(i, rec); err != nil {
				return err
			}
			if opts.OnImage != nil {
				return opts.OnImage(first+i, rec)
			}
			return nil
		}
		o.Progress = func(int) { track.Update(int(done.Add(1))) }
		var labels []int
		if set.Labels != nil {
			labels = set.Labels[first:end]
		}
		res, err := engine.Run(net, set.Images[first*size:end*size], labels, o)
		if err != nil {
			return err
		}
		results[c] = res
		return nil
	})
	track.Done()
	if err != nil {
		return nil, BadInput(err)
	}
	var res *network.SimResult
	for _, r := range results {
		if r == nil {
			continue
		}
		if res == nil {
			res = r
		} else if err := res.Append(r); err != nil {
			return nil, fmt.Errorf("exit trace: %w", err)
		}
	}
	res.Wall = time.Since(start)
	tr.Result = res
	env.log().Info("simulated (traced for early exit)", "engine", engine.Name(), "images", n, "T", T,
		"accuracy", last(res.AccuracyByStep()), "wall", res.Wall.Round(time.Millisecond))
	return tr, nil
}

// probe is the Exit rule a traced chunk runs with: it never stops an
// image, and records what A(t) says after each step of the image being
// simulated; onImage files it under the image's index. It relies on the
// chunk's engine running one image at a time, and checks it.
type probe struct {
	tr    *ExitTrace
	first int
	exact *network.ExactExit
	// The image being simulated: margins and predictions of its steps so
	// far, and the step the exact rule stops it after (0: not yet).
	q       []float64
	pred    []int32
	stopped int
	broken  bool
}

// Done implements network.Exit.
func (p *probe) Done(t, T int, acc []float32) bool {
	if t == 1 {
		p.q, p.pred, p.stopped = p.q[:0], p.pred[:0], 0
	}
	if t != len(p.q)+1 {
		p.broken = true
		return false
	}
	p.q = append(p.q, stepMargin(t, acc))
	p.pred = append(p.pred, int32(network.Argmax(acc)))
	if p.exact != nil && p.stopped == 0 && p.exact.Done(t, T, acc) {
		p.stopped = t
	}
	return false
}

// String implements network.Exit.
func (p *probe) String() string { return "trace" }

// stepMargin is (top1 − top2)/t of acc, computed exactly as
// network.MarginExit.Done computes what it compares with M.
func stepMargin(t int, acc []float32) float64 {
	if len(acc) < 2 {
		return 0
	}
	first, second := math.Inf(-1), math.Inf(-1)
	for _, v := range acc {
		switch f := float64(v); {
		case f > first:
			first, second = f, first
		case f > second:
			second = f
		}
	}
	return (first - second) / float64(t)
}

// onImage files the probe's record of the image just finished (position
// i in the chunk) under its index in the trace.
func (p *probe) onImage(i int, rec *network.ImageRecord) error {
	tr := p.tr
	T := tr.T
	g := p.first + i
	if p.broken || len(p.q) != T-1 {
		return fmt.Errorf("exit trace: the engine did not run image %d on its own (%d margins for T = %d): it cannot be traced", g, len(p.q), T)
	}
	for t := range T - 1 {
		if p.pred[t] != int32(rec.PredictionByStep[t]) {
			return fmt.Errorf("exit trace: image %d: the readout seen after step %d is not the image's (the engine interleaves images)", g, t+1)
		}
	}
	copy(tr.q[g*(T-1):(g+1)*(T-1)], p.q)
	pred := tr.pred[g*T : (g+1)*T]
	for t, c := range rec.PredictionByStep {
		pred[t] = int32(c)
	}
	settled := T
	for settled > 1 && pred[settled-2] == pred[T-1] {
		settled--
	}
	tr.settled[g] = settled
	if tr.exact != nil {
		tr.exact[g] = T
		if p.stopped > 0 {
			tr.exact[g] = p.stopped
		}
	}
	// SOPs per step are not in the record: each layer's are estimated as
	// its spikes of the steps times the image's SOPs per spike of the
	// layer, the Poisson input's as a share t/T of its SOPs.
	sp, so := tr.spikes[g*T:(g+1)*T], tr.sops[g*T:(g+1)*T]
	clear(sp)
	clear(so)
	for k, bySteps := range rec.SpikesByStep {
		perSpike := 0.0
		if rec.Spikes[k] > 0 {
			perSpike = float64(rec.SOPs[k]) / float64(rec.Spikes[k])
		}
		var cum int64
		for t, c := range bySteps {
			cum += int64(c)
			sp[t] += cum
			so[t] += float64(cum) * perSpike
		}
	}
	for t := range so {
		so[t] += float64(rec.InputSOPs) * float64(t+1) / float64(T)
	}
	return nil
}

// Pred returns image i's prediction after t steps of the full run.
func (tr *ExitTrace) Pred(i, t int) int { return int(tr.pred[i*tr.T+t-1]) }

// Margin returns image i's per-step margin (top1 − top2)/t after step
// t < T.
func (tr *ExitTrace) Margin(i, t int) float64 { return tr.q[i*(tr.T-1)+t-1] }

// Settled returns the first step from which image i's prediction does
// not change any more in the full run.
func (tr *ExitTrace) Settled(i int) int { return tr.settled[i] }

// ExactStop returns the step after which the exact rule stops image i (T
// if it never does), and false if the network has no exact rule.
func (tr *ExitTrace) ExactStop(i int) (int, bool) {
	if tr.exact == nil {
		return 0, false
	}
	return tr.exact[i], true
}

// stopMargin is the step after which margin:M@S stops image i.
func (tr *ExitTrace) stopMargin(i int, m network.MarginExit) int {
	T := tr.T
	q := tr.q[i*(T-1) : (i+1)*(T-1)]
	for t := max(m.MinSteps, 1); t < T; t++ {
		if q[t-1] >= m.M {
			return t
		}
	}
	return T
}

// ExitPoint is the outcome of one exit rule on the images of a trace.
type ExitPoint struct {
	Rule string `json:"rule"`
	// Margin is M of a margin rule (omitted for the exact rule).
	Margin *float64 `json:"margin,omitempty"`
	// Accuracy is the fraction of correct final predictions (0 without
	// labels); Changed counts the images whose final prediction differs
	// from the full run's.
	Accuracy float64 `json:"accuracy"`
	Changed  int     `json:"changed"`
	// MeanSteps is the mean number of steps run per image.
	MeanSteps float64 `json:"mean_steps"`
	// SpikesPerImage are the spikes of the steps run (exact);
	// SOPsPerImage their SOPs, estimated from each image's SOPs per spike
	// of each layer (the trace keeps spikes, not SOPs, per step).
	SpikesPerImage float64 `json:"spikes_per_image"`
	SOPsPerImage   float64 `json:"sops_per_image_estimated"`
	// Pareto is true when no other point of the sweep is at least as
	// accurate in fewer mean steps, or more accurate in as few.
	Pareto bool `json:"pareto"`

	correct int
}

// replay evaluates the rule whose stop step for image i is stop(i).
func (tr *ExitTrace) replay(rule string, stop func(i int) int) ExitPoint {
	T := tr.T
	p := ExitPoint{Rule: rule}
	var steps int64
	var spikes, sops float64
	for i := range tr.Images {
		s := stop(i)
		steps += int64(s)
		spikes += float64(tr.spikes[i*T+s-1])
		sops += tr.sops[i*T+s-1]
		pred := tr.pred[i*T+s-1]
		if pred != tr.pred[i*T+T-1] {
			p.Changed++
		}
		if tr.Labels != nil && int(pred) == tr.Labels[i] {
			p.correct++
		}
	}
	n := float64(tr.Images)
	p.Accuracy = float64(p.correct) / n
	p.MeanSteps = float64(steps) / n
	p.SpikesPerImage, p.SOPsPerImage = spikes/n, sops/n
	return p
}

// Replay returns what a run with margin rule m gives on the trace's images:
// the same predictions and steps as an engine run with SimOptions.Exit = m.
func (tr *ExitTrace) Replay(m network.MarginExit) ExitPoint {
	p := tr.replay(m.String(), func(i int) int { return tr.stopMargin(i, m) })
	p.Margin = &m.M
	return p
}

// Exact returns the exact rule's outcome (false if the network has none).
func (tr *ExitTrace) Exact() (ExitPoint, bool) {
	if tr.exact == nil {
		return ExitPoint{}, false
	}
	return tr.replay("exact", func(i int) int { return tr.exact[i] }), true
}

// Full returns the full run's outcome (every image T steps).
func (tr *ExitTrace) Full() ExitPoint {
	return tr.replay("none", func(int) int { return tr.T })
}

// Oracle returns the outcome of stopping every image at its settled step:
// the fewest steps that keep every prediction of the full run, which no
// rule can beat without changing predictions.
func (tr *ExitTrace) Oracle() ExitPoint {
	return tr.replay("oracle", func(i int) int { return tr.settled[i] })
}
