package profile

import (
	"slices"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// outCost is what the spikes of one source cost a clock-driven simulation:
// the layers they feed and the ANN's MACs on those synapses, per image and
// pass.
type outCost struct {
	targets []string
	macs    int64
}

func (c *outCost) target() string { return strings.Join(c.targets, ", ") }

// projectionCosts charges every projection of net (network.Projections) to
// the spiking layer whose spikes it carries: its source, or for a
// projection out of a MaxPool, the layer the pool reads (the pool's events
// are that layer's spikes, as the SOP counts charge them). A projection
// with a Conv2d or Linear costs that layer's MACs on its input; an identity
// path into an Add costs one addition per element of the sum. Average
// pools, global pools and flattens on a path are folded into the fan-out
// and cost nothing of their own, as in the engines' SOP counts. Sources
// that are the input (or a MaxPool on it) are charged to input.
func projectionCosts(net *network.Network, shapes []network.Shape) (layers map[int]*outCost, input *outCost, err error) {
	projs, err := net.Projections()
	if err != nil {
		return nil, nil, err
	}
	layers = map[int]*outCost{}
	input = &outCost{}
	for _, p := range projs {
		src := p.Source
		if src != network.InputNode && network.RoleOf(net.Layers[src]) == network.RoleMaxPool {
			src = net.InputOf(src)
		}
		c := input
		if src != network.InputNode {
			if c = layers[src]; c == nil {
				c = &outCost{}
				layers[src] = c
			}
		}
		name := ""
		if p.Weighted >= 0 {
			in := net.ShapeOf(shapes, net.InputOf(p.Weighted))
			c.macs += int64(net.Layers[p.Weighted].MACs(in))
			name = net.Layers[p.Weighted].Name()
		} else {
			c.macs += int64(shapes[p.Add].Size())
			name = net.Layers[p.Add].Name()
		}
		if !slices.Contains(c.targets, name) {
			c.targets = append(c.targets, name)
		}
	}
	return layers, input, nil
}
