package event

import (
	"fmt"
	"math"
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

// TestSparseKernels: every delivery kernel this CPU has gives the portable
// loops' sums bit for bit and the same marks (first and second level), on
// random float weights (not dyadic: rounding would show any change of
// order), lists of every length from 0 to 70 (the AVX-512 kernel's full
// and masked chunks), targets spread over 2^20 neurons or packed into one
// or two words (runs of equal words for the marking scan), repeated
// sources and steps after steps.
func TestSparseKernels(t *testing.T) {
	if len(sparseKernels) == 1 {
		t.Log("only the portable kernel on this CPU")
	}
	for _, c := range []struct {
		name    string
		out     int
		maxFan  int
		sources int
	}{
		{"in one word", 64, 64, 40},
		{"two words", 128, 70, 40},
		{"one top word", 4096, 70, 300},
		{"spread", 1 << 20, 70, 300},
	} {
		r := rand.New(rand.NewPCG(7, uint64(c.out)))
		f := sparseFan{ptr: make([]int32, c.sources+1)}
		for s := range c.sources {
			fan := r.IntN(c.maxFan + 1)
			if s%7 == 0 {
				fan = min(16*(1+r.IntN(4))+r.IntN(3)-1, c.out) // around chunk edges
			}
			fan = min(fan, c.out)
			tg := make([]int, 0, fan)
			for len(tg) < fan { // fan distinct targets, increasing
				tg = append(tg, r.IntN(c.out))
				slices.Sort(tg)
				tg = slices.Compact(tg)
			}
			for _, x := range tg {
				f.targets = append(f.targets, int32(x))
				f.weights = append(f.weights, float32(r.NormFloat64()))
			}
			f.ptr[s+1] = int32(len(f.targets))
		}
		var steps [][]ev
		for range 5 {
			evs := make([]ev, r.IntN(60))
			for i := range evs {
				evs[i] = ev{int32(r.IntN(c.sources)), float32(r.ExpFloat64())}
			}
			steps = append(steps, evs)
		}
		run := func(k sparseKernel, mark, two bool) ([]float32, []uint64, []uint64) {
			acc := make([]float32, c.out)
			for i := range acc {
				acc[i] = float32(r.NormFloat64()) // the same r state for every kernel below
			}
			var touched, top []uint64
			if mark {
				touched = make([]uint64, (c.out+63)/64)
				if two {
					top = make([]uint64, (c.out+4095)/4096)
				}
			}
			for _, evs := range steps {
				f.deliverWith(k, acc, touched, top, evs)
			}
			return acc, touched, top
		}
		for _, m := range []struct{ mark, two bool }{{false, false}, {true, false}, {true, true}} {
			seed := r.Uint64()
			r = rand.New(rand.NewPCG(seed, 1))
			wantAcc, wantT, wantTop := run(kernelGo, m.mark, m.two)
			if m.two {
				// The portable loops' second level, checked against the first.
				for w, word := range wantT {
					if (word != 0) != (wantTop[w>>6]>>(w&63)&1 == 1) {
						t.Fatalf("%s: portable kernel: top bit of word %d wrong", c.name, w)
					}
				}
			}
			for _, k := range sparseKernels[1:] {
				t.Run(fmt.Sprintf("%s/%s/mark=%v/two=%v", c.name, k, m.mark, m.two), func(t *testing.T) {
					r = rand.New(rand.NewPCG(seed, 1))
					acc, touched, top := run(k, m.mark, m.two)
					for i := range acc {
						if math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
							t.Fatalf("acc[%d] = %v, the portable loops give %v", i, acc[i], wantAcc[i])
						}
					}
					if !slices.Equal(touched, wantT) {
						t.Fatalf("touched differs from the portable loops'")
					}
					if !slices.Equal(top, wantTop) {
						t.Fatalf("second level differs from the portable loops'")
					}
				})
			}
		}
	}
}
