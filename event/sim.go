package event

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/queue"
)

// Work counts what the engine actually did for one image or a run, per
// layer of neurons (the spiking layers, then the readout). It is not part
// of the SNN's result: SOPs in network.LayerStats count the synaptic
// operations the spikes cause whatever the engine; Adds counts the
// additions this engine performed after merging pooled spikes.
type Work struct {
	Events  []int64 // fan-out events delivered into the layer (after pool merging)
	Adds    []int64 // synaptic additions performed into the layer
	Updates []int64 // neuron updates (touched neurons)
	Replays []int64 // skipped steps replayed during catch-up
	Checks  []int64 // crossing-queue entries popped that were still valid
}

func newWork(n int) Work {
	return Work{make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)}
}

func (w *Work) reset() {
	clear(w.Events)
	clear(w.Adds)
	clear(w.Updates)
	clear(w.Replays)
	clear(w.Checks)
}

// Add adds o to w (both must come from the same network).
func (w *Work) Add(o *Work) {
	if w.Events == nil {
		*w = newWork(len(o.Events))
	}
	for i := range o.Events {
		w.Events[i] += o.Events[i]
		w.Adds[i] += o.Adds[i]
		w.Updates[i] += o.Updates[i]
		w.Replays[i] += o.Replays[i]
		w.Checks[i] += o.Checks[i]
	}
}

// TotalAdds is the sum of Adds over layers.
func (w *Work) TotalAdds() int64 {
	var s int64
	for _, a := range w.Adds {
		s += a
	}
	return s
}

// ImageResult is what one image's simulation produces: the
// network.ImageRecord both engines fill (per-layer slices indexed by
// spiking layer, in network order; the readout is not a spiking layer),
// and what the engine did.
type ImageResult struct {
	network.ImageRecord
	// Work is what the engine did for this image.
	Work Work
	// RecordRaster asks RunImage to record every spike in Raster
	// (ordered by step, layer and neuron, in the network's C,H,W order).
	// It allocates; leave it off for timing.
	RecordRaster bool
}

// ev is one fan-out event: a (pooled) source position and the amplitude
// its spikes carry into the next weighted layer.
type ev struct {
	pos int32
	amp float32
}

type layerState struct {
	v, acc, drift []float32
	invd          []float64
	last, sched   []int32
	counts        []int32
	touched       *queue.Bitset
	all           bool // every neuron is touched this step
	cross         *queue.Ring[int32]
	list          []int32
	spikes        []int32
	// direct input into this layer: the constant current and its invd
	i0    []float32
	i0inv []float64
	// evRows[py] marks the pooled positions px of this step's events
	// (stride-1 convolutions with at most 64 columns), expanded into
	// touched neurons by expandRowMarks.
	evRows []uint64
	// deferred lists the neurons updated at the previous step that may
	// cross on their constant current alone (see predictDeferred).
	deferred []int32
	// dense is set while the layer is updated by full sweeps (most of it
	// is touched every step); last, sched and deferred are then unused.
	dense bool
	// bits receives the spikes of a dense sweep.
	bits []uint64
	// cl, when set, holds the predicted spikes of a layer driven by a
	// constant current only (the first layer with direct input).
	cl    *constLayer
	clBuf constLayer
	// initSched caches the initial crossing predictions of a layer whose
	// current does not depend on the image.
	initSched []schedEntry
	initDone  bool
}

// constLayer holds the predicted threshold crossings of a layer whose only
// input is a constant current (the first layer with direct input and no
// delay): no spike ever reaches it, so the spikes of every step follow
// from v(0) and the current. At image start the neurons that can ever
// cross (current > 0, or v(0) ≥ θ) are gathered into compact arrays, and
// their crossings for the next h steps are computed by the same float32
// recurrence (vectorised) into per-step bitmap buckets; each step pops
// its bucket. Neurons that cannot cross cost nothing after the gathering.
type constLayer struct {
	cand []int32
	// For the fused path (spikesToWindows): fused[i] is the pooling
	// window of candidate i (or −1) and its spikes so far, indexed by the
	// bit so that no load waits on another, and side by side so that one
	// cache line serves both.
	fused    []winCount
	v, d, th []float32
	words    int
	bits     []uint64
	h        int
	from     int32
	filled   int32
	T        int32
	alpha    float32
	hard     bool
}

