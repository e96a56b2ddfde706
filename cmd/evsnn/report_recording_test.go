package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// report --from-recording writes the report of a recorded run whose
// profile has the run's spikes; a damaged recording is exit 2 and no
// report.
func TestReportFromRecording(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.spk")
	var sim struct {
		Images int `json:"images"`
		Layers []struct {
			Name   string `json:"name"`
			Spikes int64  `json:"spikes"`
		} `json:"layers"`
	}
	runJSON(t, &sim, "simulate", "../../testdata/mnist_lenet.onnx", "--T", "8", "--images", "20",
		"--record", rec, "--json")
	out := filepath.Join(dir, "rep")
	code, stdout, stderr := runCLI(t, "--log-level", "warn", "report", "--from-recording", rec, "-o", out)
	if code != 0 || !strings.Contains(stdout, "report written") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	var prof struct {
		Layers []struct {
			Name   string  `json:"name"`
			Spikes float64 `json:"spikes_per_image"`
		} `json:"layers"`
	}
	b, err := os.ReadFile(filepath.Join(out, "profile.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &prof); err != nil {
		t.Fatal(err)
	}
	if len(prof.Layers) != 3 || len(sim.Layers) != 3 {
		t.Fatalf("profile layers %+v, simulate layers %+v", prof.Layers, sim.Layers)
	}
	for k := range prof.Layers {
		if want := float64(sim.Layers[k].Spikes) / 20; prof.Layers[k].Name != sim.Layers[k].Name || prof.Layers[k].Spikes != want || want == 0 {
			t.Errorf("layer %d: report %+v, run %+v", k, prof.Layers[k], sim.Layers[k])
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(html), "recording") {
		t.Errorf("report.html: %v", err)
	}

	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.spk")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	code, _, stderr = runCLI(t, "report", "--from-recording", cut, "-o", bad)
	if code != 2 || !strings.Contains(lastLine(stderr), "cut.spk") {
		t.Errorf("truncated recording: exit %d: %s", code, lastLine(stderr))
	}
	if _, err := os.Stat(filepath.Join(bad, "report.html")); !os.IsNotExist(err) {
		t.Errorf("a report was written from a truncated recording")
	}
}
