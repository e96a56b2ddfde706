package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

// Profile a run and write the standard report: settings, key results,
// tables and figures in one HTML file. (Package analysis does all of this
// in two calls: analysis.Analyze, then report.WriteRun.)
func ExampleWrite() {
	ann, _ := models.Default()
	calib, _ := models.CalibrationSet()
	snn, err := convert.FromANN(ann, calib.Images, 64, convert.Options{})
	if err != nil {
		panic(err)
	}
	test, _ := models.TestSet()
	test = test.Slice(0, 8)
	res, err := dense.Engine{SkipSilent: true}.Run(snn, test.Images, test.Labels,
		network.SimOptions{T: 8, KeepCounts: true, Raster: true})
	if err != nil {
		panic(err)
	}
	act, _ := ann.Forward(test.Images, test.N)
	p, err := profile.Build(snn, res, act, profile.DefaultEnergy())
	if err != nil {
		panic(err)
	}
	panels, _ := report.Panels(snn, res, act, p, 1500)
	figs, err := report.StandardFigures(report.FigureData{
		Profile: p, ANNAccuracy: -1, Raster: res.Raster, Panels: panels,
		Series: []plot.Series{{Name: "dense SNN", Values: p.AccuracyByStep}},
		PNGDPI: 48, // small and fast for the example; 0 for print quality
	})
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	err = report.Write(filepath.Join(dir, "report.html"), &report.Report{
		Title:    "Profile of the built-in CNN",
		Settings: append([]report.KV{{"model", "built-in MNIST CNN"}, {"T", "8"}}, report.Versions()...),
		Profile:  p,
		Figures:  figs,
	})
	fmt.Println(len(figs), "figures,", err)
	// Output: 5 figures, <nil>
}