// init gathers the candidates of a new image; one, when not nil, maps
// each neuron to the window of the next projection it feeds.
func (c *constLayer) init(st *layerState, L *layerPlan, T int32, one []int32) {
	// Gathered without a branch per neuron (whether a neuron can cross
	// is a coin toss the branch predictor loses): every neuron is written
	// at slot n, and n advances only for candidates.
	nq := len(st.v)
	if cap(c.cand) < nq+8 {
		c.cand = make([]int32, nq+8)
		c.v = make([]float32, nq+8)
		c.d = make([]float32, nq+8)
		c.th = make([]float32, nq+8)
	}
	cand, cv, cd, cth := c.cand[:nq+1], c.v[:nq+1], c.d[:nq+1], c.th[:nq+1]
	vs, ds, ths := st.v[:nq], st.drift[:nq], L.theta[:nq]
	n := 0
	for q := range nq {
		v, d, th := vs[q], ds[q], ths[q]
		cand[n], cv[n], cd[n], cth[n] = int32(q), v, d, th
		if v >= th || d > 0 {
			n++
		}
	}
	c.cand, c.v, c.d, c.th = cand[:n], cv[:n], cd[:n], cth[:n]
	c.fused = c.fused[:0]
	if one != nil {
		if cap(c.fused) < n {
			c.fused = make([]winCount, n, nq)
		}
		c.fused = c.fused[:n]
		for i, q := range c.cand {
			c.fused[i] = winCount{win: one[q]}
		}
	}
	for len(c.v)%8 != 0 {
		c.v = append(c.v, 0)
		c.d = append(c.d, 0)
		c.th = append(c.th, float32(math.Inf(1)))
	}
	c.words = (len(c.v) + 63) / 64
	c.h = min(int(T), 64)
	if need := c.h * c.words; cap(c.bits) < need {
		c.bits = make([]uint64, need)
	}
	c.bits = c.bits[:c.h*c.words]
	c.from, c.filled, c.T = 1, 0, T
	c.alpha, c.hard = L.alpha, L.hard
}

// stepBits returns the spike bitmap of step t over the candidates
// (steps are asked in order), computing the next h steps when needed.
func (c *constLayer) stepBits(t int32, updates *int64) []uint64 {
	if t >= c.from+c.filled {
		c.from, c.filled = t, 0
		clear(c.bits)
		c.filled = int32(min(c.h, int(c.T-t+1)))
		constSteps(c.v, c.d, c.th, c.bits, c.words, int(c.filled), c.alpha, c.hard)
		*updates += int64(c.filled) * int64(len(c.v))
	}
	s := int(t - c.from)
	return c.bits[s*c.words : (s+1)*c.words]
}

// spikesAt appends the spikes of step t (steps are asked in order).
func (c *constLayer) spikesAt(t int32, dst []int32, updates *int64) []int32 {
	return drainBits(c.stepBits(t, updates), c.cand, dst)
}

// spikesToWindows is spikesAt fused with what is done next with the
// spikes when the layer feeds a pooling window per neuron (poolOne, given
// to init): each spike is counted for its neuron (count; first and firstN
// as in spikeStats) and for its window (cnt, win), and no list is built.
// It returns the number of spikes. One pass over the bits instead of
// three over a list: this layer fires most of the spikes of a converted
// CNN. Window bits are gathered in a register while consecutive spikes
// fall into the same word of win (the channels of one site do), so that
// the spikes do not queue on one memory word.
func (c *constLayer) spikesToWindows(t int32, updates *int64, cnt []uint16, win []uint64) (n, first, firstN int64) {
	words := c.stepBits(t, updates)
	fused := c.fused
	cur, curBits := -1, uint64(0)
	for wi, wd := range words {
		if wd == 0 {
			continue
		}
		words[wi] = 0
		base := wi << 6
		for wd != 0 {
			i := base + bits.TrailingZeros64(wd)
			wd &= wd - 1
			n++
			f := &fused[i]
			// 1 for a neuron's first spike, without a branch (it is
			// unpredictable in the first steps).
			isFirst := int64(uint32(f.count-1) >> 31)
			first += int64(t) * isFirst
			firstN += isFirst
			f.count++
			if w := f.win; w >= 0 {
				cnt[w]++
				if ww := int(w >> 6); ww != cur {
					if cur >= 0 {
						win[cur] |= curBits
					}
					cur, curBits = ww, 0
				}
				curBits |= 1 << (uint(w) & 63)
			}
		}
	}
	if cur >= 0 {
		win[cur] |= curBits
	}
	return n, first, firstN
}

// flushCounts adds the fused path's per-candidate spike counts to the
// layer's per-neuron counts (at the end of an image).
func (c *constLayer) flushCounts(counts []int32) {
	for i, f := range c.fused {
		counts[c.cand[i]] += f.count
	}
}

// winCount is a candidate's pooling window and spike count (fused path).
type winCount struct {
	win, count int32
}

type projState struct {
	cnt     []uint16
	winBits []uint64 // pooling windows hit this step
	// counted is set when the source has already counted this step's
	// spikes into cnt and winBits (constLayer.spikesToWindows).
	counted bool
	evs     []ev
	delayed *queue.Ring[ev]
	// offs and amps gather the events of one position for convGroup.
	offs []int32
	amps []float32
}

// Simulator runs one image at a time through a compiled network. It holds
// all per-image state, allocated once; a Simulator is not safe for
// concurrent use (use one per goroutine; Engine.Run does).
type Simulator struct {
	p      *plan
	T      int
	layers []layerState
	projs  []projState
	A      []float32
	// direct input: dense forward buffers of the layers before the first
	// weighted one
	fwd [][]float32
	// Poisson input
	pixQ []int32 // internal index of nonzero pixels, increasing
	pixU []int32 // their network index
	pixX []float32
	inSp []int32
	// policy chooses between lazy updates and dense sweeps (tests force
	// one or the other).
	policy int
	// fusePool[k] is set when layer k is a constant-current layer whose
	// spikes feed the next projection one pooling window each, without
	// delay: its spikes then go straight from bits to window counts.
	fusePool []bool
	// spikeHook, if set (tests), sees every layer's spikes (internal order).
	spikeHook func(k int, t int32, spikes []int32)
}

