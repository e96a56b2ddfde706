package event

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// The report tests measure what doc.go reports. They are slow, need the
// machine to themselves for their timings (run them with GOMAXPROCS=1;
// times are CPU times, compared as ratios of runs alternated in one
// process) and run only when EVSNN_REPORT names them:
//
//	EVSNN_REPORT=exit,pruned,big,best GOMAXPROCS=1 go test -run Report -v -timeout 3h ./event/

// wantReport skips the test unless EVSNN_REPORT lists name.
func wantReport(t *testing.T, name string) {
	t.Helper()
	if !slices.Contains(strings.Split(os.Getenv("EVSNN_REPORT"), ","), name) {
		t.Skipf("a report: set EVSNN_REPORT=%s", name)
	}
}

// median of durations.
func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestReportEarlyExit: the LeNet fixture (calibratedLeNet) on the 10,000
// test images at T = 8, 16, 32 with no rule, the exact rule and margin
// rules: mean steps per image, accuracy, SOPs per image and saved, and the
// CPU time of the run on one worker (median of rounds that alternate the
// rules). The exact rule must keep every prediction and the accuracy
// after every step.
func TestReportEarlyExit(t *testing.T) {
	wantReport(t, "exit")
	snn := calibratedLeNet(t)
	x, y := fixture.MNIST(t, "test", 0)
	exact, err := network.NewExactExit(snn)
	if err != nil {
		t.Fatal(err)
	}
	rules := []network.Exit{nil, exact, network.MarginExit{M: 1}, network.MarginExit{M: 2}, network.MarginExit{M: 3}}
	const rounds = 3
	for _, T := range []int{8, 16, 32} {
		results := make([]*network.SimResult, len(rules))
		times := make([][]time.Duration, len(rules))
		for range rounds {
			for ri, rule := range rules {
				c0 := cpuTime()
				res, err := Engine{}.Run(snn, x, y, network.SimOptions{T: T, Workers: 1, Exit: rule})
				if err != nil {
					t.Fatal(err)
				}
				times[ri] = append(times[ri], cpuTime()-c0)
				results[ri] = res
			}
		}
		checkSameAccuracy(t, fmt.Sprintf("T = %d", T), results[0], results[1], nil, nil)
		var full float64
		for ri, rule := range rules {
			res := results[ri]
			steps, sops := 0, int64(0)
			for _, s := range res.Steps {
				steps += s
			}
			for _, l := range res.Layers {
				sops += l.SOPs
			}
			perImage := float64(sops) / float64(res.Images)
			name := "none"
			if rule != nil {
				name = rule.String()
			} else {
				full = perImage
			}
			tm := median(times[ri])
			t.Logf("T=%2d %-9s steps/image %6.2f  accuracy %.2f%%  SOPs/image %9.0f  saved %5.1f%%  time %6.2f s (%.2f of none)",
				T, name, float64(steps)/float64(res.Images), 100*float64(res.CorrectByStep[T-1])/float64(res.Images), perImage,
				100*(1-perImage/full), tm.Seconds(), tm.Seconds()/median(times[0]).Seconds())
		}
	}
}

// prunedLeNet is the LeNet fixture ANN with fc1 magnitude-pruned: its
// smallest weights by |w| (a fraction sparsity of them) zeroed and the
// layer made a SparseLinear (network.Sparsify), then converted as
// calibratedLeNet is.
func prunedLeNet(t *testing.T, sparsity float64) *network.Network {
	t.Helper()
	ann := fixture.LeNet(t)
	i := ann.Index("fc1")
	fc1 := *ann.Layers[i].(*network.Linear)
	fc1.Weight = slices.Clone(fc1.Weight)
	order := make([]int, len(fc1.Weight))
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(math.Abs(float64(fc1.Weight[a])), math.Abs(float64(fc1.Weight[b])))
	})
	for _, j := range order[:int(math.Round(sparsity*float64(len(order))))] {
		fc1.Weight[j] = 0
	}
	ann.Layers[i] = network.Sparsify(&fc1)
	xc, _ := fixture.MNIST(t, "train", 1024)
	snn, err := convert.FromANN(ann, xc, 1024, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return snn
}

