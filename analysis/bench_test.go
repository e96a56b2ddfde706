package analysis_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// RunBench times the engines on a model (they agree) and sweeps a small
// synthetic network; expected spike counts are judged.
func TestRunBench(t *testing.T) {
	run := fixture.RandomRun(t, snnref.Chain, 8, 6, 6)
	set := inputsOf(run, network.SimOptions{}).Set
	var spikes []float64
	for _, l := range run.Result.Layers {
		spikes = append(spikes, float64(l.Spikes)/float64(run.Count))
	}
	o := analysis.BenchOptions{T: 6, Engines: []string{"event", "dense"}, Latency: 3, MaxDiff: 1e-4, ExpectedSpikes: spikes,
		Activities: []float64{0.01, 0.5}, Neurons: 64, SynImages: 2, RecordRounds: 2, RecordDir: t.TempDir()}
	b, err := analysis.RunBench(run.Net, set, o, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Model
	if m == nil || len(m.Engines) != 2 || m.Latency == nil || m.Latency.Images != 3 || m.AllCores == nil || !m.Agreement.Pass || !m.Agreement.SOPsEqual {
		t.Fatalf("model %+v", m)
	}
	for _, e := range m.Expected {
		if !e.Pass || e.RelDiff != 0 {
			t.Errorf("expected %+v", e)
		}
	}
	if err := b.Check(); err != nil {
		t.Error(err)
	}
	// The recording holds every spike the run fired, and is gone.
	var total int64
	for _, l := range run.Result.Layers {
		total += l.Spikes
	}
	if r := m.Recording; r == nil || r.Rounds != 2 || r.Spikes != total || r.Bytes <= 0 || r.BytesPerSpike != float64(r.Bytes)/float64(total) || r.PlainCPUSeconds <= 0 || r.RecordCPUSeconds <= 0 {
		t.Errorf("recording %+v (%d spikes)", r, total)
	}
	if left, _ := filepath.Glob(filepath.Join(o.RecordDir, "*")); len(left) != 0 {
		t.Errorf("the recording's files are left: %v", left)
	}
	if len(b.Synthetic) != 2 || !(b.Synthetic[1].SpikesPerImg > 10*b.Synthetic[0].SpikesPerImg) {
		t.Errorf("synthetic %+v", b.Synthetic)
	}
	var sb strings.Builder
	if err := b.WriteText(&sb); err != nil || !strings.Contains(sb.String(), "agreement event vs dense") || !strings.Contains(sb.String(), "recording every spike") {
		t.Errorf("table (%v):\n%s", err, sb.String())
	}
	// Expected counts the event engine misses fail the check.
	o.ExpectedSpikes[0] *= 1.1
	o.Activities, o.Latency, o.RecordRounds = nil, 0, 0
	if b, err = analysis.RunBench(run.Net, set, o, analysis.Env{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(); err == nil || !strings.Contains(err.Error(), "expected") {
		t.Errorf("check: %v", err)
	}
	for _, bad := range []analysis.BenchOptions{
		{T: 0}, {T: 4, Engines: []string{"brian2"}}, {T: 4, Activities: []float64{2}, Neurons: 8, SynImages: 1},
		{T: 4, Engines: []string{"event"}, ExpectedSpikes: []float64{1}},
	} {
		if _, err := analysis.RunBench(run.Net, set, bad, analysis.Env{}); !analysis.IsBadInput(err) {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
}
