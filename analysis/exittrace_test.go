package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// exitCase is a network and images an exit rule is checked on.
type exitCase struct {
	name string
	net  *network.Network
	set  *dataset.Set
	opts network.SimOptions
}

// randomExitCases are random dyadic SNNs of every kind, labelled by their
// ANN's predictions, with direct and Poisson input.
func randomExitCases(t *testing.T, count, T int) []exitCase {
	t.Helper()
	var cases []exitCase
	for _, kind := range snnref.Kinds {
		for seed := uint64(1); seed <= 2; seed++ {
			r := rand.New(rand.NewPCG(seed, 77+uint64(kind)))
			net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
			x := snnref.RandomImages(r, net, count)
			labels, err := net.Predict(x, count, 64)
			if err != nil {
				t.Fatal(err)
			}
			enc := network.EncodingDirect
			if seed == 2 {
				enc = network.EncodingPoisson
				for i := range x { // Poisson pixels are probabilities
					x[i] = float32(math.Abs(float64(x[i])))
					x[i] = min(x[i], 1)
				}
			}
			cases = append(cases, exitCase{
				name: fmt.Sprintf("%v/%d/%s", kind, seed, enc), net: net, set: setOf(net, x, labels, count),
				opts: network.SimOptions{T: T, Encoding: enc, Seed: seed},
			})
		}
	}
	return cases
}

// setOf wraps images of net's input shape as a data set.
func setOf(net *network.Network, x []float32, labels []int, count int) *dataset.Set {
	c, h, w := 1, 1, net.Input.Size()
	if in := net.Input; len(in) == 3 {
		c, h, w = in[0], in[1], in[2]
	}
	classes := 0
	for _, l := range labels {
		classes = max(classes, l+1)
	}
	return &dataset.Set{Name: "random", Images: x, Labels: labels, N: count, C: c, H: h, W: w, Classes: classes}
}

// exitEngines are the engines a trace is checked with.
var exitEngines = []network.Engine{event.Engine{}, dense.Engine{}, fixture.ReferenceEngine{}}

// marginsOf returns margins that cut the trace's margins at several
// quantiles, with 0 and one above every margin.
func marginsOf(tr *ExitTrace) []float64 {
	qs := slices.Clone(tr.q)
	slices.Sort(qs)
	out := []float64{0}
	if len(qs) == 0 {
		return out
	}
	for _, p := range []float64{0.1, 0.3, 0.5, 0.7, 0.9} {
		out = append(out, qs[int(p*float64(len(qs)-1))])
	}
	return append(out, math.Nextafter(qs[len(qs)-1], math.Inf(1)))
}

