package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// ExitFigures are the early-exit figures of a simulation: the histogram
// of steps per image when it ran with an exit rule, and the accuracy
// against mean steps of its sweep (the margin rules, the Pareto front,
// the full run, the exact rule and the oracle) when it has one. A
// simulation with neither has none.
func ExitFigures(sim *analysis.Simulation, dpi int) ([]Figure, error) {
	var figs []Figure
	add := func(title, caption string, f *plot.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("report: figure %q: %w", title, err)
		}
		f.DPI = dpi
		fig, err := FigureOf(title, caption, f, "svg")
		if err != nil {
			return fmt.Errorf("report: figure %q: %w", title, err)
		}
		figs = append(figs, fig)
		return nil
	}
	if st := sim.Steps; st != nil {
		f, err := plot.NewStepsHistogram(st.Histogram, shortRule(sim.Exit))
		caption := fmt.Sprintf("Steps each image ran before %s stopped it (mean %.2f, median %d, 90th percentile %d of T=%d).", sim.Exit, st.Mean, st.Median, st.P90, sim.T)
		if err := add("Steps per image", caption, f, err); err != nil {
			return nil, err
		}
	}
	if sw := sim.Sweep; sw != nil {
		var pts, named []plot.FrontPoint
		for _, p := range sw.Points {
			pts = append(pts, frontPoint(p))
		}
		named = append(named, frontPoint(sw.Full))
		if sw.Exact != nil {
			named = append(named, frontPoint(*sw.Exact))
		}
		o := frontPoint(sw.Oracle)
		o.Label, o.Pareto = "oracle (settled step)", false
		named = append(named, o)
		f, err := plot.NewExitFront(pts, named)
		caption := fmt.Sprintf("Accuracy on the %d images against the mean steps per image of margin:M@%d (stop once (top1−top2)/t ≥ M; SEENN, Li et al. 2023) over a sweep of M, "+
			"from one traced full run of T=%d (replayed exactly); the dashed line is the Pareto front; the oracle stops every image where its prediction settles.", sw.Images, sw.MinSteps, sw.T)
		if err := add("Accuracy against time: early exit", caption, f, err); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// shortRule is a rule's name with its margin to 4 significant digits,
// for titles and legends (tables and JSON keep the exact margin).
func shortRule(rule string) string {
	spec, ok := strings.CutPrefix(rule, "margin:")
	if !ok {
		return rule
	}
	m, at, _ := strings.Cut(spec, "@")
	v, err := strconv.ParseFloat(m, 64)
	if err != nil {
		return rule
	}
	out := "margin:" + strconv.FormatFloat(v, 'g', 4, 64)
	if at != "" {
		out += "@" + at
	}
	return out
}

func frontPoint(p analysis.ExitPoint) plot.FrontPoint {
	return plot.FrontPoint{Label: shortRule(p.Rule), MeanSteps: p.MeanSteps, Accuracy: p.Accuracy, Pareto: p.Pareto}
}

// ExitTables are the early-exit tables of a simulation: the exit run
// against the full run, and the Pareto points of the sweep.
func ExitTables(sim *analysis.Simulation) []Table {
	var tables []Table
	if v := sim.VsFull; v != nil {
		n := float64(v.Images)
		caption := fmt.Sprintf("%d of %d images keep the full run's prediction; SOPs saved %.1f %%.", v.SamePredictions, v.Images, 100*v.SOPsSaved)
		if v.Identical {
			caption += " Identical to the full run: every image's prediction after every step."
		}
		if c := sim.ExitCalibration; c != nil {
			caption += fmt.Sprintf(" %s picked %s on %d training images (%.2f %% there, full run %.2f %%).", c.Target, sim.Exit, c.Images, 100*c.Accuracy, 100*c.FullAccuracy)
		}
		tables = append(tables, Table{
			Title: "Early exit against the full run", Caption: caption,
			Header: []string{"", "accuracy", "mean steps", "spikes/image", "SOPs/image"},
			Rows: [][]string{
				{"full run", percent(v.FullAccuracy), fmt.Sprint(v.FullSteps), fmt.Sprintf("%.1f", float64(v.FullSpikes)/n), fmt.Sprintf("%.0f", float64(v.FullSOPs)/n)},
				{v.Rule, percent(v.ExitAccuracy), fmt.Sprintf("%.2f", v.MeanSteps), fmt.Sprintf("%.1f", float64(v.ExitSpikes)/n), fmt.Sprintf("%.0f", float64(v.ExitSOPs)/n)},
			},
		})
	}
	if sw := sim.Sweep; sw != nil {
		t := Table{Title: "Pareto front of the early-exit sweep",
			Caption: "The rules no other rule of the sweep beats in both accuracy and mean steps (SOPs estimated from each image's spikes per step).",
			Header:  []string{"rule", "accuracy", "changed", "mean steps", "SOPs/image"}}
		all := append([]analysis.ExitPoint{sw.Full}, sw.Points...)
		if sw.Exact != nil {
			all = append(all, *sw.Exact)
		}
		for _, p := range all {
			if p.Pareto {
				t.Rows = append(t.Rows, []string{p.Rule, percent(p.Accuracy), fmt.Sprint(p.Changed), fmt.Sprintf("%.2f", p.MeanSteps), fmt.Sprintf("%.0f", p.SOPsPerImage)})
			}
		}
		tables = append(tables, t)
	}
	return tables
}

// WriteExitFigures writes the early-exit figures of sim (ExitFigures) into
// dir (created if needed) as SVG files named after their titles
// ("steps-per-image.svg"); a simulation without exit rule or sweep writes
// nothing.
func WriteExitFigures(dir string, sim *analysis.Simulation, dpi int) error {
	figs, err := ExitFigures(sim, dpi)
	if err != nil || len(figs) == 0 {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range figs {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, Slug(f.Title)+".svg"), f.SVG); err != nil {
			return err
		}
	}
	return nil
}
