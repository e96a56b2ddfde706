package dense

import (
	"github.com/evsnn/evsnn/network"
)

// state is one worker's buffers for a batch of up to cap images.
type state struct {
	p    *plan
	opts network.SimOptions
	cap  int
	// out[i] is layer i's output at the current step, cap × size (for a
	// Flatten, its input buffer).
	out [][]float32
	v   [][]float32 // per spiking layer: membrane potentials
	cnt [][]int32   // per spiking layer: spike counts of the current batch
	// fired[k][b·size : b·size+nFired[k][b]] lists the neurons of spiking
	// layer k that fired in image b at the current step, in increasing
	// order.
	fired  [][]int32
	nFired [][]int
	acc    []float32 // readout accumulators, cap × classes
	conv   []convScratch
	// ring[i] holds the last delays[i]+1 inputs of weighted layer i.
	ring    [][][]float32
	zeros   []float32 // a zero input for steps before a delayed input arrives
	frame   []float32 // Poisson input spikes of the current step
	touched []int32   // scratch of the pooling
	// skip makes the products skip zero inputs (Engine.SkipSilent).
	skip bool
}

func (p *plan) newState(capacity int, opts network.SimOptions, skip bool) *state {
	s := &state{p: p, opts: opts, cap: capacity, skip: skip}
	s.out = make([][]float32, len(p.ops))
	s.conv = make([]convScratch, len(p.ops))
	s.ring = make([][][]float32, len(p.ops))
	maxIn := 0
	for i, o := range p.ops {
		if o.kind != network.KindFlatten {
			s.out[i] = make([]float32, capacity*p.shapes[i].Size())
		}
		if o.kind == network.KindAvgPool2d {
			s.touched = make([]int32, max(len(s.touched), p.shapes[i].Size()))
		}
		if p.delays != nil && p.delays[i] > 0 {
			n := capacity * p.inShapes[i].Size()
			maxIn = max(maxIn, n)
			s.ring[i] = make([][]float32, p.delays[i]+1)
			for r := range s.ring[i] {
				s.ring[i][r] = make([]float32, n)
			}
		}
	}
	s.zeros = make([]float32, maxIn)
	for _, li := range p.spiking {
		n := capacity * p.shapes[li].Size()
		s.v = append(s.v, make([]float32, n))
		s.cnt = append(s.cnt, make([]int32, n))
		s.fired = append(s.fired, make([]int32, n))
		s.nFired = append(s.nFired, make([]int, capacity))
	}
	s.acc = make([]float32, capacity*p.classes)
	if opts.Encoding == network.EncodingPoisson {
		s.frame = make([]float32, capacity*p.inShape.Size())
	}
	return s
}

// run simulates batch images x (positions first.. of the run) for T steps
// and writes their results into res and tl.
//
// Within a step, layers run in order. Runs of layers up to the next
// Linear layer are done image by image (each image's state then stays in
// cache); a Linear layer is one matrix product over the batch.
func (s *state) run(x []float32, labels []int, first, batch int, res *network.SimResult, tl *tally) {
	p := s.p
	T := s.opts.T
	inSize := p.inShape.Size()
	for k, li := range p.spiking {
		size := p.shapes[li].Size()
		v0 := p.ops[li].spk.v0
		for b := 0; b < batch; b++ {
			copy(s.v[k][b*size:(b+1)*size], v0)
		}
		clear(s.cnt[k][:batch*size])
	}
	clear(s.acc)
	for i := range s.ring {
		for _, r := range s.ring[i] {
			clear(r)
		}
	}
	imgSpikes := res.ImageSpikes[first : first+batch]

	for t := 1; t <= T; t++ {
		src := x
		if s.opts.Encoding == network.EncodingPoisson {
			for b := 0; b < batch; b++ {
				frame := s.frame[b*inSize : (b+1)*inSize]
				tl.inSpikes += int64(network.PoissonFrame(frame, x[b*inSize:(b+1)*inSize],
					s.opts.Seed, s.opts.ImageOffset+first+b, t))
				for i, v := range frame {
					if v != 0 {
						tl.inSOPs += int64(p.inputFan[i])
					}
				}
			}
			src = s.frame[:batch*inSize]
		}
		// Flatten layers pass their input buffer on.
		for i, o := range p.ops {
			if o.kind == network.KindFlatten {
				if i == 0 {
					s.out[i] = src
				} else {
					s.out[i] = s.out[i-1]
				}
			}
		}
		for i := 0; i < len(p.ops); {
			if p.ops[i].kind == network.KindLinear {
				if i >= p.constUntil || t == 1 {
					in := s.input(i, src)
					s.ops(i, i+1, t, 0, batch, in, imgSpikes, tl)
				}
				i++
				continue
			}
			end := i + 1
			for end < len(p.ops) && p.ops[end].kind != network.KindLinear {
				end++
			}
			lo := i
			if t > 1 {
				lo = max(lo, p.constUntil)
			}
			if lo < end {
				in := s.input(lo, src)
				for b := 0; b < batch; b++ {
					s.ops(lo, end, t, b, 1, in, imgSpikes, tl)
				}
			}
			i = end
		}
		// Readout.
		nc := p.classes
		for j, v := range s.out[len(p.ops)-1][:batch*nc] {
			s.acc[j] += v
		}
		if labels != nil {
			c := 0
			for b := 0; b < batch; b++ {
				if network.Argmax(s.acc[b*nc:(b+1)*nc]) == labels[b] {
					c++
				}
			}
			tl.correct[t-1] += c
		}
	}
	nc := p.classes
	for b := 0; b < batch; b++ {
		res.Predictions[first+b] = network.Argmax(s.acc[b*nc : (b+1)*nc])
	}
	if res.Outputs != nil {
		copy(res.Outputs[first*nc:(first+batch)*nc], s.acc[:batch*nc])
	}
	if res.Counts != nil {
		for k, li := range p.spiking {
			size := p.shapes[li].Size()
			copy(res.Counts[k][first*size:(first+batch)*size], s.cnt[k][:batch*size])
		}
	}
}

