package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/testenv"
)

var resnet struct {
	once sync.Once
	path string
	dir  string
}

// resnetSNNFile converts the ResNet fixture (a MaxPool stem, an identity
// and a downsampling residual block, global average pooling) once per test
// binary, on 64 calibration images.
func resnetSNNFile(t *testing.T) string {
	t.Helper()
	resnet.once.Do(func() {
		dir, err := os.MkdirTemp("", "evsnn-resnet")
		if err != nil {
			t.Fatal(err)
		}
		resnet.dir, resnet.path = dir, filepath.Join(dir, "resnet.evsnn")
		code, _, stderr := runCLI(t, "--log-level", "warn", "convert", "../../testdata/mnist_resnet.onnx", "--calib-images", "64", "-o", resnet.path)
		if code != 0 {
			t.Fatalf("convert: exit %d: %s", code, stderr)
		}
	})
	if _, err := os.Stat(resnet.path); err != nil {
		t.Fatalf("the ResNet conversion failed in an earlier test: %v", err)
	}
	return resnet.path
}

func TestMain(m *testing.M) {
	// Tests run whole runs: a job array around `go test` must not make
	// them shards (--shard auto).
	for _, k := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	if resnet.dir != "" {
		os.RemoveAll(resnet.dir)
	}
	os.Exit(code)
}

// inspect shows the residual graph: each Add reads two nodes.
func TestInspectResNet(t *testing.T) {
	var rep analysis.Inspection
	runJSON(t, &rep, "inspect", "../../testdata/mnist_resnet.onnx", "--json")
	var adds []string
	for _, l := range rep.Layers {
		if l.Kind == "add" {
			if len(l.Inputs) != 2 {
				t.Errorf("%s reads %v", l.Name, l.Inputs)
			}
			adds = append(adds, l.Name)
		}
	}
	if rep.Chain || len(adds) != 2 || rep.Params != 19562 || rep.Layers[2].Kind != "maxpool2d" {
		t.Errorf("chain %v, adds %v, %d params, layer 2 %s", rep.Chain, adds, rep.Params, rep.Layers[2].Kind)
	}
}

// simulate, compare and profile on the converted ResNet: the engines agree
// (any disagreement is listed), and the profile charges the stem the
// MaxPool's events into both the block's convolution and the shortcut.
func TestResNetCommands(t *testing.T) {
	snn := resnetSNNFile(t)
	var ev, de analysis.Simulation
	runJSON(t, &ev, "simulate", snn, "--images", "8", "--T", "8", "--json")
	runJSON(t, &de, "simulate", snn, "--engine", "dense", "--images", "8", "--T", "8", "--json")
	if len(ev.Layers) != 5 || ev.Layers[0].Spikes == 0 || ev.Layers[0].Spikes != de.Layers[0].Spikes || ev.Layers[0].SOPs != de.Layers[0].SOPs {
		t.Fatalf("event %+v\ndense %+v", ev.Layers, de.Layers)
	}
	var c analysis.Comparison
	runJSON(t, &c, "compare", snn, "--images", "8", "--T", "8", "--json")
	if c.Images != 8 || c.SamePredictions+len(c.Disagreements) != 8 || len(c.Layers) != 5 || c.ANNAccuracy < 0.875 {
		t.Errorf("compare: %d images, %d same, disagreements %v, ANN %v", c.Images, c.SamePredictions, c.Disagreements, c.ANNAccuracy)
	}
	var p profile.Profile
	runJSON(t, &p, "profile", snn, "--images", "8", "--T", "8", "--error-images", "4", "--json")
	sum := p.Totals.InputMACs
	for _, l := range p.Layers {
		sum += l.ANNMACs
		if l.MSE == nil || l.FirstSpikeLatency == nil {
			t.Errorf("%s: no conversion error or first-spike latency", l.Name)
		}
	}
	if stem := p.Layers[0]; !strings.Contains(stem.Target, "blocks.0.c1") || !strings.Contains(stem.Target, "blocks.0.add") || stem.SOPs != ev.Layers[0].SOPs {
		t.Errorf("stem: target %q, %d SOPs (simulate: %d)", stem.Target, stem.SOPs, ev.Layers[0].SOPs)
	}
	if sum != p.Totals.ANNMACs || p.Totals.InputMACs != 112896 {
		t.Errorf("MACs: input %d + layers = %d, total %d", p.Totals.InputMACs, sum, p.Totals.ANNMACs)
	}
}

// report writes the HTML report of the ResNet with its figures.
func TestResNetReport(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("rendering the figures takes a minute under -race")
	}
	snn := resnetSNNFile(t)
	dir := filepath.Join(t.TempDir(), "report")
	code, out, stderr := runCLI(t, "--log-level", "warn", "report", snn, "--images", "8", "--T", "8", "--error-images", "4", "-o", dir)
	if code != 0 || !strings.Contains(out, "report written to") {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"blocks.0.add", "ANN, dense SNN and event SNN", "data:image/png;base64,"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "compare.json")); err != nil {
		t.Error(err)
	}
}
