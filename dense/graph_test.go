package dense_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// engineSetting is an engine and a number of workers.
type engineSetting struct {
	e       dense.Engine
	workers int
}

// engines are the settings every exactness test runs: full products and
// skipped zeros, several batch sizes, one and three workers. All must give
// the reference's numbers. With -race only the concurrent ones run.
func engines() []engineSetting {
	if testenv.RaceEnabled {
		return []engineSetting{{dense.Engine{}, 3}, {dense.Engine{SkipSilent: true, BatchSize: 2}, 3}}
	}
	return []engineSetting{
		{dense.Engine{}, 1},
		{dense.Engine{}, 3},
		{dense.Engine{SkipSilent: true}, 1},
		{dense.Engine{SkipSilent: true}, 3},
		{dense.Engine{BatchSize: 2}, 3},
		{dense.Engine{SkipSilent: true, BatchSize: 1}, 1},
	}
}

// checkExact runs net on x with every engine setting and compares each
// result with the shared reference, field by field (spikes per layer,
// step and image, SOPs, first spikes, per-neuron counts, readout bit for
// bit, the first image's raster). It returns the reference result.
func checkExact(t *testing.T, net *network.Network, x []float32, labels []int, opts network.SimOptions) *network.SimResult {
	t.Helper()
	opts.KeepCounts, opts.KeepOutputs, opts.Raster = true, true, true
	want, err := snnref.Run(net, x, labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range engines() {
		o := opts
		o.Workers = c.workers
		got, err := c.e.Run(net, x, labels, o)
		if err != nil {
			t.Fatalf("%s batch %d workers %d: %v", c.e.Name(), c.e.BatchSize, c.workers, err)
		}
		if d := snnref.Diff(want, got); d != "" {
			t.Fatalf("%s batch %d workers %d: reference vs engine: %s", c.e.Name(), c.e.BatchSize, c.workers, d)
		}
		if got.Engine != c.e.Name() || got.Raster == nil && len(want.Raster) > 0 {
			t.Fatalf("%s: engine %q, %d raster events", c.e.Name(), got.Engine, len(got.Raster))
		}
	}
	return want
}

// active reports whether every spiking layer of a reference result fired
// but not at every step of every neuron, so that a test on it says
// something about every layer.
func active(res *network.SimResult) bool {
	for _, l := range res.Layers {
		if l.Spikes == 0 || l.Spikes == int64(l.Neurons*res.Images*res.T) {
			return false
		}
	}
	return true
}

// TestMatchesReference compares the engine with internal/snnref on random
// dyadic graph networks (every float32 sum exact in any order) of every
// kind, for IF and LIF, soft and hard reset, direct and Poisson input,
// with and without delays: spike for spike, readout bit for bit.
func TestMatchesReference(t *testing.T) {
	type config struct {
		kind   snnref.Kind
		alpha  float32
		reset  network.Reset
		enc    network.Encoding
		delays bool
	}
	var cases []config
	for _, kind := range snnref.Kinds {
		for _, alpha := range []float32{1, 0.5} {
			for _, reset := range []network.Reset{network.ResetSoft, network.ResetHard} {
				for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
					for _, delays := range []bool{false, true} {
						cases = append(cases, config{kind, alpha, reset, enc, delays})
					}
				}
			}
		}
	}
	const images, T = 5, 12
	for ci, c := range cases {
		name := fmt.Sprintf("%v/alpha=%v/%s/%s/delays=%v", c.kind, c.alpha, c.reset, c.enc, c.delays)
		t.Run(name, func(t *testing.T) {
			// The first of a few random networks whose every layer is
			// active (some draws leave a layer silent).
			for seed := uint64(0); seed < 20; seed++ {
				r := rand.New(rand.NewPCG(uint64(ci), seed))
				net := snnref.RandomNet(r, snnref.Config{Kind: c.kind, Alpha: c.alpha, Reset: c.reset})
				opts := network.SimOptions{T: T, Encoding: c.enc, Seed: 7, ImageOffset: 3}
				if c.delays {
					opts.Delays = snnref.RandomDelays(r, net)
				}
				x := snnref.RandomImages(r, net, images)
				labels := make([]int, images)
				for i := range labels {
					labels[i] = r.IntN(4)
				}
				probe, err := snnref.Run(net, x, labels, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !active(probe) {
					continue
				}
				want := checkExact(t, net, x, labels, opts)
				if (want.InputSpikes > 0) != (c.enc == network.EncodingPoisson) {
					t.Fatalf("encoding %s: %d input spikes", c.enc, want.InputSpikes)
				}
				return
			}
			t.Fatal("no random network of 20 has every layer active")
		})
	}
}

// graph builds a network node by node with explicit inputs.
type graph struct {
	r   *rand.Rand
	net *network.Network
}

func newGraph(seed uint64, in network.Shape) *graph {
	return &graph{r: rand.New(rand.NewPCG(seed, 5)), net: &network.Network{Input: in, Inputs: [][]int{}}}
}

func (g *graph) shape(i int) network.Shape {
	if i == network.InputNode {
		return g.net.Input
	}
	sh, err := g.net.Shapes()
	if err != nil {
		panic(err)
	}
	return g.net.ShapeOf(sh, i)
}

func (g *graph) add(l network.Layer, in ...int) int {
	g.net.Layers = append(g.net.Layers, l)
	g.net.Inputs = append(g.net.Inputs, in)
	if _, err := g.net.Shapes(); err != nil {
		panic(err)
	}
	return len(g.net.Layers) - 1
}

func (g *graph) conv(in, outC, k, stride, pad int) int {
	inC := g.shape(in)[0]
	return g.add(&network.Conv2d{LayerName: fmt.Sprintf("conv%d", len(g.net.Layers)), InC: inC, OutC: outC, KH: k, KW: k,
		StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
		Weight: snnref.DyadicSlice(g.r, outC*inC*k*k, -10, 14), Bias: snnref.DyadicSlice(g.r, outC, -4, 6)}, in)
}

func (g *graph) linear(in, out int) int {
	n := g.shape(in)[0]
	return g.add(&network.Linear{LayerName: fmt.Sprintf("fc%d", len(g.net.Layers)), In: n, Out: out,
		Weight: snnref.DyadicSlice(g.r, out*n, -10, 12), Bias: snnref.DyadicSlice(g.r, out, -4, 6)}, in)
}

func (g *graph) spiking(in int) int {
	return g.add(snnref.RandomSpiking(g.r, fmt.Sprintf("sp%d", len(g.net.Layers)), g.shape(in), 1, network.ResetSoft), in)
}

// handBuilt are graphs with what the random kinds do not always draw: a
// residual block whose identity shortcut is a MaxPool's output, an Add of
// three inputs (one the input itself, one pooled spikes) with a bias, a
// MaxPool on the input, pools reading MaxPool events, average pools
// without count_include_pad (divisors 4, 6, 9), a spiking layer read both
// as a tensor and as events, a Conv2d readout, a Linear on the input.
var handBuilt = []struct {
	name  string
	build func() *network.Network
}{
	{"maxpool shortcut", func() *network.Network {
		g := newGraph(1, network.Shape{1, 8, 8})
		s := g.spiking(g.conv(network.InputNode, 3, 3, 1, 1))
		m := g.add(&network.MaxPool2d{LayerName: "mp", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, s)
		h := g.spiking(g.conv(m, 3, 3, 1, 1))
		sum := g.add(&network.Add{LayerName: "add", Bias: []float32{0.125, -0.25, 0}}, g.conv(h, 3, 3, 1, 1), m)
		o := g.spiking(sum)
		d := g.conv(o, 4, 1, 2, 0)
		h2 := g.spiking(g.conv(o, 4, 3, 2, 1))
		o2 := g.spiking(g.add(&network.Add{LayerName: "add2"}, g.conv(h2, 4, 3, 1, 1), d))
		gp := g.add(&network.GlobalAvgPool{LayerName: "gap"}, o2)
		g.linear(g.add(&network.Flatten{LayerName: "flat"}, gp), 4)
		return g.net
	}},
	{"three-way add", func() *network.Network {
		g := newGraph(2, network.Shape{2, 6, 6})
		s := g.spiking(g.conv(network.InputNode, 2, 3, 1, 1))
		pooled := g.add(&network.AvgPool2d{LayerName: "ap", KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}, s)
		sum := g.add(&network.Add{LayerName: "add", Bias: []float32{-0.125, 0.25}}, g.conv(s, 2, 3, 1, 1), network.InputNode, pooled)
		o := g.spiking(sum)
		g.linear(g.add(&network.Flatten{LayerName: "flat"}, o), 3)
		return g.net
	}},
	{"maxpool on input", func() *network.Network {
		g := newGraph(3, network.Shape{2, 9, 9})
		m := g.add(&network.MaxPool2d{LayerName: "mp0", KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, network.InputNode)
		s := g.spiking(g.conv(m, 3, 3, 1, 1))
		m2 := g.add(&network.MaxPool2d{LayerName: "mp1", KH: 2, KW: 2, StrideH: 1, StrideW: 1}, s)
		a := g.add(&network.AvgPool2d{LayerName: "ap", KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, m2)
		s2 := g.spiking(g.conv(a, 3, 3, 1, 1))
		gp := g.add(&network.GlobalAvgPool{LayerName: "gap"}, s2)
		g.linear(g.add(&network.Flatten{LayerName: "flat"}, gp), 4)
		return g.net
	}},
	{"pools on input, conv readout", func() *network.Network {
		g := newGraph(4, network.Shape{1, 8, 8})
		a := g.add(&network.AvgPool2d{LayerName: "ap0", KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, network.InputNode)
		s := g.spiking(g.conv(a, 3, 3, 1, 0))
		a2 := g.add(&network.AvgPool2d{LayerName: "ap1", KH: 2, KW: 2, StrideH: 1, StrideW: 1}, s)
		s2 := g.spiking(g.conv(a2, 3, 3, 1, 1))
		mp := g.add(&network.MaxPool2d{LayerName: "mp", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, s2)
		gp := g.add(&network.GlobalAvgPool{LayerName: "gap"}, mp)
		g.conv(gp, 4, 1, 1, 0) // the readout: [4,1,1]
		return g.net
	}},
	{"mlp residual", func() *network.Network {
		g := newGraph(6, network.Shape{10})
		s := g.spiking(g.linear(network.InputNode, 10))
		o := g.spiking(g.add(&network.Add{LayerName: "add", Bias: snnref.DyadicSlice(g.r, 10, -4, 4)}, g.linear(s, 10), s, network.InputNode))
		g.linear(o, 3)
		return g.net
	}},
}

// TestHandBuiltGraphs checks the graphs of handBuilt against the reference
// with direct and Poisson input, with and without delays, dyadic (exact
// sums) and rough (sums that depend on their order).
func TestHandBuiltGraphs(t *testing.T) {
	for _, c := range handBuilt {
		for _, rough := range []bool{false, true} {
			net := c.build()
			if err := net.Validate(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if rough {
				roughen(rand.New(rand.NewPCG(3, 3)), net)
			}
			for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
				for _, delays := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/rough=%v/%s/delays=%v", c.name, rough, enc, delays), func(t *testing.T) {
						r := rand.New(rand.NewPCG(9, 9))
						opts := network.SimOptions{T: 16, Encoding: enc, Seed: 11}
						if delays {
							opts.Delays = snnref.RandomDelays(r, net)
						}
						x := snnref.RandomImages(r, net, 4)
						want := checkExact(t, net, x, []int{0, 1, 2, 0}, opts)
						for _, l := range want.Layers {
							if l.Spikes == 0 {
								t.Errorf("layer %s never fires: the test does not exercise it", l.Name)
							}
						}
					})
				}
			}
		}
	}
}

// TestManySeeds runs more random graphs (all kinds, IF soft, direct and
// Poisson) than the configuration table, for a wider net; skipped with
// -race and -short.
func TestManySeeds(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("long: skipped with -race and -short")
	}
	for _, kind := range snnref.Kinds {
		for seed := range uint64(25) {
			r := rand.New(rand.NewPCG(seed, 1234))
			reset := network.ResetSoft
			if seed%3 == 0 {
				reset = network.ResetHard
			}
			net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: reset})
			enc := network.EncodingDirect
			if seed%2 == 1 {
				enc = network.EncodingPoisson
			}
			opts := network.SimOptions{T: 10, Encoding: enc, Seed: seed}
			if seed%4 == 1 {
				opts.Delays = snnref.RandomDelays(r, net)
			}
			x := snnref.RandomImages(r, net, 3)
			t.Run(fmt.Sprintf("%v/%d", kind, seed), func(t *testing.T) { checkExact(t, net, x, []int{0, 1, 2}, opts) })
		}
	}
}

