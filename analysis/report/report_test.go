package report_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
)

var keep = flag.String("keep", "", "also write the test report (and the Chromium screenshot) into this directory")

var (
	sampleOnce   sync.Once
	sampleReport *report.Report
	sampleErr    error
)

// sample returns a report of a reference run of a small residual network,
// built once per test binary (rendering figures is the slow part). Its
// PNG figures are at a low resolution unless -keep asks for the real one.
func sample(t testing.TB) *report.Report {
	t.Helper()
	sampleOnce.Do(func() { sampleReport, sampleErr = buildSample(t) })
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sampleReport
}

func buildSample(t testing.TB) (*report.Report, error) {
	const images, T = 32, 24
	run := fixture.RandomRun(t, snnref.ResNet, 7, images, T)
	net, res, ann := run.Net, run.Result, run.ANN
	dpi := 48
	if *keep != "" {
		dpi = 0
	}
	res.Wall = 420 * time.Millisecond
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		return nil, err
	}
	p.SetANNAccuracy(1)
	panels, err := report.Panels(net, res, ann, p, 1500)
	if err != nil {
		return nil, err
	}
	figs, err := report.StandardFigures(report.FigureData{
		Profile:     p,
		Series:      []plot.Series{{Name: "reference", Values: p.AccuracyByStep}},
		ANNAccuracy: math.NaN(),
		Raster:      res.Raster,
		Panels:      panels,
		MaxPoints:   1500,
		PNGDPI:      dpi,
	})
	if err != nil {
		return nil, err
	}
	// The early-exit figures and tables of the same run.
	sim, err := exitStudy(run, T)
	if err != nil {
		return nil, err
	}
	efigs, err := report.ExitFigures(sim, dpi)
	if err != nil {
		return nil, err
	}
	figs = append(figs, efigs...)
	settings := []report.KV{
		{"model", "snnref.RandomNet(ResNet) <random weights>"},
		{"T", strconv.Itoa(T)},
		{"images", strconv.Itoa(images)},
		{"engine", res.Engine},
		{"encoding", "direct"},
		{"conversion", "max threshold, IF, soft reset, v(0) = 0"},
		{"calibration", "none"},
	}
	settings = append(settings, report.Versions()...)
	return &report.Report{
		Title:     "Profile of a random ResNet",
		Subtitle:  "Reference simulation, 32 synthetic images, T = 24",
		Generated: time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC),
		Settings:  settings,
		Profile:   p,
		Tables: append([]report.Table{{
			Title:   "ANN vs SNN",
			Caption: "Accuracy on the same images & the agreement of predictions.",
			Header:  []string{"model", "accuracy", "agreement with ANN", "wall"},
			Rows: [][]string{
				{"ANN", "100.00 %", "—", "0.01 s"},
				{"SNN (reference)", pct(*p.Accuracy), pct(*p.Accuracy), "0.42 s"},
			},
		}}, report.ExitTables(sim)...),
		Figures: figs,
		Notes:   []string{"Synthetic data: labels are the ANN's own predictions <so the ANN scores 100 %>."},
	}, nil
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + " %" }

func TestRender(t *testing.T) {
	r := sample(t)
	var buf bytes.Buffer
	if err := report.Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if n := strings.Count(html, `<img class="figure"`); n != len(r.Figures) || n != 7 {
		t.Errorf("%d figures in the page, %d in the report", n, len(r.Figures))
	}
	for _, s := range []string{
		"<!DOCTYPE html>", "<title>Profile of a random ResNet</title>",
		"data:image/svg&#43;xml;base64,", "data:image/png;base64,",
		"0.9 pJ per SOP", "4.6 pJ per MAC", "Horowitz 2014",
		"Activity and cost per layer", "Conversion error per layer", "ANN vs SNN",
		"Steps per image", "Accuracy against time: early exit", "Pareto front of the early-exit sweep",
		"sp1", "sp2", "sp3", "Go</dt>", "go1.", "2026-11-27 05:00 UTC",
		"&lt;random weights&gt;", "&amp; the agreement", // escaped
	} {
		if !strings.Contains(html, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// Self-contained: nothing is fetched.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)`).FindString(html); m != "" {
		t.Errorf("page loads an external resource: %s", m)
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "ZgotmplZ") {
		t.Error("page has a script or a filtered URL")
	}
	// Deterministic for a fixed time.
	var again bytes.Buffer
	if err := report.Render(&again, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two renders of the same report differ")
	}
}

func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	if err := report.Write(path, sample(t)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		t.Error("not a whole HTML document")
	}
	if err := report.Write(path, &report.Report{Figures: []report.Figure{{Title: "empty"}}}); err == nil {
		t.Error("a figure without an image was accepted")
	}
}

func TestMinimalReport(t *testing.T) {
	// Without a profile or figures the page still renders.
	var buf bytes.Buffer
	if err := report.Render(&buf, &report.Report{Settings: []report.KV{{"model", "m"}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<title>evsnn report</title>") {
		t.Error("default title missing")
	}
}

func TestPanels(t *testing.T) {
	run := fixture.RandomRun(t, snnref.VGG, 3, 6, 10)
	net, res, ann := run.Net, run.Result, run.ANN
	ps, err := report.Panels(net, res, ann, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	for k, pn := range ps {
		rate, err := profile.Rates(net, res, k)
		if err != nil {
			t.Fatal(err)
		}
		a := ann.Output[res.Layers[k].Layer]
		idx := plot.Subsample(len(a), 100)
		if len(pn.X) != len(idx) {
			t.Fatalf("%s: %d points, want %d", pn.Name, len(pn.X), len(idx))
		}
		for i, j := range idx {
			if pn.X[i] != a[j] || pn.Rate[i] != rate[j] {
				t.Fatalf("%s point %d: (%v, %v), want (%v, %v)", pn.Name, i, pn.X[i], pn.Rate[i], a[j], rate[j])
			}
		}
	}
	res.Counts = nil
	if _, err := report.Panels(net, res, ann, nil, 100); err == nil {
		t.Error("a run without counts was accepted")
	}
}
