package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/internal/fsutil"
	"github.com/evsnn/evsnn/network"
)

// RunInfo is what a report of an analysis.Analysis says beyond the
// analysis itself.
type RunInfo struct {
	Title string   // "evsnn report" if empty
	Notes []string // paragraphs at the end
	// Tables go after the comparison tables.
	Tables []Table
	// MaxPoints bounds the points of each activation-vs-rate panel (0:
	// plot.DefaultMaxPoints); PNGDPI is the resolution of PNG figures (0:
	// plot.PNGDPI).
	MaxPoints, PNGDPI int
	// Generated is the time printed in the footer; the zero time leaves it
	// out (byte-identical reports from identical inputs).
	Generated time.Time
	// Exit, if set, is an early-exit study of the run's images
	// (analysis.Inputs.SimulateWith with VsFull and Sweep): its steps
	// histogram and accuracy/time front are added to the figures, its
	// tables to the tables, and exit.json, steps.csv and exit_sweep.csv
	// to the files.
	Exit *analysis.Simulation
}

// RunFigures renders the standard figures of an analysis (StandardFigures):
// accuracy vs step (with the other engine's curve when it was compared),
// firing rates, spikes per step, the raster of the first image and, when
// the conversion error was measured, ANN activation vs SNN rate.
func RunFigures(a *analysis.Analysis, maxPoints, dpi int) ([]Figure, error) {
	data := FigureData{Profile: a.Profile, ANNAccuracy: a.ANNAccuracy, Raster: a.Result.Raster, MaxPoints: maxPoints, PNGDPI: dpi}
	data.Series = []plot.Series{{Name: a.Result.Engine + " SNN", Values: a.Result.AccuracyByStep()}}
	if c := a.Comparison; c != nil {
		other, vals := "dense SNN", c.AccuracyDense
		if engines.IsDense(a.Result.Engine) {
			other, vals = "event SNN", c.AccuracyEvent
		}
		data.Series = append(data.Series, plot.Series{Name: other, Values: vals})
	}
	if a.ErrRun != nil {
		panels, err := Panels(a.SNN, a.ErrRun, a.ErrAct, a.Profile, maxPoints)
		if err != nil {
			return nil, err
		}
		data.Panels = panels
	}
	return StandardFigures(data)
}

// RunSettings describe an analysis for a report: model, engine, T,
// images, encoding, normalisation, conversion, calibration, energy
// constants and versions.
func RunSettings(a *analysis.Analysis) []KV {
	kv := []KV{
		{Key: "model", Value: a.Model},
		{Key: "engine", Value: a.Result.Engine},
		{Key: "T", Value: strconv.Itoa(a.Opts.T)},
		{Key: "images", Value: images(a)},
		{Key: "input encoding", Value: string(a.Opts.Encoding)},
	}
	if a.Opts.Encoding == network.EncodingPoisson {
		kv = append(kv, KV{Key: "seed", Value: strconv.FormatUint(a.Opts.Seed, 10)})
	}
	if a.Set.Normalized() {
		kv = append(kv, KV{Key: "normalisation", Value: fmt.Sprintf("(x − mean)/std per channel, mean %v, std %v", a.Set.Mean, a.Set.Std)})
	}
	if cv := a.SNN.Meta.Conversion; cv != nil {
		v := fmt.Sprintf("threshold %s over %d images, %s, %s reset, v(0)=%g·θ", cv.Statistic, cv.Images, cv.Neuron, cv.Reset, cv.V0Fraction)
		if cv.BiasShift {
			v += fmt.Sprintf(", bias shift θ/2T for T=%d", cv.BiasShiftT)
		}
		kv = append(kv, KV{Key: "conversion", Value: v})
	}
	if cb := a.SNN.Meta.Calibration; cb != nil {
		kv = append(kv, KV{Key: "calibration", Value: fmt.Sprintf("%s for T=%d on %d images, seed %d", cb.Method, cb.T, cb.Images, cb.Seed)})
	}
	if n := a.ErrorImages(); n > 0 {
		kv = append(kv, KV{Key: "conversion error on", Value: fmt.Sprintf("the first %d images", n)})
	}
	kv = append(kv, KV{Key: "energy constants", Value: a.Options.Energy.String()})
	return append(kv, Versions()...)
}

// images says what the images of a run are: "10000 MNIST test images".
func images(a *analysis.Analysis) string {
	name := a.Set.Name
	if name == "" || name == "mnist test" {
		name = "MNIST test"
	}
	return fmt.Sprintf("%d %s images", a.Set.N, name)
}

