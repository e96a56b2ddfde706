package event

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/queue"
)

// Simulator runs one image at a time through a compiled network. It holds
// all per-image state, allocated once; a Simulator is not safe for
// concurrent use (use one per goroutine; Engine.Run does).
type Simulator struct {
	p      *plan
	steps  int
	layers []layerState
	projs  []projState
	pools  []maxState
	// srcSpk[id] is the event list of source id at the current step
	// (internal order, increasing).
	srcSpk [][]int32
	a      []float32 // readout accumulator (internal order)
	// aUser is the readout accumulator in the network's order, for the
	// exit rule, when the internal order differs (a Conv2d readout).
	aUser []float32
	// exit is the early-exit rule (SimOptions.Exit), nil for none.
	exit network.Exit
	// rec, with SimOptions.RecordSpikes, holds each layer's table of
	// recording positions (recordPositions; nil entries where they are the
	// internal indices).
	rec [][]uint32
	// xin is the direct input in internal order.
	xin []float32
	// Poisson input
	pixQ []int32 // internal index of nonzero pixels, increasing
	pixU []int32 // their network index
	pixX []float32
	inSp []int32
	// layout makes the per-image records (NewImageResult).
	layout *network.SimResult
	// tuning: the engine's own choices, which tests may force.
	tuning
	// spikeHook, if set (tests), sees every layer's spikes (internal order).
	spikeHook func(k int, t int32, spikes []int32)
	// stepHook, if set (tests, benchmarks), is called after every step.
	stepHook func(t int32)
	// deliverHook, if set (tests, benchmarks), sees the events of every
	// projection before they are delivered.
	deliverHook func(pi int, evs []ev)
}

type layerState struct {
	v, acc, drift []float32
	invd          []float64
	last, sched   []int32
	counts        []int32
	// counted: counts holds spikes of this image (else it is all zero).
	counted bool
	touched *queue.Bitset
	all     bool // every neuron is touched this step
	// lastTouched is how many neurons the last update touched (the
	// observed activity that chooses the active set's form).
	lastTouched int
	cross       *queue.Ring[int32]
	list        []int32
	spikes      []int32
	// deferred lists the neurons updated at the previous step that may
	// cross on their constant current alone (see predictDeferred).
	deferred []int32
	// dense is set while the layer is updated by full sweeps (most of it
	// is touched every step); last, sched and deferred are then unused.
	dense bool
	// bits receives the spikes of a dense sweep.
	bits []uint64
	// cl, when set, holds the predicted spikes of a layer driven by a
	// constant current only.
	cl    *constLayer
	clBuf constLayer
	// initSched caches the initial crossing predictions of a layer whose
	// current does not depend on the image.
	initSched []schedEntry
	initDone  bool
	// phases[j] is the constant current from step delays[j]+1 on (bias
	// plus the direct input's projections), phaseInv its invDrift; next is
	// the phase the layer switches to next.
	phases   [][]float32
	phaseInv [][]float64
	next     int
}

type projState struct {
	// First (counted) pool: spikes per window this step, windows touched.
	cnt     []uint16
	win     marks
	counted bool // the source counted this step's spikes itself
	evs     []ev
	// Further pools: window sums, touched windows and output events.
	sums   [][]float32
	smarks []marks
	sevs   [][]ev
	// delayed holds the events of a delayed projection until they are due.
	delayed *queue.Ring[ev]
	// offs and amps gather the events of one site (Conv2d) or of the step
	// (Linear) for the grouped kernel.
	offs []int32
	amps []float32
	// evRows[py] marks the pooled positions px of this step's events
	// (convolutions with at most 64 columns), expanded into
	// touched neurons by expandRowMarks.
	evRows []uint64
	// fwd holds the outputs of the pools of a direct projection.
	fwd [][]float32
}

type maxState struct {
	cnt     []int32 // spikes of every input neuron so far
	max     []int32 // largest count in every window so far
	win     marks   // windows whose maximum rose this step
	counted bool    // the source did the counting itself
	spikes  []int32
	out     []float32 // direct pool: the plain max of the image
}

// NewSimulator compiles net for the event engine with the given options
// (T, Encoding, Seed, KeepCounts, Delays, Exit and RecordSpikes are used;
// ImageOffset, Workers, Progress, Raster and OnImage are Engine.Run's
// business).
func NewSimulator(net *network.Network, opts network.SimOptions) (*Simulator, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	p, err := compile(net, opts)
	if err != nil {
		return nil, err
	}
	layout, err := network.NewSimResult(net, "event", 0, nil, opts)
	if err != nil {
		return nil, err
	}
	return newSimulator(p, layout), nil
}

