package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// analysis is one profiled run: the SNN on the test images with one engine,
// the conversion error measured on the first ErrorImages of them, and,
// optionally, the dense engine and the ANN on the same images.
type analysis struct {
	ANN  *network.Network // the source ANN (or the SNN run as an ANN)
	SNN  *network.Network
	Set  *mnist.Set
	Opts network.SimOptions

	Engine      network.Engine
	ErrorImages int
	Energy      profile.Energy
	Compare     bool // also run the other engine
	// CompareImages limits the comparison to the first N images (0: all);
	// both engines then run on that subset.
	CompareImages int
	MaxPoints     int // per activation-vs-rate panel

	Result  *network.SimResult // Engine on Set, with the raster of image 0
	ErrRun  *network.SimResult // Engine on the first ErrorImages, with counts
	ErrAct  *network.Activations
	Profile *profile.Profile
	Cmp     *compareJSON
	ANNAcc  float64
	ANNWall time.Duration
}

// run simulates, profiles and (optionally) compares.
func (a *analysis) run(g *Globals) error {
	start := time.Now()
	annPred, err := a.ANN.Predict(a.Set.Images, a.Set.N, 256)
	if err != nil {
		return err
	}
	a.ANNWall = time.Since(start)
	correct := 0
	for i, p := range annPred {
		if p == a.Set.Labels[i] {
			correct++
		}
	}
	a.ANNAcc = float64(correct) / float64(a.Set.N)
	g.Log.Info().Float64("accuracy", a.ANNAcc).Int("images", a.Set.N).Dur("wall", a.ANNWall).Msg("ANN")

	opts := a.Opts
	opts.Raster = true
	if a.Result, err = g.simulate(a.Engine, a.SNN, a.Set, opts); err != nil {
		return err
	}
	if a.Compare {
		if err := a.compare(g, annPred); err != nil {
			return err
		}
	}
	if a.Profile, err = profile.Build(a.SNN, a.Result, nil, a.Energy); err != nil {
		return err
	}
	a.Profile.SetANNAccuracy(a.ANNAcc)
	if a.ErrorImages > 0 {
		if err := a.conversionError(g); err != nil {
			return err
		}
	}
	return nil
}

// compare runs the other engine (and, on a subset, this one again) on the
// same images.
func (a *analysis) compare(g *Globals, annPred []int) error {
	other := network.Engine(dense.Engine{})
	if isDense(a.Engine.Name()) {
		other = engineFor("event")
	}
	set, mine := a.Set, a.Result
	if n := a.CompareImages; n > 0 && n < a.Set.N {
		set, annPred = a.Set.Slice(0, n), annPred[:n]
		var err error
		if mine, err = g.simulate(a.Engine, a.SNN, set, a.Opts); err != nil {
			return err
		}
	}
	ores, err := g.simulate(other, a.SNN, set, a.Opts)
	if err != nil {
		return err
	}
	dres, eres := ores, mine
	if isDense(a.Engine.Name()) {
		dres, eres = mine, ores
	}
	a.Cmp = compareResults(set, annPred, 0, dres, eres)
	correct := 0
	for i, p := range annPred {
		if p == set.Labels[i] {
			correct++
		}
	}
	a.Cmp.ANNAccuracy = float64(correct) / float64(set.N)
	a.Cmp.ANNSeconds = a.ANNWall.Seconds() * float64(set.N) / float64(a.Set.N)
	if len(a.Cmp.Disagreements) > 0 {
		g.Log.Warn().Int("images", len(a.Cmp.Disagreements)).Msg("the event and dense engines disagree on some predictions (see compare.json)")
	}
	return nil
}

// conversionError measures ||x_l − s̄_l|| on the first ErrorImages images
// and copies it into the profile.
func (a *analysis) conversionError(g *Globals) error {
	n := min(a.ErrorImages, a.Set.N)
	sub := a.Set.Slice(0, n)
	opts := a.Opts
	opts.KeepCounts = true
	res, err := a.Engine.Run(a.SNN, sub.Images, sub.Labels, opts)
	if err != nil {
		return err
	}
	act, err := a.ANN.Forward(sub.Images, n)
	if err != nil {
		return err
	}
	errProf, err := profile.Build(a.SNN, res, act, a.Energy)
	if err != nil {
		return err
	}
	for k := range a.Profile.Layers {
		l, e := &a.Profile.Layers[k], errProf.Layers[k]
		l.MSE, l.ErrorL2, l.RelError, l.Pearson, l.ANNMean, l.SNNMean = e.MSE, e.ErrorL2, e.RelError, e.Pearson, e.ANNMean, e.SNNMean
	}
	a.ErrRun, a.ErrAct = res, act
	g.Log.Info().Int("images", n).Msg("conversion error measured against the ANN")
	return nil
}

// figures renders the standard figures of the analysis.
func (a *analysis) figures() ([]report.Figure, error) {
	data := report.FigureData{Profile: a.Profile, ANNAccuracy: a.ANNAcc, Raster: a.Result.Raster, MaxPoints: a.MaxPoints}
	data.Series = []plot.Series{{Name: a.Result.Engine + " SNN", Values: a.Result.AccuracyByStep()}}
	if a.Cmp != nil {
		other, vals := "dense SNN", a.Cmp.AccuracyDense
		if isDense(a.Result.Engine) {
			other, vals = "event SNN", a.Cmp.AccuracyEvent
		}
		data.Series = append(data.Series, plot.Series{Name: other, Values: vals})
	}
	if a.ErrRun != nil {
		panels, err := report.Panels(a.SNN, a.ErrRun, a.ErrAct, a.Profile, a.MaxPoints)
		if err != nil {
			return nil, err
		}
		data.Panels = panels
	}
	return report.StandardFigures(data)
}

