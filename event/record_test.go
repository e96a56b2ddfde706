package event

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// collectSpikes runs an engine with RecordSpikes and returns every
// image's recorded spikes as OnImage saw them.
func collectSpikes(t *testing.T, run func(opts network.SimOptions) (*network.SimResult, error), opts network.SimOptions, count int) [][]network.RasterEvent {
	t.Helper()
	ids := make([][]network.RasterEvent, count)
	seen := make([]bool, count)
	var mu sync.Mutex
	opts.RecordSpikes = true
	opts.OnImage = func(i int, rec *network.ImageRecord) error {
		c := rec.Recorded.Spikes()
		mu.Lock()
		defer mu.Unlock()
		if seen[i] {
			return fmt.Errorf("image %d handed over twice", i)
		}
		ids[i], seen[i] = c, true
		return nil
	}
	if _, err := run(opts); err != nil {
		t.Fatal(err)
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("OnImage never saw image %d", i)
		}
	}
	return ids
}

// TestRecordedSpikes: with RecordSpikes the event engine hands OnImage, for
// every image, the spike ids the reference makes — every spiking layer
// and step, neurons in the network's order — on random graphs of every
// kind, direct and Poisson input, with delays and with an exit rule, for
// every update policy and 1 and 3 workers.
func TestRecordedSpikes(t *testing.T) {
	nets := 2
	if testing.Short() || testenv.RaceEnabled {
		nets = 1
	}
	for ci, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			t.Run(fmt.Sprintf("%v/%s", kind, enc), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(ci), 23))
				for n := range nets {
					net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: []float32{1, 0.5}[n%2], Reset: network.ResetSoft})
					x := snnref.RandomImages(r, net, 4)
					opts := network.SimOptions{T: 10 + r.IntN(10), Encoding: enc, Seed: 9}
					if n == 1 {
						opts.Delays = snnref.RandomDelays(r, net)
						opts.Exit = network.MarginExit{M: 0.5, MinSteps: 3}
					}
					want := collectSpikes(t, func(o network.SimOptions) (*network.SimResult, error) { return snnref.Run(net, x, nil, o) }, opts, 4)
					spikes := 0
					for _, img := range want {
						spikes += len(img)
					}
					if spikes == 0 {
						t.Fatal("no spikes: the case tests nothing")
					}
					for _, pol := range policies {
						for _, workers := range []int{1, 3} {
							o := opts
							o.Workers = workers
							got := collectSpikes(t, func(o network.SimOptions) (*network.SimResult, error) {
								res, _, err := runWork(net, x, nil, o, pol.policy)
								return res, err
							}, o, 4)
							for i := range want {
								if !slices.Equal(got[i], want[i]) {
									t.Fatalf("policy %s, %d workers, image %d: %d spikes recorded, reference %d (%v)\n%s", pol.name, workers, i, len(got[i]), len(want[i]), firstDifference(got[i], want[i]), describe(net))
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestOnImageError: an error from OnImage stops the run and is returned.
func TestOnImageError(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.Chain, Alpha: 1, Reset: network.ResetSoft})
	x := snnref.RandomImages(r, net, 50)
	stop := errors.New("disk full")
	for _, workers := range []int{1, 2} {
		var mu sync.Mutex
		seen := 0
		opts := network.SimOptions{T: 8, Workers: workers, RecordSpikes: true, OnImage: func(i int, rec *network.ImageRecord) error {
			mu.Lock()
			defer mu.Unlock()
			seen++
			if i == 3 {
				return stop
			}
			return nil
		}}
		if _, err := (Engine{}).Run(net, x, nil, opts); !errors.Is(err, stop) {
			t.Errorf("%d workers: error %v, want %v", workers, err, stop)
		}
		if seen >= 50 {
			t.Errorf("%d workers: the run went on after the error (%d images seen)", workers, seen)
		}
	}
}

// TestRecordAllocs: recording spikes allocates nothing per image once the
// id lists have grown to their size.
func TestRecordAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	loadFixture(t)
	sim, err := NewSimulator(fixtureSNN(t, "a"), network.SimOptions{T: 32, RecordSpikes: true, Exit: network.MarginExit{M: 2}})
	if err != nil {
		t.Fatal(err)
	}
	res := sim.NewImageResult()
	i := 0
	ids := 0
	run := func() {
		if err := sim.RunImage(fixtureImage(i%4), i%4, res); err != nil {
			t.Fatal(err)
		}
		ids = 0
		for k := range res.Spikes {
			ids += res.Recorded.Len(k) // one slot per layer here
		}
		i++
	}
	for range 8 {
		run()
	}
	if a := testing.AllocsPerRun(8, run); a != 0 {
		t.Errorf("%v allocations per image", a)
	}
	if ids == 0 {
		t.Errorf("no spike ids recorded")
	}
}

// TestRecordedSpikesFused covers the constant-current layer's fused paths when
// recording: one channel (the engine's order is then the network's) and
// several, into an average pool and into a count-gated MaxPool.
func TestRecordedSpikesFused(t *testing.T) {
	for _, c := range []struct {
		name     string
		channels int
		max      bool
	}{{"one channel, avgpool", 1, false}, {"three channels, avgpool", 3, false}, {"one channel, maxpool", 1, true}, {"four channels, maxpool", 4, true}} {
		t.Run(c.name, func(t *testing.T) {
			b := newGB(12, network.Shape{2, 8, 8})
			s1 := b.spiking(b.conv(network.InputNode, c.channels, 3, 1, 1))
			var pool int
			if c.max {
				pool = b.add(&network.MaxPool2d{LayerName: "mp", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, s1)
			} else {
				pool = b.add(&network.AvgPool2d{LayerName: "ap", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, s1)
			}
			s2 := b.spiking(b.conv(pool, 2, 3, 1, 1))
			b.linear(b.add(&network.Flatten{LayerName: "flat"}, s2), 3)
			net := b.done(t)
			sim, err := NewSimulator(net, network.SimOptions{T: 12})
			if err != nil {
				t.Fatal(err)
			}
			if L := sim.p.layers[0]; L.fuseProj < 0 && L.fuseMax < 0 {
				t.Fatalf("the first layer does not take a fused path: the case tests nothing")
			}
			r := rand.New(rand.NewPCG(3, 3))
			x := snnref.RandomImages(r, net, 3)
			opts := network.SimOptions{T: 12}
			want := collectSpikes(t, func(o network.SimOptions) (*network.SimResult, error) { return snnref.Run(net, x, nil, o) }, opts, 3)
			got := collectSpikes(t, func(o network.SimOptions) (*network.SimResult, error) { return Engine{}.Run(net, x, nil, o) }, opts, 3)
			for i := range want {
				if len(want[i]) == 0 {
					t.Fatalf("image %d: no spikes: the case tests nothing", i)
				}
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("image %d: %d spikes recorded, reference %d (%v)", i, len(got[i]), len(want[i]), firstDifference(got[i], want[i]))
				}
			}
		})
	}
}

// firstDifference returns the first events in which a and b differ.
func firstDifference(a, b []network.RasterEvent) []network.RasterEvent {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return []network.RasterEvent{a[i], b[i]}
		}
	}
	return nil
}
