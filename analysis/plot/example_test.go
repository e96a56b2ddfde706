package plot_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/analysis/plot"
)

// Plot accuracy against the time step for two engines, with the ANN as the
// reference line; the extension chooses the format.
func ExampleAccuracyVsStep() {
	dir, _ := os.MkdirTemp("", "plot")
	defer os.RemoveAll(dir)
	acc := []float64{0.12, 0.58, 0.84, 0.93, 0.97, 0.98, 0.985, 0.988}
	series := []plot.Series{{Name: "dense", Values: acc}, {Name: "event", Values: acc}}
	path := filepath.Join(dir, "accuracy.svg")
	err := plot.AccuracyVsStep(path, series, 0.991)
	fmt.Println(err)
	// Output: <nil>
}

// Render a figure to bytes, e.g. to embed it in a page.
func ExampleFigure_Encode() {
	fig, err := plot.NewActivationVsRate("sp1", []float32{0, 0.2, 0.5, 0.9}, []float32{0, 0.25, 0.5, 0.75}, 0)
	if err != nil {
		panic(err)
	}
	svg, err := fig.Encode("svg")
	fmt.Println(len(svg) > 0, err)
	// Output: true <nil>
}
