package plot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/network"
)

// Series is one accuracy curve: Values[t-1] is the accuracy (a fraction,
// 0..1) after t steps.
type Series struct {
	Name   string
	Values []float64
}

// NewAccuracyVsStep plots accuracy (in %) against the time step, one line
// per series (engine or variant), with the ANN's accuracy as a dashed
// horizontal reference line. annAccuracy is a fraction; pass a negative
// value or NaN to leave the line out.
func NewAccuracyVsStep(series []Series, annAccuracy float64) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("plot: accuracy: no series")
	}
	p := newPlot("Accuracy vs time step", "time step t", "accuracy (%)")
	addGrid(p, true)
	maxT := 0
	var all plotter.XYs
	for i, s := range series {
		if len(s.Values) == 0 {
			return nil, fmt.Errorf("plot: accuracy: series %q is empty", s.Name)
		}
		maxT = max(maxT, len(s.Values))
		xys := make(plotter.XYs, len(s.Values))
		for t, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("plot: accuracy: series %q has %v at step %d", s.Name, v, t+1)
			}
			xys[t] = plotter.XY{X: float64(t + 1), Y: 100 * v}
		}
		all = append(all, xys...)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = Color(i)
		l.Width = vg.Points(1.6)
		if i > 0 {
			// Distinguish overlapping curves (engines that agree) by dashes.
			l.Dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}[i%3]
		}
		p.Add(l)
		thumbs := []gplot.Thumbnailer{l}
		if len(s.Values) <= 48 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(1.8), Shape: [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}}[i%3]}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		p.Legend.Add(s.Name, thumbs...)
	}
	if annAccuracy >= 0 && !math.IsInf(annAccuracy, 0) {
		l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 100 * annAccuracy}, {X: float64(maxT), Y: 100 * annAccuracy}})
		if err != nil {
			return nil, err
		}
		l.Color = rgb(0x222222)
		l.Width = vg.Points(1.2)
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("ANN "+pct(annAccuracy), l)
	}
	p.X.Min = 1
	p.X.Max = float64(maxT)
	p.X.Tick.Marker = niceTicks{n: 8, integer: true}
	p.Y.Max = math.Min(100, p.Y.Max+2)
	p.Y.Min = math.Max(0, p.Y.Min-2)
	if annAccuracy >= 0 && !math.IsInf(annAccuracy, 0) {
		all = append(all, plotter.XY{X: 1, Y: 100 * annAccuracy}, plotter.XY{X: float64(maxT), Y: 100 * annAccuracy})
	}
	placeLegend(p, all)
	return single(p, DefaultWidth, DefaultHeight), nil
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + " %" }

// NewFiringRates draws the firing rate of each spiking layer (spikes per
// neuron per step, in %) as bars labelled with their values.
func NewFiringRates(p *profile.Profile) (*Figure, error) {
	if p == nil || len(p.Layers) == 0 {
		return nil, fmt.Errorf("plot: firing rates: no layers")
	}
	pl := newPlot(fmt.Sprintf("Firing rate per layer (T = %d, %d images)", p.T, p.Images), "", "spikes per neuron per step (%)")
	addGrid(pl, false)
	vals := make(plotter.Values, len(p.Layers))
	names := make([]string, len(p.Layers))
	labels := make([]string, len(p.Layers))
	xys := make(plotter.XYs, len(p.Layers))
	top := 0.0
	for i, l := range p.Layers {
		vals[i] = 100 * l.FiringRate
		names[i] = l.Name
		labels[i] = strconv.FormatFloat(100*l.FiringRate, 'f', 2, 64) + " %"
		xys[i] = plotter.XY{X: float64(i), Y: vals[i]}
		top = max(top, vals[i])
	}
	width := vg.Points(math.Min(56, 320/float64(len(p.Layers))))
	bars, err := plotter.NewBarChart(vals, width)
	if err != nil {
		return nil, err
	}
	bars.Color = Color(0)
	bars.LineStyle.Width = 0
	pl.Add(bars)
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font = font.From(sans, 9)
		lb.TextStyle[i].Color = ink
		lb.TextStyle[i].XAlign = draw.XCenter
		lb.TextStyle[i].YAlign = draw.YBottom
	}
	lb.Offset = vg.Point{Y: vg.Points(3)}
	pl.Add(lb)
	pl.NominalX(names...)
	pl.X.Tick.Length = 0
	pl.Y.Min = 0
	if top == 0 {
		top = 1
	}
	pl.Y.Max = top * 1.18
	pl.X.Min, pl.X.Max = -0.7, float64(len(p.Layers))-0.3
	return single(pl, DefaultWidth, DefaultHeight), nil
}

