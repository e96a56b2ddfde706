package analysis

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// Comparison is the ANN, the dense SNN and the event SNN on the same
// images, as `evsnn compare --json` prints it: its field names are stable.
type Comparison struct {
	T      int `json:"T"`
	Images int `json:"images"`
	// ANN, dense and event accuracies on the same images.
	ANNAccuracy float64 `json:"ann_accuracy"`
	// ANNSource says which network the ANN accuracy is of.
	ANNSource     string  `json:"ann_source,omitempty"`
	DenseAccuracy float64 `json:"dense_accuracy"`
	EventAccuracy float64 `json:"event_accuracy"`
	// SamePredictions counts images where both engines predict the same
	// class after T steps; Disagreements lists every other one.
	SamePredictions int            `json:"same_predictions"`
	Disagreements   []Disagreement `json:"disagreements"`
	// SNNMatchesANN counts images where the event SNN predicts what the ANN does.
	SNNMatchesANN int            `json:"snn_matches_ann"`
	Layers        []CompareLayer `json:"layers"`
	ANNSeconds    float64        `json:"ann_seconds"`
	DenseSeconds  float64        `json:"dense_seconds"`
	EventSeconds  float64        `json:"event_seconds"`
	Speedup       float64        `json:"event_speedup_over_dense"`
	AccuracyDense []float64      `json:"dense_accuracy_by_step"`
	AccuracyEvent []float64      `json:"event_accuracy_by_step"`
	// ImagesSpikes lists every image on which some layer's spike count
	// differs between the engines.
	ImagesSpikes []ImageSpikeDiff `json:"images_with_spike_differences,omitempty"`

	// The runs the fields above are taken from, the labels and the ANN's
	// predictions (a partial result carries them).
	Dense, Event    *network.SimResult `json:"-"`
	Labels, ANNPred []int              `json:"-"`
}

// Disagreement is an image the two engines predict differently.
type Disagreement struct {
	Image int `json:"image"`
	Label int `json:"label"`
	Dense int `json:"dense"`
	Event int `json:"event"`
	ANN   int `json:"ann"`
}

// CompareLayer is one spiking layer's spikes and SOPs in both engines.
type CompareLayer struct {
	Name        string  `json:"name"`
	DenseSpikes int64   `json:"dense_spikes"`
	EventSpikes int64   `json:"event_spikes"`
	RelDiff     float64 `json:"relative_difference"`
	DenseSOPs   int64   `json:"dense_sops"`
	EventSOPs   int64   `json:"event_sops"`
}

// ImageSpikeDiff is an image whose spike counts per layer differ.
type ImageSpikeDiff struct {
	Image int     `json:"image"`
	Dense []int64 `json:"dense"`
	Event []int64 `json:"event"`
}

// Compare runs the ANN, the dense engine (every product in full) and the
// event engine on the inputs. The ANN is the source model when it was given
// as an ANN; for an SNN model file it is the SNN's own weights run as an
// ANN (spiking layers act as ReLU; a bias shift or calibration is then part
// of it), and ANNSource says so.
func (in *Inputs) Compare(env Env) (*Comparison, error) {
	source := "the source ANN"
	if in.ANN.IsSNN() {
		source = "the SNN's weights run as an ANN (ReLU for the spiking layers)"
	}
	annPred, _, annWall, err := predict(in.ANN, in.Set, env)
	if err != nil {
		return nil, err
	}
	dres, err := Simulate(dense.Engine{}, in.SNN, in.Set, in.Opts, env)
	if err != nil {
		return nil, err
	}
	eres, err := Simulate(event.Engine{}, in.SNN, in.Set, in.Opts, env)
	if err != nil {
		return nil, err
	}
	out := CompareResults(in.Set.Labels, annPred, annWall, dres, eres)
	out.ANNSource = source
	// A shard's images are numbered as in the whole run.
	for i := range out.Disagreements {
		out.Disagreements[i].Image += in.Shard.First
	}
	for i := range out.ImagesSpikes {
		out.ImagesSpikes[i].Image += in.Shard.First
	}
	return out, nil
}

// predict runs the ANN on set and returns its predictions and accuracy.
func predict(ann *network.Network, set *dataset.Set, env Env) ([]int, float64, time.Duration, error) {
	start := time.Now()
	pred, err := ann.Predict(set.Images, set.N, 256)
	if err != nil {
		return nil, 0, 0, BadInput(err)
	}
	wall := time.Since(start)
	acc := accuracy(pred, set.Labels)
	env.log().Info("ANN", "accuracy", acc, "images", set.N, "wall", wall)
	return pred, acc, wall, nil
}