const (
	policyAdaptive = iota
	policySparse
	policyDense
)

// NewSimulator compiles net for the event engine with the given options
// (T, Encoding, Seed, KeepCounts and Delays are used; ImageOffset and
// Workers are Engine.Run's business).
func NewSimulator(net *network.Network, opts network.SimOptions) (*Simulator, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	p, err := compile(net, opts)
	if err != nil {
		return nil, err
	}
	return newSimulator(p), nil
}

func newSimulator(p *plan) *Simulator {
	T := p.opts.T
	s := &Simulator{p: p, T: T}
	h := T + 1
	if h > 1024 {
		h = 1024
	}
	s.layers = make([]layerState, len(p.layers))
	s.projs = make([]projState, len(p.layers))
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
		if L.direct {
			st.i0 = make([]float32, L.n)
			if !L.readout {
				st.i0inv = make([]float64, L.n)
			}
		}
		ps := &s.projs[k]
		pr := L.in
		if pr.conv && !L.readout && pr.strH == 1 && pr.strW == 1 && pr.ow <= 64 && pr.pooled.w <= 64 {
			st.evRows = make([]uint64, pr.pooled.h)
		}
		if pr.pool {
			ps.cnt = make([]uint16, pr.pooled.size())
			ps.winBits = make([]uint64, (pr.pooled.size()+63)/64)
		}
		if pr.conv {
			ps.offs = make([]int32, 0, pr.inC)
			ps.amps = make([]float32, 0, pr.inC)
		} else {
			ps.offs = make([]int32, 0, pr.pooled.size())
			ps.amps = make([]float32, 0, pr.pooled.size())
		}
		ps.evs = make([]ev, 0, pr.pooled.size())
		if pr.delay > 0 {
			ps.delayed = queue.NewRing[ev](pr.delay + 1)
		}
	}
	s.fusePool = make([]bool, len(p.layers))
	for k, L := range p.layers[:len(p.layers)-1] {
		next := p.layers[k+1].in
		s.fusePool[k] = L.direct && L.in.delay == 0 && next.pool && next.poolOne != nil && next.delay == 0
	}
	s.A = make([]float32, p.readout().n)
	if p.layers[0].direct {
		s.fwd = make([][]float32, p.first)
		for i := 0; i < p.first; i++ {
			s.fwd[i] = make([]float32, p.shapes[i].Size())
		}
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

// NewImageResult returns an ImageResult sized for this simulator.
func (s *Simulator) NewImageResult() *ImageResult {
	nl := s.NumLayers()
	r := &ImageResult{
		ImageRecord: network.ImageRecord{
			PredictionByStep: make([]int, s.T),
			Output:           make([]float32, len(s.A)),
			Spikes:           make([]int64, nl),
			SOPs:             make([]int64, nl),
			FirstSpikeSum:    make([]int64, nl),
			FirstSpikers:     make([]int64, nl),
			SpikesByStep:     make([][]int32, nl),
		},
		Work: newWork(nl + 1),
	}
	for k := range r.SpikesByStep {
		r.SpikesByStep[k] = make([]int32, s.T)
	}
	if s.p.opts.KeepCounts {
		r.Counts = make([][]int32, nl)
		for k := range r.Counts {
			r.Counts[k] = make([]int32, s.p.layers[k].n)
		}
	}
	return r
}

func (r *ImageResult) reset() {
	r.ImageRecord.Reset()
	r.Work.reset()
}

// RunImage simulates one image x (Input.Size() values in the network's
// C,H,W order) for T steps. image is its dataset index (it seeds the
// Poisson input). res must come from NewImageResult; it is overwritten.
// After the first call RunImage allocates nothing.
func (s *Simulator) RunImage(x []float32, image int, res *ImageResult) error {
	p := s.p
	if len(x) != p.input.size() {
		return fmt.Errorf("event: image has %d values, the network's input %v has %d", len(x), p.net.Input, p.input.size())
	}
	res.reset()
	T := int32(s.T)
	direct := p.layers[0].direct
	if direct {
		s.directCurrent(x)
	} else {
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
	clear(s.A)
	for k, L := range p.layers {
		st := &s.layers[k]
		st.drift = L.bias
		st.invd = L.invDrift
		if L.direct && L.in.delay == 0 {
			st.drift = st.i0
			st.invd = st.i0inv
		}
		clear(st.acc)
		if ps := &s.projs[k]; ps.delayed != nil {
			ps.delayed.Reset(1)
		}
		if L.readout {
			continue
		}
		copy(st.v, L.v0)
		clear(st.last)
		clear(st.sched)
		clear(st.counts)
		st.touched.Clear()
		st.all = false
		st.dense = false
		st.deferred = st.deferred[:0]
		st.cross.Reset(1)
		st.cl = nil
		if L.direct && L.in.delay == 0 && s.policy != policySparse {
			st.cl = &st.clBuf
			var one []int32
			if s.fusePool[k] {
				one = p.layers[k+1].in.poolOne
			}
			st.cl.init(st, L, T, one)
			continue
		}
		s.initialSchedule(k)
	}
	for t := int32(1); t <= T; t++ {
		var src []int32
		if !direct {
			src = s.inputSpikes(x, image, t)
			res.InputSpikes += int64(len(src))
			for _, q := range src {
				res.InputSOPs += int64(p.inputFan[q])
			}
		}
		for k, L := range p.layers {
			st := &s.layers[k]
			ps := &s.projs[k]
			pr := L.in
			var evs []ev
			if !L.direct {
				ps.evs = buildEvents(pr, src, ps, ps.evs[:0])
				evs = ps.evs
				if pr.delay > 0 {
					if t+int32(pr.delay) <= T {
						for _, e := range ps.evs {
							ps.delayed.Push(int(t)+pr.delay, e)
						}
					}
					evs = ps.delayed.Pop(int(t))
				}
			} else if pr.delay > 0 && t == int32(pr.delay)+1 {
				s.switchToInput(k, t)
			}
			s.deliver(k, evs, &res.Work)
			if L.readout {
				s.readout(t, res)
				break
			}
			if st.cl != nil {
				if next := &s.projs[k+1]; s.fusePool[k] && !res.RecordRaster && s.spikeHook == nil {
					n, first, firstN := st.cl.spikesToWindows(t, &res.Work.Updates[k], next.cnt, next.winBits)
					next.counted = true
					res.Spikes[k] += n
					res.SpikesByStep[k][t-1] = int32(n)
					res.FirstSpikeSum[k] += first
					res.FirstSpikers[k] += firstN
					src = nil
					continue
				}
				st.spikes = st.cl.spikesAt(t, st.spikes[:0], &res.Work.Updates[k])
				s.spikeStats(k, t, res)
				src = st.spikes
				if s.spikeHook != nil {
					s.spikeHook(k, t, src)
				}
				if res.RecordRaster {
					s.record(k, t, src, res)
				}
				continue
			}
			valid := int64(0)
			for _, q := range st.cross.Pop(int(t)) {
				if st.sched[q] == t {
					st.touched.Add(int(q))
					valid++
				}
			}
			res.Work.Checks[k] += valid
			s.update(k, t, res)
			src = st.spikes
			if s.spikeHook != nil {
				s.spikeHook(k, t, src)
			}
			if res.RecordRaster {
				s.record(k, t, src, res)
			}
		}
	}
	for k := range s.layers {
		if cl := s.layers[k].cl; cl != nil {
			cl.flushCounts(s.layers[k].counts)
		}
	}
	res.Prediction = res.PredictionByStep[T-1]
	copy(res.Output, s.A)
	// SOPs: each spike of neuron q stands for fan[q] synaptic operations;
	// summed once per image rather than looked up per spike.
	for k, L := range p.layers[:len(p.layers)-1] {
		var sops int64
		for q, c := range s.layers[k].counts {
			sops += int64(c) * int64(L.fan[q])
		}
		res.SOPs[k] = sops
	}
	if res.Counts != nil {
		for k := range res.Counts {
			L := p.layers[k]
			for q, c := range s.layers[k].counts {
				res.Counts[k][L.g.user(q)] = c
			}
		}
	}
	return nil
}

// record appends the spikes of layer k at step t to res.Raster, in the
// network's neuron order.
func (s *Simulator) record(k int, t int32, spikes []int32, res *ImageResult) {
	g := s.p.layers[k].g
	start := len(res.Raster)
	for _, q := range spikes {
		res.Raster = append(res.Raster, network.RasterEvent{Layer: int32(k), Neuron: int32(g.user(int(q))), Step: t})
	}
	if g.c > 1 && g.h*g.w > 1 {
		added := res.Raster[start:]
		slices.SortFunc(added, func(a, b network.RasterEvent) int { return int(a.Neuron - b.Neuron) })
	}
}

// directCurrent computes the constant input current of the first weighted
// layer for direct input, once per image, in the order the dense engine
// (dense) sums it: the current starts at the bias and each nonzero
// input value, in increasing C,H,W index, adds value × its weight row
// (multiply, then add). Layers before the first weighted one (AvgPool2d,
// Flatten) run their dense Forward.
func (s *Simulator) directCurrent(x []float32) {
	p := s.p
	in, inShape := x, p.net.Input
	for i := 0; i < p.first; i++ {
		out := s.fwd[i]
		switch l := p.net.Layers[i].(type) {
		case *network.AvgPool2d:
			l.Forward(out, in, inShape, 1)
		case *network.Flatten:
			copy(out, in)
		}
		in, inShape = out, p.shapes[i]
	}
	L := p.layers[0]
	st := &s.layers[0]
	copy(st.i0, L.bias)
	pg := L.in.pooled
	for j, v := range in {
		if v != 0 {
			scatter(L.in, pg.internal(j), v, st.i0)
		}
	}
	// The crossing predictions of the lazy path need 1/(d+δ); the
	// constant-current layer (constLayer) does not.
	if st.i0inv != nil && (L.in.delay > 0 || s.policy == policySparse) {
		for q, d := range st.i0 {
			st.i0inv[q] = invDrift(d, L.theta[q])
		}
	}
}

// scatter adds amp × the fan-out of pooled source position pos to acc.
func scatter(pr *proj, pos int, amp float32, acc []float32) {
	if !pr.conv {
		axpy(amp, pr.wt[pos*pr.out:(pos+1)*pr.out], acc)
		return
	}
	kh, kw, outC, ow := pr.kh, pr.kw, pr.outC, pr.ow
	if pr.convRun != nil {
		c := pr.convRun[pos]
		r := &pr.siteRun[c.site]
		axpyRows(amp, pr.wconv[c.w:], kw*outC, acc, int(r.y0), -ow*outC, int(r.n), int(r.rows))
		return
	}
	pg := pr.pooled
	ci := pos % pg.c
	yx := pos / pg.c
	py, px := yx/pg.w, yx%pg.w
	oxFirst := px + pr.padW - (kw - 1)
	for ky := 0; ky < kh; ky++ {
		oyn := py + pr.padH - ky
		if oyn < 0 {
			break
		}
		if oyn%pr.strH != 0 || oyn/pr.strH >= pr.oh {
			continue
		}
		oy := oyn / pr.strH
		wrow := pr.wconv[(ci*kh+ky)*kw*outC:]
		for j := 0; j < kw; j++ {
			oxn := oxFirst + j
			if oxn < 0 || oxn%pr.strW != 0 || oxn/pr.strW >= ow {
				continue
			}
			lo := (oy*ow + oxn/pr.strW) * outC
			axpy(amp, wrow[j*outC:(j+1)*outC], acc[lo:lo+outC])
		}
	}
}

// switchToInput is the step where direct input delayed by d first reaches
// the first layer: neurons are brought up to step d with the bias as their
// current, then the constant input current takes over and every neuron is
// updated (and re-predicted) at this step.
func (s *Simulator) switchToInput(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	if !L.readout && !st.dense {
		for q := range st.v {
			if gap := t - 1 - st.last[q]; gap > 0 {
				st.v[q] = replay(st.v[q], L.alpha, st.drift[q], gap)
				st.last[q] = t - 1
			}
		}
		st.all = true
		st.invd = st.i0inv
	}
	st.drift = st.i0
}

// inputSpikes draws the Poisson input spikes of step t (internal order).
func (s *Simulator) inputSpikes(x []float32, image int, t int32) []int32 {
	sp := s.inSp[:0]
	seed := s.p.opts.Seed
	for i, q := range s.pixQ {
		if network.PoissonUniform(seed, image, int(t), int(s.pixU[i])) < s.pixX[i] {
			sp = append(sp, q)
		}
	}
	s.inSp = sp
	return sp
}

// buildEvents turns the spikes of a source (internal order) into fan-out
// events: spikes of one pooling window in the same step merge into one
// event whose amplitude is the pooled value the dense pass computes.
func buildEvents(pr *proj, spikes []int32, ps *projState, out []ev) []ev {
	if ps.counted {
		// The source counted its spikes into the windows itself
		// (constLayer.spikesToWindows).
		ps.counted = false
		return windowEvents(pr, ps, out)
	}
	if len(spikes) == 0 {
		return out
	}
	if !pr.pool {
		amp := pr.amp1
		for _, q := range spikes {
			out = append(out, ev{q, amp[q]})
		}
		return out
	}
	cnt := ps.cnt
	words := ps.winBits
	if one := pr.poolOne; one != nil {
		for _, q := range spikes {
			if w := one[q]; w >= 0 {
				cnt[w]++
				words[w>>6] |= 1 << (uint(w) & 63)
			}
		}
	} else {
		for _, q := range spikes {
			for _, w := range pr.poolList[pr.poolStart[q]:pr.poolStart[q+1]] {
				cnt[w]++
				words[w>>6] |= 1 << (uint(w) & 63)
			}
		}
	}
	return windowEvents(pr, ps, out)
}

// windowEvents turns the counted pooling windows of a step into events,
// clearing the counts. Windows come in increasing internal order, so that
// the events of one position (all its channels) are adjacent for the
// grouped fan-out.
func windowEvents(pr *proj, ps *projState, out []ev) []ev {
	cnt, words := ps.cnt, ps.winBits
	base, tab := pr.ampBase, pr.ampTab
	for wi, wd := range words {
		if wd == 0 {
			continue
		}
		words[wi] = 0
		for wd != 0 {
			w := int32(wi<<6 + bits.TrailingZeros64(wd))
			wd &= wd - 1
			out = append(out, ev{w, tab[base[w]+int32(cnt[w])]})
			cnt[w] = 0
		}
	}
	return out
}

// groupMaxOut is the longest Linear row for which the events of a step are
// added by one grouped call (targets kept in registers across events);
// longer rows are added event by event.
const groupMaxOut = 1024

// deliver performs the row-adds of the events into layer k's current
// accumulator and marks the touched neurons.
func (s *Simulator) deliver(k int, evs []ev, w *Work) {
	if len(evs) == 0 {
		return
	}
	pr := s.p.layers[k].in
	st := &s.layers[k]
	acc := st.acc
	w.Events[k] += int64(len(evs))
	if !pr.conv {
		out := pr.out
		if out > groupMaxOut {
			// Long rows: one streaming row-add per event (the target row
			// stays in L1; each weight row is read once, front to back).
			for _, e := range evs {
				axpy(e.amp, pr.wt[int(e.pos)*out:int(e.pos+1)*out], acc)
			}
			w.Adds[k] += int64(len(evs) * out)
			st.all = true
			return
		}
		// Every event adds a row to the same targets: one grouped call.
		ps := &s.projs[k]
		offs, amps := ps.offs[:0], ps.amps[:0]
		for _, e := range evs {
			offs = append(offs, e.pos*int32(out))
			amps = append(amps, e.amp)
		}
		ps.offs, ps.amps = offs, amps
		convGroup(acc, 0, 0, out, 1, pr.wt, 0, offs, amps)
		w.Adds[k] += int64(len(evs) * out)
		st.all = true
		return
	}
	pg := pr.pooled
	kh, kw, outC, ow, oh := pr.kh, pr.kw, pr.outC, pr.ow, pr.oh
	fast := pr.convRun != nil
	mark := k != len(s.p.layers)-1
	rowMarks := st.evRows != nil
	var adds int
	if fast {
		// Events of one site (its channels) share their target rows: one
		// grouped call each. Runs were checked against wconv and acc when
		// the plan was compiled, so the kernel is called without checks.
		ps := &s.projs[k]
		runs := pr.convRun
		// A site has at most one event per channel: offs and amps (of
		// capacity inC) never grow.
		offs, amps := ps.offs[:pr.inC], ps.amps[:pr.inC]
		for i := 0; i < len(evs); {
			site := runs[evs[i].pos].site
			m := 0
			j := i
			for ; j < len(evs) && m < len(offs); j++ {
				c := runs[evs[j].pos]
				if c.site != site {
					break
				}
				offs[m], amps[m] = c.w, evs[j].amp
				m++
			}
			i = j
			r := &pr.siteRun[site]
			if r.rows == 0 {
				continue
			}
			convGroupRun(acc, r, -ow*outC, pr.wconv, kw*outC, offs[:m], amps[:m])
			adds += int(r.n*r.rows) * m
			if mark {
				if rowMarks {
					st.evRows[r.py] |= 1 << uint(r.px)
				} else {
					for i := 0; i < int(r.rows); i++ {
						lo := int(r.y0) - i*ow*outC
						st.touched.AddRange(lo, lo+int(r.n))
					}
				}
			}
		}
		w.Adds[k] += int64(adds)
		return
	}
	for _, e := range evs {
		pq := int(e.pos)
		ci := pq % pg.c
		yx := pq / pg.c
		py, px := yx/pg.w, yx%pg.w
		oxFirst := px + pr.padW - (kw - 1)
		wbase := ci * kh
		for ky := 0; ky < kh; ky++ {
			oyn := py + pr.padH - ky
			if oyn < 0 {
				break
			}
			if oyn%pr.strH != 0 {
				continue
			}
			oy := oyn / pr.strH
			if oy >= oh {
				continue
			}
			wrow := pr.wconv[(wbase+ky)*kw*outC:]
			for j := 0; j < kw; j++ {
				oxn := oxFirst + j
				if oxn < 0 || oxn%pr.strW != 0 || oxn/pr.strW >= ow {
					continue
				}
				lo := (oy*ow + oxn/pr.strW) * outC
				axpy(e.amp, wrow[j*outC:(j+1)*outC], acc[lo:lo+outC])
				if mark {
					st.touched.AddRange(lo, lo+outC)
				}
				adds += outC
			}
		}
	}
	w.Adds[k] += int64(adds)
}

// expandRowMarks turns the per-row marks of pooled event positions of a
// stride-1 convolution into the touched neurons: output (oy, ox) is touched
// if an event at (py, px) has py = oy−padH+ky and px = ox−padW+kx for some
// kernel tap. Bit-parallel over rows of at most 64 positions.
func (s *Simulator) expandRowMarks(k int) {
	pr := s.p.layers[k].in
	st := &s.layers[k]
	ph := len(st.evRows)
	any := uint64(0)
	for _, m := range st.evRows {
		any |= m
	}
	if any == 0 {
		return
	}
	owMask := ^uint64(0) >> uint(64-pr.ow)
	for oy := 0; oy < pr.oh; oy++ {
		var m uint64
		for ky := 0; ky < pr.kh; ky++ {
			if py := oy - pr.padH + ky; py >= 0 && py < ph {
				m |= st.evRows[py]
			}
		}
		if m == 0 {
			continue
		}
		var mm uint64
		for kx := 0; kx < pr.kw; kx++ {
			if sh := pr.padW - kx; sh >= 0 {
				mm |= m << uint(sh)
			} else {
				mm |= m >> uint(-sh)
			}
		}
		mm &= owMask
		for mm != 0 {
			ox := bits.TrailingZeros64(mm)
			mm &= mm - 1
			lo := (oy*pr.ow + ox) * pr.outC
			st.touched.AddRange(lo, lo+pr.outC)
		}
	}
	clear(st.evRows)
}

// readout adds this step's current to the accumulator and records the
// prediction.
func (s *Simulator) readout(t int32, res *ImageResult) {
	st := &s.layers[len(s.layers)-1]
	A, acc, d := s.A, st.acc, st.drift
	for o := range A {
		I := acc[o] + d[o]
		acc[o] = 0
		A[o] += I
	}
	res.PredictionByStep[t-1] = network.Argmax(A)
}

// replay advances v through gap steps with the constant current d, in the
// same float32 operations a per-step update performs.
func replay(v, alpha, d float32, gap int32) float32 {
	if alpha == 1 {
		if d == 0 {
			return v
		}
		for ; gap > 0; gap-- {
			v += d
		}
		return v
	}
	for ; gap > 0; gap-- {
		v = float32(alpha*v) + d
	}
	return v
}

// initialSchedule predicts the first crossing of every neuron of layer k
// from its initial potential.
func (s *Simulator) initialSchedule(k int) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.T)
	h := int32(st.cross.Horizon())
	cacheable := !L.direct // v(0), bias and θ are the same for every image
	if cacheable && st.initDone {
		for _, e := range st.initSched {
			st.sched[e.q] = e.n
			st.cross.Push(int(e.n), e.q)
		}
		return
	}
	st.initSched = st.initSched[:0]
	defer func() { st.initDone = cacheable }()
	for q := range st.v {
		v, d, th := st.v[q], st.drift[q], L.theta[q]
		if v < th && !(d > 0) {
			continue
		}
		n := nextCrossing(v, d, th, L.alpha, st.invd[q], h)
		if n > 0 && n <= T {
			st.sched[q] = n
			st.cross.Push(int(n), int32(q))
			st.initSched = append(st.initSched, schedEntry{int32(q), n})
		}
	}
}

