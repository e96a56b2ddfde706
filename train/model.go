package train

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// model is a training graph prepared for training: all trained values
// (weights, biases, BatchNorm γ and β) live in one flat slice (the layers'
// slices point into it), so the optimiser and the gradient reduction are
// loops over one vector; the BatchNorm running statistics live in another
// (buffers).
type model struct {
	g      *network.Network // the training graph: network layers and *batchNorm nodes
	out    *network.Network // the exported network: g itself when g has no BatchNorm
	arch   *Architecture    // what g was built from; nil when unknown (Evaluate)
	inputs [][]int          // producers of each node
	ins    []network.Shape  // per-sample shape of each node's (first) input
	outs   []network.Shape  // per-sample output shape of each node
	params []float32
	// buffers holds the BatchNorm running means and variances, node by
	// node, means before variances.
	buffers  []float32
	ranges   []paramRange // per node; zero-length for parameter-free nodes
	biasFree []bool       // Conv2d/Linear before a BatchNorm: no bias parameter
	// needGrad[i]: the gradient of node i's output is needed (node i or a
	// node before it has parameters).
	needGrad []bool
	bns      []int // the BatchNorm nodes, in order
	classes  int
	inSize   int
	maxAct   int // largest per-sample activation (input included)
	maxCols  int // largest im2col matrix of one sample
	maxC     int // most channels of a BatchNorm
	maxBias  int // most outputs of a bias-free layer
}

// paramRange locates a node's parameters: weight (or γ) and bias (or β).
type paramRange struct{ w, wn, b, bn int }

