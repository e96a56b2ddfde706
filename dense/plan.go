package dense

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// plan is a network compiled for simulation: shapes, transposed weights,
// per-neuron thresholds and initial potentials, pooling tables, fan-outs,
// delays and which node reads what. It is read-only while workers run.
type plan struct {
	inShape  network.Shape
	shapes   []network.Shape // output shape of each layer
	inShapes []network.Shape // (first) input shape of each layer
	nodes    []node          // one per layer
	spiking  []int           // indices of the spiking layers
	classes  int             // size of the readout (last layer's output)
	delays   []int           // per layer; nil for none
	poisson  bool
	// Poisson input: inputFan[i] is the SOP count of a spike of pixel i,
	// inputAmp the amplitude (1) of every pixel's spike; inputEvents says
	// a pool reads the list of pixels that spiked, inputCounts that a
	// count-gated MaxPool reads the pixels' spike counts.
	inputFan    []int32
	inputAmp    []float32
	inputEvents bool
	inputCounts bool
}

// node is one compiled layer.
type node struct {
	kind network.Kind
	// in lists the producers whose buffers the layer reads, in the order of
	// network.InputsOf, each resolved through Flatten layers (which only
	// rename a buffer): InputNode or a layer that is not a Flatten.
	in []int
	// konst: the output is the same at every step of an image (direct
	// input, no delay on the way from the input), so it is computed at
	// step 1 only.
	konst bool
	// sparse (AvgPool2d, GlobalAvgPool, MaxPool2d): the layer reads the
	// event list of its input, a spiking layer, MaxPool or Poisson input.
	sparse bool
	// dense (spiking layers and count-gated MaxPools): some layer reads
	// the output tensor (θ where a neuron fired, 0 elsewhere); otherwise
	// only the event list is kept.
	dense bool
	conv  *convOp
	lin   *linOp
	slin  *network.SparseLinear
	pool  *poolOp
	gap   *gapOp
	add   *addOp
	mp    *maxPoolOp // count-gated
	pmax  *plainMax  // on the direct input
	spk   *spikeOp
}

// spikeOp holds a spiking layer's per-neuron constants.
type spikeOp struct {
	k       int       // index among spiking layers
	uniform bool      // one threshold for the whole layer
	alpha   float32   // 1 for IF
	hard    bool      // hard reset
	thr     []float32 // θ per neuron (the amplitude of its spikes)
	v0      []float32 // v(0) per neuron
	fanOut  []int32   // SOPs per spike, per neuron
}

// owner is the layer whose buffer holds node j's output: j itself, or for
// a Flatten the owner of its input (possibly InputNode).
func owner(net *network.Network, j int) int {
	for j != network.InputNode && net.Layers[j].Kind() == network.KindFlatten {
		j = net.InputOf(j)
	}
	return j
}

