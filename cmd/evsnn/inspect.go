package main

import "github.com/evsnn/evsnn/analysis"

// InspectCmd prints a model's graph.
type InspectCmd struct {
	Model    string `arg:"" optional:"" help:"Model file (.evsnn, .onnx, .nir); default: the built-in model." type:"path"`
	JSON     bool   `help:"Print JSON instead of a table."`
	Accuracy bool   `help:"Also run the ANN on the test set and report its accuracy."`
	Images   int    `help:"Test images for --accuracy (0: all)." default:"0"`
}

// Run implements the command.
func (c *InspectCmd) Run(g *Globals) error {
	net, err := analysis.LoadModel(c.Model, g.Env)
	if err != nil {
		return err
	}
	rep, err := analysis.Inspect(net)
	if err != nil {
		return err
	}
	if c.Accuracy {
		set, err := g.Data.Test(c.Images)
		if err != nil {
			return err
		}
		if err := rep.MeasureAccuracy(net, set, g.Env); err != nil {
			return err
		}
	}
	if c.JSON {
		return writeJSON(g.Out, rep)
	}
	return rep.WriteText(g.Out)
}
