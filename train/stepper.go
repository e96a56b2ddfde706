package train

import (
	"github.com/evsnn/evsnn/internal/parallel"
	"github.com/evsnn/evsnn/network"
)

// stepper runs training steps: the shards of a batch go to workers, each
// shard's gradient lands in its own buffer, and the buffers are summed in
// shard order, so the result does not depend on the number of workers.
//
// Without BatchNorms a step is one parallel pass: every shard runs forward,
// loss and backward on its own. A training-mode BatchNorm needs the
// statistics of the whole batch, so a step then runs in phases split at the
// BatchNorms: forward up to a BatchNorm's input in every shard; the batch
// mean from the shards' float64 sums, added in shard order; the variance
// from a second pass over the shards (the mean squared deviation from that
// mean); on to the next BatchNorm; and backward likewise, each BatchNorm's
// Σdy and Σdy·x̂ reduced across shards before its input gradient. Every
// shard then keeps its activations between phases (a scratch per shard;
// without BatchNorms, a scratch per worker).
type stepper struct {
	m       *model
	workers int
	shard   int
	scr     []*scratch
	grads   [][]float32
	losses  []float64
	correct []int
	sums    [][]float64 // the shards' BatchNorm sums, for the reductions
	ns      []int       // samples per shard in this step
}

func newStepper(m *model, cfg Config) *stepper {
	nsh := (cfg.BatchSize + cfg.ShardSize - 1) / cfg.ShardSize
	w := max(1, min(cfg.Workers, nsh))
	s := &stepper{m: m, workers: w, shard: cfg.ShardSize,
		losses: make([]float64, nsh), correct: make([]int, nsh), ns: make([]int, nsh)}
	// Without BatchNorms a worker's scratch serves every shard it runs;
	// with them every shard keeps its own between the phases of a step.
	nscr := w
	if len(m.bns) > 0 {
		nscr = nsh
	}
	for range nscr {
		sc := m.newScratch(cfg.ShardSize, true)
		s.scr = append(s.scr, sc)
		s.sums = append(s.sums, sc.stats)
	}
	for range nsh {
		s.grads = append(s.grads, make([]float32, len(m.params)))
	}
	return s
}

// parallel runs fn(worker, job) for jobs 0..jobs-1 on the workers.
func (s *stepper) parallel(jobs int, fn func(w, j int)) {
	_ = parallel.For(s.workers, jobs, func(w, j int) error {
		fn(w, j)
		return nil
	})
}

// step trains on the samples idx and returns their summed loss and the
// number classified correctly (before the update).
func (s *stepper) step(data Dataset, idx []int, opt *optimizer, lr float64, t int64) (float64, int) {
	loss, correct := s.gradient(data, idx)
	np := len(s.m.params)
	s.parallel((np+updateChunk-1)/updateChunk, func(_, c int) {
		opt.stepRange(s.m.params, s.grads[0], c*updateChunk, min((c+1)*updateChunk, np), lr, t)
	})
	return loss, correct
}

// updateChunk is the number of parameters per parallel job of the
// reduction and the update.
const updateChunk = 1 << 14

// gradient runs the forward and backward passes on the samples idx in
// training mode and leaves the gradient of their mean loss in s.grads[0].
// It returns their summed loss and the number classified correctly.
func (s *stepper) gradient(data Dataset, idx []int) (float64, int) {
	m := s.m
	b := len(idx)
	nsh := (b + s.shard - 1) / s.shard
	scale := 1 / float32(b)
	last := len(m.g.Layers)
	part := func(j int) []int { return idx[j*s.shard : min((j+1)*s.shard, b)] }
	// start gathers shard j's samples; finish runs the loss and the
	// backward pass down to node lo.
	start := func(sc *scratch, j int) int {
		p := part(j)
		for i, k := range p {
			copy(sc.x[i*m.inSize:(i+1)*m.inSize], data.Images[k*m.inSize:(k+1)*m.inSize])
			sc.labels[i] = data.Labels[k]
		}
		return len(p)
	}
	finish := func(sc *scratch, j, n, lo int) {
		logits := sc.outs[last-1]
		clear(sc.has)
		s.losses[j], s.correct[j] = SoftmaxCrossEntropy(sc.grads[last-1][:n*m.classes], logits, sc.labels[:n], m.classes, scale)
		sc.has[last-1] = true
		g := s.grads[j]
		clear(g)
		m.backwardRange(sc, n, last, lo, g)
	}
	bns := m.bns
	if len(bns) == 0 {
		s.parallel(nsh, func(w, j int) {
			sc := s.scr[w]
			n := start(sc, j)
			m.forwardRange(sc, n, 0, last, true)
			finish(sc, j, n, 0)
		})
	} else {
		s.stepBN(nsh, start, finish)
	}
	var loss float64
	correct := 0
	for j := 0; j < nsh; j++ {
		loss += s.losses[j]
		correct += s.correct[j]
	}
	// Reduce in parameter chunks; every element is summed in shard order
	// whatever the chunking.
	np := len(m.params)
	s.parallel((np+updateChunk-1)/updateChunk, func(_, c int) {
		lo, hi := c*updateChunk, min((c+1)*updateChunk, np)
		g0 := s.grads[0][lo:hi]
		for j := 1; j < nsh; j++ {
			for i, v := range s.grads[j][lo:hi] {
				g0[i] += v
			}
		}
	})
	return loss, correct
}

