package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/profile/profiletest"
	"github.com/evsnn/evsnn/analysis/report"
)

// Profile a run and write the standard report: settings, key results,
// tables and figures in one HTML file.
func ExampleWrite() {
	x, _ := profiletest.Images(1, 8)
	net := profiletest.ConvNet(2, x)
	labels, _ := profiletest.ANNLabels(net, x)
	// An engine run with SimOptions{KeepCounts: true, Raster: true} gives
	// the same as this reference simulation.
	res, raster, err := profiletest.Simulate(net, x, labels, 8)
	if err != nil {
		panic(err)
	}
	ann, _ := net.Forward(x, 8)
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		panic(err)
	}
	p.SetANNAccuracy(1)
	panels, _ := report.Panels(net, res, ann, p, 1500)
	figs, err := report.StandardFigures(report.FigureData{
		Profile: p, ANNAccuracy: -1, Raster: raster, Panels: panels,
		Series: []plot.Series{{Name: "reference", Values: p.AccuracyByStep}},
		PNGDPI: 48, // small and fast for the example; 0 for print quality
	})
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	err = report.Write(filepath.Join(dir, "report.html"), &report.Report{
		Title:    "Profile of a small SNN",
		Settings: append([]report.KV{{"model", "ConvNet"}, {"T", "8"}}, report.Versions()...),
		Profile:  p,
		Figures:  figs,
	})
	fmt.Println(len(figs), "figures,", err)
	// Output: 5 figures, <nil>
}
