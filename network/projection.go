package network

import (
	"fmt"
	"slices"
)

// A Projection is one linear path of the SNN (SPEC §2a): from a source —
// the input, a spiking (ReLU) layer or a MaxPool — through weight-free
// linear layers (AvgPool2d, GlobalAvgPool, Flatten) and at most one
// weighted layer (Conv2d, Linear) to a target: a spiking (ReLU) layer,
// directly or through an Add, or the readout. The input current of a
// spiking layer is the sum of the projections into it (plus the Add's
// bias); a spike of a source neuron is delivered along every projection
// out of it.
type Projection struct {
	// Source is InputNode, a ReLU/Spiking layer or a MaxPool2d.
	Source int
	// Path lists the layers after Source in order, up to and including
	// the weighted layer if there is one; it never holds the Add or the
	// target.
	Path []int
	// Weighted is the Conv2d or Linear on the path, or -1 for an identity
	// path (a shortcut into an Add, possibly through pools).
	Weighted int
	// Add is the Add the path enters, or -1.
	Add int
	// Target is the ReLU/Spiking layer the current reaches or, for the
	// readout's projection, the readout itself (then Weighted == Target).
	Target int
}

// IsSource reports whether layer i (or InputNode) emits spikes or events
// in the SNN: the input, a ReLU/Spiking layer, a MaxPool.
func (n *Network) IsSource(i int) bool {
	if i == InputNode {
		return true
	}
	r := RoleOf(n.Layers[i])
	return r == RoleNeuron || r == RoleMaxPool
}

// Projections returns every projection of a valid network (see
// Validate), ordered by target, then, into an Add, by the Add's input
// order, then by source.
func (n *Network) Projections() ([]Projection, error) {
	if err := n.checkEdges(); err != nil {
		return nil, err
	}
	cons := n.Consumers()
	consumersOf := func(j int) []int {
		if j == InputNode {
			return cons[len(n.Layers)]
		}
		return cons[j]
	}
	last := len(n.Layers) - 1
	var out []Projection
	var walk func(src int, path []int, at int) error
	walk = func(src int, path []int, at int) error {
		for _, c := range consumersOf(at) {
			l := n.Layers[c]
			switch RoleOf(l) {
			case RoleLinear:
				if err := walk(src, append(slices.Clone(path), c), c); err != nil {
					return err
				}
			case RoleWeighted:
				p := Projection{Source: src, Path: append(slices.Clone(path), c), Weighted: c, Add: -1, Target: c}
				if c != last {
					next := cons[c]
					if len(next) != 1 {
						return fmt.Errorf("%s: a Conv2d or Linear must feed exactly one ReLU or Add", n.nodeName(c))
					}
					switch RoleOf(n.Layers[next[0]]) {
					case RoleNeuron:
						p.Target = next[0]
					case RoleAdd:
						p.Add = next[0]
						p.Target = addTarget(cons, next[0])
					default:
						return fmt.Errorf("%s feeds %s: a Conv2d or Linear must feed a ReLU or an Add", n.nodeName(c), n.nodeName(next[0]))
					}
				}
				if p.Target < 0 {
					return fmt.Errorf("%s: the Add it feeds must feed one ReLU", n.nodeName(c))
				}
				out = append(out, p)
			case RoleAdd:
				p := Projection{Source: src, Path: slices.Clone(path), Weighted: -1, Add: c, Target: addTarget(cons, c)}
				if p.Target < 0 {
					return fmt.Errorf("%s must feed one ReLU", n.nodeName(c))
				}
				out = append(out, p)
			case RoleNeuron, RoleMaxPool:
				if len(path) > 0 || RoleOf(l) == RoleNeuron {
					return fmt.Errorf("%s reads %s: not a valid SNN placement", n.nodeName(c), n.nodeName(at))
				}
				// A MaxPool right after a source is a source of its own.
			default:
				return fmt.Errorf("%s: unsupported layer type %T", n.nodeName(c), l)
			}
		}
		return nil
	}
	sources := []int{InputNode}
	for i := range n.Layers {
		if n.IsSource(i) {
			sources = append(sources, i)
		}
	}
	for _, s := range sources {
		if err := walk(s, nil, s); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b Projection) int {
		if a.Target != b.Target {
			return a.Target - b.Target
		}
		return n.addSlot(a) - n.addSlot(b)
	})
	return out, nil
}

// addSlot is the position in its Add's input list where projection p
// enters (0 without an Add).
func (n *Network) addSlot(p Projection) int {
	if p.Add < 0 {
		return 0
	}
	entry := p.Source
	if len(p.Path) > 0 {
		entry = p.Path[len(p.Path)-1]
	}
	return slices.Index(n.InputsOf(p.Add), entry)
}