// stepBN is the forward and backward pass of a step through a network with
// BatchNorms, in phases (see stepper).
func (s *stepper) stepBN(nsh int, start func(*scratch, int) int, finish func(*scratch, int, int, int)) {
	m := s.m
	bns := m.bns
	last := len(m.g.Layers)
	ns := s.ns[:nsh]
	sums := s.sums[:nsh]
	// statSums fills shard j's sums for BatchNorm node i: pass 1 (Σx),
	// pass 2 (Σ(x−mean)²) or the backward sums (Σdy, Σdy·x̂).
	statSums := func(sc *scratch, i, n, pass int) {
		bn := m.g.Layers[i].(*batchNorm)
		st := sc.stats[:2*bn.C]
		clear(st)
		x := m.bnInput(sc, i, n)
		switch pass {
		case 1:
			bnSums(st, x, n, bn.C, m.plane(i))
		case 2:
			bnSqDev(st, x, bn.mean64, n, bn.C, m.plane(i))
		default:
			bn.gradSums(st[:bn.C], st[bn.C:], sc.grads[i][:len(x)], x, n, m.plane(i))
		}
	}
	total := 0
	s.parallel(nsh, func(_, j int) {
		sc := s.scr[j]
		ns[j] = start(sc, j)
		m.forwardRange(sc, ns[j], 0, bns[0], true)
		statSums(sc, bns[0], ns[j], 1)
	})
	for _, n := range ns {
		total += n
	}
	for k, i := range bns {
		bn := m.g.Layers[i].(*batchNorm)
		bn.setMean(sums, total*m.plane(i))
		s.parallel(nsh, func(_, j int) { statSums(s.scr[j], i, ns[j], 2) })
		bn.setVar(sums)
		s.parallel(nsh, func(_, j int) {
			sc, n := s.scr[j], ns[j]
			x := m.bnInput(sc, i, n)
			y := sc.acts[i][:len(x)]
			bn.trainForward(y, x, n, m.plane(i))
			sc.outs[i] = y
			if k+1 < len(bns) {
				m.forwardRange(sc, n, i+1, bns[k+1], true)
				statSums(sc, bns[k+1], n, 1)
				return
			}
			m.forwardRange(sc, n, i+1, last, true)
			finish(sc, j, n, i+1)
			statSums(sc, i, n, 3)
		})
	}
	for k := len(bns) - 1; k >= 0; k-- {
		i := bns[k]
		bn := m.g.Layers[i].(*batchNorm)
		dg, db := m.slices(s.grads[0], i)
		bn.setGrad(sums, dg, db)
		lo := 0
		if k > 0 {
			lo = bns[k-1] + 1
		}
		s.parallel(nsh, func(_, j int) {
			sc, n := s.scr[j], ns[j]
			x := m.bnInput(sc, i, n)
			dx, acc := m.dxFor(sc, i, 0, n)
			if dx != nil {
				bn.trainBackward(dx, sc.grads[i][:len(x)], x, n, m.plane(i))
				m.dxDone(sc, i, 0, dx, acc)
			}
			m.backwardRange(sc, n, i, lo, s.grads[j])
			if k > 0 {
				statSums(sc, bns[k-1], n, 3)
			}
		})
	}
}

// evaluate returns the mean loss and the accuracy of the network, in eval
// mode, on d.
func (s *stepper) evaluate(d Dataset) (float64, float64) {
	m := s.m
	m.prepareEval()
	n := d.Len()
	per := s.shard
	jobs := (n + per - 1) / per
	losses := make([]float64, jobs)
	corrects := make([]int, jobs)
	s.parallel(jobs, func(w, j int) {
		sc := s.scr[w]
		lo, hi := j*per, min((j+1)*per, n)
		copy(sc.x, d.Images[lo*m.inSize:hi*m.inSize])
		logits := m.forward(sc, hi-lo)
		losses[j], corrects[j] = SoftmaxCrossEntropy(sc.grads[len(sc.grads)-1], logits, d.Labels[lo:hi], m.classes, 0)
	})
	var loss float64
	correct := 0
	for j := range jobs {
		loss += losses[j]
		correct += corrects[j]
	}
	return loss / float64(n), float64(correct) / float64(n)
}

// Evaluate returns the mean cross-entropy loss and the accuracy of net on
// d, using workers goroutines (0: GOMAXPROCS). net is not modified; it may
// be a graph (MaxPool, GlobalAvgPool, Add).
func Evaluate(net *network.Network, d Dataset, workers int) (loss, accuracy float64, err error) {
	m, err := newModel(net.Clone(), nil)
	if err != nil {
		return 0, 0, err
	}
	if err := d.check(m.g.Input, m.classes); err != nil {
		return 0, 0, err
	}
	cfg := Config{Workers: workers, BatchSize: 1 << 20, ShardSize: 64}.WithDefaults()
	s := newStepperEval(m, cfg)
	loss, accuracy = s.evaluate(d)
	return loss, accuracy, nil
}

func newStepperEval(m *model, cfg Config) *stepper {
	s := &stepper{m: m, workers: cfg.Workers, shard: cfg.ShardSize}
	for range cfg.Workers {
		s.scr = append(s.scr, m.newScratch(cfg.ShardSize, false))
	}
	return s
}
