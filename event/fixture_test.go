package event

import (
	"math"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// The fixture (LeNet ONNX, expected numbers, MNIST test set) comes from
// internal/fixture, loaded once for the package's tests.
var (
	fixtureMu     sync.Mutex
	fixtureANN    *network.Network
	fixtureExp    *fixture.Expected
	fixtureImages []float32
	fixtureLabels []int
)

// loadFixture loads the fixture once; it skips the test when the fixture
// or the MNIST data is missing.
func loadFixture(tb testing.TB) {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if fixtureANN != nil {
		return
	}
	exp := fixture.LoadExpected(tb)
	x, y := fixture.MNIST(tb, "test", 0)
	fixtureANN, fixtureExp, fixtureImages, fixtureLabels = fixture.LeNet(tb), exp, x, y
}

// fixtureImage is MNIST test image i (784 values).
func fixtureImage(i int) []float32 { return fixtureImages[i*784 : (i+1)*784] }

// fixtureSNN converts the fixture ANN as variant "a" (max thresholds),
// "c" (p99.99) or "d" (p99.99, v0 = θ/2).
func fixtureSNN(tb testing.TB, variant string) *network.Network {
	loadFixture(tb)
	th := fixtureExp.Calibration.ReLUMax
	var o convert.Options
	switch variant {
	case "c":
		th = fixtureExp.Calibration.ReLUP99_99
	case "d":
		th = fixtureExp.Calibration.ReLUP99_99
		o.V0Fraction = 0.5
	}
	ths := make([][]float32, len(th))
	for i, v := range th {
		ths[i] = []float32{float32(v)}
	}
	snn, err := convert.Convert(fixtureANN, ths, o)
	if err != nil {
		tb.Fatal(err)
	}
	return snn
}

// TestFixtureTrace checks the first 16 test images against the PyTorch
// trace of variant a at T = 32: predictions, per-layer spike counts and the
// readout accumulator.
func TestFixtureTrace(t *testing.T) {
	snn := fixtureSNN(t, "a")
	n := len(fixtureExp.Trace.Pred)
	opts := network.SimOptions{T: 32, KeepOutputs: true, Workers: 1}
	res, err := Engine{}.Run(snn, fixtureImages[:n*784], fixtureLabels[:n], opts)
	if err != nil {
		t.Fatal(err)
	}
	mism := 0
	for i := 0; i < n; i++ {
		if res.Predictions[i] != fixtureExp.Trace.Pred[i] {
			t.Errorf("image %d: prediction %d, PyTorch %d", i, res.Predictions[i], fixtureExp.Trace.Pred[i])
		}
		for k, want := range fixtureExp.Trace.Spikes[i] {
			if got := res.ImageSpikes[i][k]; got != want {
				mism++
				t.Logf("image %d layer %d: %d spikes, PyTorch %d", i, k, got, want)
			}
		}
		for o, want := range fixtureExp.Trace.Output[i] {
			got := float64(res.Outputs[i*10+o])
			if math.Abs(got-want) > 1e-3*math.Max(1, math.Abs(want)) {
				t.Logf("image %d output %d: %v, PyTorch %v", i, o, got, want)
			}
		}
	}
	if mism > 2 {
		t.Errorf("%d per-layer spike counts of %d differ from PyTorch", mism, 3*n)
	}
}

// TestFixtureVsDense compares the event engine with the dense engine on
// the first 200 test images (variant a, T = 32): predictions and per-layer
// spike totals. (The full 10k comparison is `evsnn bench`.)
func TestFixtureVsDense(t *testing.T) {
	snn := fixtureSNN(t, "a")
	n := 200
	if testing.Short() || testenv.RaceEnabled {
		n = 30
	}
	x, labels := fixtureImages[:n*784], fixtureLabels[:n]
	opts := network.SimOptions{T: 32, KeepCounts: true}
	ev, err := Engine{}.Run(snn, x, labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	de, err := dense.Engine{}.Run(snn, x, labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range ev.Predictions {
		if ev.Predictions[i] != de.Predictions[i] {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d of %d predictions differ between event and dense", diff, n)
	}
	for k := range ev.Layers {
		a, b := ev.Layers[k], de.Layers[k]
		t.Logf("%s: event %d spikes %d SOPs, dense %d spikes %d SOPs", a.Name, a.Spikes, a.SOPs, b.Spikes, b.SOPs)
		if d := math.Abs(float64(a.Spikes-b.Spikes)) / float64(max(b.Spikes, 1)); d > 1e-4 {
			t.Errorf("%s: %d spikes, dense %d (%.4f%%)", a.Name, a.Spikes, b.Spikes, 100*d)
		}
		neuronDiff := 0
		for j := range ev.Counts[k] {
			if ev.Counts[k][j] != de.Counts[k][j] {
				neuronDiff++
			}
		}
		t.Logf("%s: %d (image, neuron) spike counts differ", a.Name, neuronDiff)
	}
	for i := range ev.CorrectByStep {
		if ev.CorrectByStep[i] != de.CorrectByStep[i] {
			t.Logf("step %d: correct %d vs dense %d", i+1, ev.CorrectByStep[i], de.CorrectByStep[i])
		}
	}
}
