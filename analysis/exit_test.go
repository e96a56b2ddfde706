package analysis

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// ResolveExit reads exact and margin rules, refuses bad specs as bad
// input, and resolves loss:X on the first 1,024 training images: the
// margin a trace of those images picks, never one of the test set.
func TestResolveExit(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("converts the LeNet fixture (slow under -race)")
	}
	data := Data{}
	snn, err := ensureSNN(fixture.LeNet(t), data, 0, Env{})
	if err != nil {
		t.Fatal(err)
	}
	opts := network.SimOptions{T: 8}
	for _, c := range []struct{ spec, rule string }{
		{"", ""}, {"none", ""}, {"exact", "exact"}, {"margin:1.5", "margin:1.5"}, {" margin:2@3", "margin:2@3"},
	} {
		ch, err := ResolveExit(c.spec, nil, snn, data, opts, Env{})
		if err != nil {
			t.Fatalf("%q: %v", c.spec, err)
		}
		got := ""
		if ch.Rule != nil {
			got = ch.Rule.String()
		}
		if got != c.rule || ch.Calibration != nil {
			t.Errorf("%q: rule %q, calibration %+v", c.spec, got, ch.Calibration)
		}
	}
	for _, bad := range []string{"fast", "margin:-1", "margin:x", "margin:1@0", "loss:-2", "loss:1@", "loss:abc"} {
		if _, err := ResolveExit(bad, nil, snn, data, opts, Env{}); !IsBadInput(err) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	ch, err := ResolveExit("loss:0.5@2", event.Engine{}, snn, data, opts, Env{})
	if err != nil {
		t.Fatal(err)
	}
	calib, err := data.Train(1024)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := TraceExits(event.Engine{}, snn, calib, opts, Env{})
	if err != nil {
		t.Fatal(err)
	}
	m, p, err := tr.PickMargin(0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := ch.Calibration
	if ch.Rule != m || c == nil || c.Images != 1024 || c.Margin != m.M || c.MinSteps != 2 || c.Accuracy != p.Accuracy ||
		c.FullAccuracy != tr.Full().Accuracy || c.MeanSteps != p.MeanSteps || c.Engine != "event" || c.LossPoints != 0.5 {
		t.Fatalf("loss:0.5@2 resolved to %v %+v; the training trace picks %v %+v", ch.Rule, c, m, p)
	}
	if c.MeanSteps >= 8 || 100*(c.FullAccuracy-c.Accuracy) > 0.5 {
		t.Errorf("picked rule: %+v", c)
	}
	t.Logf("loss:0.5@2 → %v: %.2f %% (full %.2f %%) in %.2f mean steps on the calibration set", m, 100*c.Accuracy, 100*c.FullAccuracy, c.MeanSteps)
}

// SimulateWith: the exit run with its comparison with the full run, the
// sweep, the recording of the steps actually run; a sweep of a shard is
// refused.
func TestSimulateWith(t *testing.T) {
	c := randomExitCases(t, 20, 10)[4] // a ResNet with an exact rule
	exact, err := network.NewExactExit(c.net)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []network.Exit{nil, exact, network.MarginExit{M: 0.5, MinSteps: 2}} {
		name := "none"
		if rule != nil {
			name = rule.String()
		}
		t.Run(name, func(t *testing.T) {
			o := c.opts
			o.Exit = rule
			in := &Inputs{ANN: c.net, SNN: c.net, Set: c.set, Opts: o, Model: "random"}
			if rule != nil {
				in.Exit = &ExitChoice{Spec: name, Rule: rule}
			}
			path := filepath.Join(t.TempDir(), "run.spikes")
			sim, err := in.SimulateWith(event.Engine{}, SimulateOptions{VsFull: true, Sweep: true, MinSteps: 2, Record: path}, Env{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := event.Engine{}.Run(c.net, c.set.Images, c.set.Labels, o)
			if err != nil {
				t.Fatal(err)
			}
			want.Wall = sim.Result.Wall
			sim.Result.Wall = want.Wall
			if sim.Exit != name && !(rule == nil && sim.Exit == "") {
				t.Errorf("exit %q", sim.Exit)
			}
			if got := NewSimulation(want, o, c.net); got.Accuracy != sim.Accuracy || got.Layers[0].Spikes != sim.Layers[0].Spikes {
				t.Errorf("simulation %+v, want %+v", sim, got)
			}
			if sim.Sweep == nil || sim.Sweep.Full.Accuracy != last(sim.AccuracyByStep) && rule == nil {
				t.Errorf("sweep %+v", sim.Sweep)
			}
			switch rule {
			case nil:
				if sim.VsFull != nil || sim.Steps != nil {
					t.Errorf("no exit rule: vs full %+v, steps %+v", sim.VsFull, sim.Steps)
				}
			default:
				if sim.VsFull == nil || sim.Steps == nil || sim.VsFull.MeanSteps != sim.Steps.Mean || sim.VsFull.ExitAccuracy != sim.Accuracy {
					t.Fatalf("vs full %+v, steps %+v", sim.VsFull, sim.Steps)
				}
				if rule == exact && !sim.VsFull.Identical {
					t.Errorf("exact not identical: %+v", sim.VsFull)
				}
			}
			r, err := spikes.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i := range c.set.N {
				ev, err := r.Raster(i)
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				for _, s := range want.ImageSpikes[i] {
					n += s
				}
				if int64(len(ev)) != n {
					t.Fatalf("image %d: %d spikes recorded, the run has %d", i, len(ev), n)
				}
				for _, e := range ev {
					if int(e.Step) > want.Steps[i] {
						t.Fatalf("image %d: a spike at step %d after its %d steps", i, e.Step, want.Steps[i])
					}
				}
			}
			if sim.Recording == nil || sim.Recording.Path != path || sim.Recording.Bytes != r.Size() {
				t.Errorf("recording %+v", sim.Recording)
			}
			var b strings.Builder
			if err := sim.WriteText(&b); err != nil || !strings.Contains(b.String(), "early exit on") {
				t.Errorf("text (%v):\n%s", err, b.String())
			}
		})
	}
	in := &Inputs{ANN: c.net, SNN: c.net, Set: c.set, Opts: c.opts, Model: "random", Provenance: &Provenance{}}
	if _, err := in.SimulateWith(event.Engine{}, SimulateOptions{Sweep: true}, Env{}); !IsBadInput(err) {
		t.Errorf("sweep of a shard: %v", err)
	}
}

// Shards of a run with an exit rule merge into the one-process run: the
// rule and the steps per image.
func TestMergeExit(t *testing.T) {
	c := randomExitCases(t, 12, 8)[0]
	rule := network.MarginExit{M: 0.4, MinSteps: 2}
	o := c.opts
	o.Exit = rule
	in := &Inputs{ANN: c.net, SNN: c.net, Set: c.set, Opts: o, Model: "random", Exit: &ExitChoice{Spec: rule.String(), Rule: rule}}
	whole, err := in.Simulate(event.Engine{}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Provenance{}
	p.Data.Images = c.set.N
	var parts []*Part
	for k := range 3 {
		sh, err := in.ShardOf(Shard{K: k, N: 3}, p)
		if err != nil {
			t.Fatal(err)
		}
		sim, err := sh.Simulate(event.Engine{}, Env{})
		if err != nil {
			t.Fatal(err)
		}
		part, err := sh.SimulationPart(sim)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part)
	}
	m, err := MergeParts(parts, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Simulation
	if got.Exit != rule.String() || got.Steps == nil || !reflect.DeepEqual(got.Steps, whole.Steps) || got.Accuracy != whole.Accuracy {
		t.Errorf("merged exit %q steps %+v, want %q %+v", got.Exit, got.Steps, whole.Exit, whole.Steps)
	}
}
