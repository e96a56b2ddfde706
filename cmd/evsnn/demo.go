package main

import (
	"fmt"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
)

// DemoCmd is the main job: the built-in MNIST CNN converted, simulated
// event-driven on the test set, compared with the dense engine and the ANN,
// profiled, and written up as an HTML report.
type DemoCmd struct {
	T             int    `name:"T" help:"Time steps." default:"32"`
	Images        int    `help:"MNIST test images (0: all 10,000)." default:"0"`
	CompareImages int    `help:"Images the dense engine is compared on (0: all)." default:"0"`
	ErrorImages   int    `help:"Images the conversion error is measured on." default:"1000"`
	Output        string `short:"o" help:"Directory for the report." default:"evsnn-report" type:"path"`
}

// Run implements the command.
func (c *DemoCmd) Run(g *Globals) error {
	start := time.Now()
	a, err := analysis.Demo(analysis.DemoOptions{T: c.T, Images: c.Images, CompareImages: c.CompareImages, ErrorImages: c.ErrorImages, Workers: g.Workers, Data: g.Data}, g.Env)
	if err != nil {
		return err
	}
	g.Log.Info().Msg("step 3/4: profile")
	if err := a.Comparison.WriteText(g.Out, 10); err != nil {
		return err
	}
	fmt.Fprintln(g.Out)
	if err := profile.PrintTable(g.Out, a.Profile); err != nil {
		return err
	}
	g.Log.Info().Msg("step 4/4: report")
	path, err := report.WriteRun(c.Output, a, report.RunInfo{Title: "evsnn demo: an MNIST CNN as an event-driven SNN", Notes: demoNotes, Generated: time.Now().UTC()})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "\nreport written to %s (%.0f s in all)\n", path, time.Since(start).Seconds())
	return nil
}

var demoNotes = []string{
	"The ANN is evsnn's built-in MNIST CNN, trained in Go by `evsnn train`. Its ReLUs become IF neurons with soft reset; thresholds are the maximum ReLU activation over the first 1,024 training images, and θ/2T is added to the biases (Deng & Gu 2021).",
	"A spike carries amplitude θ; the readout accumulates the last layer's current and predicts its argmax after each step (SPEC §2).",
	"SOPs count, for every spike, the synapses it reaches (average pools folded in); the energy estimate states its constants above.",
}
