package network

import "fmt"

// NextWeighted returns the index of the first Conv2d or Linear layer after
// layer i, and the linear, weight-free layers (AvgPool2d, Flatten) between
// them. It returns -1 if there is none.
func (n *Network) NextWeighted(i int) int {
	for j := i + 1; j < len(n.Layers); j++ {
		switch n.Layers[j].Kind() {
		case KindConv2d, KindLinear:
			return j
		case KindAvgPool2d, KindFlatten:
		default:
			return -1
		}
	}
	return -1
}

// FanOut returns, for every neuron of layer i (a spiking layer, or the
// input when i = -1), the number of synaptic targets one of its spikes
// reaches in the next weighted layer, with average pools folded in: a spike
// that enters k pooling windows counts the fan-out of each. This is the
// SOP count of SPEC §6: both engines add FanOut[j] per spike of neuron j.
func (n *Network) FanOut(i int) ([]int32, error) {
	shapes, err := n.Shapes()
	if err != nil {
		return nil, err
	}
	in := n.Input
	if i >= 0 {
		in = shapes[i]
	}
	w := n.NextWeighted(i)
	if w < 0 {
		return nil, fmt.Errorf("fan-out: no weighted layer follows layer %d", i)
	}
	// targets[j] lists, for each position of the current tensor, the
	// positions it feeds in the next tensor with multiplicity; we only need
	// counts, so carry a per-position multiplicity map to the weighted layer.
	cur := in
	// mult[j] = list of (position in cur) reached by source neuron j; start
	// with identity.
	reach := make([][]int32, in.Size())
	for j := range reach {
		reach[j] = []int32{int32(j)}
	}
	for k := i + 1; k < w; k++ {
		switch l := n.Layers[k].(type) {
		case *AvgPool2d:
			out := shapes[k]
			for j, ps := range reach {
				var next []int32
				for _, p := range ps {
					next = append(next, poolTargets(l, cur, out, int(p))...)
				}
				reach[j] = next
			}
			cur = out
		case *Flatten:
			cur = shapes[k]
		}
	}
	perPos := weightedFanOut(n.Layers[w], cur, shapes[w])
	fan := make([]int32, len(reach))
	for j, ps := range reach {
		var s int32
		for _, p := range ps {
			s += perPos[p]
		}
		fan[j] = s
	}
	return fan, nil
}

// poolTargets lists the pool outputs whose window contains input position p.
func poolTargets(l *AvgPool2d, in, out Shape, p int) []int32 {
	h, w := in[1], in[2]
	c, y, x := p/(h*w), p/w%h, p%w
	var t []int32
	for oy := 0; oy < out[1]; oy++ {
		if y < oy*l.StrideH || y >= oy*l.StrideH+l.KH {
			continue
		}
		for ox := 0; ox < out[2]; ox++ {
			if x < ox*l.StrideW || x >= ox*l.StrideW+l.KW {
				continue
			}
			t = append(t, int32((c*out[1]+oy)*out[2]+ox))
		}
	}
	return t
}

// weightedFanOut is the number of outputs of a Conv2d or Linear layer that
// each input position feeds.
func weightedFanOut(l Layer, in, out Shape) []int32 {
	fan := make([]int32, in.Size())
	switch l := l.(type) {
	case *Linear:
		for j := range fan {
			fan[j] = int32(l.Out)
		}
	case *Conv2d:
		h, w := in[1], in[2]
		rows := convTaps(h, out[1], l.KH, l.StrideH, l.PadH)
		cols := convTaps(w, out[2], l.KW, l.StrideW, l.PadW)
		for j := range fan {
			y, x := j/w%h, j%w
			fan[j] = int32(l.OutC * rows[y] * cols[x])
		}
	}
	return fan
}

// convTaps[y] is the number of output rows that input row y feeds.
func convTaps(size, outSize, k, stride, pad int) []int {
	taps := make([]int, size)
	for o := 0; o < outSize; o++ {
		for d := 0; d < k; d++ {
			if y := o*stride - pad + d; y >= 0 && y < size {
				taps[y]++
			}
		}
	}
	return taps
}
