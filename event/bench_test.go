package event

import (
	"fmt"
	"testing"
	"time"

	"github.com/evsnn/evsnn/internal/cputime"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// BenchmarkFixtureImage is the per-image cost of the fixture network
// (variant a, T = 32, direct input), over the first 200 test images.
func BenchmarkFixtureImage(b *testing.B) {
	snn := fixtureSNN(b, "a")
	sim, err := NewSimulator(snn, network.SimOptions{T: 32})
	if err != nil {
		b.Fatal(err)
	}
	res := sim.NewImageResult()
	var work Work
	i := 0
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		img := i % 200
		if err := sim.RunImage(fixtureImage(img), img, res); err != nil {
			b.Fatal(err)
		}
		work.Add(&res.Work)
		i++
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(i), "cpu-ns/image")
	b.ReportMetric(float64(work.TotalAdds())/float64(i), "adds/image")
	b.ReportMetric(float64(work.TotalAdds())/b.Elapsed().Seconds()/1e9, "Gadds/s")
}

// BenchmarkFixtureEngines runs both engines over the same 100 images
// (variant a, T = 32, one worker); compare the ns/image of the two.
func BenchmarkFixtureEngines(b *testing.B) {
	benchEngines(b, fixtureSNN(b, "a"), 100)
}

// benchEngines times both engines on the first n MNIST test images of
// net (T = 32, one worker; the dense engine with full products).
func benchEngines(b *testing.B, snn *network.Network, n int) {
	loadFixture(b)
	x, labels := fixtureImages[:n*784], fixtureLabels[:n]
	for _, e := range []network.Engine{Engine{}, dense.Engine{}} {
		b.Run(e.Name(), func(b *testing.B) {
			c0 := cpuTime()
			for b.Loop() {
				if _, err := e.Run(snn, x, labels, network.SimOptions{T: 32, Workers: 1}); err != nil {
					b.Skipf("%s: %v", e.Name(), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N*n), "cpu-ns/image")
		})
	}
}

// BenchmarkSynthetic times the engines on the synthetic network (1024
// inputs, three layers of 4096 IF neurons, T = 32) across activities, per
// input and without setup: the event engine through a Simulator, the dense
// engine (no per-image API; in full, and skipping silent inputs) as a run
// on 1+n inputs minus a run on 1.
// Compare cpu-ns/image between engines and against spikes/image.
func BenchmarkSynthetic(b *testing.B) {
	const n = 8
	for _, a := range []float64{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5} {
		cfg := SyntheticConfig{Activity: a, Seed: 1}
		net, err := SyntheticNetwork(cfg)
		if err != nil {
			b.Fatal(err)
		}
		x, _ := SyntheticImages(cfg, n+1)
		size := net.Input.Size()
		opts := network.SimOptions{T: 32, Workers: 1}
		b.Run(fmt.Sprintf("activity=%g/event", a), func(b *testing.B) {
			sim, err := NewSimulator(net, opts)
			if err != nil {
				b.Fatal(err)
			}
			res := sim.NewImageResult()
			var spikes int64
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				if err := sim.RunImage(x[(i%n)*size:(i%n+1)*size], i, res); err != nil {
					b.Fatal(err)
				}
				for _, s := range res.Spikes {
					spikes += s
				}
				i++
			}
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/image")
			b.ReportMetric(float64(spikes)/float64(b.N), "spikes/image")
		})
		for _, e := range []dense.Engine{{}, {SkipSilent: true}} {
			b.Run(fmt.Sprintf("activity=%g/%s", a, e.Name()), func(b *testing.B) {
				var cpu time.Duration
				for b.Loop() {
					c0 := cpuTime()
					if _, err := e.Run(net, x[:size], nil, opts); err != nil {
						b.Fatal(err)
					}
					c1 := cpuTime()
					if _, err := e.Run(net, x, nil, opts); err != nil {
						b.Fatal(err)
					}
					cpu += (cpuTime() - c1) - (c1 - c0)
				}
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/image")
			})
		}
	}
}

// cpuTime is the CPU time the process has used (zero where the platform
// cannot tell).
func cpuTime() time.Duration {
	t, _ := cputime.Now()
	return t
}
