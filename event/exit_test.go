package event

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// exitRules are the early-exit rules the tests run: the exact rule, and
// margin rules from one that stops every image after its first step to
// ones that rarely stop.
func exitRules(t *testing.T, net *network.Network) []network.Exit {
	t.Helper()
	exact, err := network.NewExactExit(net)
	if err != nil {
		t.Fatalf("exact exit: %v", err)
	}
	return []network.Exit{exact, network.MarginExit{M: 0}, network.MarginExit{M: 0.25, MinSteps: 2}, network.MarginExit{M: 1}, network.MarginExit{M: 4, MinSteps: 3}}
}

// TestExitMatchesReference: with an exit rule the event engine stops every
// image where the reference stops it, and everything it reports — steps
// per image, predictions after every step, spikes, SOPs, counts, outputs,
// the raster of the first image — is the reference's, on random graphs of
// every kind (MLPs and ResNets also with their Linear layers made
// SparseLinear), direct and Poisson input, delays, IF and LIF, every
// update policy and active-set form, 1 and 3 workers.
func TestExitMatchesReference(t *testing.T) {
	nets := 2
	if testing.Short() || testenv.RaceEnabled {
		nets = 1
	}
	stopped, images := 0, 0
	for ci, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			for _, sparse := range []bool{false, true} {
				if sparse && kind != snnref.MLP && kind != snnref.ResNet {
					continue
				}
				t.Run(fmt.Sprintf("%v/%s/sparse=%v", kind, enc, sparse), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(ci), 17))
					for n := range nets {
						alpha := []float32{1, 0.5}[n%2]
						net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: alpha, Reset: network.ResetSoft})
						if sparse {
							net = sparsify(r, net, 0.3)
						}
						x := snnref.RandomImages(r, net, 5)
						labels := []int{0, 1, 2, 0, 1}
						for _, rule := range exitRules(t, net) {
							opts := network.SimOptions{T: 16, Encoding: enc, Seed: 3, KeepCounts: true, KeepOutputs: true, Raster: true, Exit: rule}
							if n == 1 {
								opts.Delays = snnref.RandomDelays(r, net)
							}
							ref, err := snnref.Run(net, x, labels, opts)
							if err != nil {
								t.Fatal(err)
							}
							for _, s := range ref.Steps {
								images++
								if s < opts.T {
									stopped++
								}
							}
							for _, pol := range policies {
								for _, workers := range []int{1, 3} {
									o := opts
									o.Workers = workers
									ev, _, err := runWork(net, x, labels, o, pol.policy)
									if err != nil {
										t.Fatal(err)
									}
									if d := snnref.Diff(ref, ev); d != "" {
										t.Fatalf("rule %v, policy %s, %d workers: event differs from snnref: %s\n%s", rule, pol.name, workers, d, describe(net))
									}
									if !slices.Equal(ref.Steps, ev.Steps) {
										t.Fatalf("rule %v, policy %s, %d workers: steps per image %v, snnref %v", rule, pol.name, workers, ev.Steps, ref.Steps)
									}
								}
							}
						}
					}
				})
			}
		}
	}
	t.Logf("%d of %d images stopped early", stopped, images)
	if stopped == 0 || stopped == images {
		t.Errorf("%d of %d images stopped early: the rules test nothing", stopped, images)
	}
}

// TestExactExitKeepsResults is the property of the exact rule: every
// image's prediction after every step t ≤ T — hence the final predictions
// and the accuracy after every step — is the full run's, on random
// networks of every kind (snnref.RandomNet; some with SparseLinear
// layers), IF and LIF, direct and Poisson input, while some images stop
// early.
func TestExactExitKeepsResults(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 2))
	count := 30
	if testenv.RaceEnabled {
		count = 8
	}
	stopped, images, changing, eagerWrong := 0, 0, 0, 0
	for trial := range 12 {
		kind := snnref.Kinds[trial%len(snnref.Kinds)]
		net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: []float32{1, 0.5}[trial%2], Reset: network.ResetSoft})
		if trial%4 == 3 {
			net = sparsify(r, net, 0.5) // a SparseLinear readout too
		}
		x := snnref.RandomImages(r, net, count)
		labels := make([]int, count)
		for i := range labels {
			labels[i] = r.IntN(3)
		}
		exact, err := network.NewExactExit(net)
		if err != nil {
			t.Fatal(err)
		}
		opts := network.SimOptions{T: 24, Workers: 2}
		if trial%3 == 2 {
			opts.Encoding, opts.Seed = network.EncodingPoisson, uint64(trial)
		}
		full, fullBy := runByStep(t, net, x, labels, opts)
		opts.Exit = exact
		early, earlyBy := runByStep(t, net, x, labels, opts)
		checkSameAccuracy(t, fmt.Sprintf("trial %d (%v, %s)", trial, kind, opts.Encoding), full, early, fullBy, earlyBy)
		for i, s := range early.Steps {
			images++
			if s < opts.T {
				stopped++
			}
			if slices.ContainsFunc(fullBy[i], func(p int) bool { return p != fullBy[i][opts.T-1] }) {
				changing++
			}
		}
		// The check can fail: a rule that stops after the first step
		// changes predictions of the same images.
		opts.Exit = network.MarginExit{M: 0, MinSteps: 1}
		_, eagerBy := runByStep(t, net, x, labels, opts)
		for i := range eagerBy {
			if !slices.Equal(eagerBy[i], fullBy[i]) {
				eagerWrong++
			}
		}
	}
	t.Logf("exact rule: %d of %d images stopped early; %d images change their prediction during the full run; stopping all after one step changes %d", stopped, images, changing, eagerWrong)
	if stopped == 0 || changing == 0 || eagerWrong == 0 {
		t.Errorf("the property was not exercised")
	}
}

// runByStep is Engine.Run that also returns every image's prediction
// after every step (ImageRecord.PredictionByStep, handed over by OnImage).
func runByStep(t *testing.T, net *network.Network, x []float32, labels []int, opts network.SimOptions) (*network.SimResult, [][]int) {
	t.Helper()
	by := make([][]int, len(x)/net.Input.Size())
	opts.OnImage = func(i int, rec *network.ImageRecord) error {
		by[i] = slices.Clone(rec.PredictionByStep) // one slot per image: no lock
		return nil
	}
	res, err := Engine{}.Run(net, x, labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, by
}

// checkSameAccuracy requires an early-exit run to have the full run's
// prediction for every image after every step (fullBy, earlyBy from
// runByStep), hence its final predictions and its accuracy after every
// step.
func checkSameAccuracy(t *testing.T, what string, full, early *network.SimResult, fullBy, earlyBy [][]int) {
	t.Helper()
	for i := range fullBy {
		if !slices.Equal(fullBy[i], earlyBy[i]) {
			t.Errorf("%s: image %d stopped after %d steps: predictions by step %v with the exact exit, %v in full", what, i, early.Steps[i], earlyBy[i], fullBy[i])
			break
		}
	}
	if !slices.Equal(full.Predictions, early.Predictions) {
		t.Errorf("%s: predictions with the exact exit differ from the full run's", what)
	}
	if !slices.Equal(full.CorrectByStep, early.CorrectByStep) {
		t.Errorf("%s: correct by step %v with the exact exit, %v in full", what, early.CorrectByStep, full.CorrectByStep)
	}
}
