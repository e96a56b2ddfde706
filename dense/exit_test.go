package dense_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// recorded is what OnImage saw of a run: every image's spikes, steps
// and prediction, keyed by the image's position, and how often each image
// was handed over.
type recorded struct {
	mu    sync.Mutex
	ids   map[int][]network.RasterEvent
	steps map[int]int
	calls map[int]int
}

func newRecorded() *recorded {
	return &recorded{ids: map[int][]network.RasterEvent{}, steps: map[int]int{}, calls: map[int]int{}}
}

// onImage copies the record: the engine reuses it after the call.
func (r *recorded) onImage(i int, rec *network.ImageRecord) error {
	ids := rec.Recorded.Spikes()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[i], r.steps[i] = ids, rec.Steps
	r.calls[i]++
	return nil
}

// diff compares two recordings of the same images.
func (r *recorded) diff(o *recorded, count int) string {
	for i := range count {
		switch {
		case r.calls[i] != 1 || o.calls[i] != 1:
			return fmt.Sprintf("image %d handed to OnImage %d and %d times", i, r.calls[i], o.calls[i])
		case r.steps[i] != o.steps[i]:
			return fmt.Sprintf("image %d: record says %d vs %d steps", i, r.steps[i], o.steps[i])
		case !slices.Equal(r.ids[i], o.ids[i]):
			return fmt.Sprintf("image %d: %d vs %d recorded spikes", i, len(r.ids[i]), len(o.ids[i]))
		}
	}
	return ""
}

// exitRules are the rules the exit tests run on net: the exact bound and
// margins from permissive to strict, one with a minimum step.
func exitRules(t *testing.T, net *network.Network) []network.Exit {
	exact, err := network.NewExactExit(net)
	if err != nil {
		t.Fatal(err)
	}
	return []network.Exit{exact, network.MarginExit{M: 0.25}, network.MarginExit{M: 1}, network.MarginExit{M: 0.5, MinSteps: 4}}
}

// TestExitMatchesReference runs the engine with early-exit rules (the
// exact rule and margins) and spike recording on random networks of every
// kind, for full products and skipped zeros, 1 and 3 workers and small
// batches (so that a batch holds stopped and running images), direct and
// Poisson input: every field of the result, the steps of every image and
// every spike id must be the reference's. It also checks that the rules
// stopped images early and left others running, so that the comparison
// covers both.
func TestExitMatchesReference(t *testing.T) {
	const images, T = 7, 20
	early, full := map[string]int{}, 0
	for ki, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			t.Run(fmt.Sprintf("%v/%s", kind, enc), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(ki), 11))
				net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
				if ki%2 == 1 {
					net = snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 0.5, Reset: network.ResetHard})
				}
				x := snnref.RandomImages(r, net, images)
				labels := make([]int, images)
				for i := range labels {
					labels[i] = r.IntN(4)
				}
				for _, rule := range exitRules(t, net) {
					opts := network.SimOptions{T: T, Encoding: enc, Seed: 3, ImageOffset: 2, Exit: rule,
						RecordSpikes: true, KeepCounts: true, KeepOutputs: true, Raster: true}
					ref := newRecorded()
					o := opts
					o.OnImage = ref.onImage
					want, err := snnref.Run(net, x, labels, o)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range want.Steps {
						if s < T {
							early[rule.String()]++
						} else {
							full++
						}
					}
					for _, c := range exitEngines() {
						got := newRecorded()
						o := opts
						o.Workers, o.OnImage = c.workers, got.onImage
						res, err := c.e.Run(net, x, labels, o)
						if err != nil {
							t.Fatal(err)
						}
						where := fmt.Sprintf("%s %s batch %d workers %d", rule, c.e.Name(), c.e.BatchSize, c.workers)
						if d := snnref.Diff(want, res); d != "" {
							t.Fatalf("%s: reference vs engine: %s", where, d)
						}
						if !slices.Equal(want.Steps, res.Steps) {
							t.Fatalf("%s: steps per image %v, reference %v", where, res.Steps, want.Steps)
						}
						if d := ref.diff(got, images); d != "" {
							t.Fatalf("%s: %s", where, d)
						}
					}
				}
			})
		}
	}
	for _, rule := range []string{"exact", "margin:0.25", "margin:1", "margin:0.5@4"} {
		if early[rule] == 0 {
			t.Errorf("rule %s stopped no image early: the test shows nothing about it", rule)
		}
	}
	if full == 0 {
		t.Error("every image stopped early: the test shows nothing about images that run on")
	}
	t.Logf("images stopped early per rule: %v; ran all %d steps: %d", early, T, full)
}

