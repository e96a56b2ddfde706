package main

import (
	"fmt"
	"time"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/convert"
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
	ann, err := g.LoadModel("")
	if err != nil {
		return err
	}
	sf := simFlags{T: c.T, Images: c.Images, Encoding: "direct"}
	opts, err := sf.options(g)
	if err != nil {
		return err
	}
	g.Log.Info().Int("T", c.T).Msg("step 1/4: converting the built-in ANN (max threshold, bias shift θ/2T)")
	snn, err := g.convert(ann, convert.Options{BiasShift: true, T: c.T}, convert.DefaultCalibImages)
	if err != nil {
		return err
	}
	set, err := g.TestSet(c.Images)
	if err != nil {
		return err
	}
	g.Log.Info().Msg("step 2/4: simulating event-driven, then the dense reference and the ANN on the same images")
	a := &analysis{ANN: ann, SNN: snn, Set: set, Opts: opts, Engine: engineFor("event"),
		ErrorImages: c.ErrorImages, Energy: profile.DefaultEnergy(), Compare: true, CompareImages: c.CompareImages}
	if err := a.run(g); err != nil {
		return err
	}
	g.Log.Info().Msg("step 3/4: profile")
	if err := printProfile(g, a); err != nil {
		return err
	}
	g.Log.Info().Msg("step 4/4: report")
	path, err := a.writeOutputs(c.Output, "evsnn demo: an MNIST CNN as an event-driven SNN", "built-in MNIST CNN", nil, demoNotes(a))
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "\nreport written to %s (%.0f s in all)\n", path, time.Since(start).Seconds())
	return nil
}

func printProfile(g *Globals, a *analysis) error {
	if a.Cmp != nil {
		printCompare(g.Out, a.Cmp, 10)
		fmt.Fprintln(g.Out)
	}
	return profile.PrintTable(g.Out, a.Profile)
}

func demoNotes(a *analysis) []string {
	return []string{
		"The ANN is evsnn's built-in MNIST CNN, trained in Go by `evsnn train`. Its ReLUs become IF neurons with soft reset; thresholds are the maximum ReLU activation over the first 1,024 training images, and θ/2T is added to the biases (Deng & Gu 2021).",
		"A spike carries amplitude θ; the readout accumulates the last layer's current and predicts its argmax after each step (SPEC §2).",
		"SOPs count, for every spike, the synapses it reaches (average pools folded in); the energy estimate states its constants above.",
	}
}
