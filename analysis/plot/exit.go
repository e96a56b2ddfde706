package plot

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// NewStepsHistogram draws how many steps the images of a run with an
// early-exit rule ran: hist[t-1] images stopped after t steps, as a bar
// per t in % of the images. rule names the rule in the title.
func NewStepsHistogram(hist []int, rule string) (*Figure, error) {
	T := len(hist)
	total := 0
	for t, c := range hist {
		if c < 0 {
			return nil, fmt.Errorf("plot: steps histogram: %d images at step %d", c, t+1)
		}
		total += c
	}
	if T == 0 || total == 0 {
		return nil, fmt.Errorf("plot: steps histogram: no images")
	}
	pl := newPlot(fmt.Sprintf("Steps per image (%s, %d images)", rule, total), "steps run", "images (%)")
	addGrid(pl, false)
	vals := make(plotter.Values, T)
	top := 0.0
	for t, c := range hist {
		vals[t] = 100 * float64(c) / float64(total)
		top = max(top, vals[t])
	}
	width := vg.Points(math.Max(1.5, math.Min(40, 360/float64(T))))
	bars, err := plotter.NewBarChart(vals, width)
	if err != nil {
		return nil, err
	}
	bars.Color = Color(0)
	bars.LineStyle.Width = 0
	bars.XMin = 1 // bar i stands at step i+1
	pl.Add(bars)
	pl.X.Min, pl.X.Max = 0.4, float64(T)+0.6
	pl.X.Tick.Marker = niceTicks{n: 8, integer: true}
	pl.Y.Min, pl.Y.Max = 0, top*1.1
	return single(pl, DefaultWidth, DefaultHeight), nil
}

// FrontPoint is one exit rule on the accuracy/time plane: its mean steps
// per image and its accuracy (a fraction).
type FrontPoint struct {
	Label     string
	MeanSteps float64
	Accuracy  float64
	// Pareto marks the points no other is better than in both.
	Pareto bool
}

// FrontZoomPoints is how many accuracy points below the best one the
// accuracy/time chart shows.
const FrontZoomPoints = 10

// NewExitFront draws the accuracy against the mean steps per image of the
// margin rules of a sweep (a line through them, by mean steps), the
// Pareto front among all points (a thick step line), and the named points
// (the full run, the exact rule, the oracle) as labelled glyphs. The
// accuracy axis spans FrontZoomPoints below the best point: rules less
// accurate than that fall below it.
func NewExitFront(sweep []FrontPoint, named []FrontPoint) (*Figure, error) {
	if len(sweep)+len(named) == 0 {
		return nil, fmt.Errorf("plot: exit front: no points")
	}
	all := append(slices.Clone(sweep), named...)
	for _, q := range all {
		if math.IsNaN(q.MeanSteps) || math.IsInf(q.MeanSteps, 0) || math.IsNaN(q.Accuracy) || math.IsInf(q.Accuracy, 0) {
			return nil, fmt.Errorf("plot: exit front: point %q at (%v, %v)", q.Label, q.MeanSteps, q.Accuracy)
		}
	}
	pl := newPlot("Accuracy against time: early exit", "mean steps per image", "accuracy (%)")
	addGrid(pl, true)
	xy := func(q FrontPoint) plotter.XY { return plotter.XY{X: q.MeanSteps, Y: 100 * q.Accuracy} }
	var pts plotter.XYs
	if len(sweep) > 0 {
		s := slices.Clone(sweep)
		slices.SortStableFunc(s, func(a, b FrontPoint) int { return cmpFloat(a.MeanSteps, b.MeanSteps) })
		line := make(plotter.XYs, len(s))
		for i, q := range s {
			line[i] = xy(q)
		}
		l, sc, err := plotter.NewLinePoints(line)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = Color(0), vg.Points(1.2)
		sc.GlyphStyle = draw.GlyphStyle{Color: Color(0), Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
		pl.Add(l, sc)
		pl.Legend.Add("margin:M (swept)", l, sc)
		pts = append(pts, line...)
	}
	var front plotter.XYs
	for _, q := range all {
		if q.Pareto {
			front = append(front, xy(q))
		}
	}
	if len(front) > 0 {
		slices.SortStableFunc(front, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		// The front as a staircase: an accuracy holds until the next
		// point improves on it.
		var stairs plotter.XYs
		for i, p := range front {
			if i > 0 {
				stairs = append(stairs, plotter.XY{X: p.X, Y: front[i-1].Y})
			}
			stairs = append(stairs, p)
		}
		l, err := plotter.NewLine(stairs)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = Color(2), vg.Points(2.2)
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(2)}
		pl.Add(l)
		pl.Legend.Add("Pareto front", l)
	}
	glyphs := []draw.GlyphDrawer{draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.CrossGlyph{}}
	for i, q := range named {
		sc, err := plotter.NewScatter(plotter.XYs{xy(q)})
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: Color(i + 3), Radius: vg.Points(4), Shape: glyphs[i%len(glyphs)]}
		pl.Add(sc)
		pl.Legend.Add(fmt.Sprintf("%s (%.2f steps, %s)", q.Label, q.MeanSteps, pct(q.Accuracy)), sc)
		pts = append(pts, xy(q))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	xmax := 0.0
	for _, p := range pts {
		lo, hi, xmax = math.Min(lo, p.Y), math.Max(hi, p.Y), math.Max(xmax, p.X)
	}
	// The interesting part is near the top: rules more than ZoomPoints
	// below the best accuracy are left below the chart.
	lo = math.Max(lo, hi-FrontZoomPoints)
	pad := math.Max(0.25, 0.05*(hi-lo))
	pl.Y.Min, pl.Y.Max = math.Max(0, lo-pad), math.Min(100, hi+pad)
	pl.X.Min, pl.X.Max = 0, math.Ceil(xmax)+0.5
	placeLegend(pl, pts)
	return single(pl, DefaultWidth, DefaultHeight), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// StepsHistogram draws NewStepsHistogram into path.
func StepsHistogram(path string, hist []int, rule string) error {
	return save(path)(NewStepsHistogram(hist, rule))
}

// ExitFront draws NewExitFront into path.
func ExitFront(path string, sweep, named []FrontPoint) error {
	return save(path)(NewExitFront(sweep, named))
}
