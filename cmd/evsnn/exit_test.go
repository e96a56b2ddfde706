package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/analysis"
)

// simulate --early-exit on the built-in model: the JSON carries the rule,
// the steps, the comparison with the full run and the sweep; --csv writes
// the exit CSV files; --record records the run; bad specs exit with 2 and
// one line.
func TestSimulateEarlyExit(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("converts the built-in model (slow under -race)")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.spikes")
	code, out, errs := runCLI(t, "--log-level", "warn", "simulate", "--images", "40", "--T", "10", "--early-exit", "loss:1@2",
		"--vs-full", "--exit-sweep", "--exit-min-steps", "2", "--json", "--csv", dir, "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var sim analysis.Simulation
	if err := json.Unmarshal([]byte(out), &sim); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sim.Exit, "margin:") || !strings.HasSuffix(sim.Exit, "@2") || sim.ExitCalibration == nil || sim.ExitCalibration.Images != 1024 ||
		sim.Steps == nil || sim.VsFull == nil || sim.Sweep == nil || sim.Sweep.MinSteps != 2 || sim.Recording == nil {
		t.Fatalf("simulation %s", out)
	}
	if sim.Steps.Mean != sim.VsFull.MeanSteps || sim.VsFull.FullSteps != 10 {
		t.Errorf("steps %+v, vs full %+v", sim.Steps, sim.VsFull)
	}
	for _, f := range []string{"steps.csv", "exit_sweep.csv", "run.spikes"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// The exact rule, as text.
	code, out, errs = runCLI(t, "--log-level", "warn", "simulate", "--images", "20", "--T", "6", "--early-exit", "exact", "--vs-full")
	if code != 0 || !strings.Contains(out, "identical to the full run") || !strings.Contains(out, "steps per image: mean") {
		t.Errorf("exact: exit %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{
		{"simulate", "--images", "5", "--early-exit", "fast"},
		{"simulate", "--images", "5", "--early-exit", "margin:-1"},
		{"simulate", "--images", "5", "--early-exit", "loss:200"},
		{"simulate", "--images", "5", "--vs-full"},
		{"simulate", "--images", "5", "--exit-margins", "1,2"},
		{"simulate", "--images", "5", "--exit-sweep", "--exit-margins", "1,x"},
		{"simulate", "--images", "5", "--exit-sweep", "--exit-min-steps", "0"},
		{"simulate", "--images", "5", "--exit-sweep", "--shard", "0/2", "--json"},
		{"bench", "--target-accuracy", "120"},
		{"bench", "--target-accuracy", "90", "--target-T", "4.5"},
		{"bench", "--target-accuracy", "90", "--calibrate", "magic", "--images", "5"},
		{"bench", "--target-accuracy", "90", "--calib-images", "0"},
		{"bench", "--target-accuracy", "90", "--target-losses", "-1", "--images", "5"},
		{"report", "--images", "5", "--early-exit", "margin:x"},
		{"profile", "--images", "5", "--early-exit", "loss:1@0"},
	} {
		code, _, errs := runCLI(t, append([]string{"--log-level", "error"}, args...)...)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.HasPrefix(errs, "evsnn: ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// bench --target-accuracy on the built-in model, two T and no
// calibration: the JSON lists the candidates and the best reaches the
// target.
func TestBenchTarget(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("traces the built-in model (slow under -race)")
	}
	code, out, errs := runCLI(t, "--log-level", "warn", "bench", "--target-accuracy", "70", "--images", "60", "--target-T", "6,12",
		"--target-losses", "0,2", "--calib-images", "128", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s analysis.TargetSearch
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Best < 0 || !s.Candidates[s.Best].Reaches || !s.Candidates[s.Best].Timed || len(s.Candidates) < 4 || s.CalibImages != 128 {
		t.Errorf("search %s", out)
	}
	code, out, _ = runCLI(t, "--log-level", "warn", "bench", "--target-accuracy", "40", "--images", "30", "--target-T", "6", "--target-losses", "1", "--calib-images", "64")
	if code != 0 || !strings.Contains(out, "fastest reaching 40.00 %") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}