// roughen makes a dyadic network's parameters ordinary float32 values
// (each times a random factor near 1), so that sums depend on their order.
func roughen(r *rand.Rand, net *network.Network) {
	scale := func(s []float32) {
		for i := range s {
			s[i] *= 0.9 + 0.2*r.Float32()
		}
	}
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			scale(l.Weight)
			scale(l.Bias)
		case *network.Linear:
			scale(l.Weight)
			scale(l.Bias)
		case *network.Add:
			scale(l.Bias)
		case *network.Spiking:
			scale(l.Threshold)
			scale(l.V0)
		}
	}
}

// TestSummationOrder checks that the engine sums in the reference's order
// (bias first, then the products in increasing input order; an Add's
// inputs in order, then its bias; pools in row-major order): on networks
// whose sums are not exact the results are still the same bits.
func TestSummationOrder(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for seed := range uint64(4) {
			r := rand.New(rand.NewPCG(seed, 77))
			net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 0.5 + 0.5*float32(seed%2), Reset: network.ResetSoft})
			roughen(r, net)
			x := snnref.RandomImages(r, net, 3)
			for i := range x {
				x[i] *= 0.9 + 0.2*r.Float32()
			}
			enc := network.EncodingDirect
			if seed >= 2 {
				enc = network.EncodingPoisson
			}
			t.Run(fmt.Sprintf("%v/%d", kind, seed), func(t *testing.T) {
				checkExact(t, net, x, []int{0, 1, 2}, network.SimOptions{T: 12, Encoding: enc, Seed: seed})
			})
		}
	}
}