// NewSpikesPerStep draws, for each spiking layer, the fraction of its
// neurons that fire at each step (spikes at step t over neurons·images, in
// %): where each layer starts firing and how its activity settles.
func NewSpikesPerStep(p *profile.Profile) (*Figure, error) {
	if p == nil || len(p.Layers) == 0 {
		return nil, fmt.Errorf("plot: spikes per step: no layers")
	}
	pl := newPlot("Spikes per time step", "time step t", "neurons firing at step t (%)")
	addGrid(pl, true)
	var all plotter.XYs
	for i, l := range p.Layers {
		if len(l.SpikesByStep) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(l.SpikesByStep))
		for t, s := range l.SpikesByStep {
			xys[t] = plotter.XY{X: float64(t + 1), Y: 100 * float64(s) / (float64(l.Neurons) * float64(p.Images))}
		}
		all = append(all, xys...)
		ln, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		ln.Color = Color(i)
		ln.Width = vg.Points(1.6)
		pl.Add(ln)
		thumbs := []gplot.Thumbnailer{ln}
		if len(xys) <= 48 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
			pl.Add(sc)
			thumbs = append(thumbs, sc)
		}
		pl.Legend.Add(l.Name, thumbs...)
	}
	pl.X.Min = 1
	pl.X.Max = float64(p.T)
	pl.X.Tick.Marker = niceTicks{n: 8, integer: true}
	pl.Y.Min = 0
	pl.Y.Max *= 1.12
	if pl.Y.Max <= 0 {
		pl.Y.Max = 1
	}
	placeLegend(pl, all)
	return single(pl, DefaultWidth, DefaultHeight), nil
}

// MaxRasterNeurons is the most neurons of one layer a raster shows: a
// larger layer shows every k-th neuron (k = ⌈size/MaxRasterNeurons⌉), and
// its label says so.
const MaxRasterNeurons = 200

// NewRaster draws the spikes of one image: x is the step, layers are
// stacked top to bottom in bands of equal height (a neuron's position in
// its band is its index in the layer), one colour per layer. layerNames and
// layerSizes give the name and neuron count of each spiking layer,
// indexed as RasterEvent.Layer.
func NewRaster(events []network.RasterEvent, layerNames []string, layerSizes []int, T int) (*Figure, error) {
	L := len(layerNames)
	if L == 0 || len(layerSizes) != L {
		return nil, fmt.Errorf("plot: raster: %d layer names, %d sizes", L, len(layerSizes))
	}
	if T < 1 {
		return nil, fmt.Errorf("plot: raster: T = %d", T)
	}
	stride := make([]int, L)
	for k, n := range layerSizes {
		if n < 1 {
			return nil, fmt.Errorf("plot: raster: layer %q has %d neurons", layerNames[k], n)
		}
		stride[k] = (n + MaxRasterNeurons - 1) / MaxRasterNeurons
	}
	pts := make([]plotter.XYs, L)
	for _, e := range events {
		k := int(e.Layer)
		if k < 0 || k >= L || e.Neuron < 0 || int(e.Neuron) >= layerSizes[k] || e.Step < 1 || int(e.Step) > T {
			return nil, fmt.Errorf("plot: raster: event %+v out of range", e)
		}
		if int(e.Neuron)%stride[k] != 0 {
			continue
		}
		shown := (layerSizes[k] + stride[k] - 1) / stride[k]
		pos := (float64(int(e.Neuron)/stride[k]) + 0.5) / float64(shown)
		// Layer 0 at the top; neuron 0 at the top of its band.
		y := float64(L-k) - 0.04 - 0.92*pos
		pts[k] = append(pts[k], plotter.XY{X: float64(e.Step), Y: y})
	}
	p := newPlot(fmt.Sprintf("Spike raster of one image (%d spikes)", len(events)), "time step t", "")
	p.Y.Tick.Length = 0
	var ticks gplot.ConstantTicks
	for k := range L {
		label := layerNames[k]
		if stride[k] > 1 {
			label += "\n1 in " + strconv.Itoa(stride[k]) + " of " + profile.Group(int64(layerSizes[k]))
		} else {
			label += "\n" + profile.Group(int64(layerSizes[k])) + " neurons"
		}
		ticks = append(ticks, gplot.Tick{Value: float64(L-k) - 0.5, Label: label})
		if k > 0 {
			sep, err := plotter.NewLine(plotter.XYs{{X: 0.5, Y: float64(L - k)}, {X: float64(T) + 0.5, Y: float64(L - k)}})
			if err != nil {
				return nil, err
			}
			sep.Color = rgb(0xbbbbbb)
			sep.Width = vg.Points(0.6)
			p.Add(sep)
		}
		if len(pts[k]) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts[k])
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: Color(k), Radius: vg.Points(0.9), Shape: draw.BoxGlyph{}}
		p.Add(sc)
	}
	p.Y.Tick.Marker = ticks
	p.Y.Min, p.Y.Max = 0, float64(L)
	p.X.Min, p.X.Max = 0.5, float64(T)+0.5
	p.X.Tick.Marker = niceTicks{n: 8, integer: true}
	h := DefaultHeight
	if L > 4 {
		h = vg.Length(L) * vg.Inch
	}
	return single(p, DefaultWidth, h), nil
}

// Panel is one layer of an activation-vs-rate figure: the ANN activations
// X and the SNN rates Rate of the same (image, neuron) pairs.
type Panel struct {
	Name    string
	X, Rate []float32
	// Note, if set, is added to the panel title (e.g. "r = 0.98").
	Note string
}

// DefaultMaxPoints is the number of points a scatter draws when the caller
// passes 0.
const DefaultMaxPoints = 4000