// newSimulator makes a Simulator for a compiled plan; layout is a result
// of the run (any number of images) whose NewImageRecord lays out the
// simulator's records.
func newSimulator(p *plan, layout *network.SimResult) *Simulator {
	T := p.opts.T
	s := &Simulator{p: p, steps: T, layout: layout}
	h := min(T+1, 1024)
	s.layers = make([]layerState, len(p.layers))
	for k, L := range p.layers {
		st := &s.layers[k]
		st.acc = make([]float32, L.n)
		st.drift = L.bias
		if !L.readout {
			st.v = make([]float32, L.n)
			st.invd = L.invDrift
			st.last = make([]int32, L.n)
			st.sched = make([]int32, L.n)
			st.counts = make([]int32, L.n)
			st.touched = queue.NewBitset(L.n)
			st.bits = make([]uint64, (L.n+63)/64)
			st.cross = queue.NewRing[int32](h)
			st.list = make([]int32, 0, L.n)
			st.spikes = make([]int32, 0, L.n)
		}
		for range L.delays {
			st.phases = append(st.phases, make([]float32, L.n))
			if !L.readout {
				st.phaseInv = append(st.phaseInv, make([]float64, L.n))
			}
		}
	}
	s.projs = make([]projState, len(p.projs))
	for pi, pr := range p.projs {
		ps := &s.projs[pi]
		if pr.direct {
			for _, st := range pr.stages {
				ps.fwd = append(ps.fwd, make([]float32, st.wins.out.size()))
			}
			continue
		}
		if pr.counted {
			n := pr.wins.out.size()
			ps.cnt = make([]uint16, n)
			ps.win = newMarks(n)
		}
		for _, st := range pr.stages {
			n := st.wins.out.size()
			ps.sums = append(ps.sums, make([]float32, n))
			ps.smarks = append(ps.smarks, newMarks(n))
			ps.sevs = append(ps.sevs, make([]ev, 0, n))
		}
		ps.evs = make([]ev, 0, pr.maxEvents)
		switch pr.kind {
		case fanConv:
			ps.offs = make([]int32, 0, pr.inC)
			ps.amps = make([]float32, 0, pr.inC)
		case fanLinear:
			ps.offs = make([]int32, 0, pr.pooled.size())
			ps.amps = make([]float32, 0, pr.pooled.size())
		}
		if pr.delay > 0 {
			ps.delayed = queue.NewRing[ev](pr.delay + 1)
		}
	}
	for _, L := range p.layers {
		for _, pi := range L.rowMarked {
			s.projs[pi].evRows = make([]uint64, p.projs[pi].pooled.h)
		}
	}
	s.pools = make([]maxState, len(p.pools))
	for m, mp := range p.pools {
		ms := &s.pools[m]
		if mp.direct {
			ms.out = make([]float32, mp.g.size())
			continue
		}
		ms.cnt = make([]int32, mp.ing.size())
		ms.max = make([]int32, mp.g.size())
		ms.win = newMarks(mp.g.size())
		ms.spikes = make([]int32, 0, mp.g.size())
	}
	s.srcSpk = make([][]int32, len(p.sources))
	s.a = make([]float32, p.readout().n)
	s.exit = p.opts.Exit
	if p.opts.RecordSpikes {
		s.rec = make([][]uint32, len(p.layers)-1)
		for k, L := range p.layers[:len(p.layers)-1] {
			s.rec[k] = recordPositions(L.g, p.shapes[L.netIndex])
		}
	}
	if s.exit != nil && p.readout().userOrder != nil {
		s.aUser = make([]float32, p.readout().n)
	}
	if p.sources[0].direct {
		s.xin = make([]float32, p.input.size())
	} else {
		n := p.input.size()
		s.pixQ = make([]int32, 0, n)
		s.pixU = make([]int32, 0, n)
		s.pixX = make([]float32, 0, n)
		s.inSp = make([]int32, 0, n)
	}
	return s
}

// NumLayers is the number of spiking layers.
func (s *Simulator) NumLayers() int { return len(s.p.layers) - 1 }

// T is the number of steps every image is simulated for (fixed when the
// Simulator is made).
func (s *Simulator) T() int { return s.steps }

// Classes is the size of the readout.
func (s *Simulator) Classes() int { return len(s.a) }

// NewImageResult returns an ImageResult sized for this simulator. With
// SimOptions.RecordSpikes its Recorded spikes are filled by every RunImage.
func (s *Simulator) NewImageResult() *ImageResult {
	nl := s.NumLayers()
	r := &ImageResult{Work: newWork(nl + 1), steps: s.steps}
	// The record comes from network.SimResult, which lays out the spike
	// ids; it depends only on the network and the options.
	r.ImageRecord = *s.layout.NewImageRecord()
	return r
}