// sparsified returns net with every Linear layer (the readout too) pruned
// to about a fifth of its weights and stored as a network.SparseLinear,
// and one stored synapse of weight zero (it exists, so it costs SOPs).
func sparsified(r *rand.Rand, net *network.Network) *network.Network {
	out := net.Clone()
	for i, l := range out.Layers {
		lin, ok := l.(*network.Linear)
		if !ok {
			continue
		}
		for k := range lin.Weight {
			if r.IntN(5) > 0 {
				lin.Weight[k] = 0
			}
		}
		sp := network.Sparsify(lin)
		if len(sp.Weights) > 0 {
			sp.Weights[len(sp.Weights)/2] = 0
		}
		out.Layers[i] = sp
	}
	return out
}

// TestSparseLinearMatchesReference replaces the Linear layers of random
// networks of every kind by sparse ones and compares the engine (full
// products and skipped zeros, 1 and 3 workers) with the reference, with
// and without delays, direct and Poisson input: spike for spike, SOPs
// (through the synapses that exist) and readout bit for bit.
func TestSparseLinearMatchesReference(t *testing.T) {
	const images, T = 5, 10
	for ki, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			for _, delays := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%s/delays=%v", kind, enc, delays), func(t *testing.T) {
					for seed := uint64(0); seed < 30; seed++ {
						r := rand.New(rand.NewPCG(uint64(ki), 100+seed))
						net := sparsified(r, snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}))
						opts := network.SimOptions{T: T, Encoding: enc, Seed: 5}
						if delays {
							opts.Delays = snnref.RandomDelays(r, net)
						}
						x := snnref.RandomImages(r, net, images)
						probe, err := snnref.Run(net, x, nil, opts)
						if err != nil {
							t.Fatal(err)
						}
						if !active(probe) {
							continue
						}
						want := checkExact(t, net, x, nil, opts)
						// The same network with zero-filled dense weights
						// computes the same numbers through more synapses.
						o := opts
						o.KeepOutputs = true
						full, err := dense.Engine{}.Run(denseAgain(net), x, nil, o)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(full.Predictions, want.Predictions) || !slices.Equal(full.Outputs, want.Outputs) {
							t.Fatal("zero-filled dense weights give other numbers than the sparse layers")
						}
						fewer := false
						for k := range want.Layers {
							if want.Layers[k].Spikes != full.Layers[k].Spikes || want.Layers[k].SOPs > full.Layers[k].SOPs {
								t.Fatalf("layer %d: sparse %+v, dense %+v", k, want.Layers[k], full.Layers[k])
							}
							fewer = fewer || want.Layers[k].SOPs < full.Layers[k].SOPs
						}
						if !fewer {
							t.Fatal("the sparse layers cost as many SOPs as the dense ones")
						}
						return
					}
					t.Fatal("no sparsified random network of 30 has every layer active")
				})
			}
		}
	}
}

// denseAgain turns the SparseLinear layers of net back into Linear ones.
func denseAgain(net *network.Network) *network.Network {
	out := net.Clone()
	for i, l := range out.Layers {
		if sp, ok := l.(*network.SparseLinear); ok {
			out.Layers[i] = &network.Linear{LayerName: sp.LayerName, In: sp.In, Out: sp.Out, Weight: sp.Dense(), Bias: sp.Bias}
		}
	}
	return out
}
