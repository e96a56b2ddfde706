package train

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// model is a network prepared for training: all weights and biases live in
// one flat slice (the layers' Weight and Bias slices point into it), so the
// optimiser and the gradient reduction are loops over one vector.
type model struct {
	net     *network.Network
	ins     []network.Shape // per-sample input shape of each layer
	outs    []network.Shape // per-sample output shape of each layer
	params  []float32
	ranges  []paramRange // per layer; zero-length for parameter-free layers
	needDX  []bool       // whether layer i must pass a gradient to its input
	classes int
	inSize  int
	maxAct  int // largest per-sample activation (input included)
	maxCols int // largest im2col matrix of one sample
}

type paramRange struct{ w, wn, b, bn int }

func newModel(net *network.Network) (*model, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if _, err := Describe(net); err != nil {
		return nil, err
	}
	if net.IsSNN() {
		return nil, fmt.Errorf("cannot train a spiking network")
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	last, ok := net.Layers[len(net.Layers)-1].(*network.Linear)
	if !ok {
		return nil, fmt.Errorf("the last layer must be linear (the readout)")
	}
	m := &model{net: net, outs: shapes, classes: last.Out, inSize: net.Input.Size(), maxAct: net.Input.Size()}
	total := 0
	in := net.Input
	seenParams := false
	for i, l := range net.Layers {
		m.ins = append(m.ins, in)
		m.maxAct = max(m.maxAct, shapes[i].Size())
		var r paramRange
		switch l := l.(type) {
		case *network.Conv2d:
			r = paramRange{w: total, wn: len(l.Weight), b: total + len(l.Weight), bn: len(l.Bias)}
			m.maxCols = max(m.maxCols, l.InC*l.KH*l.KW*shapes[i][1]*shapes[i][2])
		case *network.Linear:
			r = paramRange{w: total, wn: len(l.Weight), b: total + len(l.Weight), bn: len(l.Bias)}
		}
		m.needDX = append(m.needDX, seenParams)
		if r.wn > 0 {
			seenParams = true
		}
		total += r.wn + r.bn
		m.ranges = append(m.ranges, r)
		in = shapes[i]
	}
	m.params = make([]float32, total)
	for i, l := range net.Layers {
		w, b := m.slices(m.params, i)
		switch l := l.(type) {
		case *network.Conv2d:
			copy(w, l.Weight)
			copy(b, l.Bias)
			l.Weight, l.Bias = w, b
		case *network.Linear:
			copy(w, l.Weight)
			copy(b, l.Bias)
			l.Weight, l.Bias = w, b
		}
	}
	return m, nil
}

// slices returns layer i's weight and bias parts of a parameter-shaped
// vector (parameters or gradients).
func (m *model) slices(v []float32, i int) (w, b []float32) {
	r := m.ranges[i]
	return v[r.w : r.w+r.wn : r.w+r.wn], v[r.b : r.b+r.bn : r.b+r.bn]
}

// scratch is one worker's memory for a shard of up to n samples.
type scratch struct {
	n       int
	x       []float32 // gathered input
	labels  []int
	acts    [][]float32 // owned output buffers (nil for flatten)
	outs    [][]float32 // outputs of the last forward pass
	g       [3][]float32
	cols    []float32
	dcols   []float32
	predict []int
}

func (m *model) newScratch(n int) *scratch {
	s := &scratch{n: n, x: make([]float32, n*m.inSize), labels: make([]int, n)}
	for i, l := range m.net.Layers {
		if _, flat := l.(*network.Flatten); flat {
			s.acts = append(s.acts, nil)
			continue
		}
		s.acts = append(s.acts, make([]float32, n*m.outs[i].Size()))
	}
	s.outs = make([][]float32, len(m.net.Layers))
	s.g[0] = make([]float32, n*m.classes)
	s.g[1] = make([]float32, n*m.maxAct)
	s.g[2] = make([]float32, n*m.maxAct)
	s.cols = make([]float32, m.maxCols)
	s.dcols = make([]float32, m.maxCols)
	return s
}

// forward runs the network on the first n samples of s.x and returns the
// logits (n × classes); every layer's output stays in s.outs.
func (m *model) forward(s *scratch, n int) []float32 {
	in := s.x[:n*m.inSize]
	for i, l := range m.net.Layers {
		var out []float32
		if s.acts[i] != nil {
			out = s.acts[i][:n*m.outs[i].Size()]
		}
		switch l := l.(type) {
		case *network.Conv2d:
			convForward(l, out, in, m.ins[i], n, s.cols)
		case *network.AvgPool2d:
			l.Forward(out, in, m.ins[i], n)
		case *network.Linear:
			linearForward(l, out, in, n)
		case *network.ReLU:
			for j, v := range in {
				out[j] = max(v, 0)
			}
		case *network.Flatten:
			out = in
		default:
			panic(fmt.Sprintf("train: unsupported layer %T", l))
		}
		s.outs[i] = out
		in = out
	}
	return in
}

// backward propagates dlogits (in s.g[0]) back through the network after a
// forward pass on n samples, adding every parameter gradient into grad.
func (m *model) backward(s *scratch, n int, grad []float32) {
	cur := 0
	for i := len(m.net.Layers) - 1; i >= 0; i-- {
		g := s.g[cur][:n*m.outs[i].Size()]
		in := s.x[:n*m.inSize]
		if i > 0 {
			in = s.outs[i-1]
		}
		next := 1
		if cur == 1 {
			next = 2
		}
		var dx []float32
		if m.needDX[i] {
			dx = s.g[next][:n*m.ins[i].Size()]
		}
		switch l := m.net.Layers[i].(type) {
		case *network.Conv2d:
			dw, db := m.slices(grad, i)
			ConvBackward(l, in, g, m.ins[i], n, dw, db, dx, s.cols, s.dcols)
		case *network.Linear:
			dw, db := m.slices(grad, i)
			LinearBackward(l, in, g, n, dw, db, dx)
		case *network.AvgPool2d:
			if dx != nil {
				AvgPoolBackward(l, dx, g, m.ins[i], n)
			}
		case *network.ReLU:
			ReLUBackward(g, s.outs[i])
			next = cur
		case *network.Flatten:
			next = cur
		}
		if !m.needDX[i] {
			return
		}
		cur = next
	}
}