// settings describe the run for the report.
func (a *analysis) settings(modelName string) []report.KV {
	kv := []report.KV{
		{Key: "model", Value: modelName},
		{Key: "engine", Value: a.Result.Engine},
		{Key: "T", Value: strconv.Itoa(a.Opts.T)},
		{Key: "images", Value: fmt.Sprintf("%d MNIST test images", a.Set.N)},
		{Key: "input encoding", Value: string(a.Opts.Encoding)},
	}
	if a.Opts.Encoding == network.EncodingPoisson {
		kv = append(kv, report.KV{Key: "seed", Value: strconv.FormatUint(a.Opts.Seed, 10)})
	}
	if cv := a.SNN.Meta.Conversion; cv != nil {
		v := fmt.Sprintf("threshold %s over %d images, %s, %s reset, v(0)=%g·θ", cv.Statistic, cv.Images, cv.Neuron, cv.Reset, cv.V0Fraction)
		if cv.BiasShift {
			v += fmt.Sprintf(", bias shift θ/2T for T=%d", cv.BiasShiftT)
		}
		kv = append(kv, report.KV{Key: "conversion", Value: v})
	}
	if cb := a.SNN.Meta.Calibration; cb != nil {
		kv = append(kv, report.KV{Key: "calibration", Value: fmt.Sprintf("%s for T=%d on %d images, seed %d", cb.Method, cb.T, cb.Images, cb.Seed)})
	}
	if a.ErrorImages > 0 {
		kv = append(kv, report.KV{Key: "conversion error on", Value: fmt.Sprintf("the first %d images", min(a.ErrorImages, a.Set.N))})
	}
	kv = append(kv, report.KV{Key: "energy constants", Value: a.Energy.String()})
	return append(kv, report.Versions()...)
}

// compareTable is the ANN / dense / event comparison as a report table.
func compareTable(c *compareJSON) report.Table {
	t := report.Table{
		Title:   "ANN, dense SNN and event SNN",
		Caption: fmt.Sprintf("Same %d images, T=%d. Event and dense agree on %d predictions; the event SNN matches the ANN on %d.", c.Images, c.T, c.SamePredictions, c.SNNMatchesANN),
		Header:  []string{"", "accuracy", "wall time", "speed-up"},
		Rows: [][]string{
			{"ANN", percent(c.ANNAccuracy), secs(c.ANNSeconds), ""},
			{"dense SNN", percent(c.DenseAccuracy), secs(c.DenseSeconds), "1.0×"},
			{"event SNN", percent(c.EventAccuracy), secs(c.EventSeconds), fmt.Sprintf("%.1f×", c.Speedup)},
		},
	}
	return t
}

func spikeAgreementTable(c *compareJSON) report.Table {
	t := report.Table{
		Title:   "Spike counts of the two engines",
		Caption: fmt.Sprintf("%d images differ in some layer's spike count (float rounding at threshold ties); %d predictions differ.", len(c.ImagesSpikes), len(c.Disagreements)),
		Header:  []string{"layer", "dense spikes", "event spikes", "difference"},
	}
	for _, l := range c.Layers {
		t.Rows = append(t.Rows, []string{l.Name, profile.Group(l.DenseSpikes), profile.Group(l.EventSpikes), fmt.Sprintf("%.4f %%", 100*l.RelDiff)})
	}
	return t
}

func percent(x float64) string { return fmt.Sprintf("%.2f %%", 100*x) }
func secs(x float64) string    { return fmt.Sprintf("%.2f s", x) }

// writeOutputs writes the report directory: report.html, profile.json, the
// CSVs and every figure as a file.
func (a *analysis) writeOutputs(dir, title, modelName string, extra []report.Table, notes []string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	figs, err := a.figures()
	if err != nil {
		return "", err
	}
	for i, f := range figs {
		ext, data := ".svg", f.SVG
		if data == nil {
			ext, data = ".png", f.PNG
		}
		if err := writeFileAtomic(filepath.Join(dir, fmt.Sprintf("figure%d%s", i+1, ext)), data); err != nil {
			return "", err
		}
	}
	if err := profile.WriteCSV(dir, a.Profile); err != nil {
		return "", err
	}
	if err := writeJSONFile(filepath.Join(dir, "profile.json"), a.Profile); err != nil {
		return "", err
	}
	tables := extra
	if a.Cmp != nil {
		tables = append([]report.Table{compareTable(a.Cmp), spikeAgreementTable(a.Cmp)}, tables...)
		if err := writeJSONFile(filepath.Join(dir, "compare.json"), a.Cmp); err != nil {
			return "", err
		}
	}
	rep := &report.Report{
		Title:     title,
		Subtitle:  fmt.Sprintf("%s, T=%d, %d MNIST test images", modelName, a.Opts.T, a.Set.N),
		Generated: time.Now().UTC(),
		Settings:  a.settings(modelName),
		Profile:   a.Profile,
		Tables:    tables,
		Figures:   figs,
		Notes:     notes,
	}
	path := filepath.Join(dir, "report.html")
	if err := report.Write(path, rep); err != nil {
		return "", err
	}
	return path, nil
}