type schedEntry struct{ q, n int32 }

// nextCrossing returns a lower bound n ≥ 1 (capped at h) on the number of
// steps until a neuron at potential v driven by the constant current d
// alone reaches th, or 0 if it never does. invd is invDrift(d, th).
func nextCrossing(v, d, th, alpha float32, invd float64, h int32) int32 {
	if v >= th {
		return 1
	}
	if !(d > 0) {
		return 0
	}
	if alpha == 1 {
		var x float64
		if v >= -8*th {
			x = (float64(th) - float64(v)) * invd
		} else {
			delta := math.Ldexp(-float64(v)+float64(th)+float64(d), -22)
			x = (float64(th) - float64(v)) / (float64(d) + delta)
		}
		if x >= float64(h) {
			return h
		}
		n := int32(x)
		if float64(n) < x {
			n++
		}
		if n < 1 {
			n = 1
		}
		return n
	}
	return lifCrossing(v, d, th, alpha, h)
}

// lifCrossing is nextCrossing for 0 < alpha < 1: v_n ≤ L + αⁿ(v−L) with
// L = (d+δ)/(1−α), δ = 2^-21·(max(|v|,θ)+d) bounding two roundings a step.
func lifCrossing(v, d, th, alpha float32, h int32) int32 {
	m := math.Max(math.Abs(float64(v)), float64(th)) + float64(d)
	delta := math.Ldexp(m, -21)
	a := float64(alpha)
	L := (float64(d) + delta) / (1 - a)
	if L <= float64(th) {
		return 0
	}
	r := (L - float64(th)) / (L - float64(v))
	x := math.Log(r) / math.Log(a)
	if x >= float64(h) {
		return h
	}
	n := int32(math.Ceil(x)) - 1 // one step early: guards log's rounding
	if n < 1 {
		n = 1
	}
	return n
}