// NewActivationVsRate draws, for one layer, the SNN rate s̄ = θ·count/T of
// each (image, neuron) pair against its ANN activation, with the y = x line
// a perfect conversion would follow. Points above θ (clipping) and the
// steps of θ/T (flooring) show the conversion error (SPEC §2). At most
// maxPoints pairs are drawn, chosen deterministically (the same data give
// the same picture).
func NewActivationVsRate(layerName string, x, rate []float32, maxPoints int) (*Figure, error) {
	p, err := activationPlot(Panel{Name: layerName, X: x, Rate: rate}, maxPoints, 0)
	if err != nil {
		return nil, err
	}
	return single(p, 5*vg.Inch, 4.4*vg.Inch), nil
}

// NewActivationVsRateGrid draws one activation-vs-rate panel per layer,
// up to three per row.
func NewActivationVsRateGrid(panels []Panel, maxPoints int) (*Figure, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("plot: activation vs rate: no panels")
	}
	cols := min(3, len(panels))
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*gplot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*gplot.Plot, cols)
	}
	for i, pn := range panels {
		p, err := activationPlot(pn, maxPoints, i)
		if err != nil {
			return nil, err
		}
		grid[i/cols][i%cols] = p
	}
	w := vg.Length(cols) * 2.6 * vg.Inch
	w = max(w, 5*vg.Inch)
	return &Figure{Width: w, Height: vg.Length(rows) * 2.7 * vg.Inch, Plots: grid}, nil
}

func activationPlot(pn Panel, maxPoints, colour int) (*gplot.Plot, error) {
	if len(pn.X) != len(pn.Rate) {
		return nil, fmt.Errorf("plot: activation vs rate %q: %d activations, %d rates", pn.Name, len(pn.X), len(pn.Rate))
	}
	if len(pn.X) == 0 {
		return nil, fmt.Errorf("plot: activation vs rate %q: no data", pn.Name)
	}
	if maxPoints <= 0 {
		maxPoints = DefaultMaxPoints
	}
	idx := Subsample(len(pn.X), maxPoints)
	xys := make(plotter.XYs, len(idx))
	top := 0.0
	for i, j := range idx {
		x, y := float64(pn.X[j]), float64(pn.Rate[j])
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("plot: activation vs rate %q: value %d is not finite", pn.Name, j)
		}
		xys[i] = plotter.XY{X: x, Y: y}
		top = max(top, x, y)
	}
	if top == 0 {
		top = 1
	}
	title := pn.Name
	if pn.Note != "" {
		title += "  (" + pn.Note + ")"
	}
	p := newPlot(title, "ANN activation x", "SNN rate θ·count/T")
	addGrid(p, true)
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}})
	if err != nil {
		return nil, err
	}
	diag.Color = rgb(0x555555)
	diag.Width = vg.Points(0.9)
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: withAlpha(Color(colour), 90), Radius: vg.Points(1.7), Shape: draw.CircleGlyph{}}
	p.Add(sc, diag)
	p.Legend.Add("y = x", diag)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(4)
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max, p.Y.Max = top*1.03, top*1.03
	return p, nil
}

// Subsample returns min(n, k) distinct indices of 0..n-1 in increasing
// order, drawn by Floyd's algorithm from a generator seeded by n and k:
// the same n and k always give the same indices.
func Subsample(n, k int) []int {
	if k >= n {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	chosen := make(map[int]struct{}, k)
	idx := make([]int, 0, k)
	for j := n - k; j < n; j++ {
		t := r.IntN(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		idx = append(idx, t)
	}
	slices.Sort(idx)
	return idx
}

// AccuracyVsStep writes NewAccuracyVsStep to path (.png or .svg).
func AccuracyVsStep(path string, series []Series, annAccuracy float64) error {
	return save(path)(NewAccuracyVsStep(series, annAccuracy))
}

// FiringRates writes NewFiringRates to path (.png or .svg).
func FiringRates(path string, p *profile.Profile) error {
	return save(path)(NewFiringRates(p))
}

// SpikesPerStep writes NewSpikesPerStep to path (.png or .svg).
func SpikesPerStep(path string, p *profile.Profile) error {
	return save(path)(NewSpikesPerStep(p))
}

// Raster writes NewRaster to path (.png or .svg).
func Raster(path string, events []network.RasterEvent, layerNames []string, layerSizes []int, T int) error {
	return save(path)(NewRaster(events, layerNames, layerSizes, T))
}

// ActivationVsRate writes NewActivationVsRate to path (.png or .svg).
func ActivationVsRate(path, layerName string, x, rate []float32, maxPoints int) error {
	return save(path)(NewActivationVsRate(layerName, x, rate, maxPoints))
}

// ActivationVsRateGrid writes NewActivationVsRateGrid to path.
func ActivationVsRateGrid(path string, panels []Panel, maxPoints int) error {
	return save(path)(NewActivationVsRateGrid(panels, maxPoints))
}

func save(path string) func(*Figure, error) error {
	return func(f *Figure, err error) error {
		if err != nil {
			return err
		}
		return f.Save(path)
	}
}
