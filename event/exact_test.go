package event

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

type exactCase struct {
	kind     snnref.Kind
	alpha    float32
	reset    network.Reset
	encoding network.Encoding
	delays   bool
}

func (c exactCase) String() string {
	return fmt.Sprintf("%v/alpha=%v/%s/%s/delays=%v", c.kind, c.alpha, c.reset, c.encoding, c.delays)
}

func exactCases() []exactCase {
	var cs []exactCase
	for _, kind := range snnref.Kinds {
		for _, alpha := range []float32{1, 0.5} {
			for _, reset := range []network.Reset{network.ResetSoft, network.ResetHard} {
				for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
					for _, delays := range []bool{false, true} {
						cs = append(cs, exactCase{kind, alpha, reset, enc, delays})
					}
				}
			}
		}
	}
	return cs
}

// policies are the tunings the exactness tests run: each update policy,
// and lazy updates with each active-set form forced.
var policies = []struct {
	name   string
	policy tuning
}{
	{"adaptive", tuning{}}, {"sparse", tuning{policy: policySparse}}, {"dense", tuning{policy: policyDense}},
	{"sparse/two-level", tuning{policy: policySparse, form: formTwoLevel}}, {"adaptive/two-level", tuning{form: formTwoLevel}},
	{"sparse/flat", tuning{policy: policySparse, form: formFlat}},
	{"sparse/alternating", tuning{policy: policySparse, form: formAlternate}},
}

// TestExactAgreement runs random small graph networks of every kind
// (snnref.RandomNet: chains, MLPs, ResNets with identity and 1×1-conv
// shortcuts, VGGs with MaxPools and padded average pools, global average
// pooling) with dyadic parameters, where every float32 sum is exact in any
// order, and requires the event engine — every update policy, 1 and 3
// workers — to match the naive reference (internal/snnref) in every field
// of the result, spike for spike in every layer and step of every image,
// and the readout bit for bit; and the dense engine to match too.
func TestExactAgreement(t *testing.T) {
	nets := 3
	if testing.Short() || testenv.RaceEnabled {
		nets = 1
	}
	for ci, c := range exactCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci), 7))
			for range nets {
				net := snnref.RandomNet(r, snnref.Config{Kind: c.kind, Alpha: c.alpha, Reset: c.reset})
				opts := network.SimOptions{T: 12 + r.IntN(8), Encoding: c.encoding, Seed: r.Uint64(), KeepCounts: true, KeepOutputs: true, ImageOffset: r.IntN(100)}
				if c.delays {
					opts.Delays = snnref.RandomDelays(r, net)
				}
				checkExact(t, net, snnref.RandomImages(r, net, 4), opts)
			}
		})
	}
}

// TestExactLongRun covers runs longer than the engine's 64-step buckets of
// the constant-current layer and its crossing queue.
func TestExactLongRun(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 1))
	for _, kind := range snnref.Kinds {
		net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
		opts := network.SimOptions{T: 150, KeepCounts: true, KeepOutputs: true}
		checkExact(t, net, snnref.RandomImages(r, net, 2), opts)
	}
}

// checkExact compares the event engine with snnref (and the dense engine)
// on net.
func checkExact(t *testing.T, net *network.Network, images []float32, opts network.SimOptions) {
	t.Helper()
	ref := checkVsReference(t, net, images, opts)
	o := opts
	o.Raster, o.Workers = true, 1
	de, err := dense.Engine{}.Run(net, images, exactLabels(len(images)/net.Input.Size()), o)
	if err != nil {
		t.Fatalf("dense engine: %v", err)
	}
	if de.Raster == nil {
		de.Raster = ref.Raster
	}
	if d := snnref.Diff(ref, de); d != "" {
		t.Errorf("dense differs from snnref (delays %v, encoding %s): %s\n%s", opts.Delays, opts.Encoding, d, describe(net))
	}
}

// exactLabels are the labels the exactness tests give their images.
func exactLabels(count int) []int {
	labels := make([]int, count)
	for i := range labels {
		labels[i] = i % 3
	}
	return labels
}