// predictDeferred handles the neurons updated at step t-1 whose next
// crossing was left unpredicted: those touched at step t need none; for the
// others the prediction is made now, from their state after step t-1.
func (s *Simulator) predictDeferred(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.T)
	h := int32(st.cross.Horizon())
	words := st.touched.Words()
	for _, q := range st.deferred {
		if words[q>>6]&(1<<(uint(q)&63)) != 0 {
			continue
		}
		n := nextCrossing(st.v[q], st.drift[q], L.theta[q], L.alpha, st.invd[q], h)
		switch {
		case n == 1:
			st.touched.Add(int(q))
		case n > 1 && t-1+n <= T:
			st.sched[q] = t - 1 + n
			st.cross.Push(int(t-1+n), q)
		}
	}
	st.deferred = st.deferred[:0]
}

// update brings the touched neurons of spiking layer k through step t:
// catch-up of skipped steps, the step's update, spike and reset, and the
// prediction of the next crossing.
func (s *Simulator) update(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	cnt := L.n
	if st.all {
		clear(st.evRows)
	} else {
		if st.evRows != nil {
			s.expandRowMarks(k)
		}
		cnt = st.touched.Count()
	}
	dense := st.dense
	switch s.policy {
	case policySparse:
		dense = false
	case policyDense:
		dense = true
	default:
		if st.dense {
			dense = cnt*8 >= L.n
		} else {
			dense = cnt*2 >= L.n
		}
	}
	if dense != st.dense {
		if dense {
			s.enterDense(k, t)
		} else {
			s.leaveDense(k, t)
		}
	}
	if dense {
		st.touched.Clear()
		st.all = false
		s.sweep(k, t, res)
	} else {
		s.updateSparse(k, t, res)
	}
	s.spikeStats(k, t, res)
}

