package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/analysis"
)

// fixtureSNNFile converts the fixture ANN once per test (64 calibration
// images keep it quick under -race) and returns the SNN model file.
func fixtureSNNFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lenet.evsnn")
	code, _, stderr := runCLI(t, "--log-level", "warn", "convert", "../../testdata/mnist_lenet.onnx", "--calib-images", "64", "-o", path)
	if code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	return path
}

// runJSON runs the command line and decodes its stdout into v.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"--log-level", "warn"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: output is not JSON: %v\n%s", args, err, out)
	}
}

// The three engines give the same numbers through `simulate --json`, and
// the JSON has what SPEC §7 asks for.
func TestSimulateEnginesAgree(t *testing.T) {
	snn := fixtureSNNFile(t)
	const images, T = 24, 12
	var ref *analysis.Simulation
	for _, engine := range []string{"event", "dense", "dense-skip"} {
		var got analysis.Simulation
		runJSON(t, &got, "simulate", snn, "--engine", engine, "--images", "24", "--T", "12", "--json")
		if got.Engine != engine || got.T != T || got.Images != images || len(got.AccuracyByStep) != T || len(got.Layers) != 3 {
			t.Fatalf("%s: engine %q T %d images %d, %d accuracies, %d layers", engine, got.Engine, got.T, got.Images, len(got.AccuracyByStep), len(got.Layers))
		}
		if got.Layers[0].Spikes == 0 {
			t.Fatalf("%s: no spikes in the first layer", engine)
		}
		if ref == nil {
			ref = &got
			continue
		}
		if got.Accuracy != ref.Accuracy || !slices.Equal(got.AccuracyByStep, ref.AccuracyByStep) {
			t.Errorf("%s: accuracy by step %v, event %v", engine, got.AccuracyByStep, ref.AccuracyByStep)
		}
		for k, l := range got.Layers {
			if r := ref.Layers[k]; l.Spikes != r.Spikes || l.SOPs != r.SOPs || !slices.Equal(l.SpikesByStep, r.SpikesByStep) {
				t.Errorf("%s layer %s: %d spikes %d SOPs, event %d %d", engine, l.Name, l.Spikes, l.SOPs, r.Spikes, r.SOPs)
			}
		}
	}
}

// With Poisson input the engines count the same input spikes and SOPs.
func TestSimulatePoissonInputSpikes(t *testing.T) {
	snn := fixtureSNNFile(t)
	var ev, de analysis.Simulation
	runJSON(t, &ev, "simulate", snn, "--engine", "event", "--encoding", "poisson", "--images", "6", "--T", "6", "--json")
	runJSON(t, &de, "simulate", snn, "--engine", "dense", "--encoding", "poisson", "--images", "6", "--T", "6", "--json")
	if ev.InputSpikes == 0 || ev.InputSOPs <= ev.InputSpikes || ev.InputSpikes != de.InputSpikes || ev.InputSOPs != de.InputSOPs {
		t.Errorf("input spikes/SOPs: event %d/%d, dense %d/%d", ev.InputSpikes, ev.InputSOPs, de.InputSpikes, de.InputSOPs)
	}
}

// `compare --json` reports agreement of the two engines image by image.
func TestCompareJSON(t *testing.T) {
	snn := fixtureSNNFile(t)
	var got analysis.Comparison
	runJSON(t, &got, "compare", snn, "--images", "16", "--T", "8", "--json")
	if got.Images != 16 || got.SamePredictions != 16 || len(got.Disagreements) != 0 || len(got.Layers) != 3 {
		t.Fatalf("images %d, same predictions %d, disagreements %v, %d layers", got.Images, got.SamePredictions, got.Disagreements, len(got.Layers))
	}
	for _, l := range got.Layers {
		if l.DenseSpikes != l.EventSpikes || l.DenseSpikes == 0 {
			t.Errorf("layer %s: dense %d spikes, event %d", l.Name, l.DenseSpikes, l.EventSpikes)
		}
	}
}

// `bench --json` times both engines on a model (with the agreement
// check and the streaming latency) and sweeps a small synthetic network.
func TestBenchJSON(t *testing.T) {
	snn := fixtureSNNFile(t)
	var got analysis.Bench
	runJSON(t, &got, "bench", snn, "--images", "8", "--T", "8", "--latency", "4",
		"--neurons", "64", "--syn-images", "2", "--activities", "0.01,0.5", "--json")
	m := got.Model
	if m == nil || len(m.Engines) != 2 || m.Latency == nil || m.Latency.Images != 4 || m.Agreement == nil {
		t.Fatalf("model section %+v", m)
	}
	if !m.Agreement.Pass || m.Agreement.SamePredictions != 8 {
		t.Errorf("agreement %+v", *m.Agreement)
	}
	if len(got.Synthetic) != 2 {
		t.Fatalf("%d synthetic rows, want 2", len(got.Synthetic))
	}
	lo, hi := got.Synthetic[0], got.Synthetic[1]
	if !(hi.SpikesPerImg > 10*lo.SpikesPerImg) || lo.EventMs <= 0 {
		t.Errorf("synthetic: %.0f spikes at 1 %%, %.0f at 50 %%, event %.3f ms", lo.SpikesPerImg, hi.SpikesPerImg, lo.EventMs)
	}
}
