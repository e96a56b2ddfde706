package dense_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// TestResNetFixtureTrace checks variant a at T = 32 on the first 16 test
// images against the PyTorch trace — the same predictions; spikes per
// layer within ±1 on at least 14 of the 16 images and within 0.2 % on all
// — and against the shared reference, spike for spike and bit for bit (the
// engine sums in the reference's order). With -race, the first four
// images only, on two workers, without the reference.
//
// Two images differ by more than one spike, in the last spiking layer
// only, and both at a float32 threshold tie (SPEC §5): in image 0 neuron
// 872 of b0r1 reaches θ·(1 − 1.6e-8) at step 13 (below half a float32
// ulp; PyTorch's rounding fires it, ours and float64 do not: b1r1/b1r2
// 2625/3726 against 2626/3724; a float64 simulation that fires it gives
// PyTorch's counts exactly); in image 15 neuron 4264 of stem_relu reaches
// θ·(1 − 7.5e-8) at step 23 (ours fires, float64 and PyTorch do not:
// b1r2 3515 against 3520).
func TestResNetFixtureTrace(t *testing.T) {
	exp := fixture.LoadResNetExpected(t)
	snn := fixture.ResNetSNN(t, "a", 0)
	n := 16
	if testenv.RaceEnabled {
		n = 4
	}
	x, y := fixture.MNIST(t, "test", n)
	opts := network.SimOptions{T: 32, KeepOutputs: true, KeepCounts: true, Workers: 2}
	res, err := dense.Engine{}.Run(snn, x, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	tr := exp.Trace
	off := 0 // images with a layer more than one spike off
	for i := range n {
		if res.Predictions[i] != tr.Pred[i] {
			t.Errorf("image %d: prediction %d, fixture %d", i, res.Predictions[i], tr.Pred[i])
		}
		far := false
		for k := range tr.Spikes[i] {
			got, want := res.ImageSpikes[i][k], tr.Spikes[i][k]
			if d := got - want; d < -1 || d > 1 {
				far = true
				t.Logf("image %d layer %d: %d spikes, fixture %d", i, k, got, want)
			}
			if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.002 {
				t.Errorf("image %d layer %d: %d spikes, fixture %d (%.2g relative)", i, k, got, want, rel)
			}
		}
		if far {
			off++
		}
	}
	if off > 2 {
		t.Errorf("%d of 16 images have a layer more than one spike from the fixture, want at most 2", off)
	}
	t.Logf("image 0: spikes %v, fixture %v", res.ImageSpikes[0], tr.Spikes[0])
	if testenv.RaceEnabled {
		return
	}
	ref, err := snnref.Run(snn, x, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := snnref.Diff(ref, res); d != "" {
		t.Errorf("reference vs dense: %s", d)
	}
}

// TestResNetFixtureSample runs a few hundred test images of variants a and
// b: full products and skipped zeros, one and two workers, give the same
// numbers, and the accuracy is logged beside the fixture's (over 10k).
func TestResNetFixtureSample(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("a few hundred images: skipped with -race and -short")
	}
	exp := fixture.LoadResNetExpected(t)
	const n = 300
	x, y := fixture.MNIST(t, "test", n)
	for _, c := range []struct {
		variant string
		T       int
	}{{"a", 32}, {"b", 8}} {
		snn := fixture.ResNetSNN(t, c.variant, c.T)
		opts := network.SimOptions{T: c.T, KeepCounts: true, KeepOutputs: true}
		var first *network.SimResult
		for _, e := range []struct {
			e       dense.Engine
			workers int
		}{{dense.Engine{}, 2}, {dense.Engine{SkipSilent: true, BatchSize: 7}, 1}} {
			o := opts
			o.Workers = e.workers
			res, err := e.e.Run(snn, x, y, o)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = res
				continue
			}
			if d := snnref.Diff(first, res); d != "" {
				t.Errorf("variant %s T=%d: dense vs %s: %s", c.variant, c.T, e.e.Name(), d)
			}
		}
		want := exp.SNN[c.variant][strconv.Itoa(c.T)]
		t.Logf("variant %s T=%d: %d/%d correct (fixture over 10k: %.2f%%)", c.variant, c.T, first.CorrectByStep[c.T-1], n, float64(want.Correct)/100)
	}
}

// TestResNetFixtureFull checks variants a and b at T = 4, 8, 16, 32 on all
// 10,000 test images against the fixture: correct counts within ±3 images,
// spikes per image per layer within 0.5 %. It takes minutes: run it with
// EVSNN_FULL=1.
func TestResNetFixtureFull(t *testing.T) {
	if !testenv.Full() {
		t.Skip("all 10k images, every T: set EVSNN_FULL=1")
	}
	exp := fixture.LoadResNetExpected(t)
	x, y := fixture.MNIST(t, "test", 0)
	count := len(y)
	check := func(variant string, T int, res *network.SimResult) {
		want := exp.SNN[variant][strconv.Itoa(T)]
		got := res.CorrectByStep[T-1]
		if d := got - want.Correct; d < -3 || d > 3 {
			t.Errorf("variant %s T=%d: %d correct, fixture %d", variant, T, got, want.Correct)
		}
		msg := ""
		for k, name := range exp.SpikingLayers {
			var spikes int64
			for _, s := range res.Layers[k].SpikesByStep[:T] {
				spikes += s
			}
			per := float64(spikes) / float64(count)
			rel := (per - want.SpikesPerImage[name]) / want.SpikesPerImage[name]
			if math.Abs(rel) > 0.005 {
				t.Errorf("variant %s T=%d layer %s: %.4f spikes per image, fixture %.4f (%+.3f%%)", variant, T, name, per, want.SpikesPerImage[name], 100*rel)
			}
			msg += " " + name + " " + strconv.FormatFloat(1e6*rel, 'f', 0, 64) + " ppm"
		}
		t.Logf("variant %s T=%d: %d correct (fixture %d); spikes per image vs fixture:%s", variant, T, got, want.Correct, msg)
	}
	run := func(snn *network.Network, T int) *network.SimResult {
		c0, w0 := cpuTime(), time.Now()
		res, err := dense.Engine{SkipSilent: true}.Run(snn, x, y, network.SimOptions{T: T})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("T=%d: %.1f s wall, %.1f s CPU", T, time.Since(w0).Seconds(), (cpuTime() - c0).Seconds())
		return res
	}
	// Nothing in variant a depends on T: one run of 32 steps, read after
	// each T.
	a := run(fixture.ResNetSNN(t, "a", 0), 32)
	for _, T := range []int{4, 8, 16, 32} {
		check("a", T, a)
	}
	for _, T := range []int{4, 8, 16, 32} {
		check("b", T, run(fixture.ResNetSNN(t, "b", T), T))
	}
}
