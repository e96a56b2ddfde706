package main

import "github.com/evsnn/evsnn/analysis"

// CompareCmd runs the ANN, the dense SNN and the event SNN on the same
// images and reports where they agree and where they do not.
type CompareCmd struct {
	Model string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	simFlags
	JSON bool `help:"Print one JSON object instead of a table (it lists every disagreement)."`
	Show int  `help:"List at most this many disagreeing images in the table (--json lists all)." default:"20"`
}

// Run implements the command.
func (c *CompareCmd) Run(g *Globals) error {
	in, err := analysis.Prepare(g.request(c.Model, c.simFlags), g.Env)
	if err != nil {
		return err
	}
	cmp, err := in.Compare(g.Env)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(g.Out, cmp)
	}
	return cmp.WriteText(g.Out, c.Show)
}
