package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// CompareCmd runs the ANN, the dense SNN and the event SNN on the same
// images and reports where they agree and where they do not.
type CompareCmd struct {
	Model string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	simFlags
	JSON bool `help:"Print one JSON object instead of a table."`
	Show int  `help:"List at most this many disagreeing images in the table (--json lists all)." default:"20"`
}

// compareJSON is the stable output of compare --json.
type compareJSON struct {
	T      int `json:"T"`
	Images int `json:"images"`
	// ANN, dense and event accuracies on the same images.
	ANNAccuracy float64 `json:"ann_accuracy"`
	// ANNSource says which network the ANN accuracy is of.
	ANNSource     string  `json:"ann_source,omitempty"`
	DenseAccuracy float64 `json:"dense_accuracy"`
	EventAccuracy float64 `json:"event_accuracy"`
	// SamePredictions counts images where both engines predict the same
	// class after T steps; Disagreements lists the others.
	SamePredictions int                `json:"same_predictions"`
	Disagreements   []disagreementJSON `json:"disagreements"`
	// SNNMatchesANN counts images where the event SNN predicts what the ANN does.
	SNNMatchesANN int                  `json:"snn_matches_ann"`
	Layers        []compareLayerJSON   `json:"layers"`
	ANNSeconds    float64              `json:"ann_seconds"`
	DenseSeconds  float64              `json:"dense_seconds"`
	EventSeconds  float64              `json:"event_seconds"`
	Speedup       float64              `json:"event_speedup_over_dense"`
	AccuracyDense []float64            `json:"dense_accuracy_by_step"`
	AccuracyEvent []float64            `json:"event_accuracy_by_step"`
	ImagesSpikes  []imageSpikeDiffJSON `json:"images_with_spike_differences,omitempty"`
}

type disagreementJSON struct {
	Image int `json:"image"`
	Label int `json:"label"`
	Dense int `json:"dense"`
	Event int `json:"event"`
	ANN   int `json:"ann"`
}

type compareLayerJSON struct {
	Name        string  `json:"name"`
	DenseSpikes int64   `json:"dense_spikes"`
	EventSpikes int64   `json:"event_spikes"`
	RelDiff     float64 `json:"relative_difference"`
	DenseSOPs   int64   `json:"dense_sops"`
	EventSOPs   int64   `json:"event_sops"`
}

type imageSpikeDiffJSON struct {
	Image int     `json:"image"`
	Dense []int64 `json:"dense"`
	Event []int64 `json:"event"`
}

// Run implements the command.
func (c *CompareCmd) Run(g *Globals) error {
	in, err := g.loadRun(c.Model, c.simFlags)
	if err != nil {
		return err
	}
	out, err := g.compare(in.ANN, in.SNN, in.Set, in.Opts)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(g.Out, out)
	}
	printCompare(g.Out, out, c.Show)
	return nil
}

// compare runs all three on the set. The ANN is the source model when it
// was given as an ANN; for an SNN model file it is the SNN's own weights run
// as an ANN (spiking layers act as ReLU; a bias shift or calibration is then
// part of it), and ANNSource says so.
func (g *Globals) compare(ann, snn *network.Network, set *mnist.Set, opts network.SimOptions) (*compareJSON, error) {
	source := "the source ANN"
	if ann.IsSNN() {
		source = "the SNN's weights run as an ANN (ReLU for the spiking layers)"
	}
	start := time.Now()
	annPred, err := ann.Predict(set.Images, set.N, 256)
	if err != nil {
		return nil, err
	}
	annWall := time.Since(start)
	dres, err := g.simulate(dense.Engine{}, snn, set, opts)
	if err != nil {
		return nil, err
	}
	eres, err := g.simulate(event.Engine{}, snn, set, opts)
	if err != nil {
		return nil, err
	}
	out := compareResults(set, annPred, annWall, dres, eres)
	out.ANNSource = source
	return out, nil
}

