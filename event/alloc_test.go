package event

import (
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/network"
)

// TestRunImageAllocs: after the first image, RunImage allocates nothing
// (direct input on a linear network, Poisson input on a conv network).
func TestRunImageAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		kind snnref.Kind
		enc  network.Encoding
	}{
		{snnref.MLP, network.EncodingDirect}, {snnref.Chain, network.EncodingPoisson}, {snnref.MLP, network.EncodingPoisson},
		{snnref.ResNet, network.EncodingDirect}, {snnref.ResNet, network.EncodingPoisson},
		{snnref.VGG, network.EncodingDirect}, {snnref.VGG, network.EncodingPoisson},
	} {
		net := snnref.RandomNet(r, snnref.Config{Kind: c.kind, Alpha: 1, Reset: network.ResetSoft})
		opts := network.SimOptions{T: 16, Encoding: c.enc, KeepCounts: true, Delays: snnref.RandomDelays(r, net)}
		sim, err := NewSimulator(net, opts)
		if err != nil {
			t.Fatal(err)
		}
		res := sim.NewImageResult()
		images := snnref.RandomImages(r, net, 8)
		size := net.Input.Size()
		i := 0
		run := func() {
			if err := sim.RunImage(images[(i%8)*size:(i%8+1)*size], i, res); err != nil {
				t.Fatal(err)
			}
			i++
		}
		for j := 0; j < 8; j++ {
			run()
		}
		if a := testing.AllocsPerRun(20, run); a != 0 {
			t.Errorf("%v %s: %v allocations per image", c.kind, c.enc, a)
		}
	}
}

// TestFixtureAllocs: on the fixture network (direct input, conv layers)
// a whole image allocates nothing after the first.
func TestFixtureAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	checkNoAllocs(t, fixtureSNN(t, "a"))
}

// TestGraphAllocs: nor on the graph benchmark networks (MaxPools fed by
// a constant-current layer and by spiking layers, residual Adds, strided
// and 1×1 shortcut convolutions, global average pooling).
func TestGraphAllocs(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not meaningful under the race detector; converts two networks")
	}
	for _, name := range []string{"vgg", "resnet-random"} {
		t.Run(name, func(t *testing.T) { checkNoAllocs(t, graphSNN(t, name)) })
	}
}

// checkNoAllocs runs MNIST test images through a Simulator of net and
// requires no allocation per image once every image has been seen.
func checkNoAllocs(t *testing.T, net *network.Network) {
	t.Helper()
	loadFixture(t)
	sim, err := NewSimulator(net, network.SimOptions{T: 32, KeepCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	res := sim.NewImageResult()
	i := 0
	run := func() {
		if err := sim.RunImage(fixtureImage(i%4), i%4, res); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for j := 0; j < 8; j++ { // every image once: buckets reach their size
		run()
	}
	if a := testing.AllocsPerRun(8, run); a != 0 {
		t.Errorf("%v allocations per image", a)
	}
}

// TestSparseAllocs: nor with SparseLinear projections — random graphs
// with their Linear layers sparsified, and a sparse synthetic network
// whose layers of 2¹⁷ neurons take the two-level active set — with and
// without exit rules (the exact rule, whose first-layer chunks are short).
func TestSparseAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	r := rand.New(rand.NewPCG(8, 9))
	type netImages struct {
		name string
		net  *network.Network
		x    []float32
	}
	var cases []netImages
	for _, kind := range []snnref.Kind{snnref.MLP, snnref.ResNet} {
		net := sparsify(r, snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}), 0.3)
		cases = append(cases, netImages{kind.String(), net, snnref.RandomImages(r, net, 8)})
	}
	cfg := SyntheticConfig{Inputs: 512, Neurons: 1 << 17, Layers: 2, Activity: 5e-4, Seed: 3, Fanout: 8}
	syn, err := SyntheticNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := SyntheticImages(cfg, 8)
	cases = append(cases, netImages{"synthetic 2¹⁷", syn, xs})
	for _, c := range cases {
		exact, err := network.NewExactExit(c.net)
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range []network.Exit{nil, exact, network.MarginExit{M: 0.5, MinSteps: 2}} {
			sim, err := NewSimulator(c.net, network.SimOptions{T: 16, KeepCounts: true, Exit: rule})
			if err != nil {
				t.Fatal(err)
			}
			res := sim.NewImageResult()
			size := c.net.Input.Size()
			i := 0
			run := func() {
				if err := sim.RunImage(c.x[(i%8)*size:(i%8+1)*size], i, res); err != nil {
					t.Fatal(err)
				}
				i++
			}
			for range 8 {
				run()
			}
			if a := testing.AllocsPerRun(8, run); a != 0 {
				t.Errorf("%s, exit %v: %v allocations per image", c.name, rule, a)
			}
		}
	}
}
