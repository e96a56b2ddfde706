package train

import (
	"github.com/evsnn/evsnn/network"
)

// exportGraph returns the network.Network of a training graph: every
// BatchNorm removed, its consumers reading the Conv2d or Linear before it,
// which gets weights and a bias of its own (zero until refresh fills in the
// folded values). The other layers are copies. A graph that is a chain
// comes back with Inputs == nil.
func exportGraph(g *network.Network) *network.Network {
	out := &network.Network{Input: g.Input.Clone(), Meta: g.Meta}
	index := make([]int, len(g.Layers)) // node of g → node of out
	for i, l := range g.Layers {
		ins := g.InputsOf(i)
		if _, ok := l.(*batchNorm); ok {
			index[i] = index[ins[0]]
			continue
		}
		var e network.Layer
		switch l := l.(type) {
		case *network.Conv2d:
			c := *l
			c.Weight = make([]float32, len(l.Weight))
			c.Bias = make([]float32, l.OutC)
			e = &c
		case *network.Linear:
			c := *l
			c.Weight = make([]float32, len(l.Weight))
			c.Bias = make([]float32, l.Out)
			e = &c
		case *network.AvgPool2d:
			c := *l
			e = &c
		case *network.MaxPool2d:
			c := *l
			e = &c
		case *network.GlobalAvgPool:
			c := *l
			e = &c
		case *network.ReLU:
			c := *l
			e = &c
		case *network.Flatten:
			c := *l
			e = &c
		case *network.Add:
			c := *l
			c.Bias = append([]float32(nil), l.Bias...)
			if l.Bias == nil {
				c.Bias = nil
			}
			e = &c
		default:
			e = l // newModel refuses it; Validate names it
		}
		inputs := make([]int, len(ins))
		for k, j := range ins {
			inputs[k] = j
			if j != network.InputNode {
				inputs[k] = index[j]
			}
		}
		out.Layers = append(out.Layers, e)
		out.Inputs = append(out.Inputs, inputs)
		index[i] = len(out.Layers) - 1
	}
	out.Compact()
	return out
}

// refresh writes the current weights into the exported network, each
// BatchNorm folded into the layer before it as SPEC §1 says, in float64:
// W' = W·s, b' = (b − mean)·s + β, s = γ/sqrt(var + ε), per output
// channel, with the running statistics. Without BatchNorms the exported
// network is the training graph itself and there is nothing to do.
func (m *model) refresh() {
	if m.out == m.g {
		return
	}
	cons := m.g.Consumers()
	k := 0
	for i, l := range m.g.Layers {
		if _, ok := l.(*batchNorm); ok {
			continue
		}
		e := m.out.Layers[k]
		k++
		var w, b, ew, eb []float32
		switch l := l.(type) {
		case *network.Conv2d:
			w, b, ew, eb = l.Weight, l.Bias, e.(*network.Conv2d).Weight, e.(*network.Conv2d).Bias
		case *network.Linear:
			w, b, ew, eb = l.Weight, l.Bias, e.(*network.Linear).Weight, e.(*network.Linear).Bias
		default:
			continue
		}
		if !m.biasFree[i] {
			copy(ew, w)
			copy(eb, b)
			continue
		}
		bn := m.g.Layers[cons[i][0]].(*batchNorm)
		per := len(w) / bn.C
		for c := range bn.C {
			s := bn.foldScale(c)
			for j, v := range w[c*per : (c+1)*per] {
				ew[c*per+j] = float32(float64(v) * s)
			}
			eb[c] = float32(float64((float64(b[c])-float64(bn.Mean[c]))*s) + float64(bn.Beta[c]))
		}
	}
}
