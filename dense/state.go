package dense

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// state is one worker's buffers for a batch of up to cap images. Slices
// indexed by layer are nil for the layers that do not need them.
type state struct {
	p    *plan
	opts network.SimOptions
	cap  int
	// out[i] is layer i's output at the current step, cap × size (nil for
	// a Flatten, whose output is its input's buffer, and for a spiking
	// layer that nothing reads as a tensor).
	out [][]float32
	src []float32 // the input at the current step: the images or the Poisson frame
	// Spiking layers: membrane potentials and spike counts of the batch.
	v   [][]float32
	cnt [][]int32
	// Event sources (spiking layers, count-gated MaxPools):
	// ev[i][b·size : b·size+nEv[i][b]] lists the neurons of layer i that
	// fired in image b at the current step (a spiking layer's in
	// increasing order).
	ev  [][]int32
	nEv [][]int
	// Count-gated MaxPools: the largest input count of every window so
	// far, and scratch marks (all false between calls).
	last [][]int32
	mark [][]bool
	// Poisson input: the spikes of the current step, their list per image
	// (inEv[b·size : b·size+inN[b]]) and the pixels' spike counts.
	frame []float32
	inEv  []int32
	inN   []int
	inCnt []int32
	acc   []float32 // readout accumulators, cap × classes
	conv  []convScratch
	// ring[i] holds the last delays[i]+1 inputs of weighted layer i.
	ring    [][][]float32
	zeros   []float32   // a zero input for steps before a delayed input arrives
	touched []int32     // scratch of the average pools
	srcs    [][]float32 // scratch of the Adds: the inputs of one image
	recs    []*network.ImageRecord
	// raster: record the spikes of the batch's first image (the run's
	// first image, with SimOptions.Raster).
	raster bool
	// skip makes the products skip zero inputs (Engine.SkipSilent).
	skip bool
	// stopped[b]: an Exit rule stopped image b of the batch.
	stopped []bool
}

func (p *plan) newState(capacity int, opts network.SimOptions, skip bool, res *network.SimResult) *state {
	L := len(p.nodes)
	s := &state{p: p, opts: opts, cap: capacity, skip: skip}
	s.out = make([][]float32, L)
	s.v = make([][]float32, L)
	s.cnt = make([][]int32, L)
	s.ev = make([][]int32, L)
	s.nEv = make([][]int, L)
	s.last = make([][]int32, L)
	s.mark = make([][]bool, L)
	s.conv = make([]convScratch, L)
	s.ring = make([][][]float32, L)
	maxIn := 0
	for i := range p.nodes {
		n := &p.nodes[i]
		size := p.shapes[i].Size()
		if n.kind != network.KindFlatten && (n.spk == nil || n.dense) {
			s.out[i] = make([]float32, capacity*size)
		}
		switch {
		case n.spk != nil:
			s.v[i] = make([]float32, capacity*size)
			s.cnt[i] = make([]int32, capacity*size)
			s.ev[i] = make([]int32, capacity*size)
			s.nEv[i] = make([]int, capacity)
		case n.mp != nil:
			s.ev[i] = make([]int32, capacity*size)
			s.nEv[i] = make([]int, capacity)
			s.last[i] = make([]int32, capacity*size)
			s.mark[i] = make([]bool, size)
		case n.kind == network.KindAvgPool2d:
			s.touched = make([]int32, max(len(s.touched), size))
		case n.kind == network.KindAdd:
			s.srcs = make([][]float32, max(len(s.srcs), len(n.in)))
		}
		if p.delays != nil && p.delays[i] > 0 {
			m := capacity * p.inShapes[i].Size()
			maxIn = max(maxIn, m)
			s.ring[i] = make([][]float32, p.delays[i]+1)
			for r := range s.ring[i] {
				s.ring[i][r] = make([]float32, m)
			}
		}
	}
	s.zeros = make([]float32, maxIn)
	s.acc = make([]float32, capacity*p.classes)
	if p.poisson {
		in := capacity * p.inShape.Size()
		s.frame = make([]float32, in)
		if p.inputEvents {
			s.inEv = make([]int32, in)
			s.inN = make([]int, capacity)
		}
		if p.inputCounts {
			s.inCnt = make([]int32, in)
		}
	}
	s.stopped = make([]bool, capacity)
	s.recs = make([]*network.ImageRecord, capacity)
	for b := range s.recs {
		s.recs[b] = res.NewImageRecord()
	}
	return s
}