// addTarget is the ReLU an Add feeds, or -1.
func addTarget(cons [][]int, add int) int {
	if len(cons[add]) != 1 {
		return -1
	}
	return cons[add][0]
}

// FanOut returns, for every neuron of source i (InputNode, a spiking or
// ReLU layer, or a MaxPool), the number of synaptic targets one of its
// spikes (for a MaxPool: one of its output events) reaches along every
// projection out of it, with average pools folded in: a spike that enters k
// pooling windows counts the fan-out of each; a GlobalAvgPool passes every
// spike of a channel to its one output; an identity path into an Add counts
// one target per position it reaches. Spikes that go into a MaxPool are
// not counted here: the pool's events are (FanOut of the MaxPool). This is
// the SOP count of SPEC §6.
func (n *Network) FanOut(i int) ([]int32, error) {
	shapes, err := n.Shapes()
	if err != nil {
		return nil, err
	}
	projs, err := n.Projections()
	if err != nil {
		return nil, err
	}
	size := n.ShapeOf(shapes, i).Size()
	fan := make([]int32, size)
	found := false
	for _, p := range projs {
		if p.Source != i {
			continue
		}
		found = true
		perPos, err := n.pathFanOut(shapes, p)
		if err != nil {
			return nil, err
		}
		for j := range fan {
			fan[j] += perPos[j]
		}
	}
	if !found && !n.feedsMaxPool(i) {
		return nil, fmt.Errorf("fan-out: nothing reads %s", n.nodeName(i))
	}
	return fan, nil
}

// feedsMaxPool reports whether some MaxPool reads source i.
func (n *Network) feedsMaxPool(i int) bool {
	for j := range n.Layers {
		if RoleOf(n.Layers[j]) == RoleMaxPool && n.InputOf(j) == i {
			return true
		}
	}
	return false
}

// pathFanOut is the number of targets each position of p's source reaches
// along p.
func (n *Network) pathFanOut(shapes []Shape, p Projection) ([]int32, error) {
	in := n.ShapeOf(shapes, p.Source)
	// reach[j] lists the positions of the current tensor that source
	// position j reaches, with multiplicity.
	reach := make([][]int32, in.Size())
	for j := range reach {
		reach[j] = []int32{int32(j)}
	}
	cur := in
	for _, k := range p.Path {
		out := shapes[k]
		switch l := n.Layers[k].(type) {
		case *AvgPool2d:
			for j, ps := range reach {
				var next []int32
				for _, q := range ps {
					next = append(next, windowsOf(l.window(), cur, out, int(q))...)
				}
				reach[j] = next
			}
		case *GlobalAvgPool:
			plane := cur.Size() / cur[0]
			for j, ps := range reach {
				for m, q := range ps {
					ps[m] = q / int32(plane)
				}
				reach[j] = ps
			}
		case *Flatten:
		case *Conv2d, *Linear, *SparseLinear:
			perPos := weightedFanOut(l, cur, out)
			fan := make([]int32, len(reach))
			for j, ps := range reach {
				var s int32
				for _, q := range ps {
					s += perPos[q]
				}
				fan[j] = s
			}
			return fan, nil
		default:
			return nil, fmt.Errorf("fan-out: %s cannot be on a projection", n.nodeName(k))
		}
		cur = out
	}
	// An identity path: one target per position reached.
	fan := make([]int32, len(reach))
	for j, ps := range reach {
		fan[j] = int32(len(ps))
	}
	return fan, nil
}

// windowsOf lists the outputs of a pool of geometry w whose window
// contains input position q.
func windowsOf(w Window, in, out Shape, q int) []int32 {
	h, wd := in[1], in[2]
	c, y, x := q/(h*wd), q/wd%h, q%wd
	var t []int32
	for oy := 0; oy < out[1]; oy++ {
		if y0 := oy*w.StrideH - w.PadH; y < y0 || y >= y0+w.KH {
			continue
		}
		for ox := 0; ox < out[2]; ox++ {
			if x0 := ox*w.StrideW - w.PadW; x < x0 || x >= x0+w.KW {
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
	case *SparseLinear:
		for j := range fan {
			fan[j] = l.Ptr[j+1] - l.Ptr[j]
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

// NextWeighted returns, in a chain, the index of the first Conv2d or
// Linear layer after layer i with only weight-free linear layers
// (AvgPool2d, GlobalAvgPool, Flatten) between them, or -1 if there is
// none. Graph code uses Projections instead.
func (n *Network) NextWeighted(i int) int {
	for j := i + 1; j < len(n.Layers); j++ {
		switch RoleOf(n.Layers[j]) {
		case RoleWeighted:
			return j
		case RoleLinear:
		default:
			return -1
		}
	}
	return -1
}
