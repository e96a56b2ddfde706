package analysis_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// result is a hand-made run of 5 images, T = 2, one spiking layer.
func result(engine string, pred []int, spikes []int64, correct []int, wall time.Duration) *network.SimResult {
	res := &network.SimResult{Engine: engine, T: 2, Images: len(pred), Predictions: pred, CorrectByStep: correct, Wall: wall}
	var total int64
	for _, s := range spikes {
		res.ImageSpikes = append(res.ImageSpikes, []int64{s})
		total += s
	}
	res.Layers = []network.LayerStats{{Name: "sp1", Neurons: 4, Spikes: total, SOPs: 3 * total}}
	return res
}

// CompareResults lists every image on which the engines disagree, and every
// image whose spike counts differ, in image order.
func TestCompareResults(t *testing.T) {
	labels := []int{0, 1, 2, 3, 4}
	ann := []int{0, 1, 2, 3, 0}
	dres := result("dense", []int{0, 1, 2, 3, 4}, []int64{5, 5, 5, 5, 5}, []int{4, 5}, 2*time.Second)
	eres := result("event", []int{0, 9, 2, 8, 7}, []int64{5, 6, 5, 5, 4}, []int{2, 2}, time.Second)
	c := analysis.CompareResults(labels, ann, 100*time.Millisecond, dres, eres)
	want := []analysis.Disagreement{{Image: 1, Label: 1, Dense: 1, Event: 9, ANN: 1}, {Image: 3, Label: 3, Dense: 3, Event: 8, ANN: 3}, {Image: 4, Label: 4, Dense: 4, Event: 7, ANN: 0}}
	if !reflect.DeepEqual(c.Disagreements, want) {
		t.Errorf("disagreements %+v\nwant %+v", c.Disagreements, want)
	}
	if c.SamePredictions != 2 || c.SNNMatchesANN != 2 || c.Images != 5 || c.T != 2 {
		t.Errorf("same %d, matches ANN %d, images %d, T %d", c.SamePredictions, c.SNNMatchesANN, c.Images, c.T)
	}
	if c.ANNAccuracy != 0.8 || c.DenseAccuracy != 1 || c.EventAccuracy != 0.4 || c.Speedup != 2 || c.ANNSeconds != 0.1 {
		t.Errorf("accuracies %v %v %v, speed-up %v, ANN %v s", c.ANNAccuracy, c.DenseAccuracy, c.EventAccuracy, c.Speedup, c.ANNSeconds)
	}
	if len(c.ImagesSpikes) != 2 || c.ImagesSpikes[0].Image != 1 || c.ImagesSpikes[1].Image != 4 {
		t.Errorf("images with spike differences %+v", c.ImagesSpikes)
	}
	if l := c.Layers[0]; l.DenseSpikes != 25 || l.EventSpikes != 25 || l.RelDiff != 0 || l.DenseSOPs != 75 {
		t.Errorf("layer %+v", l)
	}
	// The table shows the first disagreements; the JSON holds them all.
	var b bytes.Buffer
	if err := c.WriteText(&b, 1); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "  1: 1, 1, 9, 1") || !strings.Contains(out, "... and 2 more") || !strings.Contains(out, "2 images differ") {
		t.Errorf("table:\n%s", out)
	}
	js, _ := json.Marshal(c)
	if n := strings.Count(string(js), `"image":`); n != 5 {
		t.Errorf("JSON has %d images, want 3 disagreements and 2 spike differences:\n%s", n, js)
	}
	// No disagreement is an empty list, not null: scripts iterate it.
	same := analysis.CompareResults(labels, ann, 0, dres, dres)
	if js, _ := json.Marshal(same); !strings.Contains(string(js), `"disagreements":[]`) {
		t.Errorf("no disagreements: %s", js)
	}
}

// On a random chain the engines agree with each other and with the ANN's
// own labels as far as the SNN does.
func TestCompare(t *testing.T) {
	run := fixture.RandomRun(t, snnref.Chain, 5, 10, 12)
	in := inputsOf(run, network.SimOptions{T: 12, Workers: 1})
	c, err := in.Compare(analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Images != 10 || c.SamePredictions != 10 || len(c.Disagreements) != 0 || c.ANNAccuracy != 1 {
		t.Errorf("images %d, same %d, disagreements %v, ANN accuracy %v", c.Images, c.SamePredictions, c.Disagreements, c.ANNAccuracy)
	}
	if c.ANNSource != "the SNN's weights run as an ANN (ReLU for the spiking layers)" {
		t.Errorf("ANN source %q", c.ANNSource)
	}
	for k, l := range c.Layers {
		if l.DenseSpikes != run.Result.Layers[k].Spikes || l.EventSpikes != l.DenseSpikes || l.EventSOPs != l.DenseSOPs {
			t.Errorf("layer %s: %+v, reference %d spikes", l.Name, l, run.Result.Layers[k].Spikes)
		}
	}
}

// Simulate reports progress to the tracker Env gives it, up to every image.
func TestSimulateProgress(t *testing.T) {
	run := fixture.RandomRun(t, snnref.MLP, 1, 7, 4)
	tr := &tracker{}
	env := analysis.Env{Progress: func(task string, total int) analysis.Tracker {
		tr.task, tr.total = task, total
		return tr
	}}
	for _, e := range []network.Engine{event.Engine{}, dense.Engine{}} {
		*tr = tracker{}
		res, err := analysis.Simulate(e, run.Net, inputsOf(run, network.SimOptions{}).Set, network.SimOptions{T: 4, Workers: 1}, env)
		if err != nil {
			t.Fatal(err)
		}
		if d := snnref.Diff(run.Result, res); d != "" {
			t.Errorf("%s: %s", e.Name(), d)
		}
		if tr.task != e.Name()+" T=4" || tr.total != 7 || tr.done != 7 || !tr.finished {
			t.Errorf("%s: progress %+v", e.Name(), *tr)
		}
	}
}

type tracker struct {
	task        string
	total, done int
	finished    bool
}

func (t *tracker) Update(done int) { t.done = max(t.done, done) }
func (t *tracker) Done()           { t.finished = true }