// TestReportPrunedLeNet: fc1 of the LeNet fixture pruned to 90 % sparsity
// runs as a SparseLinear: accuracy at T = 32 on the 10,000 test images
// against the unpruned network, time per image, and the synaptic-event
// rate of fc1's delivery — in the engine (adds into relu3 over the time
// of its delivery) and replayed in a loop (min over rounds) from the
// events the run delivered.
func TestReportPrunedLeNet(t *testing.T) {
	wantReport(t, "pruned")
	full := calibratedLeNet(t)
	pruned := prunedLeNet(t, 0.9)
	x, y := fixture.MNIST(t, "test", 0)
	opts := network.SimOptions{T: 32, Workers: 1}
	var times [2][]time.Duration
	var results [2]*network.SimResult
	for range 3 {
		for k, net := range []*network.Network{full, pruned} {
			c0 := cpuTime()
			res, err := Engine{}.Run(net, x, y, opts)
			if err != nil {
				t.Fatal(err)
			}
			times[k] = append(times[k], cpuTime()-c0)
			results[k] = res
		}
	}
	fc1 := pruned.Layers[pruned.Index("fc1")].(*network.SparseLinear)
	for k, name := range []string{"dense fc1", "fc1 90 % pruned"} {
		res := results[k]
		t.Logf("%-16s accuracy %.2f%%  SOPs/image of relu2 (into fc1) %.0f  time/image %.0f µs",
			name, 100*float64(res.CorrectByStep[31])/float64(res.Images), float64(res.Layers[1].SOPs)/float64(res.Images),
			median(times[k]).Seconds()/float64(res.Images)*1e6)
	}
	t.Logf("fc1: %d synapses of %d (%.1f %%)", len(fc1.Weights), fc1.In*fc1.Out, 100*float64(len(fc1.Weights))/float64(fc1.In*fc1.Out))

	// fc1's events of 500 images, replayed.
	sim, err := NewSimulator(pruned, opts)
	if err != nil {
		t.Fatal(err)
	}
	var pi = -1
	for i, pr := range sim.p.projs {
		if pr.kind == fanSparse && !sim.p.layers[pr.target].readout {
			pi = i
		}
	}
	if pi < 0 {
		t.Fatal("no SparseLinear projection into a spiking layer")
	}
	var steps [][]ev
	sim.deliverHook = func(p int, evs []ev) {
		if p == pi {
			steps = append(steps, slices.Clone(evs))
		}
	}
	res := sim.NewImageResult()
	for i := range 500 {
		if err := sim.RunImage(x[i*784:(i+1)*784], i, res); err != nil {
			t.Fatal(err)
		}
	}
	sim.deliverHook = nil
	rate := replayRate(&sim.p.projs[pi].sp, sim.p.projs[pi].targetSize, steps, false)
	t.Logf("fc1 delivery replayed: %.2f G synaptic events/s (in L1: 128 targets, %d synapses)", rate/1e9, len(fc1.Weights))
}

// replayRate delivers the recorded steps of events along f in a loop and
// returns synaptic events per CPU second (the best of 20 rounds).
func replayRate(f *sparseFan, n int, steps [][]ev, mark bool) float64 {
	acc := make([]float32, n)
	var touched, top []uint64
	if mark {
		touched, top = make([]uint64, (n+63)/64), make([]uint64, (n+4095)/4096)
	}
	syn := 0
	for _, evs := range steps {
		for _, e := range evs {
			syn += f.synapses(e.pos)
		}
	}
	best := time.Duration(math.MaxInt64)
	for range 20 {
		c0 := cpuTime()
		for _, evs := range steps {
			f.deliver(acc, touched, top, evs)
		}
		best = min(best, cpuTime()-c0)
		clear(touched)
		clear(top)
	}
	return float64(syn) / best.Seconds()
}

