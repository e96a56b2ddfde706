package analysis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/network"
)

// FindTarget on the built-in model: every candidate timed (the timed run's
// accuracy and steps are checked against its trace inside), the best is
// the fastest reaching the target, the exit margins come from the
// training images, and an unreachable target has no best.
func TestFindTarget(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("converts and traces the built-in model (slow under -race)")
	}
	in, err := analysis.Prepare(analysis.Request{Images: 150, Opts: network.SimOptions{T: 8}}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	o := analysis.TargetOptions{Target: 80, Ts: []int{6, 12}, Losses: []float64{0, 1, 5}, MinSteps: 2, TimeAll: true}
	s, err := in.FindTarget(context.Background(), analysis.Data{}, 256, o, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != 150 || s.CalibImages != 256 || len(s.Candidates) < 2*3 || len(s.Candidates) > 2*5 {
		t.Fatalf("search %+v", s)
	}
	specs := map[string]int{}
	for i, c := range s.Candidates {
		specs[c.ExitSpec]++
		if !c.Timed || c.CPUSeconds <= 0 || c.Reaches != (100*c.Accuracy >= 80) || c.MeanSteps > float64(c.T) {
			t.Errorf("candidate %d: %+v", i, c)
		}
		if c.ExitSpec == "none" && c.MeanSteps != float64(c.T) {
			t.Errorf("no exit in %v steps of %d", c.MeanSteps, c.T)
		}
		if strings.HasPrefix(c.ExitSpec, "loss:") && !strings.HasSuffix(c.Exit, "@2") {
			t.Errorf("margin rule %s from step 1", c.Exit)
		}
		if b := s.Candidates[max(s.Best, 0)]; s.Best >= 0 && c.Reaches && c.CPUSeconds < b.CPUSeconds {
			t.Errorf("candidate %d is faster than the best %d", i, s.Best)
		}
	}
	if specs["none"] != 2 || specs["exact"] != 2 || specs["loss:0"] != 2 {
		t.Errorf("specs %v", specs)
	}
	if s.Best < 0 || s.Check() != nil {
		t.Errorf("no best: %+v", s)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil || !strings.Contains(b.String(), "fastest reaching 80.00 %") || !strings.Contains(b.String(), "best") {
		t.Errorf("text (%v):\n%s", err, b.String())
	}

	// Only candidates reaching the target are timed; none reaches 100 %
	// at T=2.
	o = analysis.TargetOptions{Target: 100, Ts: []int{2}, Losses: []float64{0}}
	if s, err = in.FindTarget(context.Background(), analysis.Data{}, 64, o, analysis.Env{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Candidates {
		if c.Timed || c.Reaches {
			t.Errorf("timed below the target: %+v", c)
		}
	}
	if s.Best != -1 || s.Check() == nil {
		t.Errorf("best %d", s.Best)
	}

	// A calibration pipeline: the ANN calibrated for each T, timed apart.
	o = analysis.TargetOptions{Target: 50, Ts: []int{5}, Losses: []float64{0}, Pipelines: []string{"none", "light"}}
	if s, err = in.FindTarget(context.Background(), analysis.Data{}, 64, o, analysis.Env{}); err != nil {
		t.Fatal(err)
	}
	pipes := map[string]bool{}
	for _, c := range s.Candidates {
		pipes[c.Pipeline] = true
	}
	if !pipes["as given"] || !pipes["light"] || len(pipes) != 2 || s.CalibrationSeconds["light T=5"] <= 0 {
		t.Errorf("pipelines %v, calibration %v", pipes, s.CalibrationSeconds)
	}
	// A calibrated model is not calibrated again.
	cal := *in
	ann := *in.ANN
	ann.Layers = in.SNN.Layers
	ann.Meta.Calibration = &network.Calibration{Method: "light", T: 8}
	cal.ANN = &ann
	if _, err := cal.FindTarget(context.Background(), analysis.Data{}, 64, o, analysis.Env{}); !analysis.IsBadInput(err) || !strings.Contains(err.Error(), "calibrated already") {
		t.Errorf("calibrating a calibrated model: %v", err)
	}

	for _, bad := range []analysis.TargetOptions{
		{Target: 0}, {Target: 101}, {Target: 90, Ts: []int{0}}, {Target: 90, Losses: []float64{-1}},
		{Target: 90, Pipelines: []string{"magic"}},
	} {
		if _, err := in.FindTarget(context.Background(), analysis.Data{}, 64, bad, analysis.Env{}); !analysis.IsBadInput(err) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