// run simulates batch images x (positions first.. of the run) for T steps
// and adds their records to tl, calling SimOptions.OnImage for each.
//
// Within a step, layers run in topological order. Runs of layers up to
// the next Linear layer are done image by image (each image's state then
// stays in cache); a Linear layer is one matrix product over the batch.
// Layers whose output is constant per image run at step 1 only.
//
// An image that an Exit rule stops is finished at once (its record goes
// to the tally and to OnImage) and costs nothing after that: its layers,
// neuron updates and Poisson input are skipped, and the batch products of
// the Linear layers run over the runs of images still going (cutting the
// rows of a product changes no element's sum).
func (s *state) run(x []float32, first, batch int, tl *network.Tally) error {
	p := s.p
	T := s.opts.T
	L := len(p.nodes)
	for b := 0; b < batch; b++ {
		s.recs[b].Reset()
	}
	for _, li := range p.spiking {
		size := p.shapes[li].Size()
		v0 := p.nodes[li].spk.v0
		for b := 0; b < batch; b++ {
			copy(s.v[li][b*size:(b+1)*size], v0)
		}
		clear(s.cnt[li][:batch*size])
	}
	for i := range p.nodes {
		if p.nodes[i].mp != nil {
			clear(s.last[i])
			clear(s.nEv[i])
			clear(s.out[i])
		}
	}
	clear(s.inCnt)
	clear(s.acc)
	for i := range s.ring {
		for _, r := range s.ring[i] {
			clear(r)
		}
	}
	clear(s.stopped[:batch])
	going := batch
	s.raster = s.opts.Raster && first == 0
	nc := p.classes
	for t := 1; t <= T && going > 0; t++ {
		s.src = x
		if p.poisson {
			s.poissonStep(x, first, batch, t)
			s.src = s.frame[:batch*p.inShape.Size()]
		}
		for i := 0; i < L; {
			if p.nodes[i].kind == network.KindLinear {
				if t == 1 || !p.nodes[i].konst {
					s.linearRuns(i, t, batch)
				}
				i++
				continue
			}
			end := i + 1
			for end < L && p.nodes[end].kind != network.KindLinear {
				end++
			}
			for b := 0; b < batch; b++ {
				if s.stopped[b] {
					continue
				}
				for j := i; j < end; j++ {
					if t == 1 || !p.nodes[j].konst {
						s.layer(j, t, b, 1)
					}
				}
			}
			i = end
		}
		// Readout (the last layer is weighted: its own buffer).
		out := s.out[L-1]
		for b := 0; b < batch; b++ {
			if s.stopped[b] {
				continue
			}
			acc := s.acc[b*nc : (b+1)*nc]
			for j, v := range out[b*nc : (b+1)*nc] {
				acc[j] += v
			}
			s.recs[b].PredictionByStep[t-1] = network.Argmax(acc)
			if t < T && s.opts.Exit != nil && s.opts.Exit.Done(t, T, acc) {
				s.stopped[b] = true
				going--
				if err := s.finish(first, b, t, tl); err != nil {
					return err
				}
			}
		}
	}
	for b := 0; b < batch; b++ {
		if !s.stopped[b] {
			if err := s.finish(first, b, T, tl); err != nil {
				return err
			}
		}
	}
	return nil
}

// linearRuns runs Linear layer i at step t over the runs of consecutive
// images of the batch that are still going (the whole batch unless an
// Exit rule stopped some).
func (s *state) linearRuns(i, t, batch int) {
	for b0 := 0; b0 < batch; {
		if s.stopped[b0] {
			b0++
			continue
		}
		b1 := b0 + 1
		for b1 < batch && !s.stopped[b1] {
			b1++
		}
		s.layer(i, t, b0, b1-b0)
		b0 = b1
	}
}

// finish completes the record of image b of the batch after its last
// step t (T, or earlier when an Exit rule stopped it: its prediction
// after t holds for every later step), hands it to the tally and to
// SimOptions.OnImage.
func (s *state) finish(first, b, t int, tl *network.Tally) error {
	p := s.p
	T := s.opts.T
	nc := p.classes
	rec := s.recs[b]
	rec.Steps = t
	for u := t; u < T; u++ {
		rec.PredictionByStep[u] = rec.PredictionByStep[t-1]
	}
	rec.Prediction = rec.PredictionByStep[T-1]
	copy(rec.Output, s.acc[b*nc:(b+1)*nc])
	if rec.Counts != nil {
		for k, li := range p.spiking {
			size := p.shapes[li].Size()
			copy(rec.Counts[k], s.cnt[li][b*size:(b+1)*size])
		}
	}
	tl.Add(first+b, rec)
	if s.opts.OnImage != nil {
		if err := s.opts.OnImage(first+b, rec); err != nil {
			return fmt.Errorf("image %d: %w", first+b, err)
		}
	}
	return nil
}

