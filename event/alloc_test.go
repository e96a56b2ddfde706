package event

import (
	"math/rand/v2"
	"testing"

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
		kind int
		enc  network.Encoding
	}{{1, network.EncodingDirect}, {0, network.EncodingPoisson}, {1, network.EncodingPoisson}} {
		net := randomNet(r, c.kind, 1, network.ResetSoft)
		opts := network.SimOptions{T: 16, Encoding: c.enc, KeepCounts: true, Delays: randomDelays(r, net)}
		sim, err := NewSimulator(net, opts)
		if err != nil {
			t.Fatal(err)
		}
		res := sim.NewImageResult()
		images := randomImages(r, net, 8)
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
			t.Errorf("kind %d %s: %v allocations per image", c.kind, c.enc, a)
		}
	}
}

// TestFixtureAllocs: on the fixture network (direct input, conv layers)
// a whole image allocates nothing after the first.
func TestFixtureAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	snn := fixtureSNN(t, "a")
	sim, err := NewSimulator(snn, network.SimOptions{T: 32, KeepCounts: true})
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
