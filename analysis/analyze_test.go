package analysis_test

import (
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// Analyze on graphs (the reference engine stands in while the engines
// learn graphs): the profile is the run's, the conversion error is
// measured on the first images, the raster is of image 0.
func TestAnalyzeGraphs(t *testing.T) {
	for _, kind := range snnref.Kinds {
		t.Run(kind.String(), func(t *testing.T) {
			run := fixture.RandomRun(t, kind, 11, 8, 10)
			in := inputsOf(run, network.SimOptions{T: 10})
			a, err := in.Analyze(analysis.AnalyzeOptions{Engine: fixture.ReferenceEngine{}, ErrorImages: 5}, analysis.Env{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := profile.Build(run.Net, run.Result, nil, profile.DefaultEnergy())
			if err != nil {
				t.Fatal(err)
			}
			if a.ANNAccuracy != 1 || *a.Profile.ANNAccuracy != 1 || a.ErrorImages() != 5 || a.Comparison != nil {
				t.Errorf("ANN accuracy %v, error images %d, comparison %v", a.ANNAccuracy, a.ErrorImages(), a.Comparison)
			}
			if len(a.Result.Raster) == 0 || a.ErrAct == nil || a.ErrAct.Batch != 5 {
				t.Errorf("raster of %d spikes, activations %+v", len(a.Result.Raster), a.ErrAct)
			}
			for k, l := range a.Profile.Layers {
				w := want.Layers[k]
				if l.Spikes != w.Spikes || l.SOPs != w.SOPs || l.ANNMACs != w.ANNMACs || l.Target != w.Target {
					t.Errorf("%s: %d spikes %d SOPs %d MACs → %s; reference %d %d %d → %s", l.Name, l.Spikes, l.SOPs, l.ANNMACs, l.Target, w.Spikes, w.SOPs, w.ANNMACs, w.Target)
				}
				if l.MSE == nil || l.ErrorL2 == nil || l.SNNMean == nil {
					t.Errorf("%s: no conversion error", l.Name)
				}
			}
		})
	}
}

// With Compare, the other engine runs on the same images (or the first
// CompareImages of them) and the profile's engine is the one asked for.
func TestAnalyzeCompare(t *testing.T) {
	run := fixture.RandomRun(t, snnref.Chain, 4, 9, 8)
	in := inputsOf(run, network.SimOptions{T: 8, Workers: 1})
	for _, tc := range []struct {
		engine string
		images int
	}{{"event", 0}, {"dense-skip", 4}} {
		e, _ := analysisEngine(t, tc.engine)
		a, err := in.Analyze(analysis.AnalyzeOptions{Engine: e, Compare: true, CompareImages: tc.images}, analysis.Env{})
		if err != nil {
			t.Fatal(err)
		}
		c := a.Comparison
		want := 9
		if tc.images > 0 {
			want = tc.images
		}
		if a.Profile.Engine != tc.engine || c == nil || c.Images != want || c.SamePredictions != want || len(c.Disagreements) != 0 {
			t.Errorf("%s: profile of %s, comparison %+v", tc.engine, a.Profile.Engine, c)
		}
	}
	if _, err := in.Analyze(analysis.AnalyzeOptions{ErrorImages: -1}, analysis.Env{}); !analysis.IsBadInput(err) {
		t.Errorf("negative error images: %v", err)
	}
	if _, err := in.Analyze(analysis.AnalyzeOptions{Energy: profile.Energy{PJPerSOP: -1}}, analysis.Env{}); !analysis.IsBadInput(err) {
		t.Errorf("negative energy: %v", err)
	}
}
