package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// recording simulates a random ResNet-like SNN (a count-gated MaxPool,
// shortcuts) on 3 images for 8 steps, recording the spikes, and returns
// the recording's path and the run's result.
func recording(t *testing.T, dir string) (string, *network.SimResult) {
	path, res, _ := recordingOf(t, dir)
	return path, res
}

// recordingOf is recording that also returns the network simulated.
func recordingOf(t *testing.T, dir string) (string, *network.SimResult, *network.Network) {
	t.Helper()
	run := fixture.RandomRun(t, snnref.ResNet, 1, 3, 8)
	c, h, w := run.Net.Input[0], run.Net.Input[1], run.Net.Input[2]
	set := &dataset.Set{Name: "random", Images: run.Images, Labels: run.Labels, N: run.Count, C: c, H: h, W: w, Classes: 10}
	in := &analysis.Inputs{ANN: run.Net, SNN: run.Net, Set: set, Opts: network.SimOptions{T: 8}, Model: "random"}
	path := filepath.Join(dir, "run.spk")
	sim, err := in.SimulateWith(event.Engine{}, analysis.SimulateOptions{Record: path}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return path, sim.Result, run.Net
}

func TestSpikesCommand(t *testing.T) {
	dir := t.TempDir()
	path, res, net := recordingOf(t, dir)

	code, out, stderr := runCLI(t, "spikes", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, l := range res.Layers {
		if !strings.Contains(out, l.Name) {
			t.Errorf("summary lacks layer %q:\n%s", l.Name, out)
		}
	}
	var s analysis.RecordingSummary
	runJSON(t, &s, "spikes", path, "--json")
	if s.Images != 3 || s.T != 8 || len(s.Layers) != len(res.Layers) {
		t.Fatalf("summary %+v", s)
	}
	for k, l := range s.Layers {
		if l.Spikes != res.Layers[k].Spikes || !slices.Equal(l.SpikesByStep, res.Layers[k].SpikesByStep) {
			t.Errorf("layer %q: %d spikes, the run %d", l.Name, l.Spikes, res.Layers[k].Spikes)
		}
	}

	png, csvPath := filepath.Join(dir, "r.png"), filepath.Join(dir, "s.csv")
	if code, _, stderr := runCLI(t, "spikes", path, "--image", "2", "--raster", png, "--csv", csvPath); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("raster: %v", err)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, n := range res.ImageSpikes[2] {
		want += n
	}
	if lines := strings.Count(string(b), "\n"); int64(lines) != 1+want || !strings.HasPrefix(string(b), "image,layer,step,neuron\n2,") {
		t.Errorf("CSV of image 2: %d lines, want %d", lines, 1+want)
	}
	code, out, stderr = runCLI(t, "spikes", path, "--csv", "-", "--counts")
	if code != 0 || strings.Count(out, "\n") != 1+3*len(res.Layers) || !strings.HasPrefix(out, "image,layer,spikes\n") {
		t.Errorf("--csv - --counts: exit %d, %q %s", code, out, stderr)
	}

	// The profile from the recording and the model has the run's SOPs.
	model := filepath.Join(dir, "net.evsnn")
	if err := os.WriteFile(model, encoded(t, net), 0o644); err != nil {
		t.Fatal(err)
	}
	var p profile.Profile
	runJSON(t, &p, "spikes", path, "--profile", "--model", model, "--json")
	if len(p.Layers) != len(res.Layers) || p.Accuracy != nil {
		t.Fatalf("profile %+v", p)
	}
	for k, l := range p.Layers {
		if l.SOPs != res.Layers[k].SOPs || l.Spikes != res.Layers[k].Spikes {
			t.Errorf("layer %q: %d SOPs, %d spikes; the run %d, %d", l.Name, l.SOPs, l.Spikes, res.Layers[k].SOPs, res.Layers[k].Spikes)
		}
	}
	other := filepath.Join(dir, "other.evsnn")
	if err := os.WriteFile(other, encoded(t, fixture.TinySNN(4)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "spikes", path, "--profile", "--model", other)
	if last := lastLine(stderr); code != 2 || !strings.Contains(last, "not the network recorded") {
		t.Errorf("--profile with another model: exit %d, %q", code, last)
	}
	code, _, stderr = runCLI(t, "spikes", path, "--profile")
	if last := lastLine(stderr); code != 2 || !strings.Contains(last, "random") {
		t.Errorf("--profile without a model file: exit %d, %q", code, last)
	}
}

// A truncated or corrupt recording and bad flags are exit status 2 with
// one line naming the problem, and leave no output file.
func TestSpikesBadInput(t *testing.T) {
	dir := t.TempDir()
	path, _ := recording(t, dir)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 1
	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"truncated", []string{"spikes", write("trunc.spk", data[:len(data)-7])}, "trunc.spk"},
		{"truncated csv", []string{"spikes", write("trunc2.spk", data[:len(data)/3]), "--csv", out + ".csv"}, "trunc2.spk"},
		{"corrupt", []string{"spikes", write("flip.spk", flipped)}, "flip.spk"},
		{"corrupt raster", []string{"spikes", write("flip2.spk", flipped), "--image", "1", "--raster", out + ".png"}, "flip2.spk"},
		{"not a recording", []string{"spikes", "../../testdata/mnist_lenet.onnx"}, "mnist_lenet.onnx"},
		{"missing", []string{"spikes", filepath.Join(dir, "nope.spk")}, "nope.spk"},
		{"raster without image", []string{"spikes", path, "--raster", out + ".png"}, "--image"},
		{"image out of range", []string{"spikes", path, "--image", "3", "--raster", out + ".png"}, "--image 3"},
		{"raster format", []string{"spikes", path, "--image", "0", "--raster", out + ".gif"}, "gif"},
		{"counts without csv", []string{"spikes", path, "--counts"}, "--csv"},
		{"model without profile", []string{"spikes", path, "--model", path}, "--profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantBadInput(t, tc.want, tc.args...)
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "out") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("partial output %s left behind", e.Name())
		}
	}
}
