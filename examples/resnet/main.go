// Command resnet converts the ResNet fixture (a PyTorch export with a
// MaxPool stem, an identity and a downsampling residual block, BatchNorm
// and global average pooling) and profiles it as an event-driven SNN
// through package analysis: the same calls the evsnn command makes.
//
//	go run ./examples/resnet [-images 500] [-T 32] [-calib-images 1024] [-o report-dir]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/network"
)

func main() {
	model := flag.String("model", "testdata/mnist_resnet.onnx", "the ONNX file")
	images := flag.Int("images", 500, "MNIST test images")
	T := flag.Int("T", 32, "time steps")
	calib := flag.Int("calib-images", 1024, "training images the thresholds are taken from")
	out := flag.String("o", "", "also write the HTML report into this directory")
	flag.Parse()
	a, err := run(*model, *images, *T, *calib)
	if err != nil {
		log.Fatal(err)
	}
	show(a)
	if *out != "" {
		path, err := report.WriteRun(*out, a, report.RunInfo{Title: "The ResNet fixture as an SNN"})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("report written to", path)
	}
}

// run imports and converts the model (max thresholds on the first calib
// MNIST training images), simulates it event-driven on the first images,
// compares it with the dense engine and the ANN, and measures the
// conversion error on the same images.
func run(model string, images, T, calib int) (*analysis.Analysis, error) {
	in, err := analysis.Prepare(analysis.Request{Model: model, Images: images, Opts: network.SimOptions{T: T}, CalibImages: calib}, analysis.Env{})
	if err != nil {
		return nil, err
	}
	return in.Analyze(analysis.AnalyzeOptions{ErrorImages: images, Compare: true}, analysis.Env{})
}

func show(a *analysis.Analysis) {
	c := a.Comparison
	fmt.Printf("%d images, T=%d: ANN %.2f %%, event SNN %.2f %%, dense SNN %.2f %%; the engines disagree on %d images\n",
		c.Images, c.T, 100*c.ANNAccuracy, 100*c.EventAccuracy, 100*c.DenseAccuracy, len(c.Disagreements))
	fmt.Printf("%-16s %12s %12s %9s  %s\n", "layer", "spikes/img", "SOPs/img", "rel.err", "its spikes feed")
	for _, l := range a.Profile.Layers {
		rel := "—"
		if l.RelError != nil {
			rel = fmt.Sprintf("%.3f", *l.RelError)
		}
		fmt.Printf("%-16s %12.0f %12.0f %9s  %s\n", l.Name, l.SpikesPerImage, l.SOPsPerImage, rel, l.Target)
	}
	t := a.Profile.Totals
	fmt.Fprintf(os.Stdout, "energy per image: SNN %.2f µJ, ANN %.2f µJ (%s)\n", t.EnergySNN, t.EnergyANN, a.Profile.Energy)
}
