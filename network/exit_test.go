package network_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestExactExitNeverChangesAPrediction: on random networks of every kind,
// the exact rule's run has the full run's prediction after every step, for
// every image, and stops some images early.
func TestExactExitNeverChangesAPrediction(t *testing.T) {
	early, images := 0, 0
	for _, kind := range snnref.Kinds {
		for _, alpha := range []float32{1, 0.5} {
			t.Run(fmt.Sprintf("%v/alpha=%v", kind, alpha), func(t *testing.T) {
				for seed := range uint64(4) {
					r := rand.New(rand.NewPCG(seed, uint64(kind)))
					net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: alpha, Reset: network.ResetSoft})
					exit, err := network.NewExactExit(net)
					if err != nil {
						t.Fatal(err)
					}
					const count = 6
					x := snnref.RandomImages(r, net, count)
					opts := network.SimOptions{T: 24, KeepOutputs: true}
					full, err := snnref.Run(net, x, make([]int, count), opts)
					if err != nil {
						t.Fatal(err)
					}
					opts.Exit = exit
					got, err := snnref.Run(net, x, make([]int, count), opts)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Predictions, full.Predictions) || !slices.Equal(got.CorrectByStep, full.CorrectByStep) {
						t.Fatalf("seed %d: predictions %v (by step %v), full run %v (%v)", seed, got.Predictions, got.CorrectByStep, full.Predictions, full.CorrectByStep)
					}
					for i, s := range got.Steps {
						images++
						if s < opts.T {
							early++
						}
						if s < 1 || s > opts.T {
							t.Fatalf("image %d ran %d steps", i, s)
						}
					}
				}
			})
		}
	}
	if early == 0 {
		t.Fatalf("no image of %d stopped early: the test shows nothing", images)
	}
	t.Logf("%d of %d images stopped early", early, images)
}

// TestExactExitPerStep checks the rule against the full run's per-step
// predictions directly: whenever it says done at step t, the prediction
// after every later step equals the one after t.
func TestExactExitPerStep(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.ResNet, Alpha: 1, Reset: network.ResetHard})
	exit, err := network.NewExactExit(net)
	if err != nil {
		t.Fatal(err)
	}
	const T = 30
	sim, err := snnref.New(net, network.SimOptions{T: T})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := network.NewSimResult(net, "reference", 1, nil, network.SimOptions{T: T})
	for img := range 20 {
		x := snnref.RandomImages(r, net, 1)
		rec := res.NewImageRecord()
		sim.Image(x, img, rec)
		// Replay the accumulator step by step from a run with outputs
		// kept at every T' = 1..T.
		for t1 := 1; t1 < T; t1++ {
			part, _ := snnref.New(net, network.SimOptions{T: t1})
			r1 := rec
			r1 = res.NewImageRecord()
			r1.Output = make([]float32, len(rec.Output))
			r1.PredictionByStep = make([]int, t1)
			for k := range r1.SpikesByStep {
				r1.SpikesByStep[k] = make([]int32, t1)
			}
			part.Image(x, img, r1)
			if exit.Done(t1, T, r1.Output) {
				for u := t1; u < T; u++ {
					if rec.PredictionByStep[u] != rec.PredictionByStep[t1-1] {
						t.Fatalf("image %d: done after step %d (class %d) but step %d predicts %d", img, t1, rec.PredictionByStep[t1-1], u+1, rec.PredictionByStep[u])
					}
				}
				break
			}
		}
	}
}

func TestParseExit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.Chain, Alpha: 1, Reset: network.ResetSoft})
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"", "", false}, {"none", "", false}, {"exact", "exact", false},
		{"margin:2.5", "margin:2.5", false}, {"margin:1@3", "margin:1@3", false},
		{"margin:-1", "", true}, {"margin:x", "", true}, {"margin:1@0", "", true}, {"loss:0.1", "", true}, {"bogus", "", true},
	} {
		e, err := network.ParseExit(net, tc.in)
		if (err != nil) != tc.bad {
			t.Fatalf("ParseExit(%q) error %v, want bad=%v", tc.in, err, tc.bad)
		}
		got := ""
		if e != nil {
			got = e.String()
		}
		if !tc.bad && got != tc.want {
			t.Fatalf("ParseExit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