func compareResults(set *mnist.Set, annPred []int, annWall time.Duration, dres, eres *network.SimResult) *compareJSON {
	out := &compareJSON{T: dres.T, Images: set.N, ANNSeconds: annWall.Seconds(),
		DenseSeconds: dres.Wall.Seconds(), EventSeconds: eres.Wall.Seconds(), Disagreements: []disagreementJSON{}}
	if eres.Wall > 0 {
		out.Speedup = dres.Wall.Seconds() / eres.Wall.Seconds()
	}
	annCorrect := 0
	for i := 0; i < set.N; i++ {
		if annPred[i] == set.Labels[i] {
			annCorrect++
		}
		if eres.Predictions[i] == annPred[i] {
			out.SNNMatchesANN++
		}
		if dres.Predictions[i] == eres.Predictions[i] {
			out.SamePredictions++
		} else {
			out.Disagreements = append(out.Disagreements, disagreementJSON{Image: i, Label: set.Labels[i], Dense: dres.Predictions[i], Event: eres.Predictions[i], ANN: annPred[i]})
		}
		if dres.ImageSpikes != nil && eres.ImageSpikes != nil && !slices.Equal(dres.ImageSpikes[i], eres.ImageSpikes[i]) {
			out.ImagesSpikes = append(out.ImagesSpikes, imageSpikeDiffJSON{Image: i, Dense: dres.ImageSpikes[i], Event: eres.ImageSpikes[i]})
		}
	}
	out.ANNAccuracy = float64(annCorrect) / float64(set.N)
	out.AccuracyDense, out.AccuracyEvent = dres.AccuracyByStep(), eres.AccuracyByStep()
	out.DenseAccuracy = out.AccuracyDense[len(out.AccuracyDense)-1]
	out.EventAccuracy = out.AccuracyEvent[len(out.AccuracyEvent)-1]
	for k, dl := range dres.Layers {
		el := eres.Layers[k]
		rel := 0.0
		if dl.Spikes > 0 {
			rel = math.Abs(float64(el.Spikes-dl.Spikes)) / float64(dl.Spikes)
		}
		out.Layers = append(out.Layers, compareLayerJSON{Name: dl.Name, DenseSpikes: dl.Spikes, EventSpikes: el.Spikes, RelDiff: rel, DenseSOPs: dl.SOPs, EventSOPs: el.SOPs})
	}
	return out
}

func printCompare(w io.Writer, c *compareJSON, show int) {
	fmt.Fprintf(w, "T=%d, %d images\n", c.T, c.Images)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\taccuracy\twall\t")
	fmt.Fprintf(tw, "ANN\t%.2f %%\t%.2f s\t\n", 100*c.ANNAccuracy, c.ANNSeconds)
	fmt.Fprintf(tw, "dense SNN\t%.2f %%\t%.2f s\t\n", 100*c.DenseAccuracy, c.DenseSeconds)
	fmt.Fprintf(tw, "event SNN\t%.2f %%\t%.2f s\t\n", 100*c.EventAccuracy, c.EventSeconds)
	tw.Flush()
	fmt.Fprintf(w, "event vs dense: same prediction for %d of %d images; event is %.1f× faster\n", c.SamePredictions, c.Images, c.Speedup)
	fmt.Fprintf(w, "event SNN vs ANN: same prediction for %d of %d images\n", c.SNNMatchesANN, c.Images)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tdense spikes\tevent spikes\tdifference\tdense SOPs\tevent SOPs\t")
	for _, l := range c.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f %%\t%d\t%d\t\n", l.Name, l.DenseSpikes, l.EventSpikes, 100*l.RelDiff, l.DenseSOPs, l.EventSOPs)
	}
	tw.Flush()
	if n := len(c.ImagesSpikes); n > 0 {
		fmt.Fprintf(w, "%d images differ in some layer's spike count (float rounding at threshold ties)\n", n)
	}
	if len(c.Disagreements) > 0 {
		fmt.Fprintln(w, "disagreeing images (image: label, dense, event, ANN):")
		for i, d := range c.Disagreements {
			if i == show {
				fmt.Fprintf(w, "  ... and %d more (--json lists all)\n", len(c.Disagreements)-show)
				break
			}
			fmt.Fprintf(w, "  %d: %d, %d, %d, %d\n", d.Image, d.Label, d.Dense, d.Event, d.ANN)
		}
	}
}
