package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// analyzed is an analysis of a random residual network by the reference
// engine, with the conversion error.
func analyzed(t *testing.T) *analysis.Analysis {
	t.Helper()
	run := fixture.RandomRun(t, snnref.ResNet, 13, 6, 8)
	in := run.Net.Input
	set := &dataset.Set{Name: "random test", Images: run.Images, Labels: run.Labels, N: run.Count, C: in[0], H: in[1], W: in[2], Classes: 5}
	a, err := (&analysis.Inputs{ANN: run.Net, SNN: run.Net, Set: set, Opts: network.SimOptions{T: 8, Encoding: network.EncodingDirect}, Model: "random ResNet"}).
		Analyze(analysis.AnalyzeOptions{Engine: fixture.ReferenceEngine{}, ErrorImages: 4}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// WriteRun writes the page, the profile as JSON and CSV, and every figure.
func TestWriteRun(t *testing.T) {
	a := analyzed(t)
	dir := filepath.Join(t.TempDir(), "out")
	path, err := report.WriteRun(dir, a, report.RunInfo{Title: "A graph", Notes: []string{"note one"}, PNGDPI: 30, MaxPoints: 200})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "report.html") {
		t.Errorf("path %s", path)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"accuracy_by_step.csv", "figure1.svg", "figure2.svg", "figure3.svg", "figure4.png", "figure5.png", "layers.csv", "profile.json", "report.html", "spikes_by_step.csv"}
	if !slices.Equal(names, want) {
		t.Errorf("files %v\nwant  %v", names, want)
	}
	page, _ := os.ReadFile(path)
	for _, s := range []string{"<title>A graph</title>", "random ResNet, T=8, 6 random test images", "note one", "reference", "conversion error on"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	var p profile.Profile
	raw, _ := os.ReadFile(filepath.Join(dir, "profile.json"))
	if err := json.Unmarshal(raw, &p); err != nil || len(p.Layers) != len(a.Profile.Layers) || p.Layers[0].MSE == nil {
		t.Errorf("profile.json: %v, %d layers", err, len(p.Layers))
	}
}

// A comparison adds its tables and compare.json; WriteFigures names the
// figures after their titles.
func TestWriteRunComparison(t *testing.T) {
	a := analyzed(t)
	a.Comparison = analysis.CompareResults(a.Set.Labels, a.Set.Labels, 0, a.Result, a.Result)
	dir := t.TempDir()
	if _, err := report.WriteRun(dir, a, report.RunInfo{PNGDPI: 30}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(page), "ANN, dense SNN and event SNN") || !strings.Contains(string(page), "<title>evsnn report</title>") {
		t.Error("no comparison table or default title")
	}
	if _, err := os.Stat(filepath.Join(dir, "compare.json")); err != nil {
		t.Error(err)
	}
	figs := t.TempDir()
	if err := report.WriteFigures(figs, a, 100, 30); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(figs, "accuracy-vs-time-step.svg")); err != nil {
		entries, _ := os.ReadDir(figs)
		t.Errorf("%v; files: %v", err, entries)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"Accuracy vs time step": "accuracy-vs-time-step", "ANN activation × SNN rate (sp1)": "ann-activation-snn-rate-sp1", "–": "figure", "T=32!": "t-32"} {
		if got := report.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// exitStudy is the early-exit study of a random run with margin:0.3@2:
// the comparison with the full run and the sweep, by the reference
// engine.
func exitStudy(run *fixture.Run, T int) (*analysis.Simulation, error) {
	in := run.Net.Input
	set := &dataset.Set{Name: "random test", Images: run.Images, Labels: run.Labels, N: run.Count, C: in[0], H: in[1], W: in[2], Classes: 5}
	rule := network.MarginExit{M: 0.3, MinSteps: 2}
	inputs := &analysis.Inputs{ANN: run.Net, SNN: run.Net, Set: set, Opts: network.SimOptions{T: T, Exit: rule}, Model: "random ResNet",
		Exit: &analysis.ExitChoice{Spec: rule.String(), Rule: rule}}
	return inputs.SimulateWith(fixture.ReferenceEngine{}, analysis.SimulateOptions{VsFull: true, Sweep: true, MinSteps: 2}, analysis.Env{})
}

// With an early-exit study the report adds the steps histogram, the
// accuracy/time front, their tables, exit.json and the exit CSV files.
func TestWriteRunExit(t *testing.T) {
	a := analyzed(t)
	run := fixture.RandomRun(t, snnref.ResNet, 13, 6, 8)
	sim, err := exitStudy(run, 8)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Steps == nil || sim.Sweep == nil || sim.VsFull == nil {
		t.Fatalf("study %+v", sim)
	}
	dir := t.TempDir()
	if _, err := report.WriteRun(dir, a, report.RunInfo{PNGDPI: 30, Exit: sim}); err != nil {
		t.Fatal(err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, want := range []string{"exit.json", "exit_sweep.csv", "steps.csv", "figure6.svg", "figure7.svg"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s in %v", want, names)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, s := range []string{"Steps per image", "Accuracy against time: early exit", "Early exit against the full run", "Pareto front of the early-exit sweep", "margin:0.3@2"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	var back analysis.Simulation
	raw, _ := os.ReadFile(filepath.Join(dir, "exit.json"))
	if err := json.Unmarshal(raw, &back); err != nil || back.Sweep == nil || len(back.Sweep.Points) != len(sim.Sweep.Points) || back.Steps.Mean != sim.Steps.Mean {
		t.Errorf("exit.json: %v", err)
	}
	figs := t.TempDir()
	if err := report.WriteExitFigures(figs, sim, 30); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"steps-per-image.svg", "accuracy-against-time-early-exit.svg"} {
		if _, err := os.Stat(filepath.Join(figs, f)); err != nil {
			t.Error(err)
		}
	}
	steps, _ := os.ReadFile(filepath.Join(dir, "steps.csv"))
	if lines := strings.Split(strings.TrimSpace(string(steps)), "\n"); len(lines) != 9 || lines[0] != "steps,images" {
		t.Errorf("steps.csv:\n%s", steps)
	}
}