// newModel prepares a training graph. arch, if not nil, is what g was
// built from (checkpoints store it).
func newModel(g *network.Network, arch *Architecture) (*model, error) {
	if g.IsSNN() {
		return nil, fmt.Errorf("cannot train a spiking network")
	}
	shapes, err := g.Shapes()
	if err != nil {
		return nil, err
	}
	last, ok := g.Layers[len(g.Layers)-1].(*network.Linear)
	if !ok {
		return nil, fmt.Errorf("the last layer must be linear (the readout)")
	}
	m := &model{g: g, arch: arch, outs: shapes, classes: last.Out, inSize: g.Input.Size(), maxAct: g.Input.Size()}
	cons := g.Consumers()
	total := 0
	nbuf := 0
	for i, l := range g.Layers {
		m.inputs = append(m.inputs, g.InputsOf(i))
		in := g.ShapeOf(shapes, m.inputs[i][0])
		m.ins = append(m.ins, in)
		m.maxAct = max(m.maxAct, shapes[i].Size())
		free := biasFree(g, cons, i)
		m.biasFree = append(m.biasFree, free)
		var r paramRange
		switch l := l.(type) {
		case *network.Conv2d:
			r = paramRange{w: total, wn: len(l.Weight), b: total + len(l.Weight), bn: len(l.Bias)}
			m.maxCols = max(m.maxCols, l.InC*l.KH*l.KW*shapes[i][1]*shapes[i][2])
		case *network.Linear:
			r = paramRange{w: total, wn: len(l.Weight), b: total + len(l.Weight), bn: len(l.Bias)}
		case *batchNorm:
			r = paramRange{w: total, wn: l.C, b: total + l.C, bn: l.C}
			m.bns = append(m.bns, i)
			m.maxC = max(m.maxC, l.C)
			nbuf += 2 * l.C
		case *network.AvgPool2d:
			if l.PadH != 0 || l.PadW != 0 {
				return nil, fmt.Errorf("layer %d (avgpool2d %q): training does not support a padded average pool", i, l.Name())
			}
		case *network.Add:
			if l.Bias != nil {
				return nil, fmt.Errorf("layer %d (add %q): training does not support an Add with a bias", i, l.Name())
			}
		case *network.MaxPool2d, *network.GlobalAvgPool, *network.ReLU, *network.Flatten:
		default:
			return nil, fmt.Errorf("layer %d (%s %q): training does not support this layer type", i, l.Kind(), l.Name())
		}
		if free {
			m.maxBias = max(m.maxBias, r.bn)
			r.bn = 0
		}
		total += r.wn + r.bn
		m.ranges = append(m.ranges, r)
		grad := r.wn > 0
		for _, j := range m.inputs[i] {
			grad = grad || j != network.InputNode && m.needGrad[j]
		}
		m.needGrad = append(m.needGrad, grad)
	}
	m.params = make([]float32, total)
	m.buffers = make([]float32, nbuf)
	nbuf = 0
	for i, l := range g.Layers {
		w, b := m.slices(m.params, i)
		switch l := l.(type) {
		case *network.Conv2d:
			copy(w, l.Weight)
			l.Weight = w
			if !m.biasFree[i] {
				copy(b, l.Bias)
				l.Bias = b
			}
		case *network.Linear:
			copy(w, l.Weight)
			l.Weight = w
			if !m.biasFree[i] {
				copy(b, l.Bias)
				l.Bias = b
			}
		case *batchNorm:
			copy(w, l.Gamma)
			copy(b, l.Beta)
			l.Gamma, l.Beta = w, b
			mean := m.buffers[nbuf : nbuf+l.C : nbuf+l.C]
			vr := m.buffers[nbuf+l.C : nbuf+2*l.C : nbuf+2*l.C]
			copy(mean, l.Mean)
			copy(vr, l.Var)
			l.Mean, l.Var = mean, vr
			nbuf += 2 * l.C
		}
	}
	if len(m.bns) == 0 {
		m.out = g
	} else {
		m.out = exportGraph(g)
		m.refresh()
	}
	if err := m.out.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// slices returns node i's weight and bias parts of a parameter-shaped
// vector (parameters or gradients).
func (m *model) slices(v []float32, i int) (w, b []float32) {
	r := m.ranges[i]
	return v[r.w : r.w+r.wn : r.w+r.wn], v[r.b : r.b+r.bn : r.b+r.bn]
}

// scratch is the memory for a shard of up to n samples.
type scratch struct {
	n      int
	x      []float32 // gathered input
	labels []int
	acts   [][]float32 // owned output buffers (nil for flatten)
	outs   [][]float32 // outputs of the last forward pass
	// grads[i] is the gradient of node i's output (training scratch only;
	// nil where it is not needed); has[i] says whether a consumer has
	// written it yet in this backward pass.
	grads [][]float32
	has   []bool
	tmp   []float32 // a second gradient, added into a node with several consumers
	cols  []float32
	dcols []float32
	dbias []float32 // the unused bias gradient of bias-free layers
	// stats holds this shard's per-channel BatchNorm sums.
	stats   []float64
	predict []int
}

func (m *model) newScratch(n int, training bool) *scratch {
	s := &scratch{n: n, x: make([]float32, n*m.inSize), labels: make([]int, n)}
	for i, l := range m.g.Layers {
		if _, flat := l.(*network.Flatten); flat {
			s.acts = append(s.acts, nil)
			continue
		}
		s.acts = append(s.acts, make([]float32, n*m.outs[i].Size()))
	}
	s.outs = make([][]float32, len(m.g.Layers))
	s.grads = make([][]float32, len(m.g.Layers))
	if training {
		for i := range m.g.Layers {
			if m.needGrad[i] {
				s.grads[i] = make([]float32, n*m.outs[i].Size())
			}
		}
		s.has = make([]bool, len(m.g.Layers))
		s.tmp = make([]float32, n*m.maxAct)
		s.dcols = make([]float32, m.maxCols)
		s.dbias = make([]float32, m.maxBias)
		s.stats = make([]float64, 2*m.maxC)
	} else {
		s.grads[len(s.grads)-1] = make([]float32, n*m.classes) // SoftmaxCrossEntropy writes it
	}
	s.cols = make([]float32, m.maxCols)
	return s
}

// input is the output of node i's k-th producer in the last forward pass.
func (m *model) input(s *scratch, i, k, n int) []float32 {
	if j := m.inputs[i][k]; j != network.InputNode {
		return s.outs[j]
	}
	return s.x[:n*m.inSize]
}

// forward runs the network in eval mode on the first n samples of s.x and
// returns the logits (n × classes); every node's output stays in s.outs.
func (m *model) forward(s *scratch, n int) []float32 {
	m.forwardRange(s, n, 0, len(m.g.Layers), false)
	return s.outs[len(m.g.Layers)-1]
}

// forwardRange runs nodes lo..hi-1. A BatchNorm inside the range runs in
// eval mode; in training mode the stepper runs BatchNorms itself (a range
// then never contains one).
func (m *model) forwardRange(s *scratch, n, lo, hi int, training bool) {
	for i := lo; i < hi; i++ {
		in := m.input(s, i, 0, n)
		var out []float32
		if s.acts[i] != nil {
			out = s.acts[i][:n*m.outs[i].Size()]
		}
		switch l := m.g.Layers[i].(type) {
		case *network.Conv2d:
			convForward(l, out, in, m.ins[i], n, s.cols)
		case *network.AvgPool2d:
			l.Forward(out, in, m.ins[i], n)
		case *network.MaxPool2d:
			l.Forward(out, in, m.ins[i], n)
		case *network.GlobalAvgPool:
			l.Forward(out, in, m.ins[i], n)
		case *network.Linear:
			linearForward(l, out, in, n)
		case *network.ReLU:
			for j, v := range in {
				out[j] = max(v, 0)
			}
		case *network.Flatten:
			out = in
		case *network.Add:
			copy(out, in)
			for k := 1; k < len(m.inputs[i]); k++ {
				for j, v := range m.input(s, i, k, n)[:len(out)] {
					out[j] += v
				}
			}
		case *batchNorm:
			if training {
				panic("train: a training-mode BatchNorm inside a forward range")
			}
			l.evalForward(out, in, n, m.plane(i))
		default:
			panic(fmt.Sprintf("train: unsupported layer %T", l))
		}
		s.outs[i] = out
	}
}

// plane is the number of values per channel of node i's output.
func (m *model) plane(i int) int {
	sh := m.outs[i]
	return sh.Size() / sh[0]
}

// dxFor returns where node i writes the gradient for its k-th input: the
// producer's gradient buffer if no other consumer has written it yet,
// else s.tmp (acc true: add it with dxAdd); nil if the producer needs no
// gradient.
func (m *model) dxFor(s *scratch, i, k, n int) (dx []float32, acc bool) {
	j := m.inputs[i][k]
	if j == network.InputNode || !m.needGrad[j] {
		return nil, false
	}
	size := n * m.outs[j].Size()
	if !s.has[j] {
		return s.grads[j][:size], false
	}
	return s.tmp[:size], true
}

// dxDone records that node i wrote its k-th input's gradient.
func (m *model) dxDone(s *scratch, i, k int, dx []float32, acc bool) {
	if dx == nil {
		return
	}
	j := m.inputs[i][k]
	if acc {
		g := s.grads[j][:len(dx)]
		for x, v := range dx {
			g[x] += v
		}
	}
	s.has[j] = true
}

// backwardRange propagates gradients through nodes hi-1 down to lo, after
// a forward pass on n samples: the gradient of each node's output is in
// s.grads (complete once all its consumers, which come after it, are
// done). Parameter gradients are added into grad. BatchNorms are the
// stepper's (a range never contains one).
func (m *model) backwardRange(s *scratch, n, hi, lo int, grad []float32) {
	for i := hi - 1; i >= lo; i-- {
		if !m.needGrad[i] {
			continue
		}
		g := s.grads[i][:n*m.outs[i].Size()]
		in := m.input(s, i, 0, n)
		dx, acc := m.dxFor(s, i, 0, n)
		switch l := m.g.Layers[i].(type) {
		case *network.Conv2d:
			dw, db := m.slices(grad, i)
			if m.biasFree[i] {
				db = s.dbias[:l.OutC]
			}
			ConvBackward(l, in, g, m.ins[i], n, dw, db, dx, s.cols, s.dcols)
		case *network.Linear:
			dw, db := m.slices(grad, i)
			if m.biasFree[i] {
				db = s.dbias[:l.Out]
			}
			LinearBackward(l, in, g, n, dw, db, dx)
		case *network.AvgPool2d:
			if dx != nil {
				AvgPoolBackward(l, dx, g, m.ins[i], n)
			}
		case *network.MaxPool2d:
			if dx != nil {
				MaxPoolBackward(l, dx, g, in, m.ins[i], n)
			}
		case *network.GlobalAvgPool:
			if dx != nil {
				GlobalAvgPoolBackward(dx, g, m.ins[i], n)
			}
		case *network.ReLU:
			if dx != nil {
				reluBackward(dx, g, s.outs[i])
			}
		case *network.Flatten:
			copy(dx, g)
		case *network.Add:
			copy(dx, g)
			m.dxDone(s, i, 0, dx, acc)
			for k := 1; k < len(m.inputs[i]); k++ {
				d, a := m.dxFor(s, i, k, n)
				copy(d, g)
				m.dxDone(s, i, k, d, a)
			}
			continue
		default:
			panic(fmt.Sprintf("train: backward through %T", l))
		}
		m.dxDone(s, i, 0, dx, acc)
	}
}

// bnInput is the input of BatchNorm node i (its Conv2d or Linear's output).
func (m *model) bnInput(s *scratch, i, n int) []float32 {
	return m.input(s, i, 0, n)[:n*m.ins[i].Size()]
}

// prepareEval readies every BatchNorm for eval-mode forward passes.
func (m *model) prepareEval() {
	for _, i := range m.bns {
		m.g.Layers[i].(*batchNorm).prepareEval()
	}
}

// checkBatches refuses batch sizes that leave a BatchNorm with one value
// per channel (a BatchNorm1d on a batch of one sample), whose variance is
// undefined; PyTorch refuses them too.
func (m *model) checkBatches(n, bs int) error {
	for _, i := range m.bns {
		if m.plane(i) > 1 {
			continue
		}
		if bs == 1 || n%bs == 1 {
			return fmt.Errorf("layer %d (batchnorm %q) would normalise a batch of 1 sample: use another batch size (the last batch of %d samples in batches of %d has %d)",
				i, m.g.Layers[i].Name(), n, bs, (n-1)%bs+1)
		}
	}
	return nil
}