// input is the batch buffer that layer i reads.
func (s *state) input(i int, src []float32) []float32 {
	if i == 0 {
		return src
	}
	return s.out[i-1]
}

// ops runs layers [lo, hi) for images [b0, b0+nb) at step t; in is layer
// lo's input buffer (whole batch).
func (s *state) ops(lo, hi, t, b0, nb int, in []float32, imgSpikes [][]int64, tl *tally) {
	p := s.p
	for i := lo; i < hi; i++ {
		o := &p.ops[i]
		isz, osz := p.inShapes[i].Size(), p.shapes[i].Size()
		src := in[b0*isz : (b0+nb)*isz]
		dst := s.out[i][b0*osz : (b0+nb)*osz]
		switch o.kind {
		case network.KindConv2d:
			src = s.delayed(i, src, t, b0)
			o.conv.forward(dst, src, nb, &s.conv[i], s.skip)
		case network.KindLinear:
			src = s.delayed(i, src, t, b0)
			o.lin.forward(dst, src, nb, s.skip)
		case network.KindAvgPool2d:
			if o.pool.fromSpikes {
				sp := p.ops[i-1].spk
				for b := b0; b < b0+nb; b++ {
					fired := s.fired[sp.k][b*isz : b*isz+s.nFired[sp.k][b]]
					o.pool.forwardSpikes(s.out[i][b*osz:(b+1)*osz], fired, sp.thr, s.touched)
				}
			} else {
				o.pool.forward(dst, src, nb)
			}
		case network.KindFlatten:
		case network.KindSpiking:
			for b := b0; b < b0+nb; b++ {
				s.spike(o.spk, b, osz, in[b*osz:(b+1)*osz], t, imgSpikes, tl)
			}
		}
		in = s.out[i]
	}
}

// delayed returns the input (images b0.. of the batch) that weighted
// layer i sees at step t: in itself without delay, else the input of step
// t-d (zero before step d+1).
func (s *state) delayed(i int, in []float32, t, b0 int) []float32 {
	if s.p.delays == nil || s.p.delays[i] == 0 {
		return in
	}
	d := s.p.delays[i]
	off := b0 * s.p.inShapes[i].Size()
	n := len(in)
	ring := s.ring[i]
	copy(ring[t%(d+1)][off:off+n], in)
	if t-d < 1 {
		return s.zeros[:n]
	}
	return ring[(t-d)%(d+1)][off : off+n]
}

// spike updates spiking layer sp of image b for step t (SPEC §2):
// v = α·v + I; spike if v ≥ θ; soft reset v -= θ, hard reset v = 0; the
// output is θ where a neuron spiked and 0 elsewhere. cur is the input
// current of the image.
func (s *state) spike(sp *spikeOp, b, size int, cur []float32, t int, imgSpikes [][]int64, tl *tally) {
	k := sp.k
	v := s.v[k][b*size : (b+1)*size]
	cnt := s.cnt[k][b*size : (b+1)*size]
	fired := s.fired[k][b*size : (b+1)*size]
	out := s.out[sp.layer][b*size : (b+1)*size]
	cur = cur[:size]
	var n int
	if sp.alpha == 1 && !sp.hard && !sp.denseOut && sp.uniform {
		n = fireIFSoft(v, cur, sp.thr[0], fired)
	} else {
		n = fireGeneral(sp, v, cur, out, fired)
	}
	s.nFired[k][b] = n
	var sops, firstSum, firstN int64
	for _, j := range fired[:n] {
		if cnt[j] == 0 {
			firstSum += int64(t)
			firstN++
		}
		cnt[j]++
		sops += int64(sp.fanOut[j])
	}
	imgSpikes[b][k] += int64(n)
	tl.spikes[k] += int64(n)
	tl.sops[k] += sops
	tl.byStep[k][t-1] += int64(n)
	tl.firstSum[k] += firstSum
	tl.firstN[k] += firstN
}

// fireIFSoft is the common case of the update: IF neurons, soft reset, one
// threshold for the layer, no dense output. It returns the number of
// neurons that fired, listed in fired.
func fireIFSoft(v, cur []float32, th float32, fired []int32) int {
	cur = cur[:len(v)]
	fired = fired[:len(v)]
	n := 0
	for j, x := range v {
		x += cur[j]
		if x >= th {
			x -= th
			fired[n] = int32(j)
			n++
		}
		v[j] = x
	}
	return n
}

// fireGeneral is the update for any neuron model; it writes the dense
// output (θ or 0) if the next layer reads it.
func fireGeneral(sp *spikeOp, v, cur, out []float32, fired []int32) int {
	thr := sp.thr[:len(v)]
	cur = cur[:len(v)]
	out = out[:len(v)]
	fired = fired[:len(v)]
	alpha := sp.alpha
	n := 0
	for j, x := range v {
		if alpha != 1 {
			// The explicit conversion rounds α·v before the add, so no
			// fused multiply-add can change the result.
			x = float32(alpha * x)
		}
		x += cur[j]
		if th := thr[j]; x >= th {
			if sp.hard {
				x = 0
			} else {
				x -= th
			}
			if sp.denseOut {
				out[j] = th
			}
			fired[n] = int32(j)
			n++
		} else if sp.denseOut {
			out[j] = 0
		}
		v[j] = x
	}
	return n
}
