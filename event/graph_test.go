package event

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// gb builds a graph network node by node with dyadic parameters (as
// snnref.RandomNet does), for the hand-made graphs below.
type gb struct {
	r   *rand.Rand
	net *network.Network
	n   int
}

func newGB(seed uint64, input network.Shape) *gb {
	return &gb{r: rand.New(rand.NewPCG(seed, 3)), net: &network.Network{Input: input}}
}

func (b *gb) shape(i int) network.Shape {
	if i == network.InputNode {
		return b.net.Input
	}
	sh, err := b.net.Shapes()
	if err != nil {
		panic(err)
	}
	return b.net.ShapeOf(sh, i)
}

func (b *gb) add(l network.Layer, in ...int) int {
	b.net.Layers = append(b.net.Layers, l)
	b.net.Inputs = append(b.net.Inputs, in)
	b.shape(len(b.net.Layers) - 1) // panics if it does not fit
	return len(b.net.Layers) - 1
}

func (b *gb) name(p string) string { b.n++; return fmt.Sprintf("%s%d", p, b.n) }

func (b *gb) conv(in, outC, k, stride, pad int) int {
	inC := b.shape(in)[0]
	return b.add(&network.Conv2d{LayerName: b.name("conv"), InC: inC, OutC: outC, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
		Weight: snnref.DyadicSlice(b.r, outC*inC*k*k, -10, 14), Bias: snnref.DyadicSlice(b.r, outC, -4, 6)}, in)
}

func (b *gb) linear(in, out int) int {
	n := b.shape(in).Size()
	return b.add(&network.Linear{LayerName: b.name("fc"), In: n, Out: out, Weight: snnref.DyadicSlice(b.r, out*n, -8, 10), Bias: snnref.DyadicSlice(b.r, out, -4, 6)}, in)
}

func (b *gb) spiking(in int) int {
	return b.add(snnref.RandomSpiking(b.r, b.name("sp"), b.shape(in), 1, network.ResetSoft), in)
}

func (b *gb) done(t *testing.T) *network.Network {
	t.Helper()
	if err := b.net.Validate(); err != nil {
		t.Fatalf("hand-made graph: %v", err)
	}
	return b.net
}