func compile(net *network.Network, opts network.SimOptions) (*plan, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	L := len(net.Layers)
	p := &plan{inShape: net.Input, shapes: shapes, nodes: make([]node, L),
		poisson: opts.Encoding == network.EncodingPoisson}
	if opts.Delays != nil {
		if len(opts.Delays) != L {
			return nil, fmt.Errorf("%d delays for %d layers", len(opts.Delays), L)
		}
		p.delays = opts.Delays
	}
	// konstOf: the input is constant with direct encoding.
	konstOf := func(j int) bool {
		if j == network.InputNode {
			return !p.poisson
		}
		return p.nodes[j].konst
	}
	for i, l := range net.Layers {
		in := net.ShapeOf(shapes, net.InputOf(i))
		p.inShapes = append(p.inShapes, in)
		n := &p.nodes[i]
		n.kind = l.Kind()
		if p.delays != nil && p.delays[i] != 0 && network.RoleOf(l) != network.RoleWeighted {
			return nil, fmt.Errorf("delay %d on layer %d (%s %q): only weighted layers take delays", p.delays[i], i, n.kind, l.Name())
		}
		n.konst = true
		for _, j := range net.InputsOf(i) {
			n.in = append(n.in, owner(net, j))
			n.konst = n.konst && konstOf(j)
		}
		if p.delays != nil && p.delays[i] != 0 {
			n.konst = false
		}
		switch l := l.(type) {
		case *network.Conv2d:
			n.conv = newConvOp(l, in, shapes[i])
		case *network.Linear:
			n.lin = newLinOp(l)
		case *network.SparseLinear:
			n.slin = l
		case *network.AvgPool2d:
			n.pool = newPoolOp(l, in, shapes[i])
		case *network.GlobalAvgPool:
			n.gap = &gapOp{channels: in[0], plane: in.Size() / in[0]}
		case *network.Flatten:
		case *network.Add:
			n.add = &addOp{bias: l.Bias, plane: shapes[i].Size() / shapes[i][0]}
		case *network.MaxPool2d:
			if n.konst {
				n.pmax = &plainMax{win: l.Window(), in: in, oh: shapes[i][1], ow: shapes[i][2]}
			} else if n.mp, err = newMaxPoolOp(net, i, l, in, shapes[i]); err != nil {
				return nil, err
			}
		case *network.Spiking:
			n.konst = false
			if n.spk, err = newSpikeOp(net, i, l, shapes[i], len(p.spiking)); err != nil {
				return nil, err
			}
			p.spiking = append(p.spiking, i)
		case *network.ReLU:
			return nil, fmt.Errorf("layer %d (%q) is a ReLU: convert the ANN to an SNN first", i, l.Name())
		default:
			return nil, fmt.Errorf("layer %d (%q): unsupported layer type %T", i, l.Name(), l)
		}
	}
	if len(p.spiking) == 0 {
		return nil, fmt.Errorf("network has no spiking layer: convert the ANN to an SNN first")
	}
	p.markReaders()
	p.classes = shapes[L-1].Size()
	if p.poisson {
		if p.inputFan, err = net.FanOut(network.InputNode); err != nil {
			return nil, err
		}
		p.inputAmp = make([]float32, p.inShape.Size())
		for i := range p.inputAmp {
			p.inputAmp[i] = 1
		}
	}
	return p, nil
}

// isEventSource reports whether node j produces an event list the pools
// can read: a spiking layer, a count-gated MaxPool, the Poisson input.
func (p *plan) isEventSource(j int) bool {
	if j == network.InputNode {
		return p.poisson
	}
	n := &p.nodes[j]
	return n.spk != nil || n.mp != nil
}

// markReaders decides, for every reader of a spiking layer, MaxPool or
// Poisson input, whether it reads the event list (pools: they add up only
// the spikes) or the output tensor (everything else).
func (p *plan) markReaders() {
	for i := range p.nodes {
		n := &p.nodes[i]
		if n.kind == network.KindFlatten || n.konst {
			continue
		}
		for _, j := range n.in {
			switch {
			case !p.isEventSource(j):
			case n.kind == network.KindAvgPool2d || n.kind == network.KindGlobalAvgPool || n.kind == network.KindMaxPool2d:
				n.sparse = true
				if j == network.InputNode {
					p.inputEvents = true
					if n.kind == network.KindMaxPool2d {
						p.inputCounts = true
					}
				}
			case j != network.InputNode:
				p.nodes[j].dense = true
			}
		}
	}
}

func newSpikeOp(net *network.Network, i int, l *network.Spiking, sh network.Shape, k int) (*spikeOp, error) {
	fan, err := net.FanOut(i)
	if err != nil {
		return nil, fmt.Errorf("layer %d (spiking %q): %w", i, l.Name(), err)
	}
	s := &spikeOp{
		k:       k,
		uniform: len(l.Threshold) == 1,
		alpha:   l.Alpha,
		hard:    l.Reset == network.ResetHard,
		thr:     make([]float32, sh.Size()),
		v0:      make([]float32, sh.Size()),
		fanOut:  fan,
	}
	for j := range s.thr {
		s.thr[j] = l.ThresholdAt(sh, j)
		s.v0[j] = l.InitialPotential(sh, j)
	}
	return s, nil
}
