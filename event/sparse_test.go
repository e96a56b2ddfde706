package event

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// sparsify replaces every Linear of net (hidden layers and the readout)
// by a SparseLinear holding a random part of its weights, each kept with
// probability keep, so that fan-out lists have every length, empty ones
// included.
func sparsify(r *rand.Rand, net *network.Network, keep float64) *network.Network {
	for i, l := range net.Layers {
		if lin, ok := l.(*network.Linear); ok {
			w := slices.Clone(lin.Weight)
			for j := range w {
				if r.Float64() >= keep {
					w[j] = 0
				}
			}
			c := *lin
			c.Weight = w
			net.Layers[i] = network.Sparsify(&c)
		}
	}
	return net
}

// TestSparseExact: a SparseLinear delivers each spike along its explicit
// (target, weight) list — on the direct input, from a flattened feature
// map (lists rebuilt in the engine's order), between spiking layers, into
// an Add beside a shortcut, and as the readout — and the event engine
// matches the reference spike for spike with every update policy and 1
// and 3 workers, with direct and Poisson input, with delays.
func TestSparseExact(t *testing.T) {
	nets := 2
	if testing.Short() || testenv.RaceEnabled {
		nets = 1
	}
	type build func(r *rand.Rand) *network.Network
	random := func(kind snnref.Kind) build {
		return func(r *rand.Rand) *network.Network {
			return sparsify(r, snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}), 0.3)
		}
	}
	cases := []struct {
		name  string
		build build
	}{
		{"mlp", random(snnref.MLP)},
		{"chain", random(snnref.Chain)},
		{"resnet", random(snnref.ResNet)},
		{"vgg", random(snnref.VGG)},
		{"add beside a shortcut", func(r *rand.Rand) *network.Network {
			b := newGB(r.Uint64(), network.Shape{12})
			s1 := b.spiking(b.linear(network.InputNode, 16))
			fc := b.linear(s1, 16)
			sum := b.add(&network.Add{LayerName: "add", Bias: snnref.DyadicSlice(b.r, 16, -4, 4)}, fc, s1)
			s2 := b.spiking(sum)
			b.linear(s2, 4)
			return sparsify(r, b.net, 0.4)
		}},
	}
	for ci, c := range cases {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			for _, delays := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/delays=%v", c.name, enc, delays), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(ci), 31))
					for range nets {
						net := c.build(r)
						found := false
						for _, l := range net.Layers {
							found = found || l.Kind() == network.KindSparseLinear
						}
						if !found {
							t.Fatal("no SparseLinear: the case tests nothing")
						}
						opts := network.SimOptions{T: 14, Encoding: enc, Seed: 4, KeepCounts: true, KeepOutputs: true}
						if delays {
							opts.Delays = snnref.RandomDelays(r, net)
						}
						checkVsReference(t, net, snnref.RandomImages(r, net, 3), opts)
					}
				})
			}
		}
	}
}