// enterDense switches layer k to dense sweeps from step t on: every neuron
// is brought up to step t-1 and the crossing queue's entries are voided.
func (s *Simulator) enterDense(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	var replays int64
	for q := range st.v {
		if gap := t - 1 - st.last[q]; gap > 0 {
			st.v[q] = replay(st.v[q], L.alpha, st.drift[q], gap)
			replays += int64(gap)
		}
	}
	clear(st.sched)
	st.deferred = st.deferred[:0]
	st.dense = true
}

// leaveDense switches layer k back to lazy updates at step t: all neurons
// are current after step t-1; each gets its crossing prediction (those
// that cross at t join the touched set).
func (s *Simulator) leaveDense(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.T)
	h := int32(st.cross.Horizon())
	for q := range st.v {
		st.last[q] = t - 1
		v, d, th := st.v[q], st.drift[q], L.theta[q]
		if v < th && !(d > 0) {
			continue
		}
		n := nextCrossing(v, d, th, L.alpha, st.invd[q], h)
		switch {
		case n == 1:
			st.touched.Add(q)
		case n > 1 && t-1+n <= T:
			st.sched[q] = t - 1 + n
			st.cross.Push(int(t-1+n), int32(q))
		}
	}
	st.dense = false
}

// sweep is the dense update of every neuron of layer k at step t, for
// steps where most neurons are touched anyway: the same float32 operations
// as the lazy path, without its bookkeeping.
func (s *Simulator) sweep(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	stepNeurons(st.v, st.acc, st.drift, L.theta, st.bits, L.alpha, L.hard)
	st.spikes = drainBits(st.bits, nil, st.spikes[:0])
	res.Work.Updates[k] += int64(L.n)
}