// RunImage simulates one image x (Input.Size() values in the network's
// C,H,W order) for T steps, or fewer when the options' Exit rule stops it
// (res.Steps says how many ran; the prediction after the last step run
// holds for the later ones, and res.Output is the accumulator then).
// image is its dataset index (it seeds the Poisson input). res must come
// from this Simulator's NewImageResult; it is overwritten. After the first
// call RunImage allocates nothing.
func (s *Simulator) RunImage(x []float32, image int, res *ImageResult) error {
	p := s.p
	if len(x) != p.input.size() {
		return fmt.Errorf("event: image has %d values, the network's input %v has %d", len(x), p.net.Input, p.input.size())
	}
	if res.steps != s.steps || len(res.Spikes) != s.NumLayers() || len(res.Output) != len(s.a) || (res.Recorded == nil) != (s.rec == nil) {
		return fmt.Errorf("event: the ImageResult was not made by this Simulator's NewImageResult")
	}
	res.reset()
	T := int32(s.steps)
	poisson := p.opts.Encoding == network.EncodingPoisson
	if poisson {
		s.pixQ, s.pixU, s.pixX = s.pixQ[:0], s.pixU[:0], s.pixX[:0]
		for q := 0; q < p.input.size(); q++ {
			u := p.input.user(q)
			if x[u] > 0 {
				s.pixQ = append(s.pixQ, int32(q))
				s.pixU = append(s.pixU, int32(u))
				s.pixX = append(s.pixX, x[u])
			}
		}
	}
	s.directCurrent(x)
	s.startImage(res.Recorded)
	for t := int32(1); t <= T; t++ {
		if poisson {
			src := s.inputSpikes(image, t)
			s.srcSpk[0] = src
			res.InputSpikes += int64(len(src))
			for _, q := range src {
				res.InputSOPs += int64(p.inputFan[q])
			}
		}
		for _, nd := range p.order {
			if nd.pool {
				s.maxStep(nd.i, &res.Work)
			} else {
				s.stepLayer(nd.i, t, res)
			}
		}
		res.Steps = int(t)
		if s.stepHook != nil {
			s.stepHook(t)
		}
		if s.exit != nil && t < T && s.exit.Done(int(t), int(T), s.userAcc()) {
			// Every node has finished step t, so no state is left half
			// done: the next image starts from startImage as usual.
			for u := t; u < T; u++ {
				res.PredictionByStep[u] = res.PredictionByStep[t-1]
			}
			break
		}
	}
	if s.rec != nil {
		s.recordChunks(int32(res.Steps))
	}
	s.finishImage(res)
	return nil
}

// recordChunks hands the recording the steps run that the fused paths of
// constant-current layers have not handed yet.
func (s *Simulator) recordChunks(last int32) {
	for k := range s.layers {
		if cl := s.layers[k].cl; cl != nil && cl.userOn {
			cl.recordChunk(last)
		}
	}
}

// userAcc is the readout accumulator in the network's order.
func (s *Simulator) userAcc() []float32 {
	if s.aUser == nil {
		return s.a
	}
	for j, q := range s.p.readout().userOrder {
		s.aUser[j] = s.a[q]
	}
	return s.aUser
}

// startImage resets the per-image state.
func (s *Simulator) startImage(rec *network.SpikeSet) {
	p := s.p
	T := int32(s.steps)
	clear(s.a)
	clear(s.srcSpk)
	for pi := range s.projs {
		ps := &s.projs[pi]
		ps.counted = false
		if ps.delayed != nil {
			ps.delayed.Reset(1)
		}
	}
	for m := range s.pools {
		ms := &s.pools[m]
		if ms.out != nil {
			continue
		}
		clear(ms.cnt)
		clear(ms.max)
		ms.counted = false
	}
	for k, L := range p.layers {
		st := &s.layers[k]
		st.drift, st.invd, st.next = L.bias, L.invDrift, 0
		if len(L.delays) > 0 && L.delays[0] == 0 {
			st.drift, st.next = st.phases[0], 1
			if st.phaseInv != nil {
				st.invd = st.phaseInv[0]
			}
		}
		clear(st.acc)
		if L.readout {
			continue
		}
		copy(st.v, L.v0)
		clear(st.last)
		clear(st.sched)
		if st.counted {
			clear(st.counts)
			st.counted = false
		}
		st.touched.Clear()
		st.all = false
		st.dense = false
		st.lastTouched = 0
		st.deferred = st.deferred[:0]
		st.cross.Reset(1)
		st.cl = nil
		if s.usesConstLayer(L) {
			st.cl = &st.clBuf
			var one []int32
			if L.fuseProj >= 0 {
				one = p.projs[L.fuseProj].wins.one
			} else if L.fuseMax >= 0 {
				one = p.pools[L.fuseMax].wins.one
			}
			var pos []uint32
			if s.rec != nil {
				pos = s.rec[k]
			}
			st.cl.init(st, L, T, s.constChunk(), one, rec, k, pos)
			continue
		}
		s.initialSchedule(k)
	}
}