// TestGraphShapes covers graph shapes snnref.RandomNet does not make:
// pools on the direct input, shortcuts from the input and through a
// Flatten, an Add of three, spikes and direct input into one layer, a
// Conv2d readout, strided and padded convolutions, a Linear wider than
// the grouped kernel. Every one must match snnref exactly, with direct and
// Poisson input, with and without delays.
func TestGraphShapes(t *testing.T) {
	cases := []struct {
		name  string
		build func(t *testing.T) *network.Network
	}{
		{"pooled input into conv and shortcut", func(t *testing.T) *network.Network {
			b := newGB(1, network.Shape{2, 8, 8})
			pool := b.add(&network.AvgPool2d{LayerName: "inpool", KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, network.InputNode)
			c1 := b.conv(pool, 3, 3, 1, 1)
			s1 := b.spiking(c1)
			c2 := b.conv(s1, 2, 3, 1, 1)
			sum := b.add(&network.Add{LayerName: "add", Bias: snnref.DyadicSlice(b.r, 2, -4, 4)}, c2, pool)
			s2 := b.spiking(sum)
			g := b.add(&network.GlobalAvgPool{LayerName: "gap"}, s2)
			f := b.add(&network.Flatten{LayerName: "flat"}, g)
			b.linear(f, 4)
			return b.done(t)
		}},
		{"input maxpool, avgpool, three-way add", func(t *testing.T) *network.Network {
			b := newGB(2, network.Shape{1, 9, 9})
			mp := b.add(&network.MaxPool2d{LayerName: "inmax", KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, network.InputNode)
			ap := b.add(&network.AvgPool2d{LayerName: "ap", KH: 2, KW: 2, StrideH: 1, StrideW: 1, CountIncludePad: true, PadH: 1, PadW: 1}, mp)
			c1 := b.conv(ap, 2, 3, 2, 1)
			s1 := b.spiking(c1)
			c2 := b.conv(s1, 2, 1, 1, 0)
			c3 := b.conv(s1, 2, 3, 1, 1)
			sum := b.add(&network.Add{LayerName: "add3"}, c2, s1, c3)
			s2 := b.spiking(sum)
			f := b.add(&network.Flatten{LayerName: "flat"}, s2)
			b.linear(f, 3)
			return b.done(t)
		}},
		{"spikes and direct input into one layer", func(t *testing.T) *network.Network {
			b := newGB(3, network.Shape{2, 6, 6})
			c1 := b.conv(network.InputNode, 3, 3, 1, 1)
			s1 := b.spiking(c1)
			c2 := b.conv(s1, 3, 3, 1, 1)
			c3 := b.conv(network.InputNode, 3, 1, 1, 0)
			sum := b.add(&network.Add{LayerName: "add"}, c2, c3)
			s2 := b.spiking(sum)
			b.conv(s2, 2, 3, 2, 0) // a Conv2d readout
			return b.done(t)
		}},
		{"flattened shortcut", func(t *testing.T) *network.Network {
			b := newGB(4, network.Shape{1, 6, 6})
			c1 := b.conv(network.InputNode, 2, 3, 2, 1)
			s1 := b.spiking(c1)
			f := b.add(&network.Flatten{LayerName: "flat"}, s1)
			fc := b.linear(f, b.shape(f)[0])
			sum := b.add(&network.Add{LayerName: "add"}, fc, f)
			s2 := b.spiking(sum)
			b.linear(s2, 3)
			return b.done(t)
		}},
		{"wide linear", func(t *testing.T) *network.Network {
			b := newGB(5, network.Shape{12})
			f1 := b.linear(network.InputNode, groupMaxOut+77)
			s1 := b.spiking(f1)
			f2 := b.linear(s1, 9)
			s2 := b.spiking(f2)
			b.linear(s2, 3)
			return b.done(t)
		}},
		{"strided convs, two pools in a row", func(t *testing.T) *network.Network {
			b := newGB(6, network.Shape{1, 13, 13})
			c1 := b.conv(network.InputNode, 3, 5, 3, 2)
			s1 := b.spiking(c1)
			c2 := b.conv(s1, 4, 4, 2, 2)
			s2 := b.spiking(c2)
			p1 := b.add(&network.AvgPool2d{LayerName: "p1", KH: 2, KW: 2, StrideH: 1, StrideW: 1}, s2)
			p2 := b.add(&network.AvgPool2d{LayerName: "p2", KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, p1)
			c3 := b.conv(p2, 2, 3, 1, 1)
			s3 := b.spiking(c3)
			f := b.add(&network.Flatten{LayerName: "flat"}, s3)
			b.linear(f, 3)
			return b.done(t)
		}},
	}
	cases = append(cases, struct {
		name  string
		build func(t *testing.T) *network.Network
	}{"two direct branches", func(t *testing.T) *network.Network {
		b := newGB(7, network.Shape{2, 6, 6})
		c1 := b.conv(network.InputNode, 2, 3, 1, 1)
		c2 := b.conv(network.InputNode, 2, 1, 1, 0)
		sum := b.add(&network.Add{LayerName: "add", Bias: snnref.DyadicSlice(b.r, 2, -4, 4)}, c1, c2)
		s1 := b.spiking(sum)
		f := b.add(&network.Flatten{LayerName: "flat"}, s1)
		b.linear(f, 3)
		return b.done(t)
	}})
	for ci, c := range cases {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			for _, delays := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/delays=%v", c.name, enc, delays), func(t *testing.T) {
					net := c.build(t)
					r := rand.New(rand.NewPCG(uint64(ci), 11))
					opts := network.SimOptions{T: 20, Encoding: enc, Seed: 5, KeepCounts: true, KeepOutputs: true}
					if delays {
						opts.Delays = snnref.RandomDelays(r, net)
					}
					checkExact(t, net, snnref.RandomImages(r, net, 3), opts)
				})
			}
		}
	}
}

// TestDirectPhases: two direct-input branches into one layer with
// different delays give its constant current three phases (bias only,
// one branch, both).
func TestDirectPhases(t *testing.T) {
	b := newGB(8, network.Shape{2, 6, 6})
	c1 := b.conv(network.InputNode, 2, 3, 1, 1)
	c2 := b.conv(network.InputNode, 2, 1, 1, 0)
	sum := b.add(&network.Add{LayerName: "add"}, c1, c2)
	s1 := b.spiking(sum)
	f := b.add(&network.Flatten{LayerName: "flat"}, s1)
	b.linear(f, 3)
	net := b.done(t)
	r := rand.New(rand.NewPCG(8, 8))
	for _, d := range [][2]int{{0, 0}, {2, 0}, {1, 4}, {3, 3}} {
		delays := make([]int, len(net.Layers))
		delays[c1], delays[c2] = d[0], d[1]
		opts := network.SimOptions{T: 16, KeepCounts: true, KeepOutputs: true, Delays: delays}
		sim, err := NewSimulator(net, opts)
		if err != nil {
			t.Fatal(err)
		}
		phases := 1
		if d[0] != d[1] {
			phases = 2
		}
		if got := len(sim.p.layers[0].delays); got != phases {
			t.Errorf("delays %v: %d phases of constant current, want %d", d, got, phases)
		}
		checkExact(t, net, snnref.RandomImages(r, net, 3), opts)
	}
}