// drainBits appends the set bits of words (as indices, or as ids[index]
// when ids is not nil) in increasing order and clears the words.
func drainBits(words []uint64, ids []int32, dst []int32) []int32 {
	for wi, w := range words {
		if w == 0 {
			continue
		}
		words[wi] = 0
		base := wi << 6
		for w != 0 {
			i := base + bits.TrailingZeros64(w)
			w &= w - 1
			if ids != nil {
				dst = append(dst, ids[i])
			} else {
				dst = append(dst, int32(i))
			}
		}
	}
	return dst
}

// updateSparse brings the touched neurons of layer k through step t.
func (s *Simulator) updateSparse(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	if len(st.deferred) > 0 && !st.all {
		s.predictDeferred(k, t)
	}
	idx := st.list[:0]
	if st.all {
		st.touched.Clear()
		for q := range st.v {
			idx = append(idx, int32(q))
		}
		st.all = false
	} else {
		idx = st.touched.DrainTo(idx)
	}
	st.list = idx
	v, acc, drift, theta, last, sched, invd := st.v, st.acc, st.drift, L.theta, st.last, st.sched, st.invd
	alpha, hard := L.alpha, L.hard
	T := int32(s.T)
	h := int32(st.cross.Horizon())
	lazy := !L.direct && t < T
	deferred := st.deferred[:0]
	spikes := st.spikes[:0]
	var replays int64
	for _, q := range idx {
		vq := v[q]
		d := drift[q]
		if gap := t - 1 - last[q]; gap > 0 {
			vq = replay(vq, alpha, d, gap)
			replays += int64(gap)
		}
		I := acc[q] + d
		acc[q] = 0
		if alpha == 1 {
			vq += I
		} else {
			vq = float32(alpha*vq) + I
		}
		th := theta[q]
		if vq >= th {
			if hard {
				vq = 0
			} else {
				vq -= th
			}
			spikes = append(spikes, q)
		}
		v[q] = vq
		last[q] = t
		var next int32
		if vq >= th || d > 0 {
			if lazy {
				// Predict next step, and only if nothing touches it then.
				deferred = append(deferred, q)
			} else if n := nextCrossing(vq, d, th, alpha, invd[q], h); n > 0 && t+n <= T {
				next = t + n
			}
		}
		if next != sched[q] {
			sched[q] = next
			if next != 0 {
				st.cross.Push(int(next), q)
			}
		}
	}
	st.spikes = spikes
	st.deferred = deferred
	res.Work.Updates[k] += int64(len(idx))
	res.Work.Replays[k] += replays
}

// spikeStats records the spikes of layer k at step t.
func (s *Simulator) spikeStats(k int, t int32, res *ImageResult) {
	st := &s.layers[k]
	spikes := st.spikes
	if len(spikes) == 0 {
		return
	}
	counts := st.counts
	var first, firstN int64
	for _, q := range spikes {
		c := counts[q]
		if c == 0 {
			first += int64(t)
			firstN++
		}
		counts[q] = c + 1
	}
	res.Spikes[k] += int64(len(spikes))
	res.SpikesByStep[k][t-1] = int32(len(spikes))
	res.FirstSpikeSum[k] += first
	res.FirstSpikers[k] += firstN
}
