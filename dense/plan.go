package dense

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// plan is a network compiled for simulation: shapes, transposed weights,
// per-neuron thresholds and initial potentials, fan-outs and delays. It is
// read-only while workers run.
type plan struct {
	net      *network.Network
	inShape  network.Shape
	shapes   []network.Shape // output shape of each layer
	inShapes []network.Shape // input shape of each layer
	ops      []op            // one per layer
	spiking  []int           // indices of the spiking layers
	classes  int             // size of the readout (last layer's output)
	delays   []int           // per layer; nil for none
	// constUntil: layers [0, constUntil) produce the same output at every
	// step (direct input, no delays before the first spiking layer), so
	// they run once per batch.
	constUntil int
	// inputFan[i] is the SOP count of a spike of input pixel i (Poisson
	// input only).
	inputFan []int32
}

// op is one compiled layer.
type op struct {
	kind network.Kind
	conv *convOp
	lin  *linOp
	pool *poolOp
	spk  *spikeOp
}

// spikeOp holds a spiking layer's per-neuron constants.
type spikeOp struct {
	k     int // index among spiking layers
	layer int // index in the network
	// denseOut: the next layer reads the output tensor; otherwise (an
	// average pool) it reads the list of neurons that fired.
	denseOut bool
	uniform  bool      // one threshold for the whole layer
	alpha    float32   // 1 for IF
	hard     bool      // hard reset
	thr      []float32 // θ per neuron
	v0       []float32 // v(0) per neuron
	fanOut   []int32   // SOPs per spike, per neuron
}

func compile(net *network.Network, opts network.SimOptions) (*plan, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	p := &plan{net: net, inShape: net.Input, shapes: shapes, ops: make([]op, len(net.Layers))}
	if opts.Delays != nil {
		if len(opts.Delays) != len(net.Layers) {
			return nil, fmt.Errorf("%d delays for %d layers", len(opts.Delays), len(net.Layers))
		}
		p.delays = opts.Delays
	}
	in := net.Input
	for i, l := range net.Layers {
		p.inShapes = append(p.inShapes, in)
		o := &p.ops[i]
		o.kind = l.Kind()
		if p.delays != nil && p.delays[i] != 0 && o.kind != network.KindConv2d && o.kind != network.KindLinear {
			return nil, fmt.Errorf("delay %d on layer %d (%s %q): only weighted layers take delays", p.delays[i], i, o.kind, l.Name())
		}
		switch l := l.(type) {
		case *network.Conv2d:
			o.conv = newConvOp(l, in, shapes[i])
		case *network.Linear:
			o.lin = newLinOp(l)
		case *network.AvgPool2d:
			o.pool = newPoolOp(l, in, shapes[i])
			o.pool.fromSpikes = i > 0 && net.Layers[i-1].Kind() == network.KindSpiking
		case *network.Flatten:
		case *network.Spiking:
			if i == len(net.Layers)-1 {
				return nil, fmt.Errorf("layer %d (spiking %q) is the last layer: the network has no readout", i, l.Name())
			}
			fan, err := net.FanOut(i)
			if err != nil {
				return nil, fmt.Errorf("layer %d (spiking %q): %w", i, l.Name(), err)
			}
			sh := shapes[i]
			s := &spikeOp{
				k:        len(p.spiking),
				layer:    i,
				denseOut: net.Layers[i+1].Kind() != network.KindAvgPool2d,
				alpha:    l.Alpha,
				hard:     l.Reset == network.ResetHard,
				thr:      make([]float32, sh.Size()),
				v0:       make([]float32, sh.Size()),
				fanOut:   fan,
			}
			for j := range s.thr {
				s.thr[j] = l.ThresholdAt(sh, j)
				s.v0[j] = l.InitialPotential(sh, j)
			}
			s.uniform = len(l.Threshold) == 1
			o.spk = s
			p.spiking = append(p.spiking, i)
		case *network.ReLU:
			return nil, fmt.Errorf("layer %d (%q) is a ReLU: convert the ANN to an SNN first", i, l.Name())
		default:
			return nil, fmt.Errorf("layer %d (%q): unsupported layer type %T", i, l.Name(), l)
		}
		in = shapes[i]
	}
	if len(p.spiking) == 0 {
		return nil, fmt.Errorf("network has no spiking layer: convert the ANN to an SNN first")
	}
	p.classes = shapes[len(shapes)-1].Size()
	if opts.Encoding == network.EncodingPoisson {
		fan, err := net.FanOut(-1)
		if err != nil {
			return nil, err
		}
		p.inputFan = fan
	} else {
		p.constUntil = p.spiking[0]
		if p.delays != nil {
			for i := 0; i < p.spiking[0]; i++ {
				if p.delays[i] != 0 {
					p.constUntil = 0
				}
			}
		}
	}
	return p, nil
}
