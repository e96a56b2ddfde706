package event

import (
	"fmt"
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// plan is a network compiled for the event engine (see doc.go, "The
// plan"): the spiking layers and the readout (layerPlan), the count-gated
// MaxPools (maxPlan), the sources of events (sourcePlan) and the
// projections between them (proj), and the order in which the nodes are
// worked on within a step.
type plan struct {
	net    *network.Network
	shapes []network.Shape
	input  grid
	opts   network.SimOptions
	// layers are the spiking layers in network order, then the readout.
	layers []*layerPlan
	pools  []*maxPlan
	// sources[0] is the input; then spiking layers and MaxPools in
	// network order.
	sources []*sourcePlan
	projs   []*proj
	// order lists the nodes (spiking layers, count-gated MaxPools, the
	// readout) in network order, which is topological: a spike of step t
	// reaches every node downstream of it in step t.
	order []node
	// inputFan is the SOP count per input spike (Poisson input).
	inputFan []int32
	// directPools are the MaxPools on the direct input (plain max, computed
	// once per image).
	directPools []int
}

func (p *plan) readout() *layerPlan { return p.layers[len(p.layers)-1] }

// node is one entry of plan.order.
type node struct {
	pool bool // a count-gated MaxPool (index into pools), else a layer
	i    int
}

// Source kinds.
const (
	srcInput = iota
	srcLayer
	srcMax
)

// sourcePlan is something that emits events: the input, a spiking layer,
// or a MaxPool. Its events of one step are a sorted list of positions
// (internal order); an event of channel c carries amp[c] (θ of the
// channel; 1 for the input).
type sourcePlan struct {
	kind  int
	index int // layer number (srcLayer) or pool number (srcMax)
	net   int // network index, InputNode for the input
	g     grid
	amp   []float32
	// direct is set when the source is constant per image (the direct
	// input and the plain max of it): its projections are folded into the
	// targets' constant current.
	direct bool
	// projs and maxes are the projections and count-gated MaxPools that
	// read its events.
	projs []int
	maxes []int
}

// layerPlan is a layer of neurons the engine updates: a spiking layer or
// the readout, with the projections that feed it.
type layerPlan struct {
	name     string
	netIndex int // index in Network.Layers (the Spiking layer, or the readout)
	readout  bool
	g        grid
	n        int
	alpha    float32
	hard     bool
	theta    []float32 // per neuron, internal order
	v0       []float32 // per neuron, internal order
	// bias is the constant part of the input current: the biases of the
	// weighted layers of its projections, then the Add's bias.
	bias     []float32
	invDrift []float64 // 1/(b+δ) for crossing prediction, 0 when b ≤ 0
	fan      []int32   // SOPs per spike (network.FanOut), internal order
	src      int       // source id of its spikes (spiking layers)
	// ins are the projections into the layer, in network.Projections order.
	ins []int
	// delays are the distinct delays of its constant (direct-input)
	// projections, increasing; nil without any. Each opens a phase of the
	// constant current (see directCurrent).
	delays []int
	// constOnly: every projection into it is constant without delay, so
	// no event ever reaches it (constLayer).
	constOnly bool
	// rowMarked lists its convolution projections whose touched neurons
	// are marked per pooled row and expanded (expandRowMarks).
	rowMarked []int
	// fuseProj (fuseMax) is set on a constant-current layer whose spikes
	// go to one projection with a window per neuron (to one count-gated
	// MaxPool with non-overlapping windows), without delay and nothing
	// else: its spikes then go straight from the predicted bits into the
	// window counts (constLayer.spikesToWindows, spikesToMax). −1: not.
	fuseProj, fuseMax int
	// userOrder (a readout that is not a vector) lists the internal index
	// of every output in network order, for the argmax.
	userOrder []int32
}

// maxPlan is a MaxPool2d. On a spiking layer or Poisson input it is
// count-gated (SPEC §2a): it reads the events of its source and is a
// source itself. On the direct input it is the plain max, computed once
// per image (direct).
type maxPlan struct {
	name     string
	netIndex int
	layer    *network.MaxPool2d
	in       int // source id it reads
	src      int // its own source id
	ing, g   grid
	wins     windows
	// charge is the spiking layer its SOPs are charged to, −1 for the
	// input.
	charge int
	fan    []int32 // SOPs per event, internal order
	direct bool
}

// compile checks that the engine can simulate net (an SNN that
// network.Validate accepts) and builds the plan.
func compile(net *network.Network, opts network.SimOptions) (*plan, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	if opts.Delays != nil {
		if len(opts.Delays) != len(net.Layers) {
			return nil, fmt.Errorf("event: %d delays for %d layers", len(opts.Delays), len(net.Layers))
		}
		for j, d := range opts.Delays {
			if d != 0 && network.RoleOf(net.Layers[j]) != network.RoleWeighted {
				return nil, fmt.Errorf("event: delay %d on layer %d (%s %q), which is not a weighted layer", d, j, net.Layers[j].Kind(), net.Layers[j].Name())
			}
		}
	}
	for i, l := range net.Layers {
		if l.Kind() == network.KindReLU {
			return nil, fmt.Errorf("event: layer %d (relu %q): the network is an ANN; convert it to an SNN first", i, l.Name())
		}
	}
	poisson := opts.Encoding == network.EncodingPoisson
	p := &plan{net: net, shapes: shapes, input: gridOf(net.Input), opts: opts}
	p.sources = []*sourcePlan{{kind: srcInput, net: network.InputNode, g: p.input, amp: ones(p.input.c), direct: !poisson}}
	srcOf := map[int]int{network.InputNode: 0}
	layerOf := map[int]int{}
	last := len(net.Layers) - 1
	for i, l := range net.Layers {
		switch l := l.(type) {
		case *network.Spiking:
			lp, err := spikingPlan(net, shapes, i, l)
			if err != nil {
				return nil, err
			}
			lp.src = len(p.sources)
			layerOf[i] = len(p.layers)
			srcOf[i] = lp.src
			p.sources = append(p.sources, &sourcePlan{kind: srcLayer, index: len(p.layers), net: i, g: lp.g, amp: channelThetas(lp)})
			p.layers = append(p.layers, lp)
		case *network.MaxPool2d:
			if err := p.addMaxPool(i, l, srcOf, layerOf); err != nil {
				return nil, err
			}
			srcOf[i] = p.pools[len(p.pools)-1].src
		}
	}
	if len(p.layers) == 0 {
		return nil, fmt.Errorf("event: the network has no spiking layer")
	}
	ro := &layerPlan{name: net.Layers[last].Name(), netIndex: last, readout: true, g: gridOf(shapes[last])}
	ro.n = ro.g.size()
	if ro.g.c != ro.n {
		ro.userOrder = make([]int32, ro.n)
		for j := range ro.userOrder {
			ro.userOrder[j] = int32(ro.g.internal(j))
		}
	}
	layerOf[last] = len(p.layers)
	p.layers = append(p.layers, ro)

	projs, err := net.Projections()
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	for _, np := range projs {
		k, ok := layerOf[np.Target]
		if !ok {
			return nil, fmt.Errorf("event: projection into layer %d, which is neither a spiking layer nor the readout", np.Target)
		}
		sid, ok := srcOf[np.Source]
		if !ok {
			return nil, fmt.Errorf("event: projection from layer %d, which is not a source", np.Source)
		}
		pr, err := buildProj(p, np, sid, k)
		if err != nil {
			return nil, err
		}
		if opts.Delays != nil && np.Weighted >= 0 {
			pr.delay = opts.Delays[np.Weighted]
		}
		pr.index = len(p.projs)
		p.projs = append(p.projs, pr)
		L := p.layers[k]
		L.ins = append(L.ins, pr.index)
		if !pr.direct {
			p.sources[sid].projs = append(p.sources[sid].projs, pr.index)
		}
	}
	for _, L := range p.layers {
		if err := p.finishLayer(L); err != nil {
			return nil, err
		}
	}
	p.chooseFusions()
	p.nodeOrder()
	if poisson {
		fan, err := net.FanOut(network.InputNode)
		if err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		p.inputFan = toInternal(p.input, fan)
	}
	return p, nil
}

// chooseFusions picks the constant-current layers whose spikes go
// straight into the window counts of their only consumer (fuseProj,
// fuseMax).
func (p *plan) chooseFusions() {
	for _, L := range p.layers {
		L.fuseProj, L.fuseMax = -1, -1
		if L.readout || !L.constOnly {
			continue
		}
		src := p.sources[L.src]
		switch {
		case len(src.projs) == 1 && len(src.maxes) == 0:
			if pr := p.projs[src.projs[0]]; pr.counted && pr.wins.one != nil {
				L.fuseProj = pr.index
			}
		case len(src.projs) == 0 && len(src.maxes) == 1:
			if mp := p.pools[src.maxes[0]]; mp.wins.one != nil {
				L.fuseMax = src.maxes[0]
			}
		}
	}
}

// nodeOrder lists the nodes worked on every step (layers, the readout,
// count-gated MaxPools) in network order.
func (p *plan) nodeOrder() {
	for k := range p.layers {
		p.order = append(p.order, node{i: k})
	}
	for m, mp := range p.pools {
		if !mp.direct {
			p.order = append(p.order, node{pool: true, i: m})
		}
	}
	netIndex := func(nd node) int {
		if nd.pool {
			return p.pools[nd.i].netIndex
		}
		return p.layers[nd.i].netIndex
	}
	slices.SortFunc(p.order, func(a, b node) int { return netIndex(a) - netIndex(b) })
}

// spikingPlan is the layerPlan of spiking layer i, without its inputs.
func spikingPlan(net *network.Network, shapes []network.Shape, i int, s *network.Spiking) (*layerPlan, error) {
	sh := shapes[i]
	lp := &layerPlan{name: s.Name(), netIndex: i, g: gridOf(sh), alpha: s.Alpha, hard: s.Reset == network.ResetHard}
	lp.n = lp.g.size()
	lp.theta = make([]float32, lp.n)
	lp.v0 = make([]float32, lp.n)
	for j := 0; j < lp.n; j++ {
		q := lp.g.internal(j)
		lp.theta[q] = s.ThresholdAt(sh, j)
		lp.v0[q] = s.InitialPotential(sh, j)
	}
	fan, err := net.FanOut(i)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	lp.fan = toInternal(lp.g, fan)
	return lp, nil
}

// addMaxPool adds the plan of MaxPool layer i.
func (p *plan) addMaxPool(i int, l *network.MaxPool2d, srcOf, layerOf map[int]int) error {
	net := p.net
	in := net.InputOf(i)
	sid, ok := srcOf[in]
	if !ok {
		return fmt.Errorf("event: layer %d (maxpool2d %q) reads layer %d, which is not a source", i, l.Name(), in)
	}
	src := p.sources[sid]
	mp := &maxPlan{name: l.Name(), netIndex: i, layer: l, in: sid, ing: src.g, g: gridOf(p.shapes[i]), charge: -1, direct: src.direct}
	mp.wins = poolWindows(l.Window(), src.g, mp.g)
	if in != network.InputNode {
		mp.charge = layerOf[in]
	}
	fan, err := net.FanOut(i)
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	mp.fan = toInternal(mp.g, fan)
	mp.src = len(p.sources)
	p.sources = append(p.sources, &sourcePlan{kind: srcMax, index: len(p.pools), net: i, g: mp.g, amp: src.amp, direct: mp.direct})
	if mp.direct {
		p.directPools = append(p.directPools, len(p.pools))
	} else {
		src.maxes = append(src.maxes, len(p.pools))
	}
	p.pools = append(p.pools, mp)
	return nil
}

// finishLayer sums the constant current of layer L (the biases of the
// weighted layers of its projections in their order, then the Add's bias)
// and sorts out its constant (direct-input) projections.
func (p *plan) finishLayer(L *layerPlan) error {
	net := p.net
	L.bias = make([]float32, L.n)
	L.constOnly = len(L.ins) > 0
	add := -1
	for _, pi := range L.ins {
		pr := p.projs[pi]
		if pr.add >= 0 {
			add = pr.add
		}
		if pr.direct {
			if !slices.Contains(L.delays, pr.delay) {
				L.delays = append(L.delays, pr.delay)
			}
			if pr.delay != 0 {
				L.constOnly = false
			}
		} else {
			L.constOnly = false
		}
		if pr.kind == fanConv && !pr.direct && !L.readout && pr.ow <= 64 && pr.pooled.w+pr.padW <= 64 {
			L.rowMarked = append(L.rowMarked, pi)
		}
		if pr.weighted < 0 {
			continue
		}
		wsh := p.shapes[pr.weighted]
		for j := 0; j < L.n; j++ {
			q := L.g.internal(j)
			L.bias[q] += biasAt(net.Layers[pr.weighted], wsh, j)
		}
	}
	slices.Sort(L.delays)
	if add >= 0 {
		a := net.Layers[add].(*network.Add)
		for j := 0; j < L.n; j++ {
			L.bias[L.g.internal(j)] += a.BiasAt(p.shapes[add], j)
		}
	}
	if !L.readout {
		L.invDrift = make([]float64, L.n)
		for q := range L.invDrift {
			L.invDrift[q] = invDrift(L.bias[q], L.theta[q])
		}
	}
	if len(L.ins) == 0 {
		return fmt.Errorf("event: layer %d (%q) has no input", L.netIndex, L.name)
	}
	return nil
}

// biasAt is the bias of output j (network order) of a weighted layer.
func biasAt(l network.Layer, sh network.Shape, j int) float32 {
	switch l := l.(type) {
	case *network.Conv2d:
		return l.Bias[j/(sh.Size()/sh[0])]
	case *network.Linear:
		return l.Bias[j]
	case *network.SparseLinear:
		return l.Bias[j]
	}
	return 0
}

// channelThetas is θ per channel of a spiking layer's grid.
func channelThetas(l *layerPlan) []float32 {
	th := make([]float32, l.g.c)
	copy(th, l.theta) // internal index c is (y=0, x=0, c)
	return th
}

// Crossing predictions (see doc.go). For IF neurons with constant current
// d > 0 starting from v, |v| ≤ 8θ, the float32 sequence v ← fl(v+d) stays
// below v + n(d+δ) with δ = 2^-22·(8θ+d), four times the largest rounding
// error of one step. invDrift is 1/(d+δ).
func invDrift(d, theta float32) float64 {
	if !(d > 0) {
		return 0
	}
	delta := math.Ldexp(8*float64(theta)+float64(d), -22)
	return 1 / (float64(d) + delta)
}
