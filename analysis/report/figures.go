package report

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/network"
)

// FigureData is what the standard figures of a run are drawn from. Only
// Profile is required; a figure whose data is missing is left out.
type FigureData struct {
	Profile *profile.Profile
	// Series are accuracy-vs-step curves (engines, variants); when empty,
	// the profile's own curve is used.
	Series []plot.Series
	// ANNAccuracy is the reference line, a fraction; NaN or negative for
	// none. When NaN and the profile has one, the profile's is used.
	ANNAccuracy float64
	// Raster holds the spikes of one image (SimOptions.Raster).
	Raster []network.RasterEvent
	// Panels hold ANN activations and SNN rates per layer
	// (profile.Rates and network.Activations).
	Panels []plot.Panel
	// MaxPoints bounds the points of each activation-vs-rate panel (0:
	// plot.DefaultMaxPoints).
	MaxPoints int
	// PNGDPI is the resolution of the PNG figures (0: plot.PNGDPI).
	PNGDPI int
}

// StandardFigures renders the figures a profile report shows, in order:
// accuracy vs time step, firing rate per layer, spikes per time step, the
// spike raster of one image and ANN activation vs SNN rate per layer.
// Line and bar charts are SVG; the raster and the scatter plots, which have
// many points, are PNG.
func StandardFigures(d FigureData) ([]Figure, error) {
	p := d.Profile
	if p == nil {
		return nil, fmt.Errorf("report: figures: no profile")
	}
	var figs []Figure
	add := func(title, caption, format string, f *plot.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("report: figure %q: %w", title, err)
		}
		f.DPI = d.PNGDPI
		fig, err := FigureOf(title, caption, f, format)
		if err != nil {
			return fmt.Errorf("report: figure %q: %w", title, err)
		}
		figs = append(figs, fig)
		return nil
	}
	series := d.Series
	if len(series) == 0 && len(p.AccuracyByStep) > 0 {
		series = []plot.Series{{Name: p.Engine, Values: p.AccuracyByStep}}
	}
	ann := d.ANNAccuracy
	if math.IsNaN(ann) && p.ANNAccuracy != nil {
		ann = *p.ANNAccuracy
	}
	if len(series) > 0 {
		f, err := plot.NewAccuracyVsStep(series, ann)
		if err := add("Accuracy vs time step",
			"Accuracy of the prediction argmax Σ_{τ≤t} I_L(τ) after t steps; the dashed line is the ANN on the same images.",
			"svg", f, err); err != nil {
			return nil, err
		}
	}
	f, err := plot.NewFiringRates(p)
	if err := add("Firing rate per layer", "Spikes per neuron per step, over all images and steps.", "svg", f, err); err != nil {
		return nil, err
	}
	f, err = plot.NewSpikesPerStep(p)
	if err := add("Spikes per time step",
		"Fraction of each layer's neurons that fire at step t, over all images: deeper layers start later.", "svg", f, err); err != nil {
		return nil, err
	}
	if len(d.Raster) > 0 {
		names := make([]string, len(p.Layers))
		sizes := make([]int, len(p.Layers))
		for i, l := range p.Layers {
			names[i], sizes[i] = l.Name, l.Neurons
		}
		f, err := plot.NewRaster(d.Raster, names, sizes, p.T)
		if err := add("Spike raster of one image",
			fmt.Sprintf("Every spike of the first image: time step across, neurons down, layers stacked in bands of equal height (layers above %d neurons show an evenly spaced subset).", plot.MaxRasterNeurons),
			"png", f, err); err != nil {
			return nil, err
		}
	}
	if len(d.Panels) > 0 {
		f, err := plot.NewActivationVsRateGrid(d.Panels, d.MaxPoints)
		if err := add("ANN activation vs SNN rate",
			"Each point is one (image, neuron) pair: the ANN's ReLU output x against the SNN rate θ·count/T. "+
				"A perfect conversion lies on y = x; rates are multiples of θ/T (flooring) and at most θ (clipping).",
			"png", f, err); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// Panels builds the activation-vs-rate panels of every spiking layer of a
// run that kept counts: ANN activations from ann (network.Forward on the
// same images) and rates θ·count/T, at no more than maxPoints (image,
// neuron) pairs per layer (0: plot.DefaultMaxPoints), chosen as
// plot.Subsample chooses them; and the Pearson r of the profile, if it has
// one, as each panel's note. Only the chosen pairs are copied, so this is
// cheap on large runs.
func Panels(net *network.Network, res *network.SimResult, ann *network.Activations, p *profile.Profile, maxPoints int) ([]plot.Panel, error) {
	if ann == nil {
		return nil, fmt.Errorf("report: panels: no ANN activations")
	}
	if maxPoints <= 0 {
		maxPoints = plot.DefaultMaxPoints
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, fmt.Errorf("report: panels: %w", err)
	}
	var ps []plot.Panel
	for k, st := range res.Layers {
		if k >= len(res.Counts) || res.Counts[k] == nil {
			return nil, fmt.Errorf("report: panels: the run kept no spike counts (SimOptions.KeepCounts)")
		}
		if st.Layer < 0 || st.Layer >= len(ann.Output) || st.Layer >= len(net.Layers) {
			return nil, fmt.Errorf("report: panels: layer %q index %d out of range", st.Name, st.Layer)
		}
		sp, ok := net.Layers[st.Layer].(*network.Spiking)
		if !ok {
			return nil, fmt.Errorf("report: panels: layer %q is not spiking", st.Name)
		}
		counts, x := res.Counts[k], ann.Output[st.Layer]
		if len(counts) != len(x) {
			return nil, fmt.Errorf("report: panels: layer %q: %d counts, %d ANN activations", st.Name, len(counts), len(x))
		}
		n := shapes[st.Layer].Size()
		idx := plot.Subsample(len(x), maxPoints)
		pn := plot.Panel{Name: st.Name, X: make([]float32, len(idx)), Rate: make([]float32, len(idx))}
		for i, j := range idx {
			pn.X[i] = x[j]
			pn.Rate[i] = sp.ThresholdAt(shapes[st.Layer], j%n) * float32(counts[j]) / float32(res.T)
		}
		if p != nil && k < len(p.Layers) && p.Layers[k].Pearson != nil {
			pn.Note = fmt.Sprintf("r = %.3f", *p.Layers[k].Pearson)
		}
		ps = append(ps, pn)
	}
	return ps, nil
}