// TestReportBigSynthetic: sparse synthetic networks (two hidden layers of
// N = 10⁶, 4·10⁶, 1.6·10⁷ IF neurons, 8 random synapses per source,
// about 1, 800 or 1,600 spikes per layer and step whatever N: up to
// 0.01 % activity at 1.6·10⁷) on one image at T = 40: median CPU time per
// step (steps 5–40; median of 5 rounds) with the engine's choice of
// active set (two-level) and with the flat bitset forced, the per-image
// cost outside the steps, and the synaptic-event rate into the second
// layer replayed from the run's events. Needs about 7 GB.
func TestReportBigSynthetic(t *testing.T) {
	wantReport(t, "big")
	type size struct{ n, spikes int }
	// One spike a step shows what a step costs beside its spikes.
	for _, c := range []size{{1e6, 1}, {1e6, 800}, {1e6, 1600}, {4e6, 1}, {4e6, 800}, {4e6, 1600}, {16e6, 1}, {16e6, 800}, {16e6, 1600}} {
		n := c.n
		cfg := SyntheticConfig{Inputs: 1024, Neurons: n, Layers: 2, Activity: float64(c.spikes) / float64(n), Seed: 1, Fanout: 8}
		net, err := SyntheticNetwork(cfg)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := SyntheticImages(cfg, 1)
		const T = 40
		sim, err := NewSimulator(net, network.SimOptions{T: T})
		if err != nil {
			t.Fatal(err)
		}
		res := sim.NewImageResult()
		var stamps []time.Duration
		sim.stepHook = func(int32) { stamps = append(stamps, cpuTime()) }
		pi := -1
		for i, pr := range sim.p.projs {
			if pr.kind == fanSparse && pr.target == 1 {
				pi = i
			}
		}
		var steps [][]ev
		sim.deliverHook = func(p int, evs []ev) {
			if p == pi {
				steps = append(steps, slices.Clone(evs))
			}
		}
		if err := sim.RunImage(x, 0, res); err != nil { // first touch of the memory
			t.Fatal(err)
		}
		sim.deliverHook = nil
		forms := []struct {
			name string
			form int
		}{{"engine's choice", formAdaptive}, {"flat forced", formFlat}}
		perStep := make([][]time.Duration, len(forms))
		outside := make([][]time.Duration, len(forms))
		for range 5 {
			for fi, f := range forms {
				sim.form = f.form
				stamps = stamps[:0]
				c0 := cpuTime()
				if err := sim.RunImage(x, 0, res); err != nil {
					t.Fatal(err)
				}
				c1 := cpuTime()
				var d []time.Duration
				for s := 5; s < T; s++ {
					d = append(d, stamps[s]-stamps[s-1])
				}
				m := median(d)
				perStep[fi] = append(perStep[fi], m)
				outside[fi] = append(outside[fi], (c1-c0)-time.Duration(T)*m)
			}
		}
		var spikes int64
		for _, s := range res.Spikes {
			spikes += s
		}
		t.Logf("N = %8d: %d spikes/step, %d synaptic events and %d neuron updates/step",
			n, spikes/T, (res.Work.Adds[1]+res.Work.Adds[2])/T, (res.Work.Updates[0]+res.Work.Updates[1])/T)
		for fi, f := range forms {
			t.Logf("  %-16s %7.0f µs/step, %6.1f ms/image outside the steps", f.name, median(perStep[fi]).Seconds()*1e6, median(outside[fi]).Seconds()*1e3)
		}
		rate := replayRate(&sim.p.projs[pi].sp, n, steps, true)
		t.Logf("  if1 → if2 delivery replayed (marking a two-level set): %.2f G synaptic events/s", rate/1e9)
	}
}