// poissonStep draws the input spikes of step t for the batch (SPEC §2,
// network.PoissonFrame) and counts them and their SOPs.
func (s *state) poissonStep(x []float32, first, batch, t int) {
	p := s.p
	size := p.inShape.Size()
	for b := 0; b < batch; b++ {
		if s.stopped[b] {
			continue
		}
		frame := s.frame[b*size : (b+1)*size]
		rec := s.recs[b]
		rec.InputSpikes += int64(network.PoissonFrame(frame, x[b*size:(b+1)*size],
			s.opts.Seed, s.opts.ImageOffset+first+b, t))
		var sops int64
		n := 0
		for i, v := range frame {
			if v == 0 {
				continue
			}
			sops += int64(p.inputFan[i])
			if p.inputEvents {
				s.inEv[b*size+n] = int32(i)
				n++
			}
			if p.inputCounts {
				s.inCnt[b*size+i]++
			}
		}
		rec.InputSOPs += sops
		if p.inputEvents {
			s.inN[b] = n
		}
	}
}

// buf is the batch buffer holding node j's output (j an owner: InputNode
// or a layer that is not a Flatten).
func (s *state) buf(j int) []float32 {
	if j == network.InputNode {
		return s.src
	}
	return s.out[j]
}

// events returns the list of neurons of event source j (a spiking layer,
// a count-gated MaxPool, the Poisson input) that fired in image b at this
// step, and the amplitude of each neuron's spikes.
func (s *state) events(j, b int) ([]int32, []float32) {
	if j == network.InputNode {
		size := s.p.inShape.Size()
		return s.inEv[b*size : b*size+s.inN[b]], s.p.inputAmp
	}
	size := s.p.shapes[j].Size()
	ev := s.ev[j][b*size : b*size+s.nEv[j][b]]
	if sp := s.p.nodes[j].spk; sp != nil {
		return ev, sp.thr
	}
	return ev, s.p.nodes[j].mp.amp
}