// CompareTables are the ANN / dense / event comparison and the two
// engines' spike counts as report tables.
func CompareTables(c *analysis.Comparison) []Table {
	acc := Table{
		Title:   "ANN, dense SNN and event SNN",
		Caption: fmt.Sprintf("Same %d images, T=%d. Event and dense agree on %d predictions; the event SNN matches the ANN on %d.", c.Images, c.T, c.SamePredictions, c.SNNMatchesANN),
		Header:  []string{"", "accuracy", "wall time", "speed-up"},
		Rows: [][]string{
			{"ANN", percent(c.ANNAccuracy), secs(c.ANNSeconds), ""},
			{"dense SNN", percent(c.DenseAccuracy), secs(c.DenseSeconds), "1.0×"},
			{"event SNN", percent(c.EventAccuracy), secs(c.EventSeconds), fmt.Sprintf("%.1f×", c.Speedup)},
		},
	}
	spikes := Table{
		Title:   "Spike counts of the two engines",
		Caption: fmt.Sprintf("%d images differ in some layer's spike count (float rounding at threshold ties); %d predictions differ.", len(c.ImagesSpikes), len(c.Disagreements)),
		Header:  []string{"layer", "dense spikes", "event spikes", "difference"},
	}
	for _, l := range c.Layers {
		spikes.Rows = append(spikes.Rows, []string{l.Name, profile.Group(l.DenseSpikes), profile.Group(l.EventSpikes), fmt.Sprintf("%.4f %%", 100*l.RelDiff)})
	}
	return []Table{acc, spikes}
}

func percent(x float64) string { return fmt.Sprintf("%.2f %%", 100*x) }
func secs(x float64) string    { return fmt.Sprintf("%.2f s", x) }

// WriteRun writes the report of an analysis into dir (created if needed):
// report.html, profile.json, compare.json (when the engines were
// compared), exit.json, steps.csv and exit_sweep.csv (with info.Exit),
// the CSV files of profile.WriteCSV and every figure as
// figureN.svg or figureN.png. Everything is rendered before the first file
// is written, and each file is written atomically. It returns the path of
// report.html.
func WriteRun(dir string, a *analysis.Analysis, info RunInfo) (string, error) {
	figs, err := RunFigures(a, info.MaxPoints, info.PNGDPI)
	if err != nil {
		return "", err
	}
	tables := info.Tables
	if a.Comparison != nil {
		tables = append(CompareTables(a.Comparison), tables...)
	}
	if info.Exit != nil {
		ef, err := ExitFigures(info.Exit, info.PNGDPI)
		if err != nil {
			return "", err
		}
		figs = append(figs, ef...)
		tables = append(tables, ExitTables(info.Exit)...)
	}
	title := info.Title
	if title == "" {
		title = "evsnn report"
	}
	var page bytes.Buffer
	rep := &Report{
		Title:     title,
		Subtitle:  fmt.Sprintf("%s, T=%d, %s", a.Model, a.Opts.T, images(a)),
		Generated: info.Generated,
		Settings:  RunSettings(a),
		Profile:   a.Profile,
		Tables:    tables,
		Figures:   figs,
		Notes:     info.Notes,
	}
	if err := Render(&page, rep); err != nil {
		return "", err
	}
	files := map[string][]byte{}
	if a.Comparison != nil {
		if files["compare.json"], err = indentJSON(a.Comparison); err != nil {
			return "", err
		}
	}
	if info.Exit != nil {
		if files["exit.json"], err = indentJSON(info.Exit); err != nil {
			return "", err
		}
	}
	var csv func(dir string) error
	if info.Exit != nil {
		csv = info.Exit.WriteExitCSV
	}
	return writeDir(dir, page.Bytes(), a.Profile, figs, files, csv)
}

// writeDir writes a report's directory: files (name → contents),
// profile.json, the profile's CSV files, every figure as figureN.svg or
// figureN.png, what csv writes (if set) and, last, report.html (page): a
// directory that has it has everything. Each file is written atomically.
func writeDir(dir string, page []byte, p *profile.Profile, figs []Figure, files map[string][]byte, csv func(dir string) error) (string, error) {
	var err error
	if files["profile.json"], err = indentJSON(p); err != nil {
		return "", err
	}
	for i, f := range figs {
		ext, data := ".svg", f.SVG
		if data == nil {
			ext, data = ".png", f.PNG
		}
		files[fmt.Sprintf("figure%d%s", i+1, ext)] = data
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := profile.WriteCSV(dir, p); err != nil {
		return "", err
	}
	if csv != nil {
		if err := csv(dir); err != nil {
			return "", err
		}
	}
	for name, data := range files {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, name), data); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "report.html")
	return path, fsutil.WriteFileAtomic(path, page)
}

func indentJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

// WriteFigures renders the standard figures of an analysis into dir
// (created if needed), each as SVG and/or PNG named after its title
// ("accuracy-vs-time-step.svg").
func WriteFigures(dir string, a *analysis.Analysis, maxPoints, dpi int) error {
	figs, err := RunFigures(a, maxPoints, dpi)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range figs {
		name := Slug(f.Title)
		for _, out := range []struct {
			ext  string
			data []byte
		}{{".svg", f.SVG}, {".png", f.PNG}} {
			if out.data != nil {
				if err := fsutil.WriteFileAtomic(filepath.Join(dir, name+out.ext), out.data); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Slug turns a figure title into a file name: lower case letters and
// digits, other runs of characters as one dash ("figure" if nothing is
// left).
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		return "figure"
	}
	return s
}