// checkReplay runs engine with margin rules and the exact rule on c and
// checks that the trace of the full run replays each run image for image:
// the steps each image ran, its final prediction, the accuracy and the
// spikes; with perStep, also that the trace's prediction after every step
// s is that of a run of s steps.
func checkReplay(t *testing.T, engine network.Engine, c exitCase, workers int, perStep bool) {
	t.Helper()
	o := c.opts
	o.Workers = workers
	tr, err := TraceExits(engine, c.net, c.set, o, Env{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := engine.Run(c.net, c.set.Images, c.set.Labels, o)
	if err != nil {
		t.Fatal(err)
	}
	if d := snnref.Diff(tr.Result, full); d != "" {
		t.Fatalf("the traced run is not the full run: %s", d)
	}
	for i := range tr.Images {
		for s := 1; s <= tr.T && perStep; s++ {
			if tr.Pred(i, s) != fullPredAt(t, engine, c, i, s) {
				t.Fatalf("image %d step %d: trace prediction %d", i, s, tr.Pred(i, s))
			}
		}
	}
	for _, S := range []int{1, 3} {
		for _, m := range marginsOf(tr) {
			rule := network.MarginExit{M: m, MinSteps: S}
			eo := o
			eo.Exit = rule
			res, err := engine.Run(c.net, c.set.Images, c.set.Labels, eo)
			if err != nil {
				t.Fatal(err)
			}
			var spikes int64
			for _, l := range res.Layers {
				spikes += l.Spikes
			}
			for i := range tr.Images {
				if s := tr.stopMargin(i, rule); s != res.Steps[i] || tr.Pred(i, s) != res.Predictions[i] {
					t.Fatalf("%v image %d: replay stops after %d with %d, the run after %d with %d",
						rule, i, s, tr.Pred(i, s), res.Steps[i], res.Predictions[i])
				}
			}
			p := tr.Replay(rule)
			n := float64(tr.Images)
			if acc := last(res.AccuracyByStep()); p.Accuracy != acc || p.MeanSteps != mean(res.Steps) || p.SpikesPerImage != float64(spikes)/n {
				t.Errorf("%v: replay %+v; run accuracy %v, mean steps %v, spikes/image %v", rule, p, acc, mean(res.Steps), float64(spikes)/n)
			}
		}
	}
	if _, ok := tr.ExactStop(0); !ok {
		return
	}
	exact, err := network.NewExactExit(c.net)
	if err != nil {
		t.Fatal(err)
	}
	eo := o
	eo.Exit = exact
	res, err := engine.Run(c.net, c.set.Images, c.set.Labels, eo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tr.Images {
		if s, _ := tr.ExactStop(i); s != res.Steps[i] || res.Predictions[i] != full.Predictions[i] || s < tr.Settled(i) {
			t.Fatalf("exact image %d: trace stop %d (settled %d), run %d; prediction %d, full %d", i, s, tr.Settled(i), res.Steps[i], res.Predictions[i], full.Predictions[i])
		}
	}
	vs, err := CompareExit("exact", res, full, tr.settled, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !vs.Identical || vs.EarlyStops != 0 || vs.ExitSOPs > vs.FullSOPs || vs.SOPsSaved < 0 {
		t.Errorf("exact vs full: %+v", vs)
	}
	t.Logf("exact: mean steps %.2f of %d (settled %.2f)", vs.MeanSteps, tr.T, vs.MeanSettledSteps)
	if e, _ := tr.Exact(); e.Changed != 0 || e.Accuracy != last(full.AccuracyByStep()) || e.MeanSteps != mean(res.Steps) {
		t.Errorf("exact replay %+v, run mean steps %v", e, mean(res.Steps))
	}
}

// fullPredAt is image i's prediction after s steps of the full run, from
// a run of T = s steps (a run's first s steps do not depend on T).
func fullPredAt(t *testing.T, engine network.Engine, c exitCase, i, s int) int {
	t.Helper()
	key := fmt.Sprintf("%s/%s/%d", engine.Name(), c.name, s)
	res, ok := predCache[key]
	if !ok {
		o := c.opts
		o.T = s
		var err error
		if res, err = engine.Run(c.net, c.set.Images, c.set.Labels, o); err != nil {
			t.Fatal(err)
		}
		predCache[key] = res
	}
	return res.Predictions[i]
}

var predCache = map[string]*network.SimResult{}

// Replaying margin:M@S on the trace of one full run gives, image for
// image, the steps and predictions of an engine run with that rule, on
// random graph networks of every kind, both encodings, every engine; the
// exact rule's stops are the engine's and never change a prediction.
func TestTraceReplaysEngineRuns(t *testing.T) {
	for _, c := range randomExitCases(t, 12, 10) {
		for _, engine := range exitEngines {
			t.Run(c.name+"/"+engine.Name(), func(t *testing.T) {
				checkReplay(t, engine, c, 3, true)
			})
		}
	}
}

// The same on the LeNet fixture (converted with the defaults) on the
// first test images, for both engines.
func TestTraceReplaysLeNet(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("converts the LeNet fixture (slow under -race)")
	}
	data := Data{}
	snn, err := ensureSNN(fixture.LeNet(t), data, 0, Env{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.Test(60)
	if err != nil {
		t.Fatal(err)
	}
	c := exitCase{name: "lenet", net: snn, set: set, opts: network.SimOptions{T: 12}}
	for _, engine := range []network.Engine{event.Engine{}, dense.Engine{}} {
		t.Run(engine.Name(), func(t *testing.T) { checkReplay(t, engine, c, 2, false) })
	}
}

// A trace is the same for any number of workers.
func TestTraceWorkers(t *testing.T) {
	c := randomExitCases(t, 9, 8)[4]
	var ref *ExitTrace
	for _, w := range []int{1, 2, 4, 16} {
		tr, err := TraceExits(event.Engine{}, c.net, c.set, network.SimOptions{T: 8, Workers: w}, Env{})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = tr
			continue
		}
		if !slices.Equal(tr.q, ref.q) || !slices.Equal(tr.pred, ref.pred) || !slices.Equal(tr.spikes, ref.spikes) || !slices.Equal(tr.settled, ref.settled) || !slices.Equal(tr.exact, ref.exact) {
			t.Errorf("%d workers: another trace", w)
		}
	}
}

// Bad traces are refused with bad input.
func TestTraceBadInput(t *testing.T) {
	c := randomExitCases(t, 3, 4)[0]
	for _, o := range []network.SimOptions{{T: 0}, {T: maxTraceValues}} {
		if _, err := TraceExits(event.Engine{}, c.net, c.set, o, Env{}); !IsBadInput(err) {
			t.Errorf("T=%d: %v", o.T, err)
		}
	}
	// One class: no margin.
	one := fixture.TinySNN(4)
	fc2 := one.Layers[2].(*network.Linear)
	fc2.Out, fc2.Weight, fc2.Bias = 1, fc2.Weight[:3], fc2.Bias[:1]
	set := setOf(one, make([]float32, 8), []int{0, 0}, 2)
	if _, err := TraceExits(event.Engine{}, one, set, network.SimOptions{T: 4}, Env{}); !IsBadInput(err) || !strings.Contains(err.Error(), "2 classes") {
		t.Errorf("one class: %v", err)
	}
}