// layer runs layer i for images [b0, b0+nb) at step t.
func (s *state) layer(i, t, b0, nb int) {
	p := s.p
	n := &p.nodes[i]
	isz, osz := p.inShapes[i].Size(), p.shapes[i].Size()
	in := s.buf(n.in[0])
	switch n.kind {
	case network.KindConv2d:
		src := s.delayed(i, in[b0*isz:(b0+nb)*isz], t, b0)
		n.conv.forward(s.out[i][b0*osz:(b0+nb)*osz], src, nb, &s.conv[i], s.skip)
	case network.KindLinear:
		src := s.delayed(i, in[b0*isz:(b0+nb)*isz], t, b0)
		n.lin.forward(s.out[i][b0*osz:(b0+nb)*osz], src, nb, s.skip)
	case network.KindSparseLinear:
		src := s.delayed(i, in[b0*isz:(b0+nb)*isz], t, b0)
		sparseLinear(n.slin, s.out[i][b0*osz:(b0+nb)*osz], src, nb, s.skip)
	case network.KindAvgPool2d:
		if !n.sparse {
			n.pool.forward(s.out[i][b0*osz:(b0+nb)*osz], in[b0*isz:(b0+nb)*isz], nb)
			break
		}
		for b := b0; b < b0+nb; b++ {
			fired, amp := s.events(n.in[0], b)
			n.pool.forwardSpikes(s.out[i][b*osz:(b+1)*osz], fired, amp, s.touched)
		}
	case network.KindGlobalAvgPool:
		if !n.sparse {
			n.gap.forward(s.out[i][b0*osz:(b0+nb)*osz], in[b0*isz:(b0+nb)*isz], nb)
			break
		}
		for b := b0; b < b0+nb; b++ {
			fired, amp := s.events(n.in[0], b)
			n.gap.forwardSpikes(s.out[i][b*osz:(b+1)*osz], fired, amp)
		}
	case network.KindFlatten:
	case network.KindAdd:
		srcs := s.srcs[:len(n.in)]
		for b := b0; b < b0+nb; b++ {
			for k, j := range n.in {
				srcs[k] = s.buf(j)[b*osz : (b+1)*osz]
			}
			n.add.forward(s.out[i][b*osz:(b+1)*osz], srcs)
		}
	case network.KindMaxPool2d:
		if n.pmax != nil {
			// On the direct input: the plain max, once per image.
			n.pmax.forward(s.out[i][b0*osz:(b0+nb)*osz], in[b0*isz:(b0+nb)*isz], nb)
			break
		}
		for b := b0; b < b0+nb; b++ {
			s.maxPool(i, b)
		}
	case network.KindSpiking:
		for b := b0; b < b0+nb; b++ {
			s.spike(i, b, t)
		}
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

// maxPool runs count-gated MaxPool i (SPEC §2a) for image b: it writes the
// window events into its event list and, if read as a tensor, its output
// (the events' amplitudes, 0 elsewhere), and charges their SOPs to the
// layer the pool reads.
func (s *state) maxPool(i, b int) {
	p := s.p
	n := &p.nodes[i]
	m := n.mp
	isz, osz := p.inShapes[i].Size(), m.outSize
	var fired, cnt []int32
	if src := n.in[0]; src == network.InputNode {
		fired, cnt = s.inEv[b*isz:b*isz+s.inN[b]], s.inCnt[b*isz:(b+1)*isz]
	} else {
		fired, cnt = s.ev[src][b*isz:b*isz+s.nEv[src][b]], s.cnt[src][b*isz:(b+1)*isz]
	}
	ev := s.ev[i][b*osz : (b+1)*osz]
	out := s.out[i][b*osz : (b+1)*osz]
	if n.dense {
		for _, w := range ev[:s.nEv[i][b]] {
			out[w] = 0
		}
	}
	k, sops := m.step(fired, cnt, s.last[i][b*osz:(b+1)*osz], ev, s.mark[i])
	s.nEv[i][b] = k
	if n.dense {
		for _, w := range ev[:k] {
			out[w] = m.amp[w]
		}
	}
	if rec := s.recs[b]; m.charge >= 0 {
		rec.SOPs[m.charge] += sops
	} else {
		rec.InputSOPs += sops
	}
}

// spike updates spiking layer i of image b for step t (SPEC §2):
// v = α·v + I; spike if v ≥ θ; soft reset v -= θ, hard reset v = 0; the
// output is θ where a neuron spiked and 0 elsewhere (if read as a tensor),
// and the list of neurons that fired.
func (s *state) spike(i, b, t int) {
	n := &s.p.nodes[i]
	sp := n.spk
	size := s.p.shapes[i].Size()
	v := s.v[i][b*size : (b+1)*size]
	cnt := s.cnt[i][b*size : (b+1)*size]
	fired := s.ev[i][b*size : (b+1)*size]
	cur := s.buf(n.in[0])[b*size : (b+1)*size]
	var nf int
	if sp.alpha == 1 && !sp.hard && !n.dense && sp.uniform {
		nf = fireIFSoft(v, cur, sp.thr[0], fired)
	} else {
		var out []float32
		if n.dense {
			out = s.out[i][b*size : (b+1)*size]
		}
		nf = fireGeneral(sp, v, cur, out, fired)
	}
	s.nEv[i][b] = nf
	var sops, firstSum, firstN int64
	for _, j := range fired[:nf] {
		if cnt[j] == 0 {
			firstSum += int64(t)
			firstN++
		}
		cnt[j]++
		sops += int64(sp.fanOut[j])
	}
	rec := s.recs[b]
	k := sp.k
	rec.Spikes[k] += int64(nf)
	rec.SpikesByStep[k][t-1] += int32(nf)
	rec.SOPs[k] += sops
	rec.FirstSpikeSum[k] += firstSum
	rec.FirstSpikers[k] += firstN
	if rec.Recorded != nil {
		rec.Recorded.Add(k, t, fired[:nf])
	}
	if s.raster && b == 0 {
		for _, j := range fired[:nf] {
			rec.Raster = append(rec.Raster, network.RasterEvent{Layer: int32(k), Neuron: j, Step: int32(t)})
		}
	}
}

// fireIFSoft is the common case of the update: IF neurons, soft reset, one
// threshold for the layer, no tensor output. It returns the number of
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

// fireGeneral is the update for any neuron model; it writes the tensor
// output (θ or 0) unless out is nil.
func fireGeneral(sp *spikeOp, v, cur, out []float32, fired []int32) int {
	thr := sp.thr[:len(v)]
	cur = cur[:len(v)]
	fired = fired[:len(v)]
	dense := out != nil
	if dense {
		out = out[:len(v)]
	}
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
			if dense {
				out[j] = th
			}
			fired[n] = int32(j)
			n++
		} else if dense {
			out[j] = 0
		}
		v[j] = x
	}
	return n
}