// checkVsReference compares the event engine — every update policy, 1 and
// 3 workers, Engine.Run and the Simulator's spikes step by step — with
// snnref on net and returns the reference's result.
func checkVsReference(t *testing.T, net *network.Network, images []float32, opts network.SimOptions) *network.SimResult {
	t.Helper()
	size := net.Input.Size()
	labels := exactLabels(len(images) / size)
	ro := opts
	ro.Raster = true
	ref, err := snnref.Run(net, images, labels, ro)
	if err != nil {
		t.Fatal(err)
	}
	spikes := int64(0)
	for _, l := range ref.Layers {
		spikes += l.Spikes
	}
	if spikes == 0 {
		t.Errorf("no spikes at all: the case tests nothing")
	}
	for _, pol := range policies {
		checkRasters(t, net, images, opts, pol.policy)
		for _, workers := range []int{1, 3} {
			o := ro
			o.Workers = workers
			ev, _, err := runWork(net, images, labels, o, pol.policy)
			if err != nil {
				t.Fatal(err)
			}
			if d := snnref.Diff(ref, ev); d != "" {
				t.Fatalf("policy %s, %d workers (delays %v, encoding %s): event differs from snnref: %s\n%s", pol.name, workers, opts.Delays, opts.Encoding, d, describe(net))
			}
		}
	}
	return ref
}

// checkRasters runs every image through a Simulator with the given policy
// and compares its spikes, step by step, with snnref's, and its readout
// bit for bit.
func checkRasters(t *testing.T, net *network.Network, images []float32, opts network.SimOptions, policy tuning) {
	t.Helper()
	sim, err := NewSimulator(net, opts)
	if err != nil {
		t.Fatal(err)
	}
	sim.tuning = policy
	ref, err := snnref.New(net, opts)
	if err != nil {
		t.Fatal(err)
	}
	refRes, err := network.NewSimResult(net, "reference", 1, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := refRes.NewImageRecord()
	size := net.Input.Size()
	var raster snnref.Raster
	sim.spikeHook = func(k int, st int32, sp []int32) {
		g := sim.p.layers[k].g
		var us []int
		for _, q := range sp {
			us = append(us, g.user(int(q)))
		}
		slices.Sort(us)
		raster[k][st-1] = us
	}
	res := sim.NewImageResult()
	for i := 0; i < len(images)/size; i++ {
		x := images[i*size : (i+1)*size]
		img := opts.ImageOffset + i
		rec.Reset()
		want := ref.Image(x, img, rec)
		raster = make(snnref.Raster, sim.NumLayers())
		for k := range raster {
			raster[k] = make([][]int, opts.T)
		}
		if err := sim.RunImage(x, img, res); err != nil {
			t.Fatal(err)
		}
		for k := range raster {
			for st := 0; st < opts.T; st++ {
				if !slices.Equal(raster[k][st], want[k][st]) {
					t.Fatalf("policy %v image %d layer %d step %d: event spikes %v, reference %v (delays %v)\n%s", policy, i, k, st+1, raster[k][st], want[k][st], opts.Delays, describe(net))
				}
			}
		}
		for o := range rec.Output {
			if math.Float32bits(rec.Output[o]) != math.Float32bits(res.Output[o]) {
				t.Fatalf("policy %v image %d output %d: event %v, reference %v", policy, i, o, res.Output[o], rec.Output[o])
			}
		}
		if !slices.Equal(rec.PredictionByStep, res.PredictionByStep) {
			t.Fatalf("policy %v image %d predictions by step: event %v, reference %v", policy, i, res.PredictionByStep, rec.PredictionByStep)
		}
		if !slices.Equal(rec.SOPs, res.SOPs) || rec.InputSOPs != res.InputSOPs {
			t.Fatalf("policy %v image %d SOPs: event %v (input %d), reference %v (input %d)", policy, i, res.SOPs, res.InputSOPs, rec.SOPs, rec.InputSOPs)
		}
	}
}

// describe lists a network's layers and inputs, for failure messages.
func describe(net *network.Network) string {
	shapes, _ := net.Shapes()
	s := fmt.Sprintf("input %v\n", net.Input)
	for i, l := range net.Layers {
		s += fmt.Sprintf("  %d %s %q %v ← %v", i, l.Kind(), l.Name(), shapes[i], net.InputsOf(i))
		switch l := l.(type) {
		case *network.Conv2d:
			s += fmt.Sprintf(" k%dx%d s%d p%d", l.KH, l.KW, l.StrideH, l.PadH)
		case *network.AvgPool2d:
			s += fmt.Sprintf(" k%dx%d s%d p%d/%d incl=%v", l.KH, l.KW, l.StrideH, l.PadH, l.PadW, l.CountIncludePad)
		case *network.MaxPool2d:
			s += fmt.Sprintf(" k%dx%d s%d p%d", l.KH, l.KW, l.StrideH, l.PadH)
		}
		s += "\n"
	}
	return s
}