// accuracy is the fraction of predictions equal to the labels.
func accuracy(pred, labels []int) float64 {
	correct := 0
	for i, p := range pred {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(pred))
}

// CompareResults compares a dense and an event run of the same network on
// the same images (with labels) and the ANN's predictions on them, which
// took annWall.
func CompareResults(labels, annPred []int, annWall time.Duration, dres, eres *network.SimResult) *Comparison {
	n := len(labels)
	out := &Comparison{T: dres.T, Images: n, ANNSeconds: annWall.Seconds(),
		DenseSeconds: dres.Wall.Seconds(), EventSeconds: eres.Wall.Seconds(), Disagreements: []Disagreement{},
		Dense: dres, Event: eres, Labels: labels, ANNPred: annPred}
	if eres.Wall > 0 {
		out.Speedup = dres.Wall.Seconds() / eres.Wall.Seconds()
	}
	for i := 0; i < n; i++ {
		if eres.Predictions[i] == annPred[i] {
			out.SNNMatchesANN++
		}
		if dres.Predictions[i] == eres.Predictions[i] {
			out.SamePredictions++
		} else {
			out.Disagreements = append(out.Disagreements, Disagreement{Image: i, Label: labels[i], Dense: dres.Predictions[i], Event: eres.Predictions[i], ANN: annPred[i]})
		}
		if dres.ImageSpikes != nil && eres.ImageSpikes != nil && !slices.Equal(dres.ImageSpikes[i], eres.ImageSpikes[i]) {
			out.ImagesSpikes = append(out.ImagesSpikes, ImageSpikeDiff{Image: i, Dense: dres.ImageSpikes[i], Event: eres.ImageSpikes[i]})
		}
	}
	out.ANNAccuracy = accuracy(annPred[:n], labels)
	out.AccuracyDense, out.AccuracyEvent = dres.AccuracyByStep(), eres.AccuracyByStep()
	out.DenseAccuracy = last(out.AccuracyDense)
	out.EventAccuracy = last(out.AccuracyEvent)
	for k, dl := range dres.Layers {
		el := eres.Layers[k]
		rel := 0.0
		if dl.Spikes > 0 {
			rel = math.Abs(float64(el.Spikes-dl.Spikes)) / float64(dl.Spikes)
		}
		out.Layers = append(out.Layers, CompareLayer{Name: dl.Name, DenseSpikes: dl.Spikes, EventSpikes: el.Spikes, RelDiff: rel, DenseSOPs: dl.SOPs, EventSOPs: el.SOPs})
	}
	return out
}

func last(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

// WriteText prints the comparison as tables, with at most show of the
// disagreeing images (the JSON lists them all).
func (c *Comparison) WriteText(w io.Writer, show int) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "T=%d, %d images\n", c.T, c.Images)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\taccuracy\twall\t")
	fmt.Fprintf(tw, "ANN\t%.2f %%\t%.2f s\t\n", 100*c.ANNAccuracy, c.ANNSeconds)
	fmt.Fprintf(tw, "dense SNN\t%.2f %%\t%.2f s\t\n", 100*c.DenseAccuracy, c.DenseSeconds)
	fmt.Fprintf(tw, "event SNN\t%.2f %%\t%.2f s\t\n", 100*c.EventAccuracy, c.EventSeconds)
	tw.Flush()
	fmt.Fprintf(ew, "event vs dense: same prediction for %d of %d images; event is %.1f× faster\n", c.SamePredictions, c.Images, c.Speedup)
	fmt.Fprintf(ew, "event SNN vs ANN: same prediction for %d of %d images\n", c.SNNMatchesANN, c.Images)
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tdense spikes\tevent spikes\tdifference\tdense SOPs\tevent SOPs\t")
	for _, l := range c.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f %%\t%d\t%d\t\n", l.Name, l.DenseSpikes, l.EventSpikes, 100*l.RelDiff, l.DenseSOPs, l.EventSOPs)
	}
	tw.Flush()
	if n := len(c.ImagesSpikes); n > 0 {
		fmt.Fprintf(ew, "%d images differ in some layer's spike count (float rounding at threshold ties)\n", n)
	}
	if len(c.Disagreements) > 0 {
		fmt.Fprintln(ew, "disagreeing images (image: label, dense, event, ANN):")
		for i, d := range c.Disagreements {
			if i == show {
				fmt.Fprintf(ew, "  ... and %d more (--json lists all)\n", len(c.Disagreements)-show)
				break
			}
			fmt.Fprintf(ew, "  %d: %d, %d, %d, %d\n", d.Image, d.Label, d.Dense, d.Event, d.ANN)
		}
	}
	return flush(w, ew)
}
