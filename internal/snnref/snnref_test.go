package snnref

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// TestCountGatedMaxPool checks SPEC §2a by hand: a 2-neuron spiking layer
// fed a constant current, then a 1×2 MaxPool window over both neurons,
// then the readout. Neuron 0 fires every 2nd step (I = 0.5, θ = 1),
// neuron 1 (I = 0.375) at steps 3, 6 and 8. The window's largest count
// rises at steps 2, 4, 6 and 8 only: it emits there.
func TestCountGatedMaxPool(t *testing.T) {
	net := &network.Network{
		Input: network.Shape{1, 1, 2},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "c", InC: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: []float32{0}, Bias: []float32{0}},
			&network.Spiking{LayerName: "s", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft, V0: []float32{0, 0}},
			&network.MaxPool2d{LayerName: "m", KH: 1, KW: 2, StrideH: 1, StrideW: 2},
			&network.Flatten{LayerName: "f"},
			&network.Linear{LayerName: "out", In: 1, Out: 2, Weight: []float32{1, -1}, Bias: []float32{0, 0}},
		},
	}
	net.Layers[0].(*network.Conv2d).Weight[0] = 1 // the current is the input
	x := []float32{0.5, 0.375}
	opts := network.SimOptions{T: 8, KeepOutputs: true}
	res, err := Run(net, x, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Neuron 0: v = 0.5, 1 → fires at 2, 4, 6, 8; neuron 1: 0.375, 0.75,
	// 1.125 → fires at 3 (v = 0.125), 0.5, 0.875, 1.25 → 6 (0.25), 0.625,
	// 1 → 8.
	if got := res.Layers[0].Spikes; got != 7 {
		t.Fatalf("spikes = %d, want 7", got)
	}
	// The pool emits 4 events of amplitude θ = 1: A = (4, −4).
	if want := []float32{4, -4}; !slices.Equal(res.Outputs, want) {
		t.Fatalf("readout %v, want %v", res.Outputs, want)
	}
	// SOPs: 7 spikes into the pool (0 each) + 4 pool events × 2 targets.
	if got := res.Layers[0].SOPs; got != 8 {
		t.Fatalf("SOPs = %d, want 8", got)
	}
}

// TestMatchesDenseOnChains checks the reference against the dense engine,
// trusted on chains, spike for spike.
func TestMatchesDenseOnChains(t *testing.T) {
	for _, kind := range []Kind{Chain, MLP} {
		for _, alpha := range []float32{1, 0.5} {
			for _, reset := range []network.Reset{network.ResetSoft, network.ResetHard} {
				for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
					delays := enc == network.EncodingPoisson
					name := fmt.Sprintf("%v/%v/%s/%s/delays=%v", kind, alpha, reset, enc, delays)
					t.Run(name, func(t *testing.T) {
						r := rand.New(rand.NewPCG(uint64(kind), uint64(alpha*4)))
						net := RandomNet(r, Config{Kind: kind, Alpha: alpha, Reset: reset})
						opts := network.SimOptions{T: 12, Encoding: enc, Seed: 3, KeepCounts: true, KeepOutputs: true, ImageOffset: 5}
						if delays {
							opts.Delays = RandomDelays(r, net)
						}
						x := RandomImages(r, net, 3)
						labels := []int{0, 1, 2}
						want, err := dense.Engine{}.Run(net, x, labels, opts)
						if err != nil {
							t.Fatal(err)
						}
						got, err := Run(net, x, labels, opts)
						if err != nil {
							t.Fatal(err)
						}
						if d := Diff(got, want); d != "" {
							t.Fatal(d)
						}
					})
				}
			}
		}
	}
}

// TestRandomGraphs builds every kind and checks that the reference runs
// and that its spikes are consistent with its own bookkeeping.
func TestRandomGraphs(t *testing.T) {
	for _, kind := range Kinds {
		for seed := range uint64(5) {
			r := rand.New(rand.NewPCG(seed, 11))
			net := RandomNet(r, Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
			opts := network.SimOptions{T: 10, KeepCounts: true, Raster: true}
			res, err := Run(net, RandomImages(r, net, 2), nil, opts)
			if err != nil {
				t.Fatalf("%v seed %d: %v", kind, seed, err)
			}
			var first int64
			for _, n := range res.ImageSpikes[0] {
				first += n
			}
			if raster := int64(len(res.Raster)); raster != first {
				t.Fatalf("%v seed %d: raster of image 0 has %d spikes, its counts %d", kind, seed, raster, first)
			}
		}
	}
}