// usesConstLayer reports whether layer L runs as a constLayer.
func (s *Simulator) usesConstLayer(L *layerPlan) bool {
	return L.constOnly && !L.readout && s.policy != policySparse
}

// stepLayer is step t of layer k (a spiking layer or the readout): the
// events of every projection into it, then the update of its neurons.
func (s *Simulator) stepLayer(k int, t int32, res *ImageResult) {
	p := s.p
	L := p.layers[k]
	st := &s.layers[k]
	if st.next < len(L.delays) && t == int32(L.delays[st.next])+1 {
		s.switchDrift(k, t)
	}
	if !L.readout && st.cl == nil {
		// The active set is empty between steps: its form may change.
		s.chooseForm(k)
	}
	for _, pi := range L.ins {
		if !p.projs[pi].direct {
			evs := s.events(pi, t)
			if s.deliverHook != nil {
				s.deliverHook(pi, evs)
			}
			s.deliver(pi, evs, &res.Work)
		}
	}
	if L.readout {
		s.readout(t, res)
		return
	}
	if st.cl != nil {
		if L.fuseProj >= 0 || L.fuseMax >= 0 {
			var n, first, firstN int64
			if L.fuseProj >= 0 {
				ps := &s.projs[L.fuseProj]
				n, first, firstN = st.cl.spikesToWindows(t, &res.Work.Updates[k], ps.cnt, &ps.win)
				ps.counted = true
			} else {
				ms := &s.pools[L.fuseMax]
				n, first, firstN = st.cl.spikesToMax(t, &res.Work.Updates[k], ms.max, &ms.win)
				ms.counted = true
				res.Work.PoolChecks += n
			}
			res.Spikes[k] += n
			res.SpikesByStep[k][t-1] = int32(n)
			res.FirstSpikeSum[k] += first
			res.FirstSpikers[k] += firstN
			s.srcSpk[L.src] = nil
			// The spike list is built only when someone looks at it (a
			// recording takes the chunk's bits: constLayer.recordChunk).
			if res.RecordRaster || s.spikeHook != nil {
				st.spikes = st.cl.stepList(t, st.spikes[:0])
				s.observeConst(k, t, st.spikes, res)
			}
			return
		}
		st.spikes = st.cl.spikesAt(t, st.spikes[:0], &res.Work.Updates[k])
		s.spikeStats(k, t, res)
	} else {
		valid := int64(0)
		for _, q := range st.cross.Pop(int(t)) {
			if st.sched[q] == t {
				st.touched.Add(int(q))
				valid++
			}
		}
		res.Work.Checks[k] += valid
		s.update(k, t, res)
	}
	s.srcSpk[L.src] = st.spikes
	s.observe(k, t, st.spikes, res)
}

// finishImage fills what is summed once per image: SOPs, counts, the
// readout.
func (s *Simulator) finishImage(res *ImageResult) {
	p := s.p
	res.Prediction = res.PredictionByStep[s.steps-1]
	if order := p.readout().userOrder; order != nil {
		for j, q := range order {
			res.Output[j] = s.a[q]
		}
	} else {
		copy(res.Output, s.a)
	}
	// SOPs: each spike of neuron q stands for fan[q] synaptic operations;
	// summed once per image rather than looked up per spike. A
	// count-gated MaxPool's window emitted max[w] events in all (its count
	// is the largest input count), each worth the pool's fan-out.
	// A constant-current layer on its fused path counted per candidate:
	// its neurons' counts are left zero unless they are asked for.
	for k, L := range p.layers[:len(p.layers)-1] {
		st := &s.layers[k]
		var sops int64
		if cl := st.cl; cl != nil && len(cl.fused) > 0 {
			if res.Counts != nil {
				cl.flushCounts(st.counts)
				st.counted = true
			} else {
				sops = cl.sops()
			}
		}
		if st.counted {
			sops += dotCounts(st.counts, L.fan)
		}
		res.SOPs[k] = sops
	}
	for m, mp := range p.pools {
		if mp.direct {
			continue
		}
		sops := dotCounts(s.pools[m].max, mp.fan)
		if mp.charge >= 0 {
			res.SOPs[mp.charge] += sops
		} else {
			res.InputSOPs += sops
		}
	}
	if res.Counts != nil {
		for k := range res.Counts {
			L := p.layers[k]
			for q, c := range s.layers[k].counts {
				res.Counts[k][L.g.user(q)] = c
			}
		}
	}
}