// exitEngines are the settings of the exit tests: full products and
// skipped zeros, 1 and 3 workers, batches of 2 and 3 images (a batch then
// has stopped images beside running ones, and Linear products over runs
// of running images).
func exitEngines() []engineSetting {
	if testenv.RaceEnabled {
		return []engineSetting{{dense.Engine{BatchSize: 3}, 3}, {dense.Engine{SkipSilent: true, BatchSize: 2}, 3}}
	}
	return []engineSetting{
		{dense.Engine{}, 1},
		{dense.Engine{}, 3},
		{dense.Engine{SkipSilent: true}, 1},
		{dense.Engine{SkipSilent: true}, 3},
		{dense.Engine{BatchSize: 3}, 1},
		{dense.Engine{SkipSilent: true, BatchSize: 2}, 3},
	}
}

// TestRecordWithoutExit checks the spike ids of full runs (no exit rule)
// on every kind of network against the reference, and that a run without
// RecordSpikes hands over records without ids.
func TestRecordWithoutExit(t *testing.T) {
	const images, T = 5, 9
	for ki, kind := range snnref.Kinds {
		r := rand.New(rand.NewPCG(uint64(ki), 12))
		net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
		x := snnref.RandomImages(r, net, images)
		opts := network.SimOptions{T: T, RecordSpikes: true, Delays: snnref.RandomDelays(r, net)}
		ref := newRecorded()
		o := opts
		o.OnImage = ref.onImage
		want, err := snnref.Run(net, x, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		spikes := 0
		for _, ids := range ref.ids {
			spikes += len(ids)
		}
		if spikes == 0 {
			t.Fatalf("%v: the reference recorded no spike", kind)
		}
		for _, c := range engines() {
			got := newRecorded()
			o := opts
			o.Workers, o.OnImage = c.workers, got.onImage
			res, err := c.e.Run(net, x, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if d := snnref.Diff(want, res); d != "" {
				t.Fatalf("%v %s: %s", kind, c.e.Name(), d)
			}
			if d := ref.diff(got, images); d != "" {
				t.Fatalf("%v %s workers %d: %s", kind, c.e.Name(), c.workers, d)
			}
		}
		// Without RecordSpikes the records carry no ids.
		var n sync.Mutex
		calls := 0
		_, err = dense.Engine{}.Run(net, x, nil, network.SimOptions{T: T, OnImage: func(i int, rec *network.ImageRecord) error {
			n.Lock()
			defer n.Unlock()
			calls++
			if rec.Recorded != nil {
				return fmt.Errorf("image %d: recorded spikes without RecordSpikes", i)
			}
			return nil
		}})
		if err != nil || calls != images {
			t.Fatalf("%v: %v, %d calls for %d images", kind, err, calls, images)
		}
	}
}

// TestOnImageError: an error from OnImage stops the run and comes back
// from Run, wrapped.
func TestOnImageError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 13))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.MLP, Alpha: 1, Reset: network.ResetSoft})
	x := snnref.RandomImages(r, net, 20)
	stop := errors.New("disk full")
	for _, workers := range []int{1, 3} {
		var mu sync.Mutex
		calls := 0
		_, err := dense.Engine{BatchSize: 2}.Run(net, x, nil, network.SimOptions{T: 4, Workers: workers,
			OnImage: func(i int, rec *network.ImageRecord) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if i == 5 {
					return stop
				}
				return nil
			}})
		if !errors.Is(err, stop) || !strings.Contains(err.Error(), "image 5") {
			t.Fatalf("workers %d: error %v, want one wrapping %q for image 5", workers, err, stop)
		}
		if calls == 20 && workers == 1 {
			t.Fatalf("workers %d: the run went on after the error (%d calls)", workers, calls)
		}
	}
}
