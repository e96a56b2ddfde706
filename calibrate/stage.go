package calibrate

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// srcKind is what a projection reads (SPEC §2a).
type srcKind int

const (
	// srcInput: the analog input (direct encoding), the same every step.
	srcInput srcKind = iota
	// srcPoolInput: a MaxPool on the analog input, the plain max, also
	// constant.
	srcPoolInput
	// srcSpiking: a spiking layer's spikes, amplitude θ of their channel.
	srcSpiking
	// srcPoolSpiking: the events of a count-gated MaxPool after a spiking
	// layer, amplitude θ of the window's channel.
	srcPoolSpiking
)

func (k srcKind) constant() bool { return k == srcInput || k == srcPoolInput }

// proj is one projection into a spiking layer (network.Projection): a
// source, the weight-free layers after it and at most one weighted layer.
type proj struct {
	source   int // network.InputNode, a spiking layer or a MaxPool2d
	kind     srcKind
	spiking  int           // the spiking layer behind the source (the source or the layer its MaxPool reads), -1 for the input
	path     []int         // AvgPool2d, GlobalAvgPool, Flatten layers after the source
	weighted int           // Conv2d or Linear, or -1 for an identity path into an Add
	srcShape network.Shape // output shape of the source
	inShape  network.Shape // output shape of the path: the weighted layer's input, or what an identity path adds
}

// stage is one spiking layer of the network and every projection that
// drives it: its input current is the sum of the projections' outputs,
// the biases of their weighted layers and, after an Add, the Add's bias.
type stage struct {
	index    int // the spiking (or, in the ANN, ReLU) layer
	add      int // the Add in front of it, or -1
	projs    []proj
	shape    network.Shape // output shape of the spiking layer
	n        int           // neurons
	channels int           // thresholds/biases: shape[0]
	perCh    int           // neurons per channel
}

// constant reports whether every projection into the stage reads the
// analog input: then its drive is the same at every step.
func (st *stage) constant() bool {
	for _, p := range st.projs {
		if !p.kind.constant() {
			return false
		}
	}
	return true
}

// weighted lists the stage's weighted layers, in projection order.
func (st *stage) weighted() []int {
	var w []int
	for _, p := range st.projs {
		if p.weighted >= 0 {
			w = append(w, p.weighted)
		}
	}
	return w
}

// plan is the network seen as calibration stages: every spiking layer in
// topological order with its projections, and the readout's projections.
type plan struct {
	stages  []stage
	readout []proj
	stageOf map[int]int // spiking layer index → stage number
}

// planStages finds the spiking layers of net (an ANN: its ReLUs) and the
// projections into each of them (network.Projections).
func planStages(net *network.Network) (*plan, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	projs, err := net.Projections()
	if err != nil {
		return nil, err
	}
	pl := &plan{stageOf: map[int]int{}}
	for _, i := range net.SpikingLayers() {
		sh := shapes[i]
		pl.stageOf[i] = len(pl.stages)
		pl.stages = append(pl.stages, stage{index: i, add: -1, shape: sh, n: sh.Size(), channels: sh[0], perCh: sh.Size() / sh[0]})
	}
	if len(pl.stages) == 0 {
		return nil, fmt.Errorf("the network has no ReLU or spiking layer to calibrate")
	}
	last := len(net.Layers) - 1
	for _, p := range projs {
		q := proj{source: p.Source, weighted: p.Weighted, spiking: -1, srcShape: net.ShapeOf(shapes, p.Source)}
		q.path = p.Path
		if p.Weighted >= 0 {
			q.path = p.Path[:len(p.Path)-1]
		}
		q.inShape = q.srcShape
		if len(q.path) > 0 {
			q.inShape = shapes[q.path[len(q.path)-1]]
		}
		switch {
		case p.Source == network.InputNode:
			q.kind = srcInput
		case network.RoleOf(net.Layers[p.Source]) == network.RoleMaxPool:
			q.spiking = net.InputOf(p.Source)
			q.kind = srcPoolSpiking
			if q.spiking == network.InputNode {
				q.kind, q.spiking = srcPoolInput, -1
			}
		default:
			q.kind, q.spiking = srcSpiking, p.Source
		}
		if p.Target == last {
			pl.readout = append(pl.readout, q)
			continue
		}
		k, ok := pl.stageOf[p.Target]
		if !ok {
			return nil, fmt.Errorf("layer %d (%q): a projection reaches it, but it is not a spiking layer", p.Target, net.Layers[p.Target].Name())
		}
		st := &pl.stages[k]
		st.projs = append(st.projs, q)
		st.add = p.Add
	}
	for k := range pl.stages {
		st := &pl.stages[k]
		if len(st.projs) == 0 || len(st.weighted()) == 0 && st.add < 0 {
			return nil, fmt.Errorf("layer %d (%q): no conv2d, linear or add feeds it", st.index, net.Layers[st.index].Name())
		}
	}
	return pl, nil
}

// sourceLife returns, for every spiking layer, the last stage whose drive
// reads its spikes (directly or through a MaxPool); the readout counts as
// stage len(stages).
func (pl *plan) sourceLife() map[int]int {
	life := map[int]int{}
	for k, st := range pl.stages {
		for _, p := range st.projs {
			if p.spiking >= 0 {
				life[p.spiking] = k
			}
		}
	}
	for _, p := range pl.readout {
		if p.spiking >= 0 {
			life[p.spiking] = len(pl.stages)
		}
	}
	return life
}

// biasOf returns a weighted layer's bias slice (shared, not copied).
func biasOf(l network.Layer) []float32 {
	switch l := l.(type) {
	case *network.Conv2d:
		return l.Bias
	case *network.Linear:
		return l.Bias
	}
	return nil
}

// fixedBias is the part of stage st's bias that calibration does not
// move when an Add feeds the layer: the sum of the biases of the weighted
// layers on its branches, per channel. Without an Add it is nil.
func fixedBias(net *network.Network, st *stage) []float32 {
	if st.add < 0 {
		return nil
	}
	b := make([]float32, st.channels)
	for _, w := range st.weighted() {
		for c, v := range biasOf(net.Layers[w]) {
			b[c] += v
		}
	}
	return b
}

// stageBias is the bias of stage st's input current, per channel: the
// weighted layer's bias or, after an Add, the branches' biases plus the
// Add's.
func stageBias(net *network.Network, st *stage) []float32 {
	if st.add < 0 {
		return append([]float32(nil), biasOf(net.Layers[st.weighted()[0]])...)
	}
	b := fixedBias(net, st)
	if a := net.Layers[st.add].(*network.Add); a.Bias != nil {
		for c, v := range a.Bias {
			b[c] += v
		}
	}
	return b
}

// setStageBias writes a stage's bias back into the network: into the
// weighted layer's bias or, after an Add, into the Add's bias (the
// branches keep theirs), as SPEC §4 puts a correction after an Add.
func setStageBias(net *network.Network, st *stage, bias []float32) {
	if st.add < 0 {
		copy(biasOf(net.Layers[st.weighted()[0]]), bias)
		return
	}
	fixed := fixedBias(net, st)
	a := net.Layers[st.add].(*network.Add)
	var nonzero bool
	delta := make([]float32, st.channels)
	for c := range delta {
		delta[c] = bias[c] - fixed[c]
		nonzero = nonzero || delta[c] != 0
	}
	if a.Bias != nil || nonzero {
		a.Bias = delta
	}
}
